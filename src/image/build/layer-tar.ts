// A build step's layer: entries -> tar -> gzip -> a blob in the store, hashing the tar as
// it goes for the diff_id. Entries come from an overlay upper dir (a RUN step: overlay's
// whiteouts, 0:0 character devices and the opaque xattr, become OCI's `.wh.` files) or are
// listed by the step itself (COPY and ADD).

import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline, Transform, type Readable } from 'node:stream';
import { pipeline as pipelineAsync } from 'node:stream/promises';
import { promisify } from 'node:util';
import { createGzip } from 'node:zlib';
import tar from 'tar-stream';
import { MEDIA_LAYER_GZIP, type Descriptor, type ImageStore } from '../store.js';

const run = promisify(execFile);

export interface LayerEntry {
  /** Relative to the image root, `/`-separated, no leading slash. */
  path: string;
  type: 'directory' | 'file' | 'symlink' | 'link' | 'fifo';
  mode: number;
  uid: number;
  gid: number;
  mtime: Date;
  /** A file's content: a host file to read ... */
  source?: string;
  /** ... or bytes. */
  body?: Buffer;
  size?: number;
  /** A symlink's target, or for a hard link the path (in this layer) it links to. */
  linkname?: string;
}

export type StoredLayer = Descriptor & { diffId: string };

/** Packs `entries` into a gzip layer blob of the store. */
export async function storeLayer(store: ImageStore, entries: AsyncIterable<LayerEntry> | Iterable<LayerEntry>): Promise<StoredLayer> {
  const pack = tar.pack();
  const hash = createHash('sha256');
  const hasher = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      done(null, chunk);
    },
  });
  const gzip = createGzip();
  pipeline(pack as unknown as Readable, hasher, gzip, () => undefined);
  const producing = (async () => {
    for await (const entry of entries) await addEntry(pack, entry);
    pack.finalize();
  })().catch((err: unknown) => {
    gzip.destroy(err as Error);
    throw err;
  });
  const [stored] = await Promise.all([store.putBlobStream(gzip), producing]);
  return { mediaType: MEDIA_LAYER_GZIP, digest: stored.digest, size: stored.size, diffId: `sha256:${hash.digest('hex')}` };
}

async function addEntry(pack: tar.Pack, entry: LayerEntry): Promise<void> {
  const header: Parameters<tar.Pack["entry"]>[0] = {
    name: entry.type === 'directory' ? `${entry.path}/` : entry.path,
    type: entry.type,
    mode: entry.mode & 0o7777,
    uid: entry.uid,
    gid: entry.gid,
    mtime: entry.mtime,
  };
  if (entry.linkname !== undefined) header.linkname = entry.linkname;
  if (entry.type === 'file' && entry.source !== undefined) {
    header.size = entry.size ?? (await lstat(entry.source)).size;
    await new Promise<void>((resolve, reject) => {
      const sink = pack.entry(header, (err) => (err ? reject(err) : resolve()));
      pipelineAsync(createReadStream(entry.source!), sink).catch(reject);
    });
    return;
  }
  const body = entry.type === 'file' ? entry.body ?? Buffer.alloc(0) : Buffer.alloc(0);
  await new Promise<void>((resolve, reject) => {
    pack.entry(header, body, (err) => (err ? reject(err) : resolve()));
  });
}

/**
 * The entries of an overlay upper dir, parents before children, names sorted. `skip`
 * leaves out what the runtime made there (mount points of /proc, /etc/hosts, ...).
 */
export async function* upperDirEntries(upper: string, skip: (rel: string, isEmpty: boolean) => boolean): AsyncGenerator<LayerEntry> {
  const opaque = await opaqueDirs(upper);
  const inodes = new Map<string, string>();
  async function* walk(dir: string, rel: string): AsyncGenerator<LayerEntry> {
    const names = (await readdir(dir)).sort();
    for (const name of names) {
      const path = join(dir, name);
      const relPath = rel === '' ? name : `${rel}/${name}`;
      const st = await lstat(path);
      const base = { mode: st.mode, uid: st.uid, gid: st.gid, mtime: st.mtime };
      if (st.isDirectory()) {
        const children = await readdir(path);
        if (skip(relPath, children.length === 0)) continue;
        yield { ...base, path: relPath, type: 'directory' };
        if (opaque.has(path)) yield { path: `${relPath}/.wh..wh..opq`, type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: st.mtime };
        yield* walk(path, relPath);
      } else if (st.isCharacterDevice() && st.rdev === 0) {
        yield { path: rel === '' ? `.wh.${name}` : `${rel}/.wh.${name}`, type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: st.mtime };
      } else if (st.isFile()) {
        if (skip(relPath, st.size === 0)) continue;
        const key = `${st.dev}:${st.ino}`;
        const first = st.nlink > 1 ? inodes.get(key) : undefined;
        if (first !== undefined) {
          yield { ...base, path: relPath, type: 'link', linkname: first };
        } else {
          if (st.nlink > 1) inodes.set(key, relPath);
          yield { ...base, path: relPath, type: 'file', source: path, size: st.size };
        }
      } else if (st.isSymbolicLink()) {
        yield { ...base, path: relPath, type: 'symlink', linkname: await readlink(path) };
      } else if (st.isFIFO()) {
        yield { ...base, path: relPath, type: 'fifo' };
      }
      // Sockets and device nodes are not image content (the runtime makes /dev).
    }
  }
  yield* walk(upper, '');
}

/** Directories overlayfs marked opaque (a directory removed and made again hides the lower one). */
async function opaqueDirs(upper: string): Promise<Set<string>> {
  let stdout: string;
  try {
    ({ stdout } = await run('getfattr', ['-R', '-h', '--absolute-names', '-d', '-m', '^trusted\\.overlay\\.opaque$', upper], { maxBuffer: 64 * 1024 * 1024 }));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new Error('getfattr is missing: install Debian\'s "attr" package (scripts/setup does) to read overlay opaque directories', { cause: err });
    throw err;
  }
  const out = new Set<string>();
  let file: string | undefined;
  for (const line of stdout.split('\n')) {
    if (line.startsWith('# file: ')) file = unescapeOctal(line.slice(8));
    else if (file !== undefined && /^trusted\.overlay\.opaque="y"$/.test(line)) out.add(file);
  }
  return out;
}

function unescapeOctal(text: string): string {
  return Buffer.from(text.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8))), 'latin1').toString('utf8');
}
