// The build cache: which stored step result (an unnamed image of the store, by manifest
// digest) a build step produced, keyed by a hash of what determines the result: the
// parent result, the instruction after substitution, and what else the step reads (the
// copied files' content and modes, the build args a RUN sees). One JSON file under the
// image store, rewritten atomically. A hit whose image is no longer in the store's index is
// a miss, and `forget` drops the entries of images an `image prune` or `rmi` removed, so
// the cache never leads a build to an image that is gone.

import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic, type ImageStore } from '../store.js';

interface CacheFile {
  version: 1;
  steps: Record<string, string>;
}

export function cacheKey(parts: unknown[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}

export class BuildCache {
  private readonly path: string;
  private loaded: CacheFile | undefined;
  /** Serialises read-modify-write within the engine (builds may run side by side). */
  private lock: Promise<unknown> = Promise.resolve();

  constructor(private readonly store: ImageStore) {
    this.path = join(store.root, 'build-cache.json');
  }

  private async load(): Promise<CacheFile> {
    if (this.loaded) return this.loaded;
    try {
      const file = JSON.parse(await readFile(this.path, 'utf8')) as CacheFile;
      this.loaded = file.version === 1 && typeof file.steps === 'object' ? file : { version: 1, steps: {} };
    } catch {
      this.loaded = { version: 1, steps: {} };
    }
    return this.loaded;
  }

  /** The manifest digest of the step's stored result, when it is still an image of the store. */
  async lookup(key: string): Promise<string | undefined> {
    const digest = (await this.load()).steps[key];
    if (digest === undefined) return undefined;
    return (await this.store.hasManifest(digest)) && (await this.store.hasBlob(digest)) ? digest : undefined;
  }

  /** Drops every step whose result is one of `manifestDigests` (images just removed). */
  async forget(manifestDigests: Iterable<string>): Promise<number> {
    const gone = new Set(manifestDigests);
    let dropped = 0;
    const run = this.lock.then(async () => {
      const file = await this.load();
      for (const [key, digest] of Object.entries(file.steps)) {
        if (!gone.has(digest)) continue;
        delete file.steps[key];
        dropped++;
      }
      if (dropped > 0) await writeFileAtomic(this.path, JSON.stringify(file));
    });
    this.lock = run.catch(() => undefined);
    await run;
    return dropped;
  }

  async record(key: string, manifestDigest: string): Promise<void> {
    const run = this.lock.then(async () => {
      const file = await this.load();
      file.steps[key] = manifestDigest;
      await writeFileAtomic(this.path, JSON.stringify(file));
    });
    this.lock = run.catch(() => undefined);
    await run;
  }
}
