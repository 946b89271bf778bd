// Runs as root: lchown, mknod (via stack-shim fs-apply), trusted.* xattrs and overlay mounts.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { mountOverlay, unmountRootfs } from '../../src/image/rootfs.js';
import { layerPaths, unpackLayerStream } from '../../src/image/unpack.js';
import { makeTar, sha256, tempStore, type TarEntry } from './support.js';

const skip = process.getuid?.() !== 0 ? 'unpack tests need root' : false;

function getXattr(path: string, name: string): string {
  return execFileSync('getfattr', ['--only-values', '-h', '-n', name, path], { encoding: 'utf8' });
}

async function unpack(store: Awaited<ReturnType<typeof tempStore>>['store'], entries: TarEntry[], warnings: string[] = [], gzip = false) {
  const tarball = await makeTar(entries);
  return unpackLayerStream(store, Readable.from([gzip ? gzipSync(tarball) : tarball]), sha256(tarball), { warn: (w) => warnings.push(w) });
}

t.test('a normal layer with every entry type', { skip }, async (t) => {
  const { store, cleanup } = await tempStore('types');
  t.teardown(cleanup);
  const mtime = new Date('2020-01-02T03:04:05Z');
  const warnings: string[] = [];
  const layer = await unpack(store, [
    { name: 'etc/', type: 'directory', mode: 0o750, uid: 12, gid: 34, mtime },
    { name: 'etc/hosts', body: 'hello\n', mode: 0o640, uid: 1000, gid: 1001, mtime },
    { name: 'bin/su', body: '#!', mode: 0o4755, uid: 0, gid: 0 },
    { name: 'bin/sh', type: 'symlink', linkname: '/bin/busybox', uid: 5, gid: 6 },
    { name: 'bin/hard', type: 'link', linkname: 'bin/su' },
    { name: 'run/pipe', type: 'fifo', mode: 0o620, uid: 7, gid: 8 },
    { name: 'dev/sda', type: 'block-device', devmajor: 8, devminor: 0 },
    { name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3 },
    { name: 'caps', body: 'x', pax: { 'SCHILY.xattr.user.note': 'hi there' } },
  ], warnings, true);
  const d = layer.dir;
  t.equal(readFileSync(join(d, 'etc/hosts'), 'utf8'), 'hello\n');
  const hosts = lstatSync(join(d, 'etc/hosts'));
  t.same([hosts.mode & 0o7777, hosts.uid, hosts.gid, hosts.mtime.toISOString()], [0o640, 1000, 1001, mtime.toISOString()]);
  const etc = lstatSync(join(d, 'etc'));
  t.same([etc.mode & 0o7777, etc.uid, etc.gid, etc.mtime.toISOString()], [0o750, 12, 34, mtime.toISOString()], 'dir metadata survives its children');
  t.equal(lstatSync(join(d, 'bin/su')).mode & 0o7777, 0o4755, 'setuid kept');
  t.equal(readlinkSync(join(d, 'bin/sh')), '/bin/busybox');
  t.same([lstatSync(join(d, 'bin/sh')).uid, lstatSync(join(d, 'bin/sh')).gid], [5, 6]);
  t.equal(lstatSync(join(d, 'bin/hard')).ino, lstatSync(join(d, 'bin/su')).ino, 'hardlink shares the inode');
  const pipe = lstatSync(join(d, 'run/pipe'));
  t.ok(pipe.isFIFO());
  t.same([pipe.mode & 0o7777, pipe.uid, pipe.gid], [0o620, 7, 8]);
  t.notOk(existsSync(join(d, 'dev/sda')));
  t.notOk(existsSync(join(d, 'dev/null')));
  t.same(warnings, ['skipping device node "dev/sda" (the runtime provides /dev)', 'skipping device node "dev/null" (the runtime provides /dev)']);
  t.equal(getXattr(join(d, 'caps'), 'user.note'), 'hi there');
  t.equal(readlinkSync(join(store.layerDir, 'l', layer.link)), `../${layerPaths(store, layer.diffId).base.split('/').pop()}/diff`);
  t.equal(layer.link.length, 16);
});

t.test('whiteouts and opaque dirs seen through an overlay of two layers', { skip }, async (t) => {
  const { dir, store, cleanup } = await tempStore('overlay');
  t.teardown(cleanup);
  const lower = await unpack(store, [
    { name: 'keep', body: 'k' },
    { name: 'gone', body: 'g' },
    { name: 'opq/', type: 'directory' },
    { name: 'opq/old', body: 'o' },
    { name: 'plain/', type: 'directory' },
    { name: 'plain/old', body: 'p' },
  ]);
  const upper = await unpack(store, [
    { name: '.wh.gone', body: '' },
    { name: 'opq/', type: 'directory' },
    { name: 'opq/.wh..wh..opq', body: '' },
    { name: 'opq/new', body: 'n' },
    { name: 'plain/new', body: 'n' },
  ]);
  const wh = lstatSync(join(upper.dir, 'gone'));
  t.ok(wh.isCharacterDevice(), 'whiteout is a character device');
  t.equal(wh.rdev, 0);
  t.equal(getXattr(join(upper.dir, 'opq'), 'trusted.overlay.opaque'), 'y');
  const dirs = { upper: join(dir, 'c/upper'), work: join(dir, 'c/work'), target: join(dir, 'c/rootfs') };
  await mountOverlay(store.layerDir, [`l/${lower.link}`, `l/${upper.link}`], dirs);
  t.teardown(() => unmountRootfs(dirs.target));
  t.same(readdirSync(dirs.target).sort(), ['keep', 'opq', 'plain']);
  t.same(readdirSync(join(dirs.target, 'opq')), ['new']);
  t.same(readdirSync(join(dirs.target, 'plain')).sort(), ['new', 'old']);
  writeFileSync(join(dirs.target, 'written'), 'w');
  t.equal(readFileSync(join(dirs.upper, 'written'), 'utf8'), 'w', 'writes land in the container upper dir');
  await unmountRootfs(dirs.target);
  t.same(readdirSync(dirs.target), []);
});

t.test('malicious layers are refused and write nothing outside the store', { skip }, async (t) => {
  const { dir, store, cleanup } = await tempStore('evil');
  t.teardown(cleanup);
  const outside = join(dir, 'outside');
  mkdirSync(outside);
  writeFileSync(join(outside, 'secret'), 'secret');
  const cases: [string, TarEntry[], string][] = [
    ['dot-dot', [{ name: '../../outside/pwned', body: 'x' }], 'refusing path with "..": "../../outside/pwned"'],
    ['absolute', [{ name: `${outside}/pwned`, body: 'x' }], `refusing absolute path "${outside}/pwned"`],
    ['absolute symlink then file under it', [
      { name: 'esc', type: 'symlink', linkname: outside },
      { name: 'esc/pwned', body: 'x' },
    ], 'refusing "esc/pwned": it would be written through the symlink "esc"'],
    ['relative symlink then file under it', [
      { name: 'a/', type: 'directory' },
      { name: 'a/esc', type: 'symlink', linkname: '../../../../outside' },
      { name: 'a/esc/deeper/pwned', body: 'x' },
    ], 'refusing "a/esc/deeper/pwned": it would be written through the symlink "esc"'],
    ['hardlink outside', [{ name: 'h', type: 'link', linkname: '../../outside/secret' }], 'refusing path with "..": "../../outside/secret"'],
    ['hardlink absolute', [{ name: 'h', type: 'link', linkname: `${outside}/secret` }], `refusing absolute path "${outside}/secret"`],
    ['hardlink through a symlink', [
      { name: 'esc', type: 'symlink', linkname: outside },
      { name: 'h', type: 'link', linkname: 'esc/secret' },
    ], 'refusing hardlink to "esc/secret": it goes through the symlink "esc"'],
    ['hardlink to a missing target', [{ name: 'h', type: 'link', linkname: 'nope' }], 'refusing hardlink "h": target "nope" is not in this layer'],
  ];
  for (const [name, entries, message] of cases) {
    await t.rejects(unpack(store, entries), { name: 'UnsafeLayerError', message }, name);
    t.same(readdirSync(outside), ['secret'], `${name}: nothing written outside`);
    t.equal(readFileSync(join(outside, 'secret'), 'utf8'), 'secret');
    t.same(readdirSync(store.layerDir).sort(), ['l'], `${name}: no layer dir left behind`);
  }
  // A symlink to outside, then a whiteout of a name under it: fs-apply must refuse too.
  await t.rejects(unpack(store, [
    { name: 'esc', type: 'symlink', linkname: outside },
    { name: 'esc/.wh.secret', body: '' },
  ]), { message: 'refusing "esc/.wh.secret": it would be written through the symlink "esc"' });
  t.equal(readFileSync(join(outside, 'secret'), 'utf8'), 'secret');
  // A hardlink to a symlink aliases the symlink itself, never its target.
  const ok = await unpack(store, [
    { name: 'esc', type: 'symlink', linkname: `${outside}/secret` },
    { name: 'h', type: 'link', linkname: 'esc' },
  ]);
  t.ok(lstatSync(join(ok.dir, 'h')).isSymbolicLink());
  t.same(readdirSync(outside), ['secret']);
});

t.test('a diff_id mismatch stores nothing', { skip }, async (t) => {
  const { store, cleanup } = await tempStore('mismatch');
  t.teardown(cleanup);
  const tarball = await makeTar([{ name: 'f', body: 'x' }]);
  const wrong = sha256(Buffer.from('other'));
  await t.rejects(unpackLayerStream(store, Readable.from([tarball]), wrong), { message: `layer diff_id mismatch: expected ${wrong}, got ${sha256(tarball)}` });
  t.same(readdirSync(store.layerDir), ['l']);
  await t.rejects(unpackLayerStream(store, Readable.from([Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0, 0])]), wrong), {
    message: 'zstd-compressed layers are not supported on Node 20 (no zstd in node:zlib); pull or build the image with gzip layers',
  });
  t.same(readdirSync(store.layerDir), ['l']);
});

t.test('stack-shim fs-apply itself refuses paths that leave its directory', { skip }, async (t) => {
  const { dir, cleanup } = await tempStore('fsapply');
  t.teardown(cleanup);
  const layer = join(dir, 'layer');
  const outside = join(dir, 'outside');
  mkdirSync(layer);
  mkdirSync(outside);
  execFileSync('ln', ['-s', outside, join(layer, 'esc')]);
  const { spawnSync } = await import('node:child_process');
  const { DEFAULT_SHIM_PATH } = await import('../../src/runtime/shim-runtime.js');
  for (const path of ['esc/x', '../outside/x', 'a/../../outside/x']) {
    const r = spawnSync(DEFAULT_SHIM_PATH, ['fs-apply', layer], { input: `whiteout\0${path}\0`, encoding: 'utf8' });
    t.equal(r.status, 1, path);
    t.match(r.stderr, /^stack-shim fs-apply: cannot reach the parent of "/, path);
  }
  t.same(readdirSync(outside), []);
  const ok = spawnSync(DEFAULT_SHIM_PATH, ['fs-apply', layer], { input: 'whiteout\0gone\0', encoding: 'utf8' });
  t.equal(ok.status, 0, ok.stderr);
  t.ok(lstatSync(join(layer, 'gone')).isCharacterDevice());
});
