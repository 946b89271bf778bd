// `stack run` through the CLI in-process against a private engine, as root: the busybox
// image for the fast path, runc for the escape hatch, and one Debian image bootstrapped
// with mmdebstrap (SLOW the first time: the tarball is cached in /var/cache/stack-test/
// and reused by every later run).
import t from 'tap';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { debianTarball, importRootfsTarball } from '../../src/image/bootstrap.js';
import { ImageStore } from '../../src/image/store.js';
import { engineSkipReason, makeEngineHarness } from '../api/engine-harness.js';
import { runCli } from '../cli/run-cli.js';

const skip = engineSkipReason() ?? false;
const DEBIAN_CACHE = '/var/cache/stack-test';

t.test('stack run --rm of the busybox image prints and exits with its code', { skip }, async (t) => {
  const engine = await makeEngineHarness('run');
  t.teardown(() => engine.cleanup());
  const cwd = engine.paths.root;
  const env = engine.env;
  const r = await runCli(['run', '--rm', '-e', 'GREETING=hello', 'busybox:test', 'sh', '-c', 'echo $GREETING from $(cat /etc/passwd | cut -d: -f1); echo oops >&2; exit 7'], { cwd, env });
  t.same(r, { code: 7, stdout: 'hello from root\n', stderr: 'oops\n' });
  const underRunc = await runCli(['run', '--rm', '--root', engine.paths.root, '--runtime', 'runc', 'busybox:test', 'sh', '-c', 'echo pid $$; exit 3'], { cwd, env });
  t.same(underRunc, { code: 3, stdout: 'pid 1\n', stderr: '' }, 'the same image under runc');
  const options = await runCli(['run', '--rm', 'busybox:test', 'sh', '-c', 'echo "[$*]"', 'x', '-e', '--name', 'n'], { cwd, env });
  t.same(options, { code: 0, stdout: '[-e --name n]\n', stderr: '' }, 'options after the image belong to the command');
  t.same(readdirSync(join(engine.paths.root, 'containers')), [], 'the container dirs are gone');
  t.notOk(readFileSync('/proc/self/mounts', 'utf8').includes(join(engine.paths.root, 'containers')), 'nothing left mounted');
  const missing = await runCli(['run', '--pull', 'never', 'nope'], { cwd, env });
  t.same(missing, { code: 1, stdout: '', stderr: 'error: No such image: nope\n' });
  // Without --pull never, a missing image is pulled first, as docker run does: Docker Hub is out of reach here.
  const pulled = await runCli(['run', 'nope'], { cwd, env });
  t.equal(pulled.code, 1);
  t.match(pulled.stderr, /^Unable to find image 'nope' locally\n[^]*error: cannot reach registry-1\.docker\.io/);
  t.same(readdirSync(join(engine.paths.root, 'containers')), [], 'a failed create leaves nothing');
  const noEngine = await runCli(['ps'], { cwd, env: { ...env, STACK_SOCKET: join(engine.paths.runRoot, 'none.sock') } });
  t.equal(noEngine.code, 1);
  t.match(noEngine.stderr, /no engine answers on .*none\.sock: start one with "stack engine"/);
});

// SLOW (first run only): mmdebstrap bookworm minbase from the host's Debian mirror.
t.test('DEBIAN (mmdebstrap, cached): cat /etc/debian_version', { skip: skip || (existsSync('/usr/bin/mmdebstrap') ? false : 'needs mmdebstrap'), timeout: 900_000 }, async (t) => {
  const engine = await makeEngineHarness('debian');
  t.teardown(() => engine.cleanup());
  const store = await new ImageStore(join(engine.paths.root, 'image')).init();
  const tarball = await debianTarball({ suite: 'bookworm', variant: 'minbase', cacheDir: DEBIAN_CACHE }, engine.paths.root);
  await importRootfsTarball(store, tarball, 'debian:bookworm');
  const r = await runCli(['run', '--rm', 'debian:bookworm', 'cat', '/etc/debian_version'], { cwd: engine.paths.root, env: engine.env });
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /^12\.\d+\n$/);
});
