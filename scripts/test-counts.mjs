// Reads node-tap's output and prints "N passed, N failed" for CI. tap's closing
// summary line looks like "# { total: 39, pass: 36, fail: 3, skip: 1 }".
import { readFileSync } from 'node:fs';

const text = readFileSync(process.argv[2], 'utf8');
const summaries = [...text.matchAll(/^# \{ total: \d+(?<rest>[^}]*)\}$/gm)];
const last = summaries.at(-1);
if (!last) {
  console.log('0 passed, 1 failed');
  console.error('test-counts: no tap summary found; the test run did not finish');
  process.exit(1);
}
const field = (name) => Number(new RegExp(`${name}: (\\d+)`).exec(last.groups.rest)?.[1] ?? 0);
const skipped = field('skip') + field('todo');
console.log(`${field('pass')} passed, ${field('fail')} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(field('pass') > 0 && field('fail') === 0 ? 0 : 1);
