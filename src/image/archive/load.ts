// `stack load` / `POST /images/load`: an archive (a `docker save` tar, or an OCI image layout
// tar) into the store. The archive is staged and checked whole first: every blob against
// the digest and size that name it, every layer against its config's diff_id, names
// parsed; only then are blobs moved in, layers unpacked and names pointed. A failure at any
// point stores nothing: what this load added is dropped again, as a failed pull's is.

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readFile, rename } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { normalizeReference } from '../reference.js';
import { isIndex, isManifest, isZstdLayer } from '../registry/media-types.js';
import { hostPlatform, selectPlatform, type IndexEntry } from '../registry/platform.js';
import { MEDIA_CONFIG, MEDIA_LAYER_GZIP, MEDIA_LAYER_TAR, MEDIA_MANIFEST, type Descriptor, type ImageConfig, type ImageStore, type Manifest, type ResolvedImage } from '../store.js';
import { ArchiveError, StagedArchive, type StagedFile } from './staged-archive.js';

const REF_NAME = 'org.opencontainers.image.ref.name';
const CONTAINERD_NAME = 'io.containerd.image.name';

export interface LoadOptions {
  /** Unpacks a stored layer blob (unpack.ts's unpackLayer, bound to its options). */
  unpack: (blobDigest: string, diffId: string) => Promise<unknown>;
  /** Told of each image once it is loaded. */
  onLoaded?: (loaded: LoadedImage) => void;
}

export interface LoadedImage {
  /** The names it was loaded under (normalised); none for an unnamed image. */
  references: string[];
  /** The image ID, its config digest. */
  id: string;
  image: ResolvedImage;
}

/** One image of the archive, checked and ready to be stored. */
interface PlannedImage {
  references: string[];
  /** The manifest's bytes as they will be stored (the archive's own for OCI, ours for docker-archive). */
  manifestBytes: Buffer;
  manifestMediaType: string;
  config: StagedFile;
  layers: Array<{ file: StagedFile; descriptor: Descriptor; diffId: string }>;
}

export async function loadArchive(store: ImageStore, source: Readable, options: LoadOptions): Promise<LoadedImage[]> {
  const archive = await StagedArchive.extract(source, store.tmpDir);
  try {
    const plans = archive.has('manifest.json') ? await planDockerArchive(archive) : await planOciLayout(archive);
    return await storePlans(store, archive, plans, options);
  } finally {
    await archive.remove();
  }
}

// ---- docker-archive -------------------------------------------------------------------

interface DockerManifestEntry {
  Config?: unknown;
  RepoTags?: unknown;
  Layers?: unknown;
}

async function planDockerArchive(archive: StagedArchive): Promise<PlannedImage[]> {
  const entries = await readJson(archive.get('manifest.json', 'the archive'), 'manifest.json');
  if (!Array.isArray(entries) || entries.length === 0) throw new ArchiveError('manifest.json must be a non-empty list of images ({"Config", "RepoTags", "Layers"})');
  const plans: PlannedImage[] = [];
  for (const [i, raw] of (entries as DockerManifestEntry[]).entries()) {
    const where = `manifest.json[${i}]`;
    if (typeof raw?.Config !== 'string') throw new ArchiveError(`${where} has no "Config" (the image config's path in the archive)`);
    if (!Array.isArray(raw.Layers) || raw.Layers.some((l) => typeof l !== 'string')) throw new ArchiveError(`${where}: "Layers" must be a list of paths`);
    const tags = raw.RepoTags === undefined || raw.RepoTags === null ? [] : raw.RepoTags;
    if (!Array.isArray(tags) || tags.some((t) => typeof t !== 'string')) throw new ArchiveError(`${where}: "RepoTags" must be a list of names`);
    const references = (tags as string[]).map((t) => parseName(t, `${where}.RepoTags`));
    const configFile = archive.get(raw.Config, where);
    const config = (await readJson(configFile, raw.Config)) as ImageConfig;
    const diffIds = diffIdsOf(config, raw.Config);
    const layerNames = raw.Layers as string[];
    if (diffIds.length !== layerNames.length) throw new ArchiveError(`${where}: ${layerNames.length} layers but the config ${raw.Config} has ${diffIds.length} diff_ids`);
    const layers = [];
    for (const [n, name] of layerNames.entries()) {
      const file = archive.get(name, `${where}.Layers[${n}]`);
      const compression = await compressionOf(file);
      const actual = compression === 'gzip' ? await gunzippedDigest(file) : file.digest;
      if (actual !== diffIds[n]) throw new ArchiveError(`layer ${n} (${name}) does not match its diff_id: the config says ${diffIds[n]}, the layer is ${actual} (a corrupt archive)`);
      layers.push({ file, diffId: diffIds[n]!, descriptor: { mediaType: compression === 'gzip' ? MEDIA_LAYER_GZIP : MEDIA_LAYER_TAR, digest: file.digest, size: file.size } });
    }
    const manifest: Manifest = {
      schemaVersion: 2,
      mediaType: MEDIA_MANIFEST,
      config: { mediaType: MEDIA_CONFIG, digest: configFile.digest, size: configFile.size },
      layers: layers.map((l) => l.descriptor),
    };
    plans.push({ references, manifestBytes: Buffer.from(JSON.stringify(manifest)), manifestMediaType: MEDIA_MANIFEST, config: configFile, layers });
  }
  return plans;
}

// ---- OCI image layout -------------------------------------------------------------------

async function planOciLayout(archive: StagedArchive): Promise<PlannedImage[]> {
  if (!archive.has('oci-layout') || !archive.has('index.json')) {
    throw new ArchiveError('this is neither a docker-archive (no manifest.json) nor an OCI image layout (no oci-layout and index.json)');
  }
  const layout = (await readJson(archive.get('oci-layout', 'the layout'), 'oci-layout')) as { imageLayoutVersion?: unknown };
  if (typeof layout?.imageLayoutVersion !== 'string' || !layout.imageLayoutVersion.startsWith('1.')) {
    throw new ArchiveError(`oci-layout: imageLayoutVersion ${JSON.stringify(layout?.imageLayoutVersion)} is not a 1.x layout`);
  }
  const index = (await readJson(archive.get('index.json', 'the layout'), 'index.json')) as { manifests?: Descriptor[] };
  if (!Array.isArray(index?.manifests) || index.manifests.length === 0) throw new ArchiveError('index.json lists no manifests');
  const plans: PlannedImage[] = [];
  for (const [i, top] of index.manifests.entries()) {
    const where = `index.json manifests[${i}]`;
    const references = ociNames(top, where);
    let descriptor = top;
    let bytes = await readBlob(archive, descriptor, where);
    if (isIndex(descriptor.mediaType)) {
      const nested = JSON.parse(bytes.toString('utf8')) as { manifests?: IndexEntry[] };
      const entry = selectPlatform(nested.manifests ?? [], hostPlatform(), references[0] ?? descriptor.digest);
      descriptor = { mediaType: entry.mediaType, digest: entry.digest, size: entry.size };
      bytes = await readBlob(archive, descriptor, `${where} (the index's entry for this platform)`);
    }
    if (!isManifest(descriptor.mediaType)) throw new ArchiveError(`${where}: media type "${descriptor.mediaType}" is not an image manifest or index`);
    const manifest = parseJson(bytes, `manifest ${descriptor.digest}`) as Manifest;
    if (!manifest.config || !Array.isArray(manifest.layers)) throw new ArchiveError(`manifest ${descriptor.digest} has no config or layers`);
    const configBytes = await readBlob(archive, manifest.config, `manifest ${descriptor.digest} config`);
    const config = parseJson(configBytes, `config ${manifest.config.digest}`) as ImageConfig;
    const diffIds = diffIdsOf(config, manifest.config.digest);
    if (diffIds.length !== manifest.layers.length) throw new ArchiveError(`manifest ${descriptor.digest}: ${manifest.layers.length} layers but its config has ${diffIds.length} diff_ids`);
    const layers = [];
    for (const [n, layer] of manifest.layers.entries()) {
      if (isZstdLayer(layer.mediaType)) throw new ArchiveError(`layer ${layer.digest} is zstd-compressed, which Node ${process.versions.node} cannot read`);
      const file = blobFile(archive, layer, `manifest ${descriptor.digest} layer ${n}`);
      const actual = (await compressionOf(file)) === 'gzip' ? await gunzippedDigest(file) : file.digest;
      if (actual !== diffIds[n]) throw new ArchiveError(`layer ${n} (${layer.digest}) does not match its diff_id: the config says ${diffIds[n]}, the layer is ${actual} (a corrupt archive)`);
      layers.push({ file, diffId: diffIds[n]!, descriptor: layer });
    }
    plans.push({ references, manifestBytes: bytes, manifestMediaType: descriptor.mediaType, config: blobFile(archive, manifest.config, 'config'), layers });
  }
  return plans;
}

/**
 * The names an index entry gives its image. `ref.name` may be a whole reference (as skopeo
 * and this tool write it) or only a tag (the OCI spec's examples, Docker's own saves), then
 * containerd's annotation has the name; a bare tag with no name leaves the image unnamed.
 */
function ociNames(entry: Descriptor, where: string): string[] {
  const refName = entry.annotations?.[REF_NAME];
  const fullName = entry.annotations?.[CONTAINERD_NAME];
  if (fullName !== undefined) return [parseName(fullName, `${where} ${CONTAINERD_NAME}`)];
  if (refName === undefined || (!refName.includes(':') && !refName.includes('/'))) return [];
  return [parseName(refName, `${where} ${REF_NAME}`)];
}

/** A layout's blob, checked against the digest and size of its descriptor. */
function blobFile(archive: StagedArchive, descriptor: Descriptor, wantedBy: string): StagedFile {
  const m = /^(sha256):([a-f0-9]{64})$/.exec(String(descriptor?.digest));
  if (!m) throw new ArchiveError(`${wantedBy}: digest ${JSON.stringify(descriptor?.digest)} is not a sha256 digest`);
  const file = archive.get(`blobs/${m[1]}/${m[2]}`, wantedBy);
  if (file.digest !== descriptor.digest) throw new ArchiveError(`blob ${descriptor.digest} is corrupt: its content hashes to ${file.digest}`);
  if (typeof descriptor.size === 'number' && file.size !== descriptor.size) throw new ArchiveError(`blob ${descriptor.digest} has ${file.size} bytes, not the ${descriptor.size} its descriptor says`);
  return file;
}

async function readBlob(archive: StagedArchive, descriptor: Descriptor, wantedBy: string): Promise<Buffer> {
  return readFile(blobFile(archive, descriptor, wantedBy).path);
}

// ---- storing ---------------------------------------------------------------------------

async function storePlans(store: ImageStore, archive: StagedArchive, plans: PlannedImage[], options: LoadOptions): Promise<LoadedImage[]> {
  const added = { blobs: new Set<string>(), diffIds: new Set<string>() };
  const moveIn = async (file: StagedFile): Promise<void> => {
    if (await store.hasBlob(file.digest)) return;
    // Another image of the archive may name the same staged file: the first move takes it.
    await rename(file.path, store.blobPath(file.digest)).catch(async (err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT' || !(await store.hasBlob(file.digest))) throw err;
    });
    added.blobs.add(file.digest);
  };
  try {
    for (const plan of plans) {
      await moveIn(plan.config);
      for (const layer of plan.layers) {
        await moveIn(layer.file);
        added.diffIds.add(layer.diffId);
        await options.unpack(layer.descriptor.digest, layer.diffId).catch((err: unknown) => {
          throw new ArchiveError(`layer ${layer.file.name}: ${(err as Error).message}`, { cause: err });
        });
      }
    }
    const loaded: LoadedImage[] = [];
    for (const plan of plans) {
      const image = await store.putManifestNamed(plan.manifestBytes, plan.manifestMediaType, plan.references);
      const one = { references: plan.references, id: image.manifest.config.digest, image };
      loaded.push(one);
      options.onLoaded?.(one);
    }
    return loaded;
  } catch (err) {
    await store.dropUnreferenced(added.blobs, added.diffIds).catch(() => undefined);
    throw err;
  }
}

// ---- small readers ---------------------------------------------------------------------

async function readJson(file: StagedFile, name: string): Promise<unknown> {
  return parseJson(await readFile(file.path), name);
}

function parseJson(bytes: Buffer, name: string): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new ArchiveError(`${name} is not valid JSON: ${(err as Error).message}`);
  }
}

function diffIdsOf(config: ImageConfig, name: string): string[] {
  const ids = config?.rootfs?.diff_ids;
  if (!Array.isArray(ids) || ids.some((d) => typeof d !== 'string' || !/^sha256:[a-f0-9]{64}$/.test(d))) {
    throw new ArchiveError(`the config ${name} has no valid rootfs.diff_ids`);
  }
  return ids;
}

function parseName(text: string, where: string): string {
  try {
    return normalizeReference(text);
  } catch (err) {
    throw new ArchiveError(`${where}: ${(err as Error).message}`);
  }
}

async function compressionOf(file: StagedFile): Promise<'gzip' | 'none'> {
  const head = Buffer.alloc(4);
  const fh = await open(file.path, 'r');
  try {
    await fh.read(head, 0, 4, 0);
  } finally {
    await fh.close();
  }
  if (head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.readUInt32LE(0) === 0xfd2fb528) throw new ArchiveError(`layer ${file.name} is zstd-compressed, which Node ${process.versions.node} cannot read`);
  return 'none';
}

async function gunzippedDigest(file: StagedFile): Promise<string> {
  const hash = createHash('sha256');
  const input = createReadStream(file.path);
  const gunzip = createGunzip();
  input.on('error', (err) => gunzip.destroy(err));
  try {
    for await (const chunk of input.pipe(gunzip)) hash.update(chunk as Buffer);
  } catch (err) {
    throw new ArchiveError(`layer ${file.name}: its gzip stream is damaged (${(err as Error).message})`);
  }
  return `sha256:${hash.digest('hex')}`;
}
