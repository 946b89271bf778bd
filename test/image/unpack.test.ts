// Runs as root: lchown, mknod (in stack-shim unpack), trusted.* xattrs and overlay mounts.
import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
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
  // A symlink to outside, then a whiteout of a name under it: refused like any other entry.
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

t.test('stack-shim unpack itself refuses paths that leave its directory', { skip }, async (t) => {
  const { dir, cleanup } = await tempStore('shim');
  t.teardown(cleanup);
  const layer = join(dir, 'layer');
  const outside = join(dir, 'outside');
  mkdirSync(layer);
  mkdirSync(outside);
  execFileSync('ln', ['-s', outside, join(layer, 'esc')]);
  const { DEFAULT_SHIM_PATH } = await import('../../src/runtime/shim-runtime.js');
  const cases: [string, string][] = [
    ['esc/x', 'refusing "esc/x": it would be written through the symlink "esc"'],
    ['esc/.wh.x', 'refusing "esc/.wh.x": it would be written through the symlink "esc"'],
    ['../outside/x', 'refusing path with "..": "../outside/x"'],
    ['a/../../outside/x', 'refusing path with "..": "a/../../outside/x"'],
  ];
  for (const [name, message] of cases) {
    const r = spawnSync(DEFAULT_SHIM_PATH, ['unpack', layer], { input: await makeTar([{ name, body: 'x' }]), encoding: 'utf8' });
    t.equal(r.status, 3, name);
    t.equal(r.stderr, `stack-shim unpack: ${message}\n`, name);
  }
  t.same(readdirSync(outside), []);
  const ok = spawnSync(DEFAULT_SHIM_PATH, ['unpack', layer], { input: await makeTar([{ name: '.wh.gone', body: '' }]), encoding: 'utf8' });
  t.equal(ok.status, 0, ok.stderr);
  t.ok(lstatSync(join(layer, 'gone')).isCharacterDevice());
  const bad = spawnSync(DEFAULT_SHIM_PATH, ['unpack', layer], { input: Buffer.alloc(512, 1), encoding: 'utf8' });
  t.equal(bad.status, 1, 'a corrupt header is an error, not a refusal');
  t.match(bad.stderr, /^stack-shim unpack: invalid tar header at byte 0 \(bad checksum\)/);
});

/** A tar of `src` written by GNU tar itself, an independent producer of the formats. */
function gnuTar(src: string, ...options: string[]): Buffer {
  return execFileSync('tar', [...options, '--numeric-owner', '-C', src, '-cf', '-', '.'], { maxBuffer: 1 << 30 });
}

async function unpackTarball(store: Awaited<ReturnType<typeof tempStore>>['store'], tarball: Buffer) {
  return unpackLayerStream(store, Readable.from([tarball]), sha256(tarball));
}

/** A tree with names and a link target past ustar's 100/155-byte fields. */
function makeLongNameTree(src: string): { deep: string; file: string; target: string } {
  const deep = ['d'.repeat(90), 'e'.repeat(90), 'f'.repeat(90)].join('/');
  const file = `${deep}/${'n'.repeat(200)}`;
  const target = `/${'t'.repeat(150)}/${'u'.repeat(150)}`;
  mkdirSync(join(src, deep), { recursive: true });
  writeFileSync(join(src, file), 'long\n');
  execFileSync('ln', ['-s', target, join(src, deep, 'sym')]);
  execFileSync('ln', [join(src, file), join(src, deep, `${'h'.repeat(120)}`)]);
  return { deep, file, target };
}

t.test('GNU long names and long link targets (L and K entries)', { skip }, async (t) => {
  const { dir, store, cleanup } = await tempStore('gnulong');
  t.teardown(cleanup);
  const src = join(dir, 'src');
  const { deep, file, target } = makeLongNameTree(src);
  const tarball = gnuTar(src, '--format=gnu');
  t.ok(tarball.includes('././@LongLink'), 'GNU tar wrote long-name entries');
  const layer = await unpackTarball(store, tarball);
  t.equal(readFileSync(join(layer.dir, file), 'utf8'), 'long\n');
  t.equal(readlinkSync(join(layer.dir, deep, 'sym')), target);
  t.equal(lstatSync(join(layer.dir, deep, 'h'.repeat(120))).ino, lstatSync(join(layer.dir, file)).ino, 'long hardlink name to a long target');
});

t.test('pax long names, mtimes and SCHILY.xattr records', { skip }, async (t) => {
  const { dir, store, cleanup } = await tempStore('pax');
  t.teardown(cleanup);
  const src = join(dir, 'src');
  const { deep, file, target } = makeLongNameTree(src);
  execFileSync('setfattr', ['-n', 'user.note', '-v', '0x00ff0a6869', join(src, file)]);
  execFileSync('setfattr', ['-n', 'trusted.overlay.opaque', '-v', 'y', join(src, deep)]);
  execFileSync('touch', ['-h', '-d', '2001-02-03T04:05:06.789Z', join(src, file)]);
  const tarball = gnuTar(src, '--format=posix', '--xattrs', '--xattrs-include=*');
  t.ok(tarball.includes('SCHILY.xattr.user.note'), 'GNU tar wrote pax xattr records');
  const layer = await unpackTarball(store, tarball);
  t.equal(readFileSync(join(layer.dir, file), 'utf8'), 'long\n');
  t.equal(readlinkSync(join(layer.dir, deep, 'sym')), target);
  t.equal(lstatSync(join(layer.dir, deep, 'h'.repeat(120))).ino, lstatSync(join(layer.dir, file)).ino);
  const value = execFileSync('getfattr', ['--only-values', '-h', '-n', 'user.note', join(layer.dir, file)]);
  t.same([...value], [0x00, 0xff, 0x0a, 0x68, 0x69], 'binary xattr value, NUL and newline included');
  t.equal(getXattr(join(layer.dir, deep), 'trusted.overlay.opaque'), 'y');
  t.equal(lstatSync(join(layer.dir, file)).mtime.toISOString(), '2001-02-03T04:05:06.789Z', 'sub-second pax mtime');
});

t.test('a name with a NUL byte in a pax path is refused', { skip }, async (t) => {
  const { store, cleanup } = await tempStore('paxnul');
  t.teardown(cleanup);
  await t.rejects(unpack(store, [{ name: 'x', body: 'x', pax: { path: 'evil\0name' } }]), { name: 'UnsafeLayerError', message: 'refusing a name containing NUL' });
  t.same(readdirSync(store.layerDir), ['l']);
});

t.test('later entries replace earlier ones of the same name', { skip }, async (t) => {
  const { dir, store, cleanup } = await tempStore('replace');
  t.teardown(cleanup);
  const outside = join(dir, 'outside');
  mkdirSync(outside);
  const mtime = new Date('2019-05-06T07:08:09Z');
  const layer = await unpack(store, [
    { name: 'f', body: 'one', mode: 0o644 },
    { name: 'f', body: 'two', mode: 0o600, uid: 3 },
    // a directory (with children and metadata) replaced by a file
    { name: 'd/', type: 'directory', mode: 0o700 },
    { name: 'd/sub/', type: 'directory' },
    { name: 'd/sub/x', body: 'x' },
    { name: 'd', body: 'now a file' },
    // a file replaced by a directory, which then gets children
    { name: 'g', body: 'was a file' },
    { name: 'g/', type: 'directory', mode: 0o711, mtime },
    { name: 'g/y', body: 'y' },
    // a symlink to outside replaced by a real directory: writes stay inside
    { name: 's', type: 'symlink', linkname: outside },
    { name: 's/', type: 'directory' },
    { name: 's/z', body: 'z' },
    // a directory over a directory keeps its contents and takes the later metadata
    { name: 'k/', type: 'directory', mode: 0o755 },
    { name: 'k/old', body: 'o' },
    { name: 'k/', type: 'directory', mode: 0o750, mtime },
    // a whiteout over a file, then the file again
    { name: 'w', body: 'first' },
    { name: '.wh.w', body: '' },
    { name: 'w', body: 'back' },
  ]);
  const d = layer.dir;
  t.equal(readFileSync(join(d, 'f'), 'utf8'), 'two');
  t.same([lstatSync(join(d, 'f')).mode & 0o7777, lstatSync(join(d, 'f')).uid], [0o600, 3]);
  t.equal(readFileSync(join(d, 'd'), 'utf8'), 'now a file');
  t.ok(lstatSync(join(d, 'g')).isDirectory());
  t.same([lstatSync(join(d, 'g')).mode & 0o7777, lstatSync(join(d, 'g')).mtime.toISOString()], [0o711, mtime.toISOString()]);
  t.equal(readFileSync(join(d, 'g/y'), 'utf8'), 'y');
  t.ok(lstatSync(join(d, 's')).isDirectory());
  t.equal(readFileSync(join(d, 's/z'), 'utf8'), 'z');
  t.same(readdirSync(outside), [], 'nothing written through the replaced symlink');
  t.same(readdirSync(join(d, 'k')), ['old']);
  t.same([lstatSync(join(d, 'k')).mode & 0o7777, lstatSync(join(d, 'k')).mtime.toISOString()], [0o750, mtime.toISOString()]);
  t.equal(readFileSync(join(d, 'w'), 'utf8'), 'back');
});

t.test('hardlink chains share one inode', { skip }, async (t) => {
  const { store, cleanup } = await tempStore('chain');
  t.teardown(cleanup);
  const layer = await unpack(store, [
    { name: 'bin/', type: 'directory' },
    { name: 'bin/a', body: 'same', mode: 0o755 },
    { name: 'bin/b', type: 'link', linkname: 'bin/a' },
    { name: 'usr/bin/c', type: 'link', linkname: 'bin/b' },
    { name: 'usr/bin/d', type: 'link', linkname: 'usr/bin/c' },
    { name: 'bin/a', type: 'link', linkname: 'bin/a' },
  ]);
  const ino = lstatSync(join(layer.dir, 'bin/a')).ino;
  for (const name of ['bin/b', 'usr/bin/c', 'usr/bin/d']) t.equal(lstatSync(join(layer.dir, name)).ino, ino, name);
  t.equal(lstatSync(join(layer.dir, 'bin/a')).nlink, 4);
  t.equal(readFileSync(join(layer.dir, 'usr/bin/d'), 'utf8'), 'same');
});

t.test('20,000 small files in 100 directories', { skip }, async (t) => {
  const { store, cleanup } = await tempStore('many');
  t.teardown(cleanup);
  const entries: TarEntry[] = [];
  for (let d = 0; d < 100; d++) {
    entries.push({ name: `many/d${d}/`, type: 'directory', mode: 0o755 });
    for (let f = 0; f < 200; f++) entries.push({ name: `many/d${d}/f${f}`, body: `${d}/${f}\n` });
  }
  const layer = await unpack(store, entries);
  let count = 0;
  for (const sub of readdirSync(join(layer.dir, 'many'))) count += readdirSync(join(layer.dir, 'many', sub)).length;
  t.equal(count, 20000);
  t.equal(readFileSync(join(layer.dir, 'many/d99/f199'), 'utf8'), '99/199\n');
});
