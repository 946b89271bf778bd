// `stack run --rm` through the CLI in-process, as root: the busybox image for the fast path,
// and one Debian image bootstrapped with mmdebstrap (SLOW the first time: the tarball is
// cached in /var/cache/stack-test/ and reused by every later run).
import t from 'tap';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { debianTarball, importRootfsTarball, makeBusyboxImage } from '../../src/image/bootstrap.js';
import { ImageStore } from '../../src/image/store.js';
import { DEFAULT_SHIM_PATH } from '../../src/runtime/shim-runtime.js';
import { runCli } from '../cli/run-cli.js';
import { tempStore } from './support.js';

const skip = process.getuid?.() !== 0 ? 'needs root'
  : !existsSync('/bin/busybox') ? 'needs busybox-static'
  : !existsSync(DEFAULT_SHIM_PATH) ? 'needs the shim: node scripts/build-shim.mjs' : false;
const DEBIAN_CACHE = '/var/cache/stack-test';

t.test('stack run --rm of the busybox image prints and exits with its code', { skip }, async (t) => {
  const { dir, cleanup } = await tempStore('run');
  t.teardown(cleanup);
  const store = await new ImageStore(join(dir, 'image')).init();
  await makeBusyboxImage(store, 'busybox:test');
  const r = await runCli(['run', '--rm', '--root', dir, '-e', 'GREETING=hello', 'busybox:test', 'sh', '-c', 'echo $GREETING from $(cat /etc/passwd | cut -d: -f1); echo oops >&2; exit 7'], { cwd: dir });
  t.same(r, { code: 7, stdout: 'hello from root\n', stderr: 'oops\n' });
  const underRunc = await runCli(['run', '--rm', '--root', dir, '--runtime', 'runc', 'busybox:test', 'sh', '-c', 'echo pid $$; exit 3'], { cwd: dir });
  t.same(underRunc, { code: 3, stdout: 'pid 1\n', stderr: '' }, 'the same image under runc');
  const options = await runCli(['run', '--root', dir, 'busybox:test', 'sh', '-c', 'echo "[$*]"', 'x', '-e', '--name', 'n'], { cwd: dir });
  t.same(options, { code: 0, stdout: '[-e --name n]\n', stderr: '' }, 'options after the image belong to the command');
  const ok = await runCli(['run', '--rm', 'busybox:test', 'true'], { cwd: dir, env: { STACK_ROOT: dir } });
  t.same(ok, { code: 0, stdout: '', stderr: '' });
  t.same(readdirSync(join(dir, 'containers')), [], 'the container dirs are gone');
  t.notOk(readFileSync('/proc/self/mounts', 'utf8').includes(dir), 'nothing left mounted');
  const ls = await runCli(['image', 'ls', '--root', dir], { cwd: dir });
  t.match(ls.stdout, /^docker\.io\/library\/busybox:test\t[0-9a-f]{12}\t\d+\n$/);
  const missing = await runCli(['run', '--root', dir, 'nope'], { cwd: dir });
  t.same(missing, { code: 1, stdout: '', stderr: 'error: no such image: nope (docker.io/library/nope:latest); see "stack image ls"\n' });
  const rm = await runCli(['image', 'rm', '--root', dir, 'busybox:test'], { cwd: dir });
  t.same(rm, { code: 0, stdout: 'removed busybox:test\n', stderr: '' });
  t.same(readdirSync(store.blobDir), []);
});

// SLOW (first run only): mmdebstrap bookworm minbase from the host's Debian mirror.
t.test('DEBIAN (mmdebstrap, cached): cat /etc/debian_version', { skip: skip || (existsSync('/usr/bin/mmdebstrap') ? false : 'needs mmdebstrap'), timeout: 900_000 }, async (t) => {
  const { dir, cleanup } = await tempStore('debian');
  t.teardown(cleanup);
  const store = await new ImageStore(join(dir, 'image')).init();
  const tarball = await debianTarball({ suite: 'bookworm', variant: 'minbase', cacheDir: DEBIAN_CACHE }, dir);
  await importRootfsTarball(store, tarball, 'debian:bookworm');
  const r = await runCli(['run', '--rm', '--root', dir, 'debian:bookworm', 'cat', '/etc/debian_version'], { cwd: dir });
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /^12\.\d+\n$/);
});
