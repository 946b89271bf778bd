// Unpacks an image layer (tar or tar+gzip) once into its own directory keyed by diff_id, in
// the form overlayfs wants: OCI whiteouts become 0:0 character devices and opaque-dir
// xattrs. Node detects the compression, gunzips, digests the uncompressed bytes (diff_id)
// and stages and publishes the directory; the extraction itself is `stack-shim unpack`
// (src/runtime/shim/unpack.c), one process per layer. Hostile archives are refused:
// nothing is ever written outside the layer directory and a failed unpack leaves no layer
// directory behind.

import { spawn } from 'node:child_process';
import { createHash, randomBytes, type Hash } from 'node:crypto';
import { mkdir, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
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
    await extractWithShim(options.shimPath ?? DEFAULT_SHIM_PATH, stagingDiff, await decompressed(source), hash, options.warn ?? (() => undefined));
    const actual = `sha256:${hash.digest('hex')}`;
    if (actual !== diffId) throw new Error(`layer diff_id mismatch: expected ${diffId}, got ${actual}`);
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

/** `stack-shim unpack` exits with this when it refused the archive (the reason on stderr). */
const SHIM_REFUSED = 3;
const SHIM_PREFIX = 'stack-shim unpack: ';
const SHIM_WARNING_PREFIX = `${SHIM_PREFIX}warning: `;

/**
 * Pipes the uncompressed tar through the digest into `stack-shim unpack DIR`, one process
 * per layer: the extraction itself is a tight loop of openat/write/fchown calls that Node
 * would pay a libuv round trip for, per call.
 */
async function extractWithShim(shim: string, dir: string, tarStream: Readable, hash: Hash, warn: (message: string) => void): Promise<void> {
  const child = spawn(shim, ['unpack', dir], { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  const exited = new Promise<string | number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve(code ?? signal ?? 'unknown'));
  });
  // A second 'data' listener sees every chunk the pipe writes, without a Transform's
  // per-chunk cost. The shim reads to the end of its input even after the archive's end
  // blocks, so a success means the digest covers every byte; a refusal ends it early
  // (EPIPE here).
  tarStream.on('data', (chunk: Buffer) => hash.update(chunk));
  const fed = pipeline(tarStream, child.stdin).then(() => undefined, (err: unknown) => err as Error);
  const [status, feedError] = await Promise.all([exited, fed]);
  let reason = '';
  for (const line of stderr.split('\n')) {
    if (line.startsWith(SHIM_WARNING_PREFIX)) warn(line.slice(SHIM_WARNING_PREFIX.length));
    else if (line !== '') reason = line.startsWith(SHIM_PREFIX) ? line.slice(SHIM_PREFIX.length) : line;
  }
  if (status === SHIM_REFUSED) throw new UnsafeLayerError(reason);
  // A failing source (network, corrupt gzip) cuts the shim's input short: report the cause.
  if (feedError && !(status !== 0 && isBrokenPipe(feedError))) throw feedError;
  if (status !== 0) throw new Error(`stack-shim unpack failed (exit ${status}): ${reason}`);
}

function isBrokenPipe(err: Error): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'EPIPE' || code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'ERR_STREAM_DESTROYED';
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
    // 1 MiB output chunks instead of zlib's 16 KiB: a layer is hundreds of MB, and per-chunk
    // stream overhead made gunzip three times slower than the inflate itself.
    const gunzip = createGunzip({ chunkSize: 1 << 20 });
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

/** Splits an archive path into components, refusing absolute paths and `..`. */
export function safeParts(name: string): string[] {
  if (name.startsWith('/')) throw new UnsafeLayerError(`refusing absolute path "${name}"`);
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new UnsafeLayerError(`refusing path with "..": "${name}"`);
  return parts;
}
