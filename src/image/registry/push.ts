// Push: an image of the store sent to the registry its name points at. Each layer and the
// config is checked with HEAD first; a missing one known to be in another repository of the
// same registry (blob-sources.ts) is mounted from there, else uploaded (the stored bytes:
// the store keeps layers compressed, as they are sent; big ones in chunks), a few at once.
// The manifest goes last, as stored, with its media type, so its digest is the store's.

import { parseReference } from '../reference.js';
import type { ImageStore } from '../store.js';
import type { BlobSources } from './blob-sources.js';
import { RegistryClient, type RegistryClientOptions, type UploadOptions } from './client.js';
import { boundedAll, shortId, type ProgressSink } from './progress.js';

export interface PushOptions extends RegistryClientOptions, Pick<UploadOptions, 'chunkThreshold' | 'chunkSize'> {
  concurrency?: number;
  onProgress?: ProgressSink;
  /** Where blobs are known to be: mount sources, and told where this push put them. */
  sources?: BlobSources;
}

/** Progress is reported this often at most, per layer. */
const PROGRESS_EVERY_BYTES = 256 * 1024;

export interface PushResult {
  tag: string;
  digest: string;
  size: number;
}

export async function pushImage(store: ImageStore, name: string, options: PushOptions = {}): Promise<PushResult> {
  const image = await store.resolve(name);
  const ref = parseReference(image.reference);
  const say = options.onProgress ?? (() => undefined);
  const client = new RegistryClient(ref.domain, ref.path, { ...options, actions: 'pull,push' });
  try {
    say({ kind: 'message', text: `The push refers to repository [${ref.domain}/${ref.path}]` });
    const blobs = [...image.manifest.layers, image.manifest.config];
    for (const layer of image.manifest.layers) say({ kind: 'layer', id: shortId(layer.digest), status: 'Preparing' });
    await boundedAll(blobs, options.concurrency ?? 3, async (blob) => {
      const isLayer = blob !== image.manifest.config;
      const id = shortId(blob.digest);
      if (await client.hasBlob(blob.digest)) {
        if (isLayer) say({ kind: 'layer', id, status: 'Layer already exists' });
        return;
      }
      const mountFrom = await options.sources?.find(ref.domain, blob.digest, ref.path);
      const outcome = await client.uploadBlob(blob.digest, blob.size, () => {
        // Opened again for a retry: the count starts over with it.
        let current = 0;
        let reported = 0;
        const stream = store.openBlob(blob.digest);
        if (isLayer) {
          stream.on('data', (chunk: Buffer) => {
            current += chunk.length;
            if (current - reported < PROGRESS_EVERY_BYTES && current !== blob.size) return;
            reported = current;
            say({ kind: 'layer', id, status: 'Pushing', current, total: blob.size });
          });
        }
        return stream;
      }, { mountFrom, ...(options.chunkThreshold !== undefined ? { chunkThreshold: options.chunkThreshold } : {}), ...(options.chunkSize !== undefined ? { chunkSize: options.chunkSize } : {}) });
      if (isLayer) say({ kind: 'layer', id, status: outcome.kind === 'mounted' ? `Mounted from ${outcome.from}` : 'Pushed' });
    });
    await options.sources?.record(ref.domain, ref.path, blobs.map((b) => b.digest));
    const bytes = await store.getBlob(image.manifestDigest);
    const tag = ref.tag ?? ref.digest ?? 'latest';
    const digest = await client.putManifest(tag, image.manifestMediaType, bytes);
    say({ kind: 'message', text: `${tag}: digest: ${digest} size: ${bytes.length}` });
    return { tag, digest, size: bytes.length };
  } finally {
    client.close();
  }
}
