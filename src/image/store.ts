// The engine's image store: an OCI image layout (blobs/sha256/<hex>, oci-layout, index.json)
// under a root the caller chooses, plus the unpacked layers (see unpack.ts) beside it.
// Every write goes to a temp file that is fsynced and renamed, so a crash leaves either the
// old or the new file, never a torn one.

import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { NotFoundError } from '../common/errors.js';
import { normalizeReference } from './reference.js';
import type { HeldContent } from './store-holds.js';

export const MEDIA_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const MEDIA_CONFIG = 'application/vnd.oci.image.config.v1+json';
export const MEDIA_LAYER_TAR = 'application/vnd.oci.image.layer.v1.tar';
export const MEDIA_LAYER_GZIP = 'application/vnd.oci.image.layer.v1.tar+gzip';
export const MEDIA_LAYER_ZSTD = 'application/vnd.oci.image.layer.v1.tar+zstd';
const REF_NAME = 'org.opencontainers.image.ref.name';

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

/** The OCI image config, the fields this tool reads and writes. */
export interface ImageConfig {
  created?: string;
  architecture: string;
  os: string;
  config: {
    Env?: string[];
    Cmd?: string[];
    Healthcheck?: { Test: string[]; Interval?: number; Timeout?: number; StartPeriod?: number; StartInterval?: number; Retries?: number };
    Shell?: string[];
    Entrypoint?: string[];
    WorkingDir?: string;
    User?: string;
    ExposedPorts?: Record<string, object>;
    Volumes?: Record<string, object>;
    Labels?: Record<string, string>;
    StopSignal?: string;
  };
  rootfs: { type: 'layers'; diff_ids: string[] };
  author?: string;
  history?: { created?: string; created_by?: string; comment?: string; empty_layer?: boolean }[];
}

export interface Manifest {
  schemaVersion: 2;
  mediaType: string;
  config: Descriptor;
  layers: Descriptor[];
}

export interface ResolvedImage {
  reference: string;
  manifestDigest: string;
  /** The manifest's media type as recorded (OCI or Docker v2 schema 2). */
  manifestMediaType: string;
  manifest: Manifest;
  config: ImageConfig;
  /** Layer blobs in order, each with the diff_id of its uncompressed tar. */
  layers: (Descriptor & { diffId: string })[];
}

interface Index {
  schemaVersion: 2;
  manifests: Descriptor[];
}

export function digestHex(digest: string): string {
  const m = /^sha256:([a-f0-9]{64})$/.exec(digest);
  if (!m?.[1]) throw new Error(`unsupported digest "${digest}": only sha256 is stored`);
  return m[1];
}

/** Writes `data` to `path` through a fsynced temp file and a rename. */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${path}.tmp-${randomBytes(6).toString('hex')}`;
  const fh = await open(tmp, 'wx', 0o644);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
}

export class ImageStore {
  readonly root: string;
  /** Serialises index.json read-modify-write within this process. */
  private indexLock: Promise<unknown> = Promise.resolve();

  constructor(root: string) {
    this.root = root;
  }

  get blobDir(): string {
    return join(this.root, 'blobs', 'sha256');
  }
  get layerDir(): string {
    return join(this.root, 'layers');
  }
  get tmpDir(): string {
    return join(this.root, 'tmp');
  }
  blobPath(digest: string): string {
    return join(this.blobDir, digestHex(digest));
  }

  async init(): Promise<this> {
    await mkdir(this.blobDir, { recursive: true });
    await mkdir(this.layerDir, { recursive: true });
    await mkdir(join(this.layerDir, 'l'), { recursive: true });
    await mkdir(this.tmpDir, { recursive: true });
    try {
      await stat(join(this.root, 'oci-layout'));
    } catch {
      await writeFileAtomic(join(this.root, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    }
    try {
      await stat(join(this.root, 'index.json'));
    } catch {
      await writeFileAtomic(join(this.root, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [] }));
    }
    return this;
  }

  async hasBlob(digest: string): Promise<boolean> {
    try {
      await stat(this.blobPath(digest));
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Stores a stream as a blob, hashing while writing. If `expected` is given and the content
   * does not match it, nothing is stored. Returns the digest and size.
   */
  async putBlobStream(source: Readable, expected?: string, expectedSize?: number): Promise<{ digest: string; size: number }> {
    const hash = createHash('sha256');
    let size = 0;
    const tmp = join(this.tmpDir, `blob-${randomBytes(8).toString('hex')}`);
    const fh = await open(tmp, 'wx', 0o644);
    try {
      for await (const chunk of source) {
        const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
        hash.update(bytes);
        size += bytes.length;
        // A server sending more than it declared is refused before it fills the disk.
        if (expectedSize !== undefined && size > expectedSize) throw new Error(`blob ${expected ?? ''} is larger than its declared ${expectedSize} bytes`);
        await fh.write(bytes);
      }
      await fh.sync();
    } catch (err) {
      await fh.close();
      await rm(tmp, { force: true });
      throw err;
    }
    await fh.close();
    const digest = `sha256:${hash.digest('hex')}`;
    if (expectedSize !== undefined && size !== expectedSize) {
      await rm(tmp, { force: true });
      throw new Error(`blob ${expected ?? digest} has ${size} bytes, not the declared ${expectedSize}`);
    }
    if (expected !== undefined && expected !== digest) {
      await rm(tmp, { force: true });
      throw new Error(`blob digest mismatch: expected ${expected}, got ${digest}`);
    }
    await rename(tmp, this.blobPath(digest));
    return { digest, size };
  }

  async putBlob(data: string | Uint8Array, expected?: string): Promise<{ digest: string; size: number }> {
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    if (expected !== undefined && expected !== digest) throw new Error(`blob digest mismatch: expected ${expected}, got ${digest}`);
    if (!(await this.hasBlob(digest))) await writeFileAtomic(this.blobPath(digest), bytes);
    return { digest, size: bytes.length };
  }

  async getBlob(digest: string): Promise<Buffer> {
    try {
      return await readFile(this.blobPath(digest));
    } catch (err) {
      throw new NotFoundError(`blob ${digest} is not in the image store at ${this.root}`, { cause: err });
    }
  }

  openBlob(digest: string): Readable {
    // Blobs are read whole (layer unpack, push): large reads beat the 64 KiB default.
    return createReadStream(this.blobPath(digest), { highWaterMark: 1 << 20 });
  }

  private async readIndex(): Promise<Index> {
    return JSON.parse(await readFile(join(this.root, 'index.json'), 'utf8')) as Index;
  }

  private async updateIndex(change: (index: Index) => void): Promise<void> {
    const run = this.indexLock.then(async () => {
      const index = await this.readIndex();
      change(index);
      await writeFileAtomic(join(this.root, 'index.json'), JSON.stringify(index, null, 2));
    });
    this.indexLock = run.catch(() => undefined);
    await run;
  }

  /**
   * Records an image whose layer blobs are already stored: writes its config and manifest
   * and points `ref` at them (replacing what `ref` named before).
   */
  async putImage(layers: Descriptor[], config: ImageConfig, ref: string): Promise<ResolvedImage> {
    const reference = normalizeReference(ref);
    if (layers.length !== config.rootfs.diff_ids.length) {
      throw new Error(`image ${reference}: ${layers.length} layers but ${config.rootfs.diff_ids.length} diff_ids`);
    }
    for (const layer of layers) {
      if (!(await this.hasBlob(layer.digest))) throw new NotFoundError(`layer blob ${layer.digest} is not in the store`);
    }
    const manifestBlob = await this.putManifestFor(layers, config);
    await this.updateIndex((index) => {
      index.manifests = index.manifests.filter((m) => m.annotations?.[REF_NAME] !== reference);
      index.manifests.push({
        mediaType: MEDIA_MANIFEST,
        digest: manifestBlob.digest,
        size: manifestBlob.size,
        annotations: { [REF_NAME]: reference },
      });
    });
    return this.resolve(reference);
  }

  /**
   * Records an image whose manifest bytes came from elsewhere (a registry): the bytes are
   * kept as they are, so the manifest's digest stays the registry's, and `ref` is pointed at
   * it. Its config and layer blobs must be stored already.
   */
  async putManifest(bytes: Buffer, mediaType: string, ref: string): Promise<ResolvedImage> {
    const reference = normalizeReference(ref);
    const manifest = JSON.parse(bytes.toString('utf8')) as Manifest;
    for (const d of [manifest.config, ...manifest.layers]) {
      if (!(await this.hasBlob(d.digest))) throw new NotFoundError(`image ${reference}: blob ${d.digest} is not in the store`);
    }
    const blob = await this.putBlob(bytes);
    await this.pointReference(reference, { mediaType, digest: blob.digest, size: blob.size });
    return this.resolve(reference);
  }

  /**
   * Records a manifest whose bytes came from an archive (`stack load`): kept as they are, so
   * the image keeps its digest, and named by each of `refs`, or kept unnamed when there are
   * none. Its config and layer blobs must be stored already.
   */
  async putManifestNamed(bytes: Buffer, mediaType: string, refs: readonly string[]): Promise<ResolvedImage> {
    const manifest = JSON.parse(bytes.toString('utf8')) as Manifest;
    for (const d of [manifest.config, ...manifest.layers]) {
      if (!(await this.hasBlob(d.digest))) throw new NotFoundError(`manifest: blob ${d.digest} is not in the store`);
    }
    const blob = await this.putBlob(bytes);
    const references = refs.map((r) => normalizeReference(r));
    await this.updateIndex((index) => {
      index.manifests = index.manifests.filter((m) => {
        const name = m.annotations?.[REF_NAME];
        return name === undefined ? m.digest !== blob.digest : !references.includes(name);
      });
      const entry = { mediaType, digest: blob.digest, size: blob.size };
      if (references.length === 0) index.manifests.push(entry);
      for (const reference of references) index.manifests.push({ ...entry, annotations: { [REF_NAME]: reference } });
    });
    return this.resolveManifest(blob.digest, references[0], mediaType);
  }

  /** Every entry of index.json: named ones with their reference, unnamed ones (build steps, dangling images) without. */
  async entries(): Promise<Array<{ reference: string | undefined; digest: string; mediaType: string }>> {
    return (await this.readIndex()).manifests.map((m) => ({ reference: m.annotations?.[REF_NAME], digest: m.digest, mediaType: m.mediaType }));
  }

  /**
   * Takes `ref` off the index without collecting garbage; with `keepUnnamed` the image stays
   * as an unnamed entry (a dangling image a container still uses) when nothing else names it.
   */
  async untag(ref: string, keepUnnamed: boolean): Promise<void> {
    const reference = normalizeReference(ref);
    let found = false;
    await this.updateIndex((index) => {
      const entry = index.manifests.find((m) => m.annotations?.[REF_NAME] === reference);
      if (!entry) return;
      found = true;
      index.manifests = index.manifests.filter((m) => m !== entry);
      const stillListed = index.manifests.some((m) => m.digest === entry.digest);
      if (keepUnnamed && !stillListed) index.manifests.push({ mediaType: entry.mediaType, digest: entry.digest, size: entry.size });
    });
    if (!found) throw new NotFoundError(`no such image: ${ref} (${reference})`);
  }

  /** Drops the unnamed index entries of these manifests (dangling images, build steps); names stay. */
  async dropUnnamed(manifestDigests: Iterable<string>): Promise<void> {
    const drop = new Set(manifestDigests);
    await this.updateIndex((index) => {
      index.manifests = index.manifests.filter((m) => m.annotations?.[REF_NAME] !== undefined || !drop.has(m.digest));
    });
  }

  /** Gives the image `source` names a second name (`stack tag`). */
  async tag(source: string, target: string): Promise<ResolvedImage> {
    const from = await this.resolve(source);
    const reference = normalizeReference(target);
    const size = (await stat(this.blobPath(from.manifestDigest))).size;
    await this.pointReference(reference, { mediaType: from.manifestMediaType, digest: from.manifestDigest, size });
    return this.resolve(reference);
  }

  private async pointReference(reference: string, descriptor: Descriptor): Promise<void> {
    await this.updateIndex((index) => {
      index.manifests = index.manifests.filter((m) => m.annotations?.[REF_NAME] !== reference);
      index.manifests.push({ ...descriptor, annotations: { [REF_NAME]: reference } });
    });
  }

  /**
   * Deletes those of `blobs` and unpacked `diffIds` that no image in the index uses: what a
   * failed pull had stored. Only the given ones, so another pull's work is never touched.
   */
  async dropUnreferenced(blobs: Iterable<string>, diffIds: Iterable<string>): Promise<void> {
    const index = await this.readIndex();
    const usedBlobs = new Set<string>();
    const usedLayers = new Set<string>();
    for (const m of index.manifests) {
      usedBlobs.add(m.digest);
      const manifest = JSON.parse((await this.getBlob(m.digest)).toString('utf8')) as Manifest;
      usedBlobs.add(manifest.config.digest);
      for (const l of manifest.layers) usedBlobs.add(l.digest);
      const config = JSON.parse((await this.getBlob(manifest.config.digest)).toString('utf8')) as ImageConfig;
      for (const d of config.rootfs.diff_ids) usedLayers.add(d);
    }
    for (const digest of blobs) if (!usedBlobs.has(digest)) await rm(this.blobPath(digest), { force: true });
    for (const diffId of diffIds) {
      if (usedLayers.has(diffId)) continue;
      const dir = join(this.layerDir, digestHex(diffId));
      const link = await readFile(join(dir, 'link'), 'utf8').catch(() => undefined);
      if (link !== undefined) await rm(join(this.layerDir, 'l', link.trim()), { force: true });
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** Stores the config and an image manifest over `layers` (already stored); returns the manifest blob. */
  private async putManifestFor(layers: Descriptor[], config: ImageConfig): Promise<{ digest: string; size: number }> {
    const configBlob = await this.putBlob(JSON.stringify(config));
    const manifest: Manifest = {
      schemaVersion: 2,
      mediaType: MEDIA_MANIFEST,
      config: { mediaType: MEDIA_CONFIG, digest: configBlob.digest, size: configBlob.size },
      layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
    };
    return this.putBlob(JSON.stringify(manifest));
  }

  /**
   * Records an image without a name: a build step's result, kept (and its blobs kept by
   * collectGarbage) as an unnamed entry of index.json, found by its ID or manifest digest.
   */
  async putUntagged(layers: Descriptor[], config: ImageConfig): Promise<ResolvedImage> {
    const manifestBlob = await this.putManifestFor(layers, config);
    await this.updateIndex((index) => {
      if (index.manifests.some((m) => m.digest === manifestBlob.digest && m.annotations?.[REF_NAME] === undefined)) return;
      index.manifests.push({ mediaType: MEDIA_MANIFEST, digest: manifestBlob.digest, size: manifestBlob.size });
    });
    return this.resolveManifest(manifestBlob.digest);
  }

  /** An image by its manifest digest, named or not; its reference is its ID (the config digest). */
  async resolveManifest(digest: string, reference?: string, mediaType?: string): Promise<ResolvedImage> {
    const manifest = JSON.parse((await this.getBlob(digest)).toString('utf8')) as Manifest;
    const config = JSON.parse((await this.getBlob(manifest.config.digest)).toString('utf8')) as ImageConfig;
    const layers = manifest.layers.map((l, i) => {
      const diffId = config.rootfs.diff_ids[i];
      if (diffId === undefined) throw new Error(`image ${digest}: layer ${i} has no diff_id in its config`);
      return { ...l, diffId };
    });
    return { reference: reference ?? manifest.config.digest, manifestDigest: digest, manifestMediaType: mediaType ?? manifest.mediaType ?? MEDIA_MANIFEST, manifest, config, layers };
  }

  /** An unnamed image (a build step's) by its ID, the config digest; undefined when there is none. */
  async findUntagged(configDigest: string): Promise<ResolvedImage | undefined> {
    const index = await this.readIndex();
    for (const m of index.manifests) {
      if (m.annotations?.[REF_NAME] !== undefined) continue;
      const manifest = JSON.parse((await this.getBlob(m.digest)).toString('utf8')) as Manifest;
      if (manifest.config.digest === configDigest) return this.resolveManifest(m.digest);
    }
    return undefined;
  }

  /** Whether index.json lists the manifest (named or not). */
  async hasManifest(digest: string): Promise<boolean> {
    return (await this.readIndex()).manifests.some((m) => m.digest === digest);
  }

  async resolve(ref: string): Promise<ResolvedImage> {
    const reference = normalizeReference(ref);
    const index = await this.readIndex();
    const entry = index.manifests.find((m) => m.annotations?.[REF_NAME] === reference);
    if (!entry) throw new NotFoundError(`no such image: ${ref} (${reference}); see "stack image ls"`);
    return this.resolveManifest(entry.digest, reference, entry.mediaType);
  }

  async list(): Promise<{ reference: string; digest: string; size: number }[]> {
    const index = await this.readIndex();
    const out: { reference: string; digest: string; size: number }[] = [];
    for (const m of index.manifests) {
      const reference = m.annotations?.[REF_NAME];
      if (reference === undefined) continue;
      const manifest = JSON.parse((await this.getBlob(m.digest)).toString('utf8')) as Manifest;
      const size = manifest.layers.reduce((n, l) => n + l.size, manifest.config.size);
      out.push({ reference, digest: m.digest, size });
    }
    return out.sort((a, b) => (a.reference < b.reference ? -1 : a.reference > b.reference ? 1 : 0));
  }

  /** Drops `ref` from the index, then deletes every blob and unpacked layer nothing names. */
  async remove(ref: string): Promise<void> {
    const reference = normalizeReference(ref);
    let found = false;
    await this.updateIndex((index) => {
      const before = index.manifests.length;
      index.manifests = index.manifests.filter((m) => m.annotations?.[REF_NAME] !== reference);
      found = index.manifests.length !== before;
    });
    if (!found) throw new NotFoundError(`no such image: ${ref} (${reference})`);
    await this.collectGarbage();
  }

  /**
   * Deletes every blob and unpacked layer no entry of the index uses and `held` does not
   * hold (a running build's images and fresh layers); `bytes` is what the blobs took.
   */
  async collectGarbage(held?: HeldContent): Promise<{ blobs: number; layers: number; bytes: number }> {
    const index = await this.readIndex();
    const keepBlobs = new Set<string>([...(held?.blobs ?? [])].map(digestHex));
    const keepLayers = new Set<string>([...(held?.diffIds ?? [])].map(digestHex));
    const manifests = new Set([...index.manifests.map((m) => m.digest), ...(held?.images ?? [])]);
    for (const digest of manifests) {
      const manifestBytes = await this.getBlob(digest).catch((err: unknown) => {
        // A held image whose blobs are gone already has nothing left to keep.
        if (held?.images.has(digest)) return undefined;
        throw err;
      });
      if (manifestBytes === undefined) continue;
      keepBlobs.add(digestHex(digest));
      const manifest = JSON.parse(manifestBytes.toString('utf8')) as Manifest;
      keepBlobs.add(digestHex(manifest.config.digest));
      for (const l of manifest.layers) keepBlobs.add(digestHex(l.digest));
      const config = JSON.parse((await this.getBlob(manifest.config.digest)).toString('utf8')) as ImageConfig;
      for (const d of config.rootfs.diff_ids) keepLayers.add(digestHex(d));
    }
    let blobs = 0;
    let bytes = 0;
    for (const name of await readdir(this.blobDir)) {
      if (keepBlobs.has(name)) continue;
      bytes += (await stat(join(this.blobDir, name)).catch(() => ({ size: 0 }))).size;
      await unlink(join(this.blobDir, name)).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
      blobs++;
    }
    let layers = 0;
    for (const name of await readdir(this.layerDir)) {
      if (name === 'l' || keepLayers.has(name)) continue;
      const link = await readFile(join(this.layerDir, name, 'link'), 'utf8').catch(() => undefined);
      if (link !== undefined) await rm(join(this.layerDir, 'l', link), { force: true });
      await rm(join(this.layerDir, name), { recursive: true, force: true });
      layers++;
    }
    return { blobs, layers, bytes };
  }
}
