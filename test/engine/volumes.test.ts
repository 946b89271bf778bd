// Volumes through a private engine and the stack CLI, with the busybox image: data kept
// across containers, rm -v, volumes in use, populating from the image, read-only mounts,
// VolumesFrom, tmpfs volumes, and the `stack volume` commands.
import t from 'tap';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ContainerInspect } from '../../src/common/api-types.js';
import type { VolumeListResponse, VolumeView } from '../../src/common/volume-api-types.js';
import { BUSYBOX_IMAGE, engineSkipReason, makeEngineHarness, type EngineHarness } from '../api/engine-harness.js';
import { runCli } from '../cli/run-cli.js';

const skip = engineSkipReason() ?? false;

function mountsUnder(path: string): string[] {
  return readFileSync('/proc/self/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1] ?? '').filter((m) => m.startsWith(path));
}

/** Removes every container and volume through the API, then the harness's own sweep. */
async function cleanupEngine(engine: EngineHarness): Promise<void> {
  try {
    const all = await engine.client.call<Array<{ Id: string }>>('GET', '/containers/json', { query: { all: 1 } });
    for (const c of all) await engine.client.call('DELETE', `/containers/${c.Id}`, { query: { force: 1, v: 1 } }).catch(() => undefined);
    const { Volumes } = await engine.client.call<VolumeListResponse>('GET', '/volumes');
    for (const v of Volumes) await engine.client.call('DELETE', `/volumes/${v.Name}`).catch(() => undefined);
  } catch {
    // The engine is gone: the harness's sweep still unmounts and removes everything.
  }
  await engine.cleanup();
}

t.test('volumes through the engine', { skip }, async (t) => {
  const engine = await makeEngineHarness('volumes');
  t.teardown(() => cleanupEngine(engine));
  const cli = (...argv: string[]) => runCli(argv, { cwd: engine.paths.root, env: engine.env });
  const api = engine.client;
  const createContainer = async (name: string, body: Record<string, unknown>): Promise<string> =>
    (await api.call<{ Id: string }>('POST', '/containers/create', { query: { name }, body: { Image: BUSYBOX_IMAGE, ...body } })).Id;
  const inspect = (id: string) => api.call<ContainerInspect>('GET', `/containers/${id}/json`);

  t.test('a named volume outlives the container that wrote it', async (t) => {
    const write = await cli('run', '--name', 'writer', '-v', 'shared:/data', BUSYBOX_IMAGE, 'sh', '-c', 'echo kept > /data/file && sync');
    t.same(write, { code: 0, stdout: '', stderr: '' });
    const volume = await api.call<VolumeView>('GET', '/volumes/shared');
    t.equal(volume.Name, 'shared', 'made on first use');
    t.equal(readFileSync(`${volume.Mountpoint}/file`, 'utf8'), 'kept\n', 'a plain directory on the host');
    t.same(await cli('rm', 'writer'), { code: 0, stdout: 'writer\n', stderr: '' });
    t.same(await cli('run', '--rm', '-v', 'shared:/data', BUSYBOX_IMAGE, 'cat', '/data/file'), { code: 0, stdout: 'kept\n', stderr: '' }, 'a second container reads it');
  });

  t.test('a missing host path of a -v bind is made; of a Mounts bind, refused by name', async (t) => {
    const host = join(engine.paths.root, 'made', 'by', 'run');
    t.same(await cli('run', '--rm', '-v', `${host}:/x`, BUSYBOX_IMAGE, 'sh', '-c', 'echo hi > /x/f'), { code: 0, stdout: '', stderr: '' });
    t.equal(readFileSync(join(host, 'f'), 'utf8'), 'hi\n', 'the directory was made and mounted');
    const missing = join(engine.paths.root, 'not', 'there');
    const id = await createContainer('strict', { Cmd: ['true'], HostConfig: { Mounts: [{ Type: 'bind', Source: missing, Target: '/y' }] } });
    await t.rejects(api.call('POST', `/containers/${id}/start`), new RegExp(`bind source path does not exist: ${missing} \\(mounted at /y\\)`));
    t.notOk(existsSync(missing), 'and it is not made');
    t.same(await cli('rm', 'strict'), { code: 0, stdout: 'strict\n', stderr: '' });
  });

  t.test('rm -v removes anonymous volumes and keeps named ones', async (t) => {
    const id = await createContainer('anon', { Cmd: ['true'], Volumes: { '/cache': {} }, HostConfig: { Binds: ['named-keep:/keep'], Mounts: [{ Type: 'volume', Target: '/scratch' }] } });
    const mounts = (await inspect(id)).Mounts;
    t.same(mounts.map((m) => [m.Type, m.Destination, m.Driver, m.RW]), [['volume', '/keep', 'local', true], ['volume', '/scratch', 'local', true], ['volume', '/cache', 'local', true]]);
    t.equal(mounts[0]?.Name, 'named-keep');
    const anonymous = mounts.slice(1).map((m) => m.Name ?? '');
    for (const name of anonymous) t.match(name, /^[0-9a-f]{64}$/);
    t.match(mounts[1]?.Source ?? '', new RegExp(`${engine.paths.root}/volumes/${anonymous[0]}/_data$`), 'Source is the volume\'s data dir');
    const labels = (await api.call<VolumeView>('GET', `/volumes/${anonymous[0]}`)).Labels;
    t.ok('com.docker.volume.anonymous' in labels);
    t.same(await cli('rm', '-v', 'anon'), { code: 0, stdout: 'anon\n', stderr: '' });
    const left = (await api.call<VolumeListResponse>('GET', '/volumes')).Volumes.map((v) => v.Name);
    t.ok(left.includes('named-keep'), 'the named volume stays');
    for (const name of anonymous) t.notOk(left.includes(name), 'the anonymous one is gone');
    await api.call('DELETE', '/volumes/named-keep');
  });

  t.test('a volume in use cannot be removed', async (t) => {
    await createContainer('user1', { Cmd: ['true'], HostConfig: { Binds: ['busy:/b'] } });
    await t.rejects(api.call('DELETE', '/volumes/busy'), { name: 'ConflictError', message: /remove busy: volume is in use by container user1/ }, '409 naming the container');
    await t.rejects(api.call('DELETE', '/volumes/busy', { query: { force: 1 } }), { name: 'ConflictError' }, 'force does not override that');
    const viaCli = await cli('volume', 'rm', 'busy');
    t.equal(viaCli.code, 1);
    t.match(viaCli.stderr, /in use by container user1/);
    const dangling = await api.call<VolumeListResponse>('GET', '/volumes', { query: { filters: JSON.stringify({ dangling: ['false'] }) } });
    t.same(dangling.Volumes.map((v) => v.Name), ['busy'], 'dangling=false lists what is used');
    await cli('rm', 'user1');
    t.same(await cli('volume', 'rm', 'busy'), { code: 0, stdout: 'busy\n', stderr: '' });
    await t.rejects(api.call('DELETE', '/volumes/busy'), { name: 'NotFoundError', message: 'No such volume: busy' });
    t.same(await cli('volume', 'rm', '-f', 'busy'), { code: 0, stdout: 'busy\n', stderr: '' }, '-f: no error for a missing volume');
  });

  t.test('populated from the image on first mount, unless nocopy', async (t) => {
    const r = await cli('run', '--rm', '-v', 'etc-copy:/etc', BUSYBOX_IMAGE, 'cat', '/etc/passwd');
    t.same(r, { code: 0, stdout: 'root:x:0:0:root:/root:/bin/sh\n', stderr: '' }, 'the image\'s /etc/passwd is in the volume');
    const mountpoint = (await api.call<VolumeView>('GET', '/volumes/etc-copy')).Mountpoint;
    t.equal(readFileSync(`${mountpoint}/group`, 'utf8'), 'root:x:0:\n');
    const noCopy = await cli('run', '--rm', '-v', 'etc-empty:/etc:nocopy', BUSYBOX_IMAGE, 'ls', '-A', '/etc');
    t.equal(noCopy.code, 0, noCopy.stderr);
    t.notMatch(noCopy.stdout, /passwd|group/, 'nocopy: nothing of the image');
    const id = await createContainer('nocopy-mount', { Cmd: ['ls', '-A', '/etc'], HostConfig: { Mounts: [{ Type: 'volume', Source: 'etc-empty2', Target: '/etc', VolumeOptions: { NoCopy: true } }] } });
    await api.call('POST', `/containers/${id}/start`);
    await api.call('POST', `/containers/${id}/wait`);
    t.same(readFileSync(`${(await api.call<VolumeView>('GET', '/volumes/etc-empty2')).Mountpoint}/../volume.json`, 'utf8').includes('"Populated":true'), false, 'Mounts VolumeOptions.NoCopy too');
    await api.call('DELETE', `/containers/${id}`);
  });

  t.test('a read-only mount refuses writes', async (t) => {
    const r = await cli('run', '--rm', '-v', 'shared:/data:ro', BUSYBOX_IMAGE, 'sh', '-c', 'cat /data/file; echo x > /data/new');
    t.equal(r.code, 1);
    t.equal(r.stdout, 'kept\n', 'reads work');
    t.match(r.stderr, /Read-only file system/);
    const id = await createContainer('ro-mount', { Cmd: ['true'], HostConfig: { Mounts: [{ Type: 'volume', Source: 'shared', Target: '/data', ReadOnly: true }] } });
    t.same((await inspect(id)).Mounts.map((m) => [m.Name, m.RW, m.Mode]), [['shared', false, 'ro']]);
    await api.call('DELETE', `/containers/${id}`);
  });

  t.test('VolumesFrom gives the same mounts, ro when asked', async (t) => {
    await createContainer('source', { Cmd: ['true'], HostConfig: { Binds: ['shared:/data', `${engine.paths.runRoot}:/hostdir:ro`] } });
    const id = await createContainer('borrower', { Cmd: ['sh', '-c', 'cat /data/file; ls /hostdir >/dev/null && echo host-ok; echo x > /data/nope'], HostConfig: { VolumesFrom: ['source:ro'] } });
    const mounts = (await inspect(id)).Mounts;
    t.same(mounts.map((m) => [m.Type, m.Destination, m.RW]).sort(), [['bind', '/hostdir', false], ['volume', '/data', false]]);
    await api.call('POST', `/containers/${id}/start`);
    const { StatusCode } = await api.call<{ StatusCode: number }>('POST', `/containers/${id}/wait`);
    t.equal(StatusCode, 1, 'the write failed');
    const logs = await cli('logs', 'borrower');
    t.equal(logs.stdout, 'kept\nhost-ok\n');
    t.match(logs.stderr, /Read-only file system/);
    await t.rejects(createContainer('orphan', { Cmd: ['true'], HostConfig: { VolumesFrom: ['nobody'] } }), { name: 'NotFoundError', message: /VolumesFrom "nobody": no such container nobody/ });
    await cli('rm', 'borrower', 'source');
  });

  t.test('a tmpfs volume is mounted while a container uses it', async (t) => {
    const created = await cli('volume', 'create', '--opt', 'type=tmpfs', '--opt', 'device=tmpfs', '--opt', 'o=size=16m', 'fast');
    t.same(created, { code: 0, stdout: 'fast\n', stderr: '' });
    const mountpoint = (await api.call<VolumeView>('GET', '/volumes/fast')).Mountpoint;
    const id = await createContainer('tmpfs-user', { Cmd: ['sh', '-c', 'df -k /fast | tail -1; sleep 30'], HostConfig: { Binds: ['fast:/fast'] } });
    await api.call('POST', `/containers/${id}/start`);
    t.same(mountsUnder(mountpoint), [mountpoint], 'mounted on the host while it runs');
    await api.call('POST', `/containers/${id}/kill`);
    await api.call('POST', `/containers/${id}/wait`);
    t.same(mountsUnder(mountpoint), [], 'unmounted once no running container uses it');
    t.match((await cli('logs', 'tmpfs-user')).stdout, /^tmpfs\s+16384\s/, 'the container saw a 16m tmpfs');
    await cli('rm', 'tmpfs-user');
    const bad = await cli('volume', 'create', '--opt', 'type=nfs', '--opt', 'device=:/x', 'nfsvol');
    t.equal(bad.code, 2, 'a bad request: exit code 2');
    t.match(bad.stderr, /volume "nfsvol": type=nfs is not supported/);
  });

  t.test('stack volume create, ls, inspect, prune', async (t) => {
    t.same(await cli('volume', 'create', '--label', 'env=dev', 'labelled'), { code: 0, stdout: 'labelled\n', stderr: '' });
    const anon = await cli('volume', 'create');
    t.match(anon.stdout, /^[0-9a-f]{64}\n$/);
    const ls = await cli('volume', 'ls', '-q', '--filter', 'label=env=dev');
    t.same(ls, { code: 0, stdout: 'labelled\n', stderr: '' });
    const table = await cli('volume', 'ls');
    t.match(table.stdout, /^DRIVER\s+VOLUME NAME\n/);
    t.match(table.stdout, /local\s+labelled\n/);
    const json = await cli('volume', 'ls', '--format', 'json', '--filter', 'name=label');
    t.same(JSON.parse(json.stdout) as VolumeView, { ...(JSON.parse(json.stdout) as VolumeView), Name: 'labelled', Driver: 'local', Labels: { env: 'dev' } });
    const inspected = JSON.parse((await cli('volume', 'inspect', 'labelled')).stdout) as VolumeView[];
    t.equal(inspected[0]?.Mountpoint, `${engine.paths.root}/volumes/labelled/_data`);
    const missing = await cli('volume', 'inspect', 'nope');
    t.same(missing, { code: 1, stdout: '', stderr: 'error: No such volume: nope\n' });
    const refused = await cli('volume', 'prune');
    t.equal(refused.code, 2, 'no terminal to confirm on: refused');
    const prune = await cli('volume', 'prune', '-f');
    t.equal(prune.code, 0, prune.stderr);
    t.match(prune.stdout, new RegExp(`Deleted Volumes:\\n${anon.stdout.trim()}\\n`), 'the anonymous one');
    t.ok((await cli('volume', 'ls', '-q')).stdout.includes('labelled\n'), 'named volumes stay without -a');
    const all = await cli('volume', 'prune', '-a', '-f');
    t.match(all.stdout, /labelled\n/);
    t.match(all.stdout, /Total reclaimed space: /);
    t.notOk((await cli('volume', 'ls', '-q')).stdout.includes('labelled\n'));
  });

  t.test('nothing is left mounted once the containers are gone', async (t) => {
    const all = await api.call<Array<{ Id: string }>>('GET', '/containers/json', { query: { all: 1 } });
    for (const c of all) await api.call('DELETE', `/containers/${c.Id}`, { query: { force: 1, v: 1 } });
    t.same(mountsUnder(engine.paths.root), []);
  });
});
