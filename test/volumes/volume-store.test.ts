// The volume store on its own, in temp dirs: create, inspect, list and its filters,
// remove, prune, names, metadata on disk, driver options, and populating a volume from
// a fake rootfs (owners, modes, times, symlinks never followed, once only).
import t, { type Test } from 'tap';
import { chownSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync, chmodSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ANONYMOUS_LABEL } from '../../src/common/volume-api-types.js';
import { VolumeStore, volumeKind } from '../../src/volumes/volume-store.js';
import { resolveInRoot } from '../../src/volumes/populate.js';

const isRoot = process.getuid?.() === 0;

function tempDir(t: Test, name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `stack-vol-${name}-`));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function makeStore(t: Test, name: string): Promise<{ store: VolumeStore; root: string; base: string }> {
  const base = tempDir(t, name);
  const root = join(base, 'volumes');
  let n = 0;
  const store = await new VolumeStore(root, { now: () => new Date('2024-05-06T07:08:09.123Z'), randomName: () => `${String(++n).padStart(2, '0')}`.repeat(32) }).init();
  return { store, root, base };
}

t.test('create, inspect, list, remove', async (t) => {
  const { store, root } = await makeStore(t, 'basic');
  const { volume, created } = await store.create({ name: 'data', labels: { env: 'dev' } });
  t.ok(created);
  t.same(volume, {
    Name: 'data', Driver: 'local', Labels: { env: 'dev' }, Options: {}, CreatedAt: '2024-05-06T07:08:09Z', Scope: 'local', Mountpoint: join(root, 'data', '_data'),
  });
  t.ok(statSync(join(root, 'data', '_data')).isDirectory(), 'the data dir exists');
  const onDisk = JSON.parse(readFileSync(join(root, 'data', 'volume.json'), 'utf8')) as { Name: string };
  t.equal(onDisk.Name, 'data', 'metadata on disk');
  t.same(readdirSync(root), ['data'], 'no temp files left beside it');

  const again = await store.create({ name: 'data', labels: { other: 'x' } });
  t.notOk(again.created, 'a second create of the same name is the same volume');
  t.same(again.volume.Labels, { env: 'dev' }, 'and changes nothing');
  await t.rejects(store.create({ name: 'data', driver: 'nfs' }), { name: 'ConflictError', message: /volume "data" already exists with driver "local"/ });
  await t.rejects(store.create({ name: 'other', driver: 'nfs' }), { name: 'UsageError', message: /driver "nfs" is not supported/ });

  const anonymous = (await store.create({})).volume;
  t.match(anonymous.Name, /^[0-9a-f]{64}$/);
  t.ok(ANONYMOUS_LABEL in anonymous.Labels, 'anonymous volumes carry the label');
  t.ok(store.isAnonymous(anonymous.Name));

  const reopened = await new VolumeStore(root).init();
  t.same(reopened.list().map((v) => v.Name).sort(), [anonymous.Name, 'data'].sort(), 'a new store reads what is on disk');

  writeFileSync(join(root, 'data', '_data', 'f'), '12345');
  t.equal(await store.remove('data'), 5, 'remove says how many bytes it freed');
  t.notOk(existsSync(join(root, 'data')));
  t.same(readdirSync(root), [anonymous.Name], 'gone, and no trash left');
  await t.rejects(store.remove('data'), { name: 'NotFoundError', message: 'No such volume: data' });
  t.throws(() => store.view('data'), { name: 'NotFoundError' });
});

t.test('names', async (t) => {
  const { store } = await makeStore(t, 'names');
  for (const bad of ['a', '-x', '.x', 'a/b', 'a b', 'ä1', '../up']) {
    await t.rejects(store.create({ name: bad }), { name: 'UsageError', message: /invalid volume name/ }, `"${bad}" refused`);
  }
  for (const good of ['ab', 'my-vol_1.2', '0x']) t.ok((await store.create({ name: good })).created, `"${good}" accepted`);
});

t.test('list filters and prune', async (t) => {
  const { store } = await makeStore(t, 'filters');
  await store.create({ name: 'db-data', labels: { env: 'dev', tier: 'db' } });
  await store.create({ name: 'web-cache', labels: { env: 'prod' } });
  const anon = (await store.create({})).volume.Name;
  const used = new Set(['web-cache']);
  const names = (f: Parameters<VolumeStore['list']>[0]): string[] => store.list(f, used).map((v) => v.Name);
  t.same(names({ name: ['data'] }), ['db-data'], 'name is a substring');
  t.same(names({ label: ['env'] }), ['db-data', 'web-cache'], 'label key');
  t.same(names({ label: ['env=dev'] }), ['db-data'], 'label key=value');
  t.same(names({ label: ['env=dev', 'tier=web'] }), [], 'every label must match');
  t.same(names({ dangling: true }), [anon, 'db-data'].sort(), 'dangling: unused');
  t.same(names({ dangling: false }), ['web-cache'], 'not dangling: used');
  t.same(names({ driver: ['local'] }).length, 3);

  const byDefault = await store.prune({ inUse: used });
  t.same(byDefault.deleted, [anon], 'prune takes only unused anonymous volumes by default');
  t.same(store.list().map((v) => v.Name), ['db-data', 'web-cache']);
  const labelled = await store.prune({ inUse: used, all: true, filters: { labelNot: ['env=dev'] } });
  t.same(labelled.deleted, [], 'label! keeps what matches; web-cache is in use');
  writeFileSync(join(store.dataDir('db-data'), 'x'), 'abc');
  const all = await store.prune({ inUse: used, all: true });
  t.same(all, { deleted: ['db-data'], reclaimed: 3 }, 'all: named ones too, never one in use');
  t.same(store.list().map((v) => v.Name), ['web-cache']);
});

t.test('metadata is written atomically and leftovers of a crash are cleaned', async (t) => {
  const { store, root } = await makeStore(t, 'atomic');
  await store.create({ name: 'vol' });
  // What a crash mid-create or mid-remove leaves: dot-dirs beside the volumes.
  mkdirSync(join(root, '.new-deadbeef', '_data'), { recursive: true });
  mkdirSync(join(root, '.removing-cafe'), { recursive: true });
  const reopened = await new VolumeStore(root).init();
  t.same(readdirSync(root), ['vol'], 'the half-made and half-removed dirs are gone');
  t.same(reopened.list().map((v) => v.Name), ['vol']);
  writeFileSync(join(root, 'vol', 'volume.json'), '{"Name": "vol", torn');
  await t.rejects(new VolumeStore(root).init(), { name: 'RuntimeFailure', message: /cannot read volume vol .*volume\.json/ });
});

t.test('driver options: bind and tmpfs, and refusals', async (t) => {
  const { store, base } = await makeStore(t, 'opts');
  const device = join(base, 'device');
  mkdirSync(device);
  const bind = (await store.create({ name: 'hostdir', options: { type: 'none', o: 'bind', device } })).volume;
  t.equal(bind.Mountpoint, device, 'a bind volume\'s mountpoint is its device');
  t.same(bind.Options, { type: 'none', o: 'bind', device });
  writeFileSync(join(device, 'keep'), 'mine');
  t.equal(await store.activate('hostdir'), device);
  t.equal(await store.remove('hostdir'), 0);
  t.equal(readFileSync(join(device, 'keep'), 'utf8'), 'mine', 'removing a bind volume leaves the host directory alone');

  await t.rejects(store.create({ name: 'nodev', options: { type: 'none', o: 'bind', device: join(base, 'missing') } }), { name: 'UsageError', message: /volume "nodev": the bind device .*missing does not exist/ });
  t.throws(() => volumeKind('v', { type: 'nfs', o: 'addr=1.2.3.4', device: ':/export' }), { message: /volume "v": type=nfs is not supported/ });
  t.throws(() => volumeKind('v', { type: 'none', device: '/x' }), { message: /needs o=bind/ });
  t.throws(() => volumeKind('v', { type: 'none', o: 'bind', device: 'relative' }), { message: /device=\/absolute/ });
  t.throws(() => volumeKind('v', { colour: 'red' }), { message: /driver option "colour" is not known/ });
  t.throws(() => volumeKind('v', { type: 'tmpfs', o: 'size=64m,exec=yes' }), { message: /tmpfs option "exec=yes"/ });
  t.same(volumeKind('v', { type: 'tmpfs', device: 'tmpfs', o: 'size=64m' }), { kind: 'tmpfs', mountOptions: 'size=64m' });
  t.same(store.list(), [], 'nothing half-made by the refusals');
});

t.test('a tmpfs volume is mounted when used and unmounted after', { skip: isRoot ? false : 'mounting a tmpfs needs root' }, async (t) => {
  const { store } = await makeStore(t, 'tmpfs');
  const v = (await store.create({ name: 'scratch', options: { type: 'tmpfs', device: 'tmpfs', o: 'size=8m' } })).volume;
  t.teardown(() => store.remove('scratch').catch(() => undefined));
  await store.activate('scratch');
  const mounted = (): string | undefined => readFileSync('/proc/self/mounts', 'utf8').split('\n').find((l) => l.split(' ')[1] === v.Mountpoint);
  t.match(mounted() ?? '', /^tmpfs .* tmpfs .*size=8192k/, 'mounted with its size');
  await store.activate('scratch');
  t.equal(readFileSync('/proc/self/mounts', 'utf8').split('\n').filter((l) => l.split(' ')[1] === v.Mountpoint).length, 1, 'once');
  await store.deactivate('scratch');
  t.equal(mounted(), undefined, 'unmounted');
  await store.activate('scratch');
  await store.remove('scratch');
  t.equal(mounted(), undefined, 'remove unmounts it');
});

t.test('resolveInRoot stays inside the root', async (t) => {
  const root = tempDir(t, 'resolve');
  mkdirSync(join(root, 'etc', 'app'), { recursive: true });
  symlinkSync('/etc/app', join(root, 'abs'));
  symlinkSync('../../../../..', join(root, 'etc', 'up'));
  symlinkSync('loop', join(root, 'loop'));
  t.equal(await resolveInRoot(root, '/etc/app'), join(root, 'etc', 'app'));
  t.equal(await resolveInRoot(root, '/abs'), join(root, 'etc', 'app'), 'an absolute link starts again at the root, not the host\'s /');
  t.equal(await resolveInRoot(root, '/etc/up/etc'), join(root, 'etc'), '.. stops at the root');
  t.equal(await resolveInRoot(root, '/nope/x'), undefined);
  await t.rejects(resolveInRoot(root, '/loop'), { message: /too many symlinks/ });
});

t.test('populate copies the image\'s content once, with owners, modes, times and links', { skip: isRoot ? false : 'chown needs root' }, async (t) => {
  const { store, base } = await makeStore(t, 'populate');
  const rootfs = join(base, 'rootfs');
  const src = join(rootfs, 'var', 'lib', 'app');
  mkdirSync(join(src, 'sub'), { recursive: true });
  writeFileSync(join(src, 'conf'), 'setting=1\n');
  chownSync(join(src, 'conf'), 1234, 2345);
  chmodSync(join(src, 'conf'), 0o640);
  writeFileSync(join(src, 'sub', 'tool'), '#!/bin/sh\n');
  chmodSync(join(src, 'sub', 'tool'), 0o4755);
  chownSync(join(src, 'sub'), 100, 102);
  chmodSync(join(src, 'sub'), 0o700);
  utimesSync(join(src, 'conf'), new Date('2020-01-02T03:04:05Z'), new Date('2020-01-02T03:04:05Z'));
  // Links that point out of the rootfs: copied as links, never read through.
  const secret = join(base, 'host-secret');
  writeFileSync(secret, 'host only');
  symlinkSync(secret, join(src, 'escape-abs'));
  symlinkSync('../../../../../../host-secret', join(src, 'escape-rel'));
  symlinkSync('conf', join(src, 'conf-link'));
  chownSync(src, 100, 102);
  chmodSync(src, 0o750);

  await store.create({ name: 'appdata' });
  const data = store.dataDir('appdata');
  t.ok(await store.populate('appdata', rootfs, '/var/lib/app'), 'copied');
  t.equal(readFileSync(join(data, 'conf'), 'utf8'), 'setting=1\n');
  const conf = lstatSync(join(data, 'conf'));
  t.same([conf.uid, conf.gid, conf.mode & 0o7777], [1234, 2345, 0o640], 'file owner and mode');
  t.equal(conf.mtime.toISOString(), '2020-01-02T03:04:05.000Z', 'file mtime');
  t.equal(lstatSync(join(data, 'sub', 'tool')).mode & 0o7777, 0o4755, 'setuid bit kept (chmod after chown)');
  const sub = lstatSync(join(data, 'sub'));
  t.same([sub.uid, sub.gid, sub.mode & 0o7777], [100, 102, 0o700], 'directory owner and mode');
  const top = lstatSync(data);
  t.same([top.uid, top.gid, top.mode & 0o7777], [100, 102, 0o750], 'the volume takes the owner and mode of the directory it covers');
  t.ok(lstatSync(join(data, 'escape-abs')).isSymbolicLink(), 'an absolute link out is a link');
  t.equal(readlinkSync(join(data, 'escape-abs')), secret, 'with its target unchanged');
  t.equal(readlinkSync(join(data, 'escape-rel')), '../../../../../../host-secret');
  t.equal(readlinkSync(join(data, 'conf-link')), 'conf');
  t.notOk(readdirSync(data).includes('host-secret'));

  const meta = JSON.parse(readFileSync(join(store.dir('appdata'), 'volume.json'), 'utf8')) as { Populated?: boolean };
  t.equal(meta.Populated, true, 'the marker is on disk');
  rmSync(join(data, 'conf'));
  rmSync(join(data, 'sub'), { recursive: true });
  for (const f of readdirSync(data)) rmSync(join(data, f));
  t.notOk(await store.populate('appdata', rootfs, '/var/lib/app'), 'never twice, even once emptied');
  t.same(readdirSync(data), []);

  await store.create({ name: 'notempty' });
  writeFileSync(join(store.dataDir('notempty'), 'mine'), 'x');
  t.notOk(await store.populate('notempty', rootfs, '/var/lib/app'), 'a volume with content is left as it is');
  t.same(readdirSync(store.dataDir('notempty')), ['mine']);

  await store.create({ name: 'nothing' });
  t.notOk(await store.populate('nothing', rootfs, '/does/not/exist'), 'nothing to copy from a missing path');

  // A mount path that is itself a link out of the rootfs resolves inside it.
  mkdirSync(join(rootfs, 'tmp'), { recursive: true });
  symlinkSync('/var/lib/app', join(rootfs, 'tmp', 'app-link'));
  symlinkSync(base, join(rootfs, 'hostbase'));
  await store.create({ name: 'viaLink' });
  t.ok(await store.populate('viaLink', rootfs, '/tmp/app-link'));
  t.ok(existsSync(join(store.dataDir('viaLink'), 'conf')), 'the link was resolved in the rootfs');
  await store.create({ name: 'outside' });
  t.notOk(await store.populate('outside', rootfs, '/hostbase/host-secret'), 'a link to a host path is looked up in the rootfs, where it is not');
  t.same(readdirSync(store.dataDir('outside')), []);
});
