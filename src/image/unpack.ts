// Unpacks an image layer (tar or tar+gzip) once into its own directory keyed by diff_id, in
// the form overlayfs wants: OCI whiteouts become 0:0 character devices and opaque-dir
// xattrs. What Node cannot do (mknod, setxattr) is batched to `stack-shim fs-apply`, one
// process per layer. Hostile archives are refused: nothing is ever written outside the
// layer directory and a failed unpack leaves no layer directory behind.

import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmod, link, lchown, lstat, lutimes, mkdir, open, readFile, rename, rm, symlink, unlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';
import { DEFAULT_SHIM_PATH } from '../runtime/shim-runtime.js';
import { digestHex, type ImageStore } from './store.js';

export class UnsafeLayerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsafeLayerError';
  }
}

export interface UnpackedLayer {
  diffId: string;
  /** Absolute path of the layer's contents. */
  dir: string;
  /** Short name under `<store>/layers/l/`, a symlink to `dir`. */
  link: string;
}

export interface UnpackOptions {
  /** Where `stack-shim` lives; defaults to dist/runtime/stack-shim. */
  shimPath?: string;
  warn?: (message: string) => void;
}

export function layerPaths(store: ImageStore, diffId: string): { base: string; diff: string } {
  const base = join(store.layerDir, digestHex(diffId));
  return { base, diff: join(base, 'diff') };
}

/** The unpacked layer, or undefined when it was not unpacked yet. */
export async function findLayer(store: ImageStore, diffId: string): Promise<UnpackedLayer | undefined> {
  const { base, diff } = layerPaths(store, diffId);
  try {
    const linkName = (await readFile(join(base, 'link'), 'utf8')).trim();
    return { diffId, dir: diff, link: linkName };
  } catch {
    return undefined;
  }
}

/** Unpacks in progress, by layer directory: concurrent creates from one image share one unpack. */
const unpacking = new Map<string, Promise<UnpackedLayer>>();

/** Unpacks the layer blob `blobDigest` whose uncompressed digest must be `diffId`. */
export async function unpackLayer(store: ImageStore, blobDigest: string, diffId: string, options: UnpackOptions = {}): Promise<UnpackedLayer> {
  const existing = await findLayer(store, diffId);
  if (existing) return existing;
  const key = layerPaths(store, diffId).base;
  const inFlight = unpacking.get(key);
  if (inFlight) return inFlight;
  const work = unpackLayerStream(store, store.openBlob(blobDigest), diffId, options).finally(() => unpacking.delete(key));
  unpacking.set(key, work);
  return work;
}

/**
 * Unpacks a layer from a stream. The stream may be gzip (detected by magic) or plain tar.
 * The diff_id is checked over the uncompressed bytes; a mismatch stores nothing.
 */
export async function unpackLayerStream(store: ImageStore, source: Readable, diffId: string, options: UnpackOptions = {}): Promise<UnpackedLayer> {
  const { base, diff } = layerPaths(store, diffId);
  const staging = join(store.layerDir, `.tmp-${randomBytes(8).toString('hex')}`);
  const stagingDiff = join(staging, 'diff');
  await mkdir(stagingDiff, { recursive: true, mode: 0o755 });
  try {
    const hash = createHash('sha256');
    const hasher = new Transform({
      transform(chunk: Buffer, _enc, done) {
        hash.update(chunk);
        done(null, chunk);
      },
    });
    const writer = new LayerWriter(stagingDiff, options.warn ?? (() => undefined));
    const extract = tar.extract();
    extract.on('entry', (header, stream, next) => {
      writer.entry(header, stream as unknown as EntryBody).then(() => next(), (err: unknown) => next(err instanceof Error ? err : new Error(String(err))));
    });
    await pipeline(await decompressed(source), hasher, extract);
    const actual = `sha256:${hash.digest('hex')}`;
    if (actual !== diffId) throw new Error(`layer diff_id mismatch: expected ${diffId}, got ${actual}`);
    await runFsApply(options.shimPath ?? DEFAULT_SHIM_PATH, stagingDiff, writer.ops);
    await writer.finishDirectories();
    const linkName = randomBytes(13).toString('base64url').replace(/[-_]/g, 'x').slice(0, 16).toUpperCase();
    await writeFile(join(staging, 'link'), linkName);
    try {
      await rename(staging, base);
    } catch (err) {
      // Another process unpacked the same layer first: theirs is as good as ours.
      const code = (err as NodeJS.ErrnoException).code;
      const theirs = code === 'ENOTEMPTY' || code === 'EEXIST' ? await findLayer(store, diffId) : undefined;
      if (!theirs) throw err;
      await rm(staging, { recursive: true, force: true });
      return theirs;
    }
    await symlink(`../${digestHex(diffId)}/diff`, join(store.layerDir, 'l', linkName));
    return { diffId, dir: diff, link: linkName };
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    throw err;
  }
}

/**
 * Peeks at the first bytes: gzip gets a gunzip, zstd is refused, anything else is tar.
 * Returns the stream to read the uncompressed tar from.
 */
export async function decompressed(source: Readable): Promise<Readable> {
  const chunks = source[Symbol.asyncIterator]() as AsyncIterator<Buffer | string>;
  const first = await chunks.next();
  const head = first.done ? Buffer.alloc(0) : toBuffer(first.value);
  async function* replay(): AsyncGenerator<Buffer> {
    if (head.length > 0) yield head;
    for (;;) {
      const next = await chunks.next();
      if (next.done) return;
      yield toBuffer(next.value);
    }
  }
  const raw = Readable.from(replay(), { objectMode: false });
  if (head[0] === 0x1f && head[1] === 0x8b) {
    const gunzip = createGunzip();
    raw.on('error', (err) => gunzip.destroy(err));
    return raw.pipe(gunzip);
  }
  if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) {
    raw.destroy();
    throw new Error('zstd-compressed layers are not supported on Node 20 (no zstd in node:zlib); pull or build the image with gzip layers');
  }
  return raw;
}

function toBuffer(chunk: Buffer | string): Buffer {
  return typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
}

type TarHeader = tar.Header;
/** An entry's body as tar-stream (streamx) hands it over. */
type EntryBody = AsyncIterable<Buffer> & { resume(): unknown };

interface DirMeta { path: string; mode: number; uid: number; gid: number; mtime: Date }

/** Applies tar entries to a layer directory, refusing anything that would escape it. */
class LayerWriter {
  readonly ops: Buffer[] = [];
  private readonly dirs = new Map<string, DirMeta>();

  constructor(private readonly root: string, private readonly warn: (message: string) => void) {}

  async entry(header: TarHeader, body: EntryBody): Promise<void> {
    try {
      await this.apply(header, body);
    } finally {
      body.resume();
    }
  }

  private async apply(header: TarHeader, body: EntryBody): Promise<void> {
    const parts = safeParts(header.name);
    if (parts.length === 0) {
      if (header.type === 'directory') this.rememberDir('', header);
      return;
    }
    const name = parts[parts.length - 1] ?? '';
    const parentParts = parts.slice(0, -1);
    const parentDir = await this.ensureParent(parentParts, header.name);
    const rel = parts.join('/');
    const path = join(this.root, rel);

    if (name === '.wh..wh..opq') {
      if (parentParts.length > 0) this.op('opaque', parentParts.join('/'));
      return;
    }
    if (name.startsWith('.wh.')) {
      const hidden = name.slice(4);
      if (hidden === '' || hidden === '.' || hidden === '..') throw new UnsafeLayerError(`refusing whiteout "${header.name}"`);
      await removeExisting(join(parentDir, hidden));
      this.op('whiteout', [...parentParts, hidden].join('/'));
      return;
    }
    const uid = header.uid ?? 0;
    const gid = header.gid ?? 0;
    const mode = (header.mode ?? 0o644) & 0o7777;
    const mtime = header.mtime ?? new Date(0);
    switch (header.type) {
      case 'directory': {
        const st = await lstat(path).catch(() => undefined);
        if (st && !st.isDirectory()) await unlink(path);
        if (!st || !st.isDirectory()) await mkdir(path, { mode: 0o700 });
        this.rememberDir(rel, header);
        break;
      }
      case 'file':
      case 'contiguous-file': {
        await removeExisting(path);
        // O_EXCL|O_NOFOLLOW: never write through anything already there.
        const fh = await open(path, 'wx', 0o600);
        try {
          for await (const chunk of body) await fh.write(chunk);
        } finally {
          await fh.close();
        }
        await lchown(path, uid, gid);
        await chmod(path, mode); // after chown, which clears setuid
        await utimes(path, mtime, mtime);
        break;
      }
      case 'symlink': {
        await removeExisting(path);
        await symlink(header.linkname ?? '', path);
        await lchown(path, uid, gid);
        await lutimes(path, mtime, mtime);
        break;
      }
      case 'link': {
        const targetParts = safeParts(header.linkname ?? '');
        if (targetParts.length === 0) throw new UnsafeLayerError(`refusing hardlink "${header.name}" to the layer root`);
        await this.checkNoSymlinkParents(targetParts.slice(0, -1), header.linkname ?? '');
        const target = join(this.root, targetParts.join('/'));
        const st = await lstat(target).catch(() => undefined);
        if (!st) throw new UnsafeLayerError(`refusing hardlink "${header.name}": target "${header.linkname}" is not in this layer`);
        if (st.isDirectory()) throw new UnsafeLayerError(`refusing hardlink "${header.name}" to directory "${header.linkname}"`);
        await removeExisting(path);
        // link(2) does not follow a symlink target, so the new name can only alias an entry of this layer.
        await link(target, path);
        break;
      }
      case 'character-device':
      case 'block-device': {
        if (header.type === 'character-device' && (header.devmajor ?? 0) === 0 && (header.devminor ?? 0) === 0) {
          await removeExisting(path);
          this.op('whiteout', rel);
          break;
        }
        this.warn(`skipping device node "${header.name}" (the runtime provides /dev)`);
        return;
      }
      case 'fifo': {
        await removeExisting(path);
        this.op('fifo', rel, mode.toString(8), String(uid), String(gid));
        break;
      }
      default:
        this.warn(`skipping "${header.name}" of unsupported type ${header.type ?? 'unknown'}`);
        return;
    }
    const pax = (header.pax ?? {}) as Record<string, unknown>;
    for (const [key, value] of Object.entries(pax)) {
      if (!key.startsWith('SCHILY.xattr.') || typeof value !== 'string') continue;
      this.op('xattr', rel, key.slice('SCHILY.xattr.'.length), Buffer.from(value, 'latin1').toString('hex'));
    }
  }

  private rememberDir(rel: string, header: TarHeader): void {
    this.dirs.set(rel, { path: join(this.root, rel), mode: (header.mode ?? 0o755) & 0o7777, uid: header.uid ?? 0, gid: header.gid ?? 0, mtime: header.mtime ?? new Date(0) });
  }

  private op(...fields: string[]): void {
    for (const f of fields) {
      if (f.includes('\0')) throw new UnsafeLayerError('refusing a name containing NUL');
    }
    this.ops.push(Buffer.from(fields.map((f) => `${f}\0`).join(''), 'utf8'));
  }

  /** Makes missing parents; refuses when a parent is a symlink or not a directory. */
  private async ensureParent(parts: string[], entryName: string): Promise<string> {
    let dir = this.root;
    for (const part of parts) {
      dir = join(dir, part);
      const st = await lstat(dir).catch(() => undefined);
      if (!st) {
        await mkdir(dir, { mode: 0o755 });
        continue;
      }
      if (st.isSymbolicLink()) throw new UnsafeLayerError(`refusing "${entryName}": it would be written through the symlink "${part}"`);
      if (!st.isDirectory()) throw new UnsafeLayerError(`refusing "${entryName}": "${part}" is not a directory`);
    }
    return dir;
  }

  private async checkNoSymlinkParents(parts: string[], linkName: string): Promise<void> {
    let dir = this.root;
    for (const part of parts) {
      dir = join(dir, part);
      const st = await lstat(dir).catch(() => undefined);
      if (st?.isSymbolicLink()) throw new UnsafeLayerError(`refusing hardlink to "${linkName}": it goes through the symlink "${part}"`);
    }
  }

  /** Directory modes and mtimes last: writing their children would change them. Deepest first. */
  async finishDirectories(): Promise<void> {
    const dirs = [...this.dirs.values()].sort((a, b) => b.path.length - a.path.length);
    for (const d of dirs) {
      await lchown(d.path, d.uid, d.gid);
      await chmod(d.path, d.mode);
      await utimes(d.path, d.mtime, d.mtime);
    }
  }
}

/** Splits an archive path into components, refusing absolute paths and `..`. */
export function safeParts(name: string): string[] {
  if (name.startsWith('/')) throw new UnsafeLayerError(`refusing absolute path "${name}"`);
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new UnsafeLayerError(`refusing path with "..": "${name}"`);
  return parts;
}

async function removeExisting(path: string): Promise<void> {
  const st = await lstat(path).catch(() => undefined);
  if (!st) return;
  if (st.isDirectory()) await rm(path, { recursive: true });
  else await unlink(path);
}

/** Feeds the batched mknod/setxattr operations to `stack-shim fs-apply <dir>`. */
async function runFsApply(shim: string, dir: string, ops: Buffer[]): Promise<void> {
  if (ops.length === 0) return;
  const child = spawn(shim, ['fs-apply', dir], { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  const done = new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve(code ?? 1));
  });
  child.stdin.end(Buffer.concat(ops));
  const code = await done;
  if (code !== 0) throw new Error(`stack-shim fs-apply failed (exit ${code}): ${stderr.trim()}`);
}
