// Copying into and out of a container's rootfs (a temp dir here): path stat in Docker's
// shape, a directory tree round trip, symlinks resolved inside the rootfs, and hostile
// archives refused with nothing written outside the rootfs.
import t from 'tap';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync, linkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { NotFoundError, UsageError } from '../../src/common/errors.js';
import { archiveContainerPath, extractIntoContainer, goFileMode, statContainerPath } from '../../src/engine/container-archive.js';
import { packTar, type TarEntry } from '../../src/image/pack-tar.js';

const scratch = mkdtempSync(join(tmpdir(), 'stack-archive-'));
t.teardown(() => rmSync(scratch, { recursive: true, force: true }));
let counter = 0;

/** A rootfs and, beside it, a directory standing for the host that nothing may touch. */
function makeWorld(): { rootfs: string; outside: string } {
  const base = join(scratch, String(++counter));
  const rootfs = join(base, 'rootfs');
  const outside = join(base, 'outside');
  for (const d of ['etc', 'data/sub', 'dest', 'tmp']) mkdirSync(join(rootfs, d), { recursive: true });
  mkdirSync(outside);
  writeFileSync(join(outside, 'secret'), 'host secret\n');
  return { rootfs, outside };
}

/** Every path below `dir` with its type and content, to show nothing changed. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string): void => {
    for (const name of readdirSync(join(dir, rel)).sort()) {
      const path = join(rel, name);
      const st = lstatSync(join(dir, path));
      if (st.isDirectory()) { out[path] = `dir ${(st.mode & 0o7777).toString(8)}`; walk(path); }
      else if (st.isSymbolicLink()) out[path] = `link ${readlinkSync(join(dir, path))}`;
      else out[path] = `file ${(st.mode & 0o7777).toString(8)} ${readFileSync(join(dir, path), 'utf8')}`;
    }
  };
  walk('');
  return out;
}

async function tarEntries(stream: Readable): Promise<Array<{ name: string; type: string; linkname: string | null; mode: number; body: string }>> {
  const entries: Array<{ name: string; type: string; linkname: string | null; mode: number; body: string }> = [];
  const extract = tar.extract();
  extract.on('entry', (header, body, next) => {
    const chunks: Buffer[] = [];
    body.on('data', (c: unknown) => { chunks.push(c as Buffer); });
    body.on('end', () => {
      entries.push({ name: header.name, type: header.type, linkname: header.linkname, mode: header.mode & 0o7777, body: Buffer.concat(chunks).toString('utf8') });
      next();
    });
  });
  const done = new Promise<void>((resolve, reject) => { extract.on('finish', () => resolve()); extract.on('error', reject); });
  stream.pipe(extract as unknown as NodeJS.WritableStream);
  await done;
  return entries;
}

async function streamOf(entries: TarEntry[]): Promise<Readable> {
  return Readable.from([await packTar(entries)]);
}

t.test('statContainerPath: Docker\'s fields and Go file modes', async (t) => {
  const { rootfs } = makeWorld();
  writeFileSync(join(rootfs, 'etc/hosts'), '127.0.0.1 localhost\n');
  chmodSync(join(rootfs, 'etc/hosts'), 0o640);
  utimesSync(join(rootfs, 'etc/hosts'), new Date('2024-05-06T07:08:09.5Z'), new Date('2024-05-06T07:08:09.5Z'));
  symlinkSync('../data/sub', join(rootfs, 'etc/to-sub'));
  symlinkSync('/../../../../host', join(rootfs, 'etc/escape'));

  const hosts = await statContainerPath(rootfs, '/etc/hosts');
  t.same(hosts, { name: 'hosts', size: 20, mode: 0o640, mtime: '2024-05-06T07:08:09.5Z', linkTarget: '' });
  const dir = await statContainerPath(rootfs, 'etc');
  t.equal(dir.mode, 2 ** 31 + (statSync(join(rootfs, 'etc')).mode & 0o777), 'a directory has Go\'s ModeDir bit');
  t.equal(dir.name, 'etc', 'a relative path is taken from /');
  const link = await statContainerPath(rootfs, '/etc/to-sub');
  t.equal(link.mode, 2 ** 27 + 0o777, 'a final symlink is not followed: ModeSymlink');
  t.equal(link.linkTarget, '/data/sub', 'linkTarget is resolved inside the container');
  t.equal((await statContainerPath(rootfs, '/etc/to-sub/')).mode & 2 ** 31 ? 'dir' : 'other', 'dir', 'a trailing slash follows it');
  t.equal((await statContainerPath(rootfs, '/etc/escape')).linkTarget, '/host', 'a symlink climbing above / stays at the container\'s /');
  t.equal((await statContainerPath(rootfs, '/')).name, '.');
  await t.rejects(statContainerPath(rootfs, '/etc/nothing'), NotFoundError);
  await t.rejects(statContainerPath(rootfs, '/etc/escape/'), NotFoundError, 'the host path the symlink names is never looked at');
  await t.rejects(statContainerPath(rootfs, '/etc/hosts/x'), UsageError, 'a file used as a directory');
  t.equal(goFileMode(0o104755), 2 ** 23 + 0o755, 'setuid');
  t.equal(goFileMode(0o020620), 2 ** 26 + 2 ** 21 + 0o620, 'a character device');
  t.equal(goFileMode(0o041777), 2 ** 31 + 2 ** 20 + 0o777, 'a sticky directory');
});

t.test('round trip: archive a tree out, extract it back elsewhere', async (t) => {
  const { rootfs } = makeWorld();
  writeFileSync(join(rootfs, 'data/a.txt'), 'alpha\n');
  writeFileSync(join(rootfs, 'data/sub/run.sh'), '#!/bin/sh\necho hi\n');
  chmodSync(join(rootfs, 'data/sub/run.sh'), 0o4755);
  chmodSync(join(rootfs, 'data/sub'), 0o750);
  writeFileSync(join(rootfs, 'data/big.bin'), Buffer.alloc(300_000, 7));
  symlinkSync('a.txt', join(rootfs, 'data/link-to-a'));
  symlinkSync('/etc', join(rootfs, 'data/abs-link'));
  linkSync(join(rootfs, 'data/a.txt'), join(rootfs, 'data/sub/hard-a'));
  const longName = `${'n'.repeat(120)}.txt`;
  writeFileSync(join(rootfs, 'data/sub', longName), 'long');
  const past = new Date('2020-01-02T03:04:05Z');
  utimesSync(join(rootfs, 'data/sub'), past, past);

  const { stat, stream } = await archiveContainerPath(rootfs, '/data');
  t.equal(stat.name, 'data');
  const entries = await tarEntries(stream);
  t.same(entries.map((e) => `${e.type} ${e.name}`), [
    'directory data', 'file data/a.txt', 'symlink data/abs-link', 'file data/big.bin', 'symlink data/link-to-a',
    'directory data/sub', 'link data/sub/hard-a', `file data/sub/${longName}`, 'file data/sub/run.sh',
  ], 'named from the basename, symlinks kept as symlinks, the second name of a file as a hardlink');
  t.equal(entries.find((e) => e.name === 'data/abs-link')?.linkname, '/etc', 'a symlink\'s text is kept as written');

  const again = await archiveContainerPath(rootfs, '/data');
  const packed = Buffer.concat(await again.stream.toArray() as Buffer[]);
  await extractIntoContainer(rootfs, '/dest', Readable.from([gzipSync(packed)]));
  t.same(snapshot(join(rootfs, 'dest/data')), snapshot(join(rootfs, 'data')), 'the same tree, modes and symlinks (from a gzip archive)');
  t.equal(statSync(join(rootfs, 'dest/data/sub')).mtime.toISOString(), past.toISOString(), 'directory times are set after their contents');
  t.equal(statSync(join(rootfs, 'dest/data/sub/hard-a')).ino, statSync(join(rootfs, 'dest/data/a.txt')).ino, 'the hardlink is a hardlink again');
  t.equal(statSync(join(rootfs, 'dest/data/sub/run.sh')).mode & 0o7777, 0o4755, 'setuid kept');

  const dotted = await tarEntries((await archiveContainerPath(rootfs, '/data/sub/.')).stream);
  t.same(dotted.map((e) => e.name), ['.', './hard-a', `./${longName}`, './run.sh'], 'a path ending in /. archives the contents');
  const single = await tarEntries((await archiveContainerPath(rootfs, 'data/a.txt')).stream);
  t.same(single.map((e) => [e.name, e.body]), [['a.txt', 'alpha\n']]);
  await t.rejects(archiveContainerPath(rootfs, '/nowhere'), NotFoundError, 'not found before any byte is streamed');
});

t.test('archiving follows symlinks inside the rootfs only', async (t) => {
  const { rootfs, outside } = makeWorld();
  // The same path exists on the host (outside) and inside the rootfs: only the latter may be read.
  const inside = join(rootfs, outside);
  mkdirSync(inside, { recursive: true });
  writeFileSync(join(inside, 'secret'), 'container file\n');
  symlinkSync(`/../../../../../../../..${outside}`, join(rootfs, 'etc/x'));
  symlinkSync(`../../../../../../../../../..${outside}`, join(rootfs, 'etc/rel'));
  for (const path of ['/etc/x/', '/etc/rel/', '/etc/x/.']) {
    const entries = await tarEntries((await archiveContainerPath(rootfs, path)).stream);
    t.same(entries.filter((e) => e.type === 'file').map((e) => e.body), ['container file\n'], `${path} reads the rootfs's copy, not the host's`);
  }
  const asLink = await tarEntries((await archiveContainerPath(rootfs, '/etc/x')).stream);
  t.same(asLink.map((e) => [e.name, e.type]), [['x', 'symlink']], 'without a trailing slash the symlink itself is archived');
});

t.test('extracting: destinations', async (t) => {
  const { rootfs } = makeWorld();
  writeFileSync(join(rootfs, 'etc/file'), 'x');
  symlinkSync('/data/sub', join(rootfs, 'etc/sub-link'));
  const archive = (): Promise<Readable> => streamOf([{ name: 'dir', type: 'directory', mode: 0o755 }, { name: 'dir/f.txt', body: 'hello', mode: 0o600 }]);
  await t.rejects(extractIntoContainer(rootfs, '/missing', await archive()), NotFoundError);
  await t.rejects(extractIntoContainer(rootfs, '/etc/file', await archive()), { name: 'UsageError', message: /not a directory/ });
  await extractIntoContainer(rootfs, '/etc/sub-link', await archive());
  t.equal(readFileSync(join(rootfs, 'data/sub/dir/f.txt'), 'utf8'), 'hello', 'a symlink to a directory is followed inside the rootfs');
  t.equal(statSync(join(rootfs, 'data/sub/dir/f.txt')).mode & 0o777, 0o600);

  await extractIntoContainer(rootfs, '/dest', await streamOf([{ name: 'a/b/c.txt', body: 'deep' }, { name: './', type: 'directory', mode: 0o700 }]));
  t.equal(readFileSync(join(rootfs, 'dest/a/b/c.txt'), 'utf8'), 'deep', 'missing parents are made');
  t.equal(statSync(join(rootfs, 'dest')).mode & 0o777, 0o755, 'the archive\'s root entry leaves the destination as it was');

  await extractIntoContainer(rootfs, '/dest', await streamOf([{ name: 'a', body: 'now a file' }]));
  t.equal(readFileSync(join(rootfs, 'dest/a'), 'utf8'), 'now a file', 'a directory is replaced by a file, as Docker does by default');
  await t.rejects(
    extractIntoContainer(rootfs, '/dest', await streamOf([{ name: 'a', type: 'directory' }]), { noOverwriteDirNonDir: true }),
    { message: /replace the non-directory \/dest\/a with a directory/ },
  );
});

t.test('hostile archives are refused and nothing outside the rootfs changes', async (t) => {
  const cases: Array<{ label: string; entries: (outside: string) => TarEntry[]; message: RegExp; prepare?: (rootfs: string, outside: string) => void }> = [
    { label: '.. in a name', entries: () => [{ name: '../../outside/secret', body: 'pwned' }], message: /"\.\.".*\.\.\/\.\.\/outside\/secret/ },
    { label: '.. in the middle', entries: () => [{ name: 'ok/../../../outside/secret', body: 'pwned' }], message: /ok\/\.\.\/\.\.\/\.\.\/outside\/secret/ },
    { label: 'an absolute name', entries: (outside) => [{ name: `${outside}/secret`, body: 'pwned' }], message: /absolute path/ },
    {
      label: 'a symlink entry climbing out, then a file through it',
      entries: () => [{ name: 'esc', type: 'symlink', linkname: '../../../../../../../../../..' + scratch }, { name: 'esc/pwned', body: 'pwned' }],
      message: /"esc\/pwned".*symlink \/dest\/esc, which points outside/,
    },
    {
      label: 'a symlink entry to the host path (absolute), then a file through it',
      entries: (outside) => [{ name: 'abs', type: 'symlink', linkname: outside }, { name: 'abs/secret', body: 'pwned' }],
      message: /"abs\/secret".*symlink \/dest\/abs, whose target does not exist/,
    },
    {
      label: 'a symlink already in the container climbing out',
      prepare: (rootfs) => symlinkSync('/../../../../../../../../..', join(rootfs, 'dest/evil')),
      entries: (outside) => [{ name: `evil${outside}/secret`, body: 'pwned' }],
      message: /through the symlink \/dest\/evil, which points outside/,
    },
    {
      label: 'a symlink deeper in the path climbing out',
      prepare: (rootfs) => { mkdirSync(join(rootfs, 'dest/d')); symlinkSync('../../../..', join(rootfs, 'dest/d/up')); },
      entries: () => [{ name: 'd/up/pwned', body: 'pwned' }],
      message: /points outside/,
    },
    { label: 'a hardlink with ..', entries: () => [{ name: 'hl', type: 'link', linkname: '../../outside/secret' }], message: /"\.\."/ },
    { label: 'a hardlink to an absolute path', entries: (outside) => [{ name: 'hl', type: 'link', linkname: `${outside}/secret` }], message: /absolute path/ },
    {
      label: 'a hardlink through a symlink climbing out',
      entries: (outside) => [{ name: 'up', type: 'symlink', linkname: '../../../../../../../../..' }, { name: 'hl', type: 'link', linkname: `up${outside}/secret` }],
      message: /refusing hardlink "hl".*outside/,
    },
    { label: 'a character device', entries: () => [{ name: 'mem', type: 'character-device', devmajor: 1, devminor: 1 }], message: /device node "mem"/ },
    { label: 'a block device', entries: () => [{ name: 'sda', type: 'block-device', devmajor: 8, devminor: 0 }], message: /device node "sda"/ },
  ];
  for (const c of cases) {
    const { rootfs, outside } = makeWorld();
    c.prepare?.(rootfs, outside);
    const before = snapshot(join(rootfs, '..'));
    const hostBefore = snapshot(scratch);
    await t.rejects(extractIntoContainer(rootfs, '/dest', await streamOf(c.entries(outside))), { name: 'UsageError', message: c.message }, c.label);
    t.equal(readFileSync(join(outside, 'secret'), 'utf8'), 'host secret\n', `${c.label}: the host file is untouched`);
    const after = snapshot(join(rootfs, '..'));
    const changedOutsideRootfs = Object.keys({ ...before, ...after }).filter((k) => !k.startsWith('rootfs') && before[k] !== after[k]);
    t.same(changedOutsideRootfs, [], `${c.label}: nothing beside the rootfs changed`);
    const hostAfter = snapshot(scratch);
    const hostChanged = Object.keys({ ...hostBefore, ...hostAfter }).filter((k) => !k.includes('/rootfs') && hostBefore[k] !== hostAfter[k]);
    t.same(hostChanged, [], `${c.label}: nothing in the scratch area outside any rootfs changed`);
  }
  t.notOk(existsSync(join(scratch, 'pwned')));
});

t.test('symlinks inside the archive pointing within the rootfs are followed there', async (t) => {
  const { rootfs, outside } = makeWorld();
  const entries: TarEntry[] = [{ name: 'etc-link', type: 'symlink', linkname: '/etc' }, { name: 'etc-link/written', body: 'inside' }];
  await extractIntoContainer(rootfs, '/dest', await streamOf(entries));
  t.equal(readFileSync(join(rootfs, 'etc/written'), 'utf8'), 'inside', 'an absolute symlink means the container\'s /etc');
  t.equal(readlinkSync(join(rootfs, 'dest/etc-link')), '/etc', 'the symlink is kept as written');
  t.notOk(existsSync('/etc/written'), 'the host\'s /etc is untouched');
  t.equal(readFileSync(join(outside, 'secret'), 'utf8'), 'host secret\n');
});

t.test('a directory entry later replaced by a symlink does not get its mode applied through it', async (t) => {
  const { rootfs, outside } = makeWorld();
  chmodSync(outside, 0o700);
  const entries: TarEntry[] = [
    { name: 'd', type: 'directory', mode: 0o777, mtime: new Date('2001-01-01T00:00:00Z') },
    { name: 'd', type: 'symlink', linkname: outside },
  ];
  await extractIntoContainer(rootfs, '/dest', await streamOf(entries));
  t.equal(statSync(outside).mode & 0o777, 0o700, 'the host directory the symlink names kept its mode');
  t.not(statSync(outside).mtime.getUTCFullYear(), 2001, 'and its time');
  t.equal(readlinkSync(join(rootfs, 'dest/d')), outside, 'the symlink itself is there, as the archive says');
});
