// Copies files out of and into a container's root filesystem, as the Docker API's
// `HEAD/GET/PUT /containers/{id}/archive?path=` do (what `docker cp` uses): the path's
// stat (the X-Docker-Container-Path-Stat header's JSON), a tar of a file or directory
// named by its basename, and the extraction of a tar into a directory of the container.
//
// Container paths mean what they mean inside the container: every component is resolved
// with lstat under the rootfs, and symlinks are followed with the rootfs as `/`, the way
// Docker does it (it chroots for extraction). Node has no openat/O_NOFOLLOW per component,
// so a container that swaps a directory for a symlink between our check and our write
// could redirect that write: a TOCTOU window we accept for now (files are opened with
// O_EXCL or O_NOFOLLOW, and chmod/chown go through the open handle, which narrows it).
// Only the host's view of the rootfs is seen: volumes and bind mounts in the container
// are not (Docker mounts them for the copy; we do not yet).

import { constants } from 'node:fs';
import { chmod, lchown, link, lstat, lutimes, mkdir, open, readdir, readlink, rm, symlink, unlink, utimes } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { NotFoundError, UsageError } from '../common/errors.js';
import { decompressed, safeParts } from '../image/unpack.js';

/** Docker's ContainerPathStat. `mode` is a Go os.FileMode; `mtime` RFC3339 with nanoseconds. */
export interface ContainerPathStat {
  name: string;
  size: number;
  mode: number;
  mtime: string;
  /** For a symlink, its target resolved inside the container, as an absolute container path; else empty. */
  linkTarget: string;
}

export interface ExtractOptions {
  /** Docker's noOverwriteDirNonDir: refuse to replace a directory with a non-directory or the reverse. */
  noOverwriteDirNonDir?: boolean;
}

/** Stat of a container path (a final symlink is not followed unless the path ends in `/` or `/.`). */
export async function statContainerPath(rootfs: string, path: string): Promise<ContainerPathStat> {
  return (await locate(rootfs, path)).stat;
}

/**
 * A tar of the path, its entries named from the path's basename (`/etc` gives `etc`,
 * `etc/passwd`...; `/etc/.` gives `.`, `./passwd`...). Symlinks inside are archived as
 * symlinks. Throws NotFoundError before any byte is streamed when the path is missing.
 */
export async function archiveContainerPath(rootfs: string, path: string): Promise<{ stat: ContainerPathStat; stream: Readable }> {
  const found = await locate(rootfs, path);
  const pack = tar.pack();
  const hardlinks = new Map<string, string>();
  addToArchive(pack, found.hostPath, found.stat.name, hardlinks).then(
    () => pack.finalize(),
    (err: unknown) => pack.destroy(err instanceof Error ? err : new Error(String(err))),
  );
  return { stat: found.stat, stream: Readable.from(pack) };
}

/**
 * Unpacks a tar (plain or gzip) into the existing directory `path` of the container.
 * Refuses, naming the entry, anything that would land outside the rootfs: absolute names,
 * `..`, a parent that is a symlink pointing above the container's `/`, hardlinks to such
 * places, and device nodes. Entries before the refused one stay extracted, as with Docker.
 */
export async function extractIntoContainer(rootfs: string, path: string, tarStream: Readable, options: ExtractOptions = {}): Promise<void> {
  const { normalized } = parseContainerPath(path);
  // The destination's last component is followed too, so a symlink to a directory is a fine destination.
  const dest = await resolveInRootfs(rootfs, normalized, true);
  if (dest.missing) throw new NotFoundError(`${path}: no such directory in the container`);
  const st = await lstat(join(rootfs, ...dest.parts));
  if (!st.isDirectory()) throw new UsageError(`${path}: not a directory (the archive must be extracted into a directory)`);
  const writer = new ContainerWriter(rootfs, dest.parts, options);
  const extract = tar.extract();
  extract.on('entry', (header, body, next) => {
    writer.entry(header, body as unknown as EntryBody).then(() => next(), (err: unknown) => next(err instanceof Error ? err : new Error(String(err))));
  });
  await pipeline(await decompressed(tarStream), extract);
  await writer.finishDirectories();
}

interface ParsedPath {
  /** Lexically cleaned absolute path, as Docker's filepath.Join("/", path) makes it. */
  normalized: string;
  /** Ends in `/` or `/.`: the last component is followed if it is a symlink. */
  followFinal: boolean;
  /** What the archive's entries are named from. */
  name: string;
}

function parseContainerPath(path: string): ParsedPath {
  if (path === '') throw new UsageError('a container path is required');
  if (path.includes('\0')) throw new UsageError('a container path cannot contain NUL');
  const trailingDot = path === '.' || path.endsWith('/.');
  const followFinal = trailingDot || path.endsWith('/');
  const normalized = posix.normalize(`/${path}`).replace(/(.)\/$/, '$1');
  const base = posix.basename(normalized);
  return { normalized, followFinal, name: trailingDot || base === '' ? '.' : base };
}

interface Located {
  hostPath: string;
  stat: ContainerPathStat;
}

async function locate(rootfs: string, path: string): Promise<Located> {
  const parsed = parseContainerPath(path);
  const resolved = await resolveInRootfs(rootfs, parsed.normalized, parsed.followFinal);
  if (resolved.missing) throw new NotFoundError(`${path}: no such file or directory in the container`);
  const hostPath = join(rootfs, ...resolved.parts);
  const st = await lstat(hostPath, { bigint: true }).catch(() => undefined);
  if (!st) throw new NotFoundError(`${path}: no such file or directory in the container`);
  let linkTarget = '';
  if (st.isSymbolicLink()) {
    const target = await resolveInRootfs(rootfs, `/${resolved.parts.join('/')}`, true);
    linkTarget = `/${target.parts.join('/')}`;
  }
  return {
    hostPath,
    stat: { name: parsed.name, size: Number(st.size), mode: goFileMode(Number(st.mode)), mtime: rfc3339Nano(st.mtimeNs), linkTarget },
  };
}

interface Resolution {
  /** Components of the resolved path below the rootfs, free of symlinks (at the time of the walk). */
  parts: string[];
  /** A component does not exist; the rest were appended as written, like Docker's FollowSymlinkInScope. */
  missing: boolean;
  /** A symlink's target climbed above `/` and was held there, as the kernel does at a chroot's root. */
  clamped: boolean;
}

/** Linux's limit on symlinks followed in one lookup. */
const MAX_SYMLINKS = 40;

/** Resolves `path` as the container would see it, with the rootfs as `/`. */
async function resolveInRootfs(rootfs: string, path: string, followFinal: boolean): Promise<Resolution> {
  let pending = path.split('/').filter((p) => p !== '' && p !== '.');
  const parts: string[] = [];
  let clamped = false;
  let missing = false;
  let symlinks = 0;
  while (pending.length > 0) {
    const [name = '', ...rest] = pending;
    pending = rest;
    if (name === '..') {
      if (parts.length === 0) clamped = true;
      else parts.pop();
      continue;
    }
    if (missing) {
      parts.push(name);
      continue;
    }
    const hostPath = join(rootfs, ...parts, name);
    const st = await lstat(hostPath).catch(() => undefined);
    if (!st) {
      missing = true;
      parts.push(name);
      continue;
    }
    if (st.isSymbolicLink() && (pending.length > 0 || followFinal)) {
      if (++symlinks > MAX_SYMLINKS) throw new UsageError(`${path}: too many levels of symbolic links in the container`);
      const target = await readlink(hostPath);
      if (target.startsWith('/')) parts.length = 0;
      pending = [...target.split('/').filter((p) => p !== '' && p !== '.'), ...pending];
      continue;
    }
    if (pending.length > 0 && !st.isDirectory()) throw new UsageError(`${path}: /${[...parts, name].join('/')} is not a directory`);
    parts.push(name);
  }
  return { parts, missing, clamped };
}

// Go's os.FileMode type and special bits; above 2^31, so written as powers, not shifts.
const GO_MODE_DIR = 2 ** 31;
const GO_MODE_SYMLINK = 2 ** 27;
const GO_MODE_DEVICE = 2 ** 26;
const GO_MODE_NAMED_PIPE = 2 ** 25;
const GO_MODE_SOCKET = 2 ** 24;
const GO_MODE_SETUID = 2 ** 23;
const GO_MODE_SETGID = 2 ** 22;
const GO_MODE_CHAR_DEVICE = 2 ** 21;
const GO_MODE_STICKY = 2 ** 20;

/** A Unix st_mode as Go's os.FileMode (what Docker's JSON carries). */
export function goFileMode(unixMode: number): number {
  let mode = unixMode & 0o777;
  switch (unixMode & constants.S_IFMT) {
    case constants.S_IFDIR: mode += GO_MODE_DIR; break;
    case constants.S_IFLNK: mode += GO_MODE_SYMLINK; break;
    case constants.S_IFBLK: mode += GO_MODE_DEVICE; break;
    case constants.S_IFCHR: mode += GO_MODE_DEVICE + GO_MODE_CHAR_DEVICE; break;
    case constants.S_IFIFO: mode += GO_MODE_NAMED_PIPE; break;
    case constants.S_IFSOCK: mode += GO_MODE_SOCKET; break;
  }
  if (unixMode & 0o4000) mode += GO_MODE_SETUID;
  if (unixMode & 0o2000) mode += GO_MODE_SETGID;
  if (unixMode & 0o1000) mode += GO_MODE_STICKY;
  return mode;
}

/** Go's time.Time JSON (RFC3339Nano, trailing zeros of the fraction dropped), in UTC. */
function rfc3339Nano(ns: bigint): string {
  const seconds = ns / 1_000_000_000n;
  const fraction = ns % 1_000_000_000n;
  const base = new Date(Number(seconds) * 1000).toISOString().slice(0, 19);
  const digits = fraction > 0n ? `.${fraction.toString().padStart(9, '0').replace(/0+$/, '')}` : '';
  return `${base}${digits}Z`;
}

/** Adds `hostPath` (never followed if a symlink) and, for a directory, everything below it. */
async function addToArchive(pack: tar.Pack, hostPath: string, name: string, hardlinks: Map<string, string>): Promise<void> {
  const st = await lstat(hostPath).catch(() => undefined);
  if (!st) return; // removed while we were archiving: a running container changes its files
  const header = { name, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: st.mtime };
  if (st.isDirectory()) {
    await addEntry(pack, { ...header, type: 'directory' });
    const children = await readdir(hostPath).catch(() => []);
    for (const child of children.sort()) await addToArchive(pack, join(hostPath, child), `${name}/${child}`, hardlinks);
  } else if (st.isSymbolicLink()) {
    await addEntry(pack, { ...header, type: 'symlink', linkname: await readlink(hostPath) });
  } else if (st.isFile()) {
    const inode = `${st.dev}:${st.ino}`;
    const firstName = st.nlink > 1 ? hardlinks.get(inode) : undefined;
    if (firstName !== undefined) {
      await addEntry(pack, { ...header, type: 'link', linkname: firstName });
      return;
    }
    if (st.nlink > 1) hardlinks.set(inode, name);
    await addFile(pack, hostPath, { ...header, type: 'file', size: st.size });
  } else if (st.isCharacterDevice() || st.isBlockDevice()) {
    await addEntry(pack, { ...header, type: st.isCharacterDevice() ? 'character-device' : 'block-device', devmajor: deviceMajor(st.rdev), devminor: deviceMinor(st.rdev) });
  } else if (st.isFIFO()) {
    await addEntry(pack, { ...header, type: 'fifo' });
  }
  // Sockets have no tar form; Docker leaves them out too.
}

type PackHeader = Parameters<tar.Pack['entry']>[0];

function addEntry(pack: tar.Pack, header: PackHeader): Promise<void> {
  return new Promise((resolve, reject) => {
    pack.entry(header, (err) => (err ? reject(err) : resolve()));
  });
}

/**
 * Exactly `header.size` bytes, whatever the file does meanwhile: a log that grows is cut
 * at the size the header announced, one that shrinks is padded with zeros, since a tar
 * entry's size cannot change once its header is written.
 */
async function addFile(pack: tar.Pack, hostPath: string, header: PackHeader & { size: number }): Promise<void> {
  const size = header.size;
  async function* bytes(): AsyncGenerator<Buffer> {
    let sent = 0;
    if (size > 0) {
      const handle = await open(hostPath, constants.O_RDONLY | constants.O_NOFOLLOW).catch(() => undefined);
      if (handle) {
        try {
          for await (const chunk of handle.createReadStream({ start: 0, end: size - 1, autoClose: false })) {
            const buffer = chunk as Buffer;
            sent += buffer.length;
            yield buffer;
          }
        } finally {
          await handle.close();
        }
      }
    }
    for (let left = size - sent; left > 0; left -= 65536) yield Buffer.alloc(Math.min(left, 65536));
  }
  await pipeline(Readable.from(bytes()), pack.entry(header));
}

function deviceMajor(rdev: number): number {
  return Number((BigInt(rdev) >> 8n) & 0xfffn) | Number((BigInt(rdev) >> 32n) & ~0xfffn);
}

function deviceMinor(rdev: number): number {
  return Number(BigInt(rdev) & 0xffn) | Number((BigInt(rdev) >> 12n) & ~0xffn);
}

/** An entry's body as tar-stream (streamx) hands it over. */
type EntryBody = AsyncIterable<Buffer> & { resume(): unknown };

interface DirectoryMeta {
  parts: string[];
  mode: number;
  uid: number;
  gid: number;
  mtime: Date;
}

/** Applies tar entries under the destination, resolving every parent inside the rootfs. */
class ContainerWriter {
  private readonly directories = new Map<string, DirectoryMeta>();

  constructor(private readonly rootfs: string, private readonly destParts: string[], private readonly options: ExtractOptions) {}

  async entry(header: tar.Header, body: EntryBody): Promise<void> {
    try {
      await this.apply(header, body);
    } finally {
      body.resume();
    }
  }

  private async apply(header: tar.Header, body: EntryBody): Promise<void> {
    const entryName = header.name;
    const parts = entryParts(entryName);
    // The archive's own root ("./") is the destination, which keeps its owner and mode.
    const name = parts[parts.length - 1];
    if (name === undefined) return;
    const parent = await this.parentDirectory(parts.slice(0, -1), entryName);
    const targetParts = [...parent, name];
    const target = join(this.rootfs, ...targetParts);
    const existing = await lstat(target).catch(() => undefined);
    if (this.options.noOverwriteDirNonDir && existing) {
      if (existing.isDirectory() && header.type !== 'directory') throw new UsageError(`cannot extract "${entryName}": it would replace the directory /${targetParts.join('/')} with a non-directory`);
      if (!existing.isDirectory() && header.type === 'directory') throw new UsageError(`cannot extract "${entryName}": it would replace the non-directory /${targetParts.join('/')} with a directory`);
    }
    const uid = header.uid ?? 0;
    const gid = header.gid ?? 0;
    const mode = (header.mode ?? 0o644) & 0o7777;
    const mtime = header.mtime ?? new Date();
    switch (header.type) {
      case 'directory': {
        if (existing && !existing.isDirectory()) await unlink(target);
        if (!existing || !existing.isDirectory()) await mkdir(target, { mode: 0o700 });
        this.directories.set(targetParts.join('/'), { parts: targetParts, mode, uid, gid, mtime });
        return;
      }
      case 'file':
      case 'contiguous-file': {
        if (existing) await removeExisting(target, existing.isDirectory());
        // O_EXCL: never write through whatever might have appeared at this name.
        const handle = await open(target, 'wx', 0o600);
        try {
          for await (const chunk of body) await handle.write(chunk);
          await handle.chown(uid, gid);
          await handle.chmod(mode); // after chown, which clears setuid and setgid
          await handle.utimes(mtime, mtime);
        } finally {
          await handle.close();
        }
        return;
      }
      case 'symlink': {
        if (existing) await removeExisting(target, existing.isDirectory());
        // Its text is kept as written: it means a container path, and anything later
        // extracted through it is resolved inside the rootfs.
        await symlink(header.linkname ?? '', target);
        await lchown(target, uid, gid);
        await lutimes(target, mtime, mtime);
        return;
      }
      case 'link': {
        const source = await this.hardlinkSource(header.linkname ?? '', entryName);
        if (existing) await removeExisting(target, existing.isDirectory());
        // link(2) does not follow a symlink source: the new name aliases only that symlink.
        await link(source, target);
        return;
      }
      case 'character-device':
      case 'block-device':
        throw new UsageError(`refusing device node "${entryName}" in the archive: device files cannot be copied into a container`);
      case 'fifo':
        throw new UsageError(`cannot extract "${entryName}": named pipes are not supported by stack's copy into containers`);
      default:
        throw new UsageError(`cannot extract "${entryName}": unsupported tar entry type ${header.type ?? 'unknown'}`);
    }
  }

  /**
   * The physical directory (below the rootfs) that holds an entry: missing directories are
   * made, symlinked ones are followed inside the rootfs, and one whose symlink points above
   * the container's `/` is refused.
   */
  private async parentDirectory(parentParts: string[], entryName: string): Promise<string[]> {
    let physical = [...this.destParts];
    for (const part of parentParts) {
      const candidate = [...physical, part];
      const hostPath = join(this.rootfs, ...candidate);
      const st = await lstat(hostPath).catch(() => undefined);
      if (!st) {
        await mkdir(hostPath, { mode: 0o755 });
      } else if (st.isSymbolicLink()) {
        const resolved = await resolveInRootfs(this.rootfs, `/${candidate.join('/')}`, true);
        const shown = `/${candidate.join('/')}`;
        if (resolved.clamped) throw new UsageError(`refusing "${entryName}" in the archive: it goes through the symlink ${shown}, which points outside the container's root filesystem`);
        if (resolved.missing) throw new UsageError(`cannot extract "${entryName}": it goes through the symlink ${shown}, whose target does not exist`);
        const target = await lstat(join(this.rootfs, ...resolved.parts));
        if (!target.isDirectory()) throw new UsageError(`cannot extract "${entryName}": the symlink ${shown} does not point to a directory`);
        physical = resolved.parts;
        continue;
      } else if (!st.isDirectory()) {
        throw new UsageError(`cannot extract "${entryName}": /${candidate.join('/')} is not a directory`);
      }
      physical = candidate;
    }
    return physical;
  }

  /** A hardlink's name is relative to the destination, like every entry's; it must already exist there and not be a directory. */
  private async hardlinkSource(linkname: string, entryName: string): Promise<string> {
    const parts = entryParts(linkname);
    const last = parts[parts.length - 1];
    if (last === undefined) throw new UsageError(`refusing hardlink "${entryName}" to the destination directory itself`);
    const parent = await resolveInRootfs(this.rootfs, `/${[...this.destParts, ...parts.slice(0, -1)].join('/')}`, true);
    if (parent.clamped) throw new UsageError(`refusing hardlink "${entryName}" to "${linkname}": it goes through a symlink that points outside the container's root filesystem`);
    const source = join(this.rootfs, ...parent.parts, last);
    const st = parent.missing ? undefined : await lstat(source).catch(() => undefined);
    if (!st) throw new UsageError(`cannot extract hardlink "${entryName}": its target "${linkname}" does not exist in the container`);
    if (st.isDirectory()) throw new UsageError(`refusing hardlink "${entryName}" to the directory "${linkname}"`);
    return source;
  }

  /** Directory modes and times last, deepest first: writing their children would change them. */
  async finishDirectories(): Promise<void> {
    const directories = [...this.directories.values()].sort((a, b) => b.parts.length - a.parts.length);
    for (const d of directories) {
      // A later entry may have replaced the directory or a parent with a symlink: chmod and
      // utimes follow symlinks, so apply only where the path is still plain directories.
      if (!(await isPlainDirectory(this.rootfs, d.parts))) continue;
      const hostPath = join(this.rootfs, ...d.parts);
      await lchown(hostPath, d.uid, d.gid);
      await chmod(hostPath, d.mode);
      await utimes(hostPath, d.mtime, d.mtime);
    }
  }
}

/** An entry's name as components, refusing absolute names and `..` (unpackLayer's rule) as bad input. */
function entryParts(name: string): string[] {
  try {
    return safeParts(name);
  } catch (err) {
    throw new UsageError(`${err instanceof Error ? err.message : String(err)} in the archive: entries must stay inside the destination`, { cause: err });
  }
}

async function isPlainDirectory(rootfs: string, parts: string[]): Promise<boolean> {
  for (let i = 1; i <= parts.length; i++) {
    const st = await lstat(join(rootfs, ...parts.slice(0, i))).catch(() => undefined);
    if (!st?.isDirectory()) return false;
  }
  return true;
}

async function removeExisting(hostPath: string, isDirectory: boolean): Promise<void> {
  if (isDirectory) await rm(hostPath, { recursive: true });
  else await unlink(hostPath);
}
