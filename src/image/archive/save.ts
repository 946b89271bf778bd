// `stack save` / `GET /images/get`: images of the store as one tar, in either of two formats.
//
// - docker-archive, what `docker save` writes and `docker load` (any version since 1.10)
//   and skopeo's `docker-archive:` read: `manifest.json` ([{Config, RepoTags, Layers}]), the
//   config JSON and each layer as an uncompressed tar, all under `blobs/sha256/<hex>` as
//   Docker 25 lays them out (older Dockers read any path manifest.json names). A layer's
//   name is then its diff_id, so a layer two images share is written once.
// - oci: an OCI image layout (`oci-layout`, `index.json`, `blobs/sha256/`) with the blobs
//   and manifests exactly as stored (digests unchanged), each name in the index entry's
//   `org.opencontainers.image.ref.name` (and containerd's `io.containerd.image.name`).
//
// Sizes must be in a tar header before the bytes, so a compressed layer is uncompressed into
// a temp file first for docker-archive.

import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { decompressed } from '../unpack.js';
import { digestHex, type ImageStore, type ResolvedImage } from '../store.js';

export type ArchiveFormat = 'docker' | 'oci';

export interface SaveRequest {
  image: ResolvedImage;
  /** The names to record for it (normalised references); none saves it by ID only. */
  references: string[];
}

const REF_NAME = 'org.opencontainers.image.ref.name';
const CONTAINERD_NAME = 'io.containerd.image.name';
const MTIME = new Date(0);

/** Writes the archive of `images` to `out`, ending it. */
export async function saveArchive(store: ImageStore, images: readonly SaveRequest[], format: ArchiveFormat, out: Writable, familiar: (reference: string) => string): Promise<void> {
  const pack = tar.pack();
  const piping = pipeline(pack, out);
  try {
    if (format === 'docker') await packDockerArchive(store, images, pack, familiar);
    else await packOciLayout(store, images, pack);
    pack.finalize();
  } catch (err) {
    pack.destroy(err as Error);
    await piping.catch(() => undefined);
    throw err;
  }
  await piping;
}

async function packDockerArchive(store: ImageStore, images: readonly SaveRequest[], pack: tar.Pack, familiar: (reference: string) => string): Promise<void> {
  const written = new Set<string>();
  const manifest: Array<{ Config: string; RepoTags: string[]; Layers: string[] }> = [];
  await addDirectory(pack, 'blobs/');
  await addDirectory(pack, 'blobs/sha256/');
  for (const { image, references } of images) {
    const configPath = `blobs/sha256/${digestHex(image.manifest.config.digest)}`;
    if (!written.has(configPath)) {
      await addBytes(pack, configPath, await store.getBlob(image.manifest.config.digest));
      written.add(configPath);
    }
    const layers: string[] = [];
    for (const layer of image.layers) {
      const path = `blobs/sha256/${digestHex(layer.diffId)}`;
      layers.push(path);
      if (written.has(path)) continue;
      await addUncompressedLayer(store, pack, path, layer.digest, layer.diffId);
      written.add(path);
    }
    // One entry per image: its several names share it, as docker save writes them.
    const same = manifest.find((m) => m.Config === configPath);
    if (same) same.RepoTags.push(...references.map(familiar));
    else manifest.push({ Config: configPath, RepoTags: references.map(familiar), Layers: layers });
  }
  await addBytes(pack, 'manifest.json', Buffer.from(JSON.stringify(manifest)));
}

/** The layer's uncompressed tar: the blob itself when it is one, else gunzipped to a temp file. */
async function addUncompressedLayer(store: ImageStore, pack: tar.Pack, path: string, blobDigest: string, diffId: string): Promise<void> {
  if (blobDigest === diffId) {
    await addFile(pack, path, store.blobPath(blobDigest));
    return;
  }
  const tmp = join(store.tmpDir, `save-${randomBytes(8).toString('hex')}.tar`);
  try {
    await pipeline(await decompressed(store.openBlob(blobDigest)), createWriteStream(tmp, { mode: 0o600 }));
    await addFile(pack, path, tmp);
  } finally {
    await rm(tmp, { force: true });
  }
}

async function packOciLayout(store: ImageStore, images: readonly SaveRequest[], pack: tar.Pack): Promise<void> {
  const written = new Set<string>();
  const blob = async (digest: string): Promise<void> => {
    if (written.has(digest)) return;
    written.add(digest);
    await addFile(pack, `blobs/sha256/${digestHex(digest)}`, store.blobPath(digest));
  };
  await addBytes(pack, 'oci-layout', Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' })));
  await addDirectory(pack, 'blobs/');
  await addDirectory(pack, 'blobs/sha256/');
  const entries: Array<Record<string, unknown>> = [];
  for (const { image, references } of images) {
    await blob(image.manifest.config.digest);
    for (const layer of image.layers) await blob(layer.digest);
    await blob(image.manifestDigest);
    const descriptor = { mediaType: image.manifestMediaType, digest: image.manifestDigest, size: (await stat(store.blobPath(image.manifestDigest))).size };
    if (references.length === 0) entries.push(descriptor);
    for (const reference of references) entries.push({ ...descriptor, annotations: { [REF_NAME]: reference, [CONTAINERD_NAME]: reference } });
  }
  await addBytes(pack, 'index.json', Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: entries })));
}

function addDirectory(pack: tar.Pack, name: string): Promise<void> {
  return new Promise((resolve, reject) => {
    pack.entry({ name, type: 'directory', mode: 0o755, mtime: MTIME }, (err) => (err ? reject(err) : resolve()));
  });
}

function addBytes(pack: tar.Pack, name: string, body: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    pack.entry({ name, mode: 0o644, mtime: MTIME }, body, (err) => (err ? reject(err) : resolve()));
  });
}

async function addFile(pack: tar.Pack, name: string, path: string): Promise<void> {
  const { size } = await stat(path);
  await new Promise<void>((resolve, reject) => {
    const sink = pack.entry({ name, size, mode: 0o644, mtime: MTIME }, (err) => (err ? reject(err) : resolve()));
    pipeline(createReadStream(path), sink).catch(reject);
  });
}
