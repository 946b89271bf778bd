// A generated CommonJS file run from a V8 code cache (cached-commonjs.ts): the same
// exports with or without a cache, a cache V8 refuses is only a slower start, and the
// validator cache the build stores is one that `stack config` processes take.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { readCodeCache, runCommonJsFile } from '../../src/common/cached-commonjs.js';

const DIST = resolve(import.meta.dirname, '../..');

t.test('exports are the same with a cache, with a refused cache and without one', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'stack-cjs-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'twice.cjs');
  writeFileSync(file, '"use strict"; module.exports = function twice(n) { return 2 * n; }; module.exports.kind = "doubler";');

  const cold = runCommonJsFile(file);
  t.equal((cold.exports as (n: number) => number)(21), 42);
  t.equal((cold.exports as { kind: string }).kind, 'doubler');
  t.equal(cold.cacheRejected, false, 'no cache, nothing refused');
  const cache = cold.createCachedData();
  t.ok(cache.length > 0);

  const warm = runCommonJsFile(file, cache);
  t.equal(warm.cacheRejected, false, 'a cache of the same text is taken');
  t.equal((warm.exports as (n: number) => number)(4), 8);

  writeFileSync(file, '"use strict"; module.exports = function thrice(n) { return 3 * n; };');
  const changed = runCommonJsFile(file, cache);
  t.equal(changed.cacheRejected, true, 'a cache of other text is refused');
  t.equal((changed.exports as (n: number) => number)(4), 12, 'and the file runs as written');
  t.end();
});

t.test('no stored cache reads as none', (t) => {
  t.equal(readCodeCache(join(tmpdir(), 'stack-no-such-dir', 'x.code-cache')), undefined);
  t.end();
});

t.test('the build stores a validator cache that a config process takes', (t) => {
  // A process of its own: V8's settings are process-wide, and the cache is made for
  // those of a `stack config` run (short-run.ts).
  const script = `
    const { useShortRunSettings } = await import(${JSON.stringify(pathToFileURL(join(DIST, 'src/cli/short-run.js')).href)});
    useShortRunSettings();
    const { readCodeCache, runCommonJsFile } = await import(${JSON.stringify(pathToFileURL(join(DIST, 'src/common/cached-commonjs.js')).href)});
    const { VALIDATOR_CODE_CACHE, VALIDATOR_FILE } = await import(${JSON.stringify(pathToFileURL(join(DIST, 'src/compose/validate.js')).href)});
    const cache = readCodeCache(VALIDATOR_CODE_CACHE);
    const loaded = runCommonJsFile(VALIDATOR_FILE, cache);
    console.log(JSON.stringify({ cached: cache !== undefined, rejected: loaded.cacheRejected, valid: loaded.exports({ services: { web: { image: 'x' } } }) }));
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
  t.equal(r.status, 0, r.stderr);
  t.same(JSON.parse(r.stdout), { cached: true, rejected: false, valid: true });
  t.end();
});
