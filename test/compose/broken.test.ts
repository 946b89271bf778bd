// Every broken stack file in test/fixtures/broken must fail with exactly the problems
// its expected.txt lists (file:line:col, path, message), all at once, exit code 15.
import t from 'tap';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { runCli } from '../cli/run-cli.js';

const BROKEN = resolve(import.meta.dirname, '../../../test/fixtures/broken');
const scenarios = readdirSync(BROKEN).filter((d) => existsSync(join(BROKEN, d, 'expected.txt'))).sort();

t.ok(scenarios.length >= 25, `at least 25 broken scenarios (${scenarios.length})`);

for (const scenario of scenarios) {
  t.test(scenario, async (t) => {
    const dir = join(BROKEN, scenario);
    const expected = readFileSync(join(dir, 'expected.txt'), 'utf8');
    const envFile = join(dir, 'env.json');
    const env = existsSync(envFile) ? (JSON.parse(readFileSync(envFile, 'utf8')) as Record<string, string>) : {};
    const r = await runCli(['config'], { cwd: dir, env: { HOME: '/home/tester', ...env } });
    t.not(r.code, 0, 'non-zero exit');
    t.equal(r.stdout, '', 'nothing on stdout');
    t.equal(r.stderr, expected, 'exact problems');
  });
}
