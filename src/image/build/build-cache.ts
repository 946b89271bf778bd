// The build cache: which stored step result (an unnamed image of the store, by manifest
// digest) a build step produced, keyed by a hash of what determines the result: the
// parent result, the instruction after substitution, and what else the step reads (the
// copied files' content and modes, the build args a RUN sees), with when each entry was
// last made or used (pruning evicts the least recently used first). One JSON file under
// the image store, rewritten atomically. A hit whose image is no longer in the store's
// index is a miss, and `forget` drops the entries of images an `image prune`, `rmi` or
// `builder prune` removed, so the cache never leads a build to an image that is gone.

import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic, type ImageStore } from '../store.js';

export interface CacheEntry {
  /** The step result's manifest digest. */
  digest: string;
  /** When a build last made or used it (ms since the epoch). */
  used: number;
}

interface CacheFile {
  version: 2;
  steps: Record<string, CacheEntry>;
}

/** Version 1 kept only the digest; its entries count as used long ago. */
interface CacheFileV1 {
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
  private writeQueued = false;

  constructor(private readonly store: ImageStore, private readonly now: () => number = Date.now) {
    this.path = join(store.root, 'build-cache.json');
  }

  private async load(): Promise<CacheFile> {
    if (this.loaded) return this.loaded;
    let file: CacheFile | CacheFileV1 | undefined;
    try {
      file = JSON.parse(await readFile(this.path, 'utf8')) as CacheFile | CacheFileV1;
    } catch {
      file = undefined;
    }
    if (file?.version === 2 && typeof file.steps === 'object') {
      this.loaded = file;
    } else if (file?.version === 1 && typeof file.steps === 'object') {
      this.loaded = { version: 2, steps: Object.fromEntries(Object.entries(file.steps).map(([k, digest]) => [k, { digest, used: 0 }])) };
    } else {
      this.loaded = { version: 2, steps: {} };
    }
    return this.loaded;
  }

  private change(work: (file: CacheFile) => boolean): Promise<void> {
    const run = this.lock.then(async () => {
      const file = await this.load();
      if (work(file)) await writeFileAtomic(this.path, JSON.stringify(file));
    });
    this.lock = run.catch(() => undefined);
    return run;
  }

  /**
   * The manifest digest of the step's stored result, when it is still an image of the
   * store; `beforeCheck` runs first (a build holds the image there, so a prune racing the
   * check cannot take it after the check said yes).
   */
  async lookup(key: string, beforeCheck?: (digest: string) => void): Promise<string | undefined> {
    const entry = (await this.load()).steps[key];
    if (entry === undefined) return undefined;
    beforeCheck?.(entry.digest);
    if (!(await this.store.hasManifest(entry.digest)) || !(await this.store.hasBlob(entry.digest))) return undefined;
    entry.used = this.now();
    this.persistSoon();
    return entry.digest;
  }

  /**
   * Writes the file after the changes under way, once for however many uses come
   * meanwhile (a rebuild's hits): a use lost to a crash only makes an entry look older.
   */
  private persistSoon(): void {
    if (this.writeQueued) return;
    this.writeQueued = true;
    const run = this.lock.then(async () => {
      this.writeQueued = false;
      await writeFileAtomic(this.path, JSON.stringify(await this.load()));
    });
    this.lock = run.catch(() => undefined);
  }

  /** Every entry, by key. */
  async entries(): Promise<Array<[string, CacheEntry]>> {
    return Object.entries((await this.load()).steps).map(([k, e]) => [k, { ...e }]);
  }

  /** Drops every step whose result is one of `manifestDigests` (images removed); returns the keys dropped. */
  async forget(manifestDigests: Iterable<string>): Promise<string[]> {
    const gone = new Set(manifestDigests);
    const dropped: string[] = [];
    await this.change((file) => {
      for (const [key, entry] of Object.entries(file.steps)) {
        if (!gone.has(entry.digest)) continue;
        delete file.steps[key];
        dropped.push(key);
      }
      return dropped.length > 0;
    });
    return dropped;
  }

  async record(key: string, manifestDigest: string): Promise<void> {
    await this.change((file) => {
      file.steps[key] = { digest: manifestDigest, used: this.now() };
      return true;
    });
  }
}
