// An image archive (a `docker save` tar or an OCI image layout tar, plain or gzip) unpacked
// into a staging directory of the store before anything of it is believed: every file is
// hashed as it lands, so blobs can later be checked against the digests that name them and
// moved into the store without being read again. Symlinks and hard links between members
// (docker-archive writers link duplicate layers) are followed inside the archive only.

import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, rm } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { decompressed } from '../unpack.js';

/** A regular file of the archive, staged on disk. */
export interface StagedFile {
  /** Its path in the archive, normalised (`blobs/sha256/ab...`, `manifest.json`). */
  name: string;
  /** Where it was written. */
  path: string;
  digest: string;
  size: number;
}

export class ArchiveError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ArchiveError';
  }
}

/** How many links deep a member may point before the archive is refused (a loop). */
const MAX_LINK_DEPTH = 16;

export class StagedArchive {
  private readonly files = new Map<string, StagedFile>();
  /** Symlinks and hard links: member name -> the member it names. */
  private readonly links = new Map<string, string>();

  private constructor(readonly dir: string) {}

  /** Reads the whole archive from `source` into a new directory under `tmpDir`. */
  static async extract(source: Readable, tmpDir: string): Promise<StagedArchive> {
    const dir = join(tmpDir, `archive-${randomBytes(8).toString('hex')}`);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const staged = new StagedArchive(dir);
    try {
      const extract = tar.extract();
      let count = 0;
      extract.on('entry', (header, stream, next) => {
        staged.entry(header, stream as unknown as Readable, count++).then(() => next(), (err: unknown) => next(err as Error));
      });
      await pipeline(await decompressed(source), extract);
      if (count === 0) throw new ArchiveError('the archive is empty (no tar members)');
    } catch (err) {
      await staged.remove();
      if (err instanceof ArchiveError) throw err;
      throw new ArchiveError(`the archive cannot be read: ${tarProblem(err)}`, { cause: err });
    }
    return staged;
  }

  private async entry(header: tar.Header, stream: Readable, n: number): Promise<void> {
    const name = memberName(header.name);
    if (name === undefined) {
      stream.resume();
      return;
    }
    if (header.type === 'symlink' || header.type === 'link') {
      stream.resume();
      const target = header.linkname ?? '';
      // A symlink is relative to its own directory; a hard link names a member from the top.
      const resolved = memberName(header.type === 'symlink' && !target.startsWith('/') ? posix.join(posix.dirname(name), target) : target);
      if (resolved === undefined) throw new ArchiveError(`member "${header.name}" links outside the archive (to "${target}")`);
      this.links.set(name, resolved);
      return;
    }
    if (header.type !== 'file' && header.type !== 'contiguous-file') {
      stream.resume();
      return;
    }
    const path = join(this.dir, String(n));
    const hash = createHash('sha256');
    let size = 0;
    const fh = await open(path, 'wx', 0o644);
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        hash.update(chunk);
        size += chunk.length;
        await fh.write(chunk);
      }
    } finally {
      await fh.close();
    }
    this.files.set(name, { name, path, digest: `sha256:${hash.digest('hex')}`, size });
  }

  /** The file a member name leads to (through links), or undefined when the archive has none. */
  find(name: string): StagedFile | undefined {
    let at = memberName(name);
    for (let depth = 0; at !== undefined && depth <= MAX_LINK_DEPTH; depth++) {
      const file = this.files.get(at);
      if (file) return file;
      at = this.links.get(at);
    }
    return undefined;
  }

  /** Like find, but a missing member is an error saying who wanted it. */
  get(name: string, wantedBy: string): StagedFile {
    const file = this.find(name);
    if (!file) throw new ArchiveError(`${wantedBy} names "${name}", which the archive does not contain (a truncated or incomplete archive?)`);
    return file;
  }

  has(name: string): boolean {
    return this.find(name) !== undefined;
  }

  async remove(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** `./a/b` and `a//b/` -> `a/b`; undefined for names that climb out (`../x`) or are empty. */
function memberName(raw: string): string | undefined {
  const normal = posix.normalize(`/${raw}`).slice(1).replace(/\/$/, '');
  if (normal === '' || normal.startsWith('..')) return undefined;
  return normal;
}

function tarProblem(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  if (/unexpected end/i.test(message)) return 'it ends in the middle of a member (truncated)';
  if (/invalid tar header/i.test(message)) return 'a tar header is corrupt (not a tar archive, or damaged)';
  if (/unexpected end of file|incorrect header check|invalid/i.test(message)) return `the gzip stream is damaged (${message})`;
  return message;
}
