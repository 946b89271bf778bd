// The official `docker` CLI's volume commands against a private engine: create (with
// labels and driver options), ls, inspect, rm (refused while in use), prune, and
// `docker run -v vol:/data` keeping data between containers.
import t from 'tap';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUSYBOX_IMAGE, engineSkipReason, makeEngineHarness } from './engine-harness.js';
import { DOCKER, makeDocker, type DockerResult } from './docker-cli-support.js';

const skip = engineSkipReason() ?? (existsSync(DOCKER) ? false : `the docker CLI is not installed (${DOCKER}): nothing to test it with`);

t.test('docker volume commands and docker run -v against the engine', { skip }, async (t) => {
  const engine = await makeEngineHarness('docker-volumes');
  const home = mkdtempSync(join(tmpdir(), 'stack-docker-home-'));
  t.teardown(async () => {
    rmSync(home, { recursive: true, force: true });
    await engine.cleanup();
  });
  const run = makeDocker(engine, home);
  const docker = (...args: string[]): Promise<DockerResult> => run(args);

  t.same(await docker('volume', 'create', '--label', 'team=data', 'dvol'), { code: 0, stdout: 'dvol\n', stderr: '' });
  t.same(await docker('volume', 'create', '-o', 'type=tmpfs', '-o', 'device=tmpfs', '-o', 'o=size=8m', 'dtmp'), { code: 0, stdout: 'dtmp\n', stderr: '' });
  const ls = await docker('volume', 'ls');
  t.equal(ls.code, 0, ls.stderr);
  t.match(ls.stdout, /^DRIVER\s+VOLUME NAME\nlocal\s+dtmp\nlocal\s+dvol\n$/);
  t.same(await docker('volume', 'ls', '-q', '--filter', 'label=team=data'), { code: 0, stdout: 'dvol\n', stderr: '' });
  const inspect = await docker('volume', 'inspect', 'dvol');
  t.equal(inspect.code, 0, inspect.stderr);
  const [view] = JSON.parse(inspect.stdout) as Array<{ Name: string; Driver: string; Labels: Record<string, string>; Mountpoint: string; Scope: string }>;
  t.same([view?.Name, view?.Driver, view?.Labels, view?.Scope], ['dvol', 'local', { team: 'data' }, 'local']);
  t.equal(view?.Mountpoint, join(engine.paths.root, 'volumes', 'dvol', '_data'));
  t.same(await docker('volume', 'inspect', '--format', '{{.Options.type}}', 'dtmp'), { code: 0, stdout: 'tmpfs\n', stderr: '' });

  t.same(await docker('run', '--name', 'w', '-v', 'dvol:/data', BUSYBOX_IMAGE, 'sh', '-c', 'echo from-docker > /data/f'), { code: 0, stdout: '', stderr: '' });
  const inUse = await docker('volume', 'rm', 'dvol');
  t.equal(inUse.code, 1, 'in use: refused');
  t.match(inUse.stderr, /Error response from daemon: remove dvol: volume is in use by container w/);
  t.same(await docker('inspect', '--format', '{{range .Mounts}}{{.Type}} {{.Name}} {{.Destination}} {{.RW}}{{end}}', 'w'), { code: 0, stdout: 'volume dvol /data true\n', stderr: '' });
  t.same(await docker('rm', 'w'), { code: 0, stdout: 'w\n', stderr: '' });
  t.same(await docker('run', '--rm', '-v', 'dvol:/data:ro', BUSYBOX_IMAGE, 'cat', '/data/f'), { code: 0, stdout: 'from-docker\n', stderr: '' }, 'a second container reads it');
  t.same(await docker('run', '--rm', '-v', '/anon', BUSYBOX_IMAGE, 'sh', '-c', 'test -d /anon && echo anon'), { code: 0, stdout: 'anon\n', stderr: '' }, '-v PATH: an anonymous volume');
  t.same(await docker('run', '--rm', '--mount', 'type=volume,source=dmount,target=/m', BUSYBOX_IMAGE, 'sh', '-c', 'touch /m/x && ls /m'), { code: 0, stdout: 'x\n', stderr: '' }, '--mount type=volume');

  const names = (await docker('volume', 'ls', '-q')).stdout.trim().split('\n').sort();
  t.same(names, ['dmount', 'dtmp', 'dvol'], 'docker run --rm removed its anonymous volume, kept the named ones');

  t.same(await docker('volume', 'rm', 'dvol', 'dtmp'), { code: 0, stdout: 'dvol\ndtmp\n', stderr: '' });
  // `prune -a` needs API 1.42 in the docker CLI; the engine speaks 1.41 and, like Docker
  // 23+, prunes only anonymous volumes unless asked for all.
  t.same(await docker('run', '-v', '/anon2', '--name', 'a2', BUSYBOX_IMAGE, 'true'), { code: 0, stdout: '', stderr: '' });
  t.same(await docker('rm', 'a2'), { code: 0, stdout: 'a2\n', stderr: '' });
  const prune = await docker('volume', 'prune', '-f');
  t.equal(prune.code, 0, prune.stderr);
  t.match(prune.stdout, /Deleted Volumes:\n[0-9a-f]{64}\n/, 'the anonymous volume of the removed container');
  t.match(prune.stdout, /Total reclaimed space: /);
  t.same(await docker('volume', 'ls', '-q'), { code: 0, stdout: 'dmount\n', stderr: '' }, 'the named one stays');
  t.same(await docker('volume', 'rm', 'dmount'), { code: 0, stdout: 'dmount\n', stderr: '' });
  t.same(await docker('volume', 'ls', '-q'), { code: 0, stdout: '', stderr: '' });
  const missing = await docker('volume', 'inspect', 'dvol');
  t.equal(missing.code, 1);
  t.match(missing.stderr, /No such volume: dvol/);
  t.notOk(readFileSync('/proc/self/mounts', 'utf8').includes(engine.paths.root), 'nothing left mounted under the engine root');
});
