// Which repositories of which registries are known to hold a blob: recorded when a pull
// downloads it or a push sends it, so a later push of the same blob to another repository
// of that registry asks for a cross-repository mount instead of uploading the bytes again.
// One JSON file beside the image store, rewritten atomically; a stale entry only costs a
// mount request the registry answers with an upload session.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../store.js';

/** The newest few repositories per registry and blob are enough to find a mount source. */
const REPOSITORIES_PER_BLOB = 4;

interface SourcesFile {
  version: 1;
  /** digest -> registry domain -> repositories, newest first. */
  blobs: Record<string, Record<string, string[]>>;
}

export class BlobSources {
  private readonly path: string;
  private loaded: SourcesFile | undefined;
  private lock: Promise<unknown> = Promise.resolve();

  constructor(storeRoot: string) {
    this.path = join(storeRoot, 'blob-sources.json');
  }

  private async load(): Promise<SourcesFile> {
    if (this.loaded) return this.loaded;
    try {
      const file = JSON.parse(await readFile(this.path, 'utf8')) as SourcesFile;
      this.loaded = file.version === 1 && typeof file.blobs === 'object' && file.blobs !== null ? file : { version: 1, blobs: {} };
    } catch {
      this.loaded = { version: 1, blobs: {} };
    }
    return this.loaded;
  }

  /** A repository of `domain` other than `except` known to hold `digest`. */
  async find(domain: string, digest: string, except: string): Promise<string | undefined> {
    return (await this.load()).blobs[digest]?.[domain]?.find((repo) => repo !== except);
  }

  /** Notes that `domain`'s `repository` holds every one of `digests`. */
  async record(domain: string, repository: string, digests: Iterable<string>): Promise<void> {
    const run = this.lock.then(async () => {
      const file = await this.load();
      for (const digest of digests) {
        const byDomain = (file.blobs[digest] ??= {});
        byDomain[domain] = [repository, ...(byDomain[domain] ?? []).filter((r) => r !== repository)].slice(0, REPOSITORIES_PER_BLOB);
      }
      await writeFileAtomic(this.path, JSON.stringify(file));
    });
    this.lock = run.catch(() => undefined);
    await run;
  }

  /** Forgets blobs the store no longer has (after garbage collection). */
  async retain(has: (digest: string) => Promise<boolean>): Promise<void> {
    const run = this.lock.then(async () => {
      const file = await this.load();
      let dropped = 0;
      for (const digest of Object.keys(file.blobs)) {
        if (await has(digest)) continue;
        delete file.blobs[digest];
        dropped++;
      }
      if (dropped > 0) await writeFileAtomic(this.path, JSON.stringify(file));
    });
    this.lock = run.catch(() => undefined);
    await run;
  }
}
