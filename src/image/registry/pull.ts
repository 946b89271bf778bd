// Pull: a reference resolved to a manifest (through an index, for this host's platform),
// then the config and every layer not yet stored downloaded (a few at once), each verified
// against its digest and size while it streams into the store, then unpacked (the diff_id
// checked), and last the manifest recorded under the reference. A failure stores nothing
// of its own: the blobs and layers this pull added are dropped again.

import { Readable } from 'node:stream';
import { NotFoundError } from '../../common/errors.js';
import { formatReference, parseReference } from '../reference.js';
import type { ImageConfig, ImageStore, Manifest, ResolvedImage } from '../store.js';
import type { BlobSources } from './blob-sources.js';
import type { RegistryClient, RegistryClientOptions } from './client.js';
import { RegistryClient as Client } from './client.js';
import { isIndex, isManifest, isZstdLayer } from './media-types.js';
import { formatPlatform, hostPlatform, selectPlatform, type IndexEntry, type Platform } from './platform.js';
import { boundedAll, shortId, type ProgressSink } from './progress.js';

export interface PullOptions extends RegistryClientOptions {
  platform?: Platform;
  /** How many layers download at once. */
  concurrency?: number;
  onProgress?: ProgressSink;
  /** Told which repository holds the image's blobs, for cross-repository mounts on a later push. */
  sources?: BlobSources;
  /** Unpacks a stored layer blob (unpack.ts's unpackLayer, bound to its options). */
  unpack: (blobDigest: string, diffId: string) => Promise<unknown>;
}

export interface PullResult {
  image: ResolvedImage;
  manifestDigest: string;
  /** False when the reference already named this manifest. */
  changed: boolean;
}

/** Docker's progress is reported this often at most, per layer. */
const PROGRESS_EVERY_BYTES = 256 * 1024;

export async function pullImage(store: ImageStore, text: string, options: PullOptions): Promise<PullResult> {
  const ref = parseReference(text);
  const reference = formatReference(ref);
  const client = new Client(ref.domain, ref.path, { ...options, actions: 'pull' });
  const say = options.onProgress ?? (() => undefined);
  const added = { blobs: new Set<string>(), diffIds: new Set<string>() };
  try {
    say({ kind: 'message', text: `Pulling from ${ref.path}`, id: ref.tag ?? ref.digest ?? 'latest' });
    let fetched = await client.getManifest(ref.digest ?? ref.tag ?? 'latest');
    if (isIndex(fetched.mediaType)) {
      const index = JSON.parse(fetched.bytes.toString('utf8')) as { manifests?: IndexEntry[] };
      const entry = selectPlatform(index.manifests ?? [], options.platform ?? hostPlatform(), reference);
      fetched = await client.getManifest(entry.digest);
      if (fetched.digest !== entry.digest) throw new Error(`${reference}: the index names ${entry.digest} but the registry sent ${fetched.digest}`);
    }
    if (!isManifest(fetched.mediaType)) throw new Error(`${reference}: the registry answered a manifest of type "${fetched.mediaType}", which stack cannot read (OCI or Docker v2 schema 2 only)`);
    const manifest = JSON.parse(fetched.bytes.toString('utf8')) as Manifest;
    for (const layer of manifest.layers) {
      if (isZstdLayer(layer.mediaType)) throw new Error(`${reference}: layer ${layer.digest} is zstd-compressed (${layer.mediaType}), which Node ${process.versions.node} cannot decompress; use a gzip variant of the image`);
    }
    const current = await store.resolve(reference).catch((err: unknown) => {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    });
    if (current?.manifestDigest === fetched.digest) return { image: current, manifestDigest: fetched.digest, changed: false };

    const configBytes = await fetchBlob(store, client, manifest.config.digest, manifest.config.size, added.blobs, undefined, say);
    const config = JSON.parse(configBytes.toString('utf8')) as ImageConfig;
    const wanted = options.platform ?? hostPlatform();
    if (config.os !== undefined && config.architecture !== undefined && (config.os !== wanted.os || config.architecture !== wanted.architecture)) {
      say({ kind: 'message', text: `WARNING: the image's platform (${formatPlatform(config)}) is not this host's (${formatPlatform(wanted)})` });
    }
    const diffIds = config.rootfs?.diff_ids ?? [];
    if (diffIds.length !== manifest.layers.length) throw new Error(`${reference}: ${manifest.layers.length} layers but ${diffIds.length} diff_ids in the config`);

    const present = await Promise.all(manifest.layers.map((l) => store.hasBlob(l.digest)));
    manifest.layers.forEach((l, i) => say({ kind: 'layer', id: shortId(l.digest), status: present[i] ? 'Already exists' : 'Pulling fs layer' }));
    await boundedAll(manifest.layers, options.concurrency ?? 3, async (layer, i) => {
      const id = shortId(layer.digest);
      const diffId = diffIds[i]!;
      if (!present[i]) {
        await fetchBlob(store, client, layer.digest, layer.size, added.blobs, id, say);
        say({ kind: 'layer', id, status: 'Extracting', current: 0, total: layer.size });
      }
      added.diffIds.add(diffId);
      await options.unpack(layer.digest, diffId).catch((err: unknown) => {
        throw new Error(`${reference}: layer ${layer.digest}: ${(err as Error).message}`, { cause: err });
      });
      if (!present[i]) say({ kind: 'layer', id, status: 'Pull complete' });
    });
    const image = await store.putManifest(fetched.bytes, fetched.mediaType, reference);
    await options.sources?.record(ref.domain, ref.path, [manifest.config.digest, ...manifest.layers.map((l) => l.digest)]);
    return { image, manifestDigest: fetched.digest, changed: true };
  } catch (err) {
    await store.dropUnreferenced(added.blobs, added.diffIds).catch(() => undefined);
    throw err;
  } finally {
    client.close();
  }
}

/**
 * Streams one blob into the store, verified against digest and size there (putBlobStream
 * renames it into place only when both match). Returns the bytes for small blobs (the config).
 */
async function fetchBlob(store: ImageStore, client: RegistryClient, digest: string, size: number, added: Set<string>, id: string | undefined, say: ProgressSink): Promise<Buffer> {
  if (!(await store.hasBlob(digest))) {
    let current = 0;
    let reported = 0;
    async function* counted(): AsyncGenerator<Buffer> {
      for await (const chunk of client.blobChunks(digest, size)) {
        current += chunk.length;
        if (id !== undefined && (current - reported >= PROGRESS_EVERY_BYTES || current === size)) {
          reported = current;
          say({ kind: 'layer', id, status: 'Downloading', current, total: size });
        }
        yield chunk;
      }
    }
    try {
      await store.putBlobStream(Readable.from(counted()), digest, size);
    } catch (err) {
      throw new Error(`blob ${digest}${id ? ` (layer ${id})` : ' (config)'} was refused: ${(err as Error).message}`, { cause: err });
    }
    added.add(digest);
    if (id !== undefined) {
      say({ kind: 'layer', id, status: 'Verifying Checksum' });
      say({ kind: 'layer', id, status: 'Download complete' });
    }
  }
  return id === undefined ? store.getBlob(digest) : Buffer.alloc(0);
}
