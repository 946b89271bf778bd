// Which `stack run WORD` is a service's one-off and which an image run: the stack file in
// context (found upward, or named with -f), its services, and names that can only be images.
import t from 'tap';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTarget } from '../../src/cli/run-target.js';
import type { CliIO } from '../../src/cli/io.js';
import { InvalidStackFileError } from '../../src/common/errors.js';

function io(cwd: string): CliIO & { err: () => string } {
  let err = '';
  return { cwd, env: {}, stdout: { write: () => true }, stderr: { write: (s: string) => (err += s) }, err: () => err };
}

t.test('a service of the stack file in context is a service; anything else an image', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'stack-run-target-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'app', 'src'), { recursive: true });
  mkdirSync(join(dir, 'none'));
  mkdirSync(join(dir, 'broken'));
  writeFileSync(join(dir, 'app', 'compose.yaml'), 'services:\n  web: { image: busybox:test }\n  db: { image: busybox:test, profiles: [debug] }\n');
  writeFileSync(join(dir, 'broken', 'compose.yaml'), 'services:\n  web: { image: busybox:test, restart: sometimes }\n');

  const inApp = await runTarget({ image: 'web' }, io(join(dir, 'app', 'src')));
  t.equal(inApp.kind, 'service', 'found from a subdirectory, as Compose finds it');
  t.equal(inApp.kind === 'service' && inApp.loaded.project.name, 'app');
  const profiled = await runTarget({ image: 'db' }, io(join(dir, 'app')));
  t.ok(profiled.kind === 'service' && profiled.loaded.project.services.db, 'a service of a profile not enabled runs too, as in Compose: naming it enables it');
  t.same(await runTarget({ image: 'busybox' }, io(join(dir, 'app'))), { kind: 'image', services: ['web'] }, 'not a service: an image, with the services for a did-you-mean');
  t.same(await runTarget({ image: 'busybox' }, io(join(dir, 'none'))), { kind: 'image', services: [] }, 'no stack file: an image');
  t.same(await runTarget({ image: 'web' }, io(join(dir, 'none'))), { kind: 'image', services: [] }, 'even when it is called web');
  t.equal((await runTarget({ image: 'web', file: join(dir, 'app', 'compose.yaml') }, io(join(dir, 'none')))).kind, 'service', '-f names the stack file');
  t.same(await runTarget({ image: 'busybox:test' }, io(join(dir, 'broken'))), { kind: 'image', services: [] }, 'a tagged image never loads the stack file (a broken one is no matter)');
  await t.rejects(runTarget({ image: 'web' }, io(join(dir, 'broken'))), InvalidStackFileError, 'a name that may be a service needs the stack file to load');
});
