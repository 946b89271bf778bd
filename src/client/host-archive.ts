// Tars of the client's own files, in and out: a host file or directory packed for the
// engine (a build context, `stack cp` into a container), and a tar from the engine
// unpacked into a host directory (`stack cp` out of one). Unpacking never writes outside
// the directory it is given: names with `..` or a leading `/` are refused, and no existing
// symlink is followed on the way to an entry.

import { createReadStream } from 'node:fs';
import { chmod, link, lstat, lutimes, mkdir, open, readdir, readlink, rm, symlink, unlink } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { UsageError } from '../common/errors.js';

export interface PackOptions {
  /** The name the packed path gets in the tar; '' puts a directory's contents at the top. */
  rootName: string;
  /**
   * Left out of the tar (paths relative to the root, `/`-separated). A directory left out
   * is still walked, so that something under it can be taken back in.
   */
  skip?: (path: string) => boolean;
  /** Keep owners (cp -a); otherwise entries belong to root. */
  keepOwners?: boolean;
  /** Files added after the walk (a Dockerfile from outside a build context). */
  extraFiles?: Array<{ name: string; content: Buffer; mode: number }>;
}

/** A file, symlink or directory (recursively) as a tar stream. */
export function packHostPath(path: string, options: PackOptions): Readable {
  const pack = tar.pack();
  const add = (header: Parameters<tar.Pack['entry']>[0], body?: Buffer | string): Promise<void> =>
    new Promise((resolve, reject) => {
      pack.entry(header, body ?? '', (err) => (err ? reject(err) : resolve()));
    });
  const put = async (abs: string, rel: string): Promise<void> => {
    const s = await lstat(abs);
    const name = options.rootName === '' ? rel : rel === '' ? options.rootName : `${options.rootName}/${rel}`;
    const left = rel !== '' && options.skip?.(rel) === true;
    const base = { name, mode: s.mode & 0o7777, mtime: s.mtime, uid: options.keepOwners ? s.uid : 0, gid: options.keepOwners ? s.gid : 0 };
    if (s.isDirectory()) {
      if (name !== '' && !left) await add({ ...base, name: `${name}/`, type: 'directory' });
      for (const child of (await readdir(abs)).sort()) await put(join(abs, child), rel === '' ? child : `${rel}/${child}`);
    } else if (left) {
      return;
    } else if (s.isSymbolicLink()) {
      await add({ ...base, type: 'symlink', linkname: await readlink(abs) });
    } else if (s.isFile()) {
      await new Promise<void>((resolve, reject) => {
        const entry = pack.entry({ ...base, type: 'file', size: s.size }, (err) => (err ? reject(err) : resolve()));
        createReadStream(abs).on('error', reject).pipe(entry);
      });
    }
    // Sockets, fifos and devices have no place in a copy.
  };
  void (async () => {
    await put(path, '');
    for (const f of options.extraFiles ?? []) await add({ name: f.name, type: 'file', mode: f.mode }, f.content);
    pack.finalize();
  })().catch((err: unknown) => pack.destroy(err as Error));
  return Readable.from(pack);
}

export interface UnpackOptions {
  /** The top-level name in the tar that becomes another (cp to a new name); its children follow. */
  rename?: { from: string; to: string };
  /** Keep the owners the tar records (cp -a); otherwise files belong to whoever runs this. */
  keepOwners?: boolean;
}

/** The entry's path under `dir`, as components; refuses names that would leave it. */
function entryParts(name: string, rename: UnpackOptions['rename']): string[] {
  const clean = posix.normalize(name.replace(/\/+$/, ''));
  if (clean.startsWith('/') || clean === '..' || clean.startsWith('../')) throw new UsageError(`refusing the archive entry "${name}": it points outside the destination`);
  const parts = clean.split('/').filter((p) => p !== '' && p !== '.');
  if (rename && parts[0] === rename.from) parts[0] = rename.to;
  return parts;
}

/** Makes the directories above an entry, refusing to pass through a symlink or a file. */
async function parentOf(dir: string, parts: string[]): Promise<string> {
  let at = dir;
  for (const part of parts.slice(0, -1)) {
    at = join(at, part);
    const st = await lstat(at).catch(() => undefined);
    if (!st) await mkdir(at, { mode: 0o755 });
    else if (!st.isDirectory()) throw new UsageError(`cannot copy into ${at}: it is ${st.isSymbolicLink() ? 'a symlink' : 'not a directory'}`);
  }
  return at;
}

/** Unpacks a tar into `dir` (which must exist). */
export async function unpackIntoHostDir(dir: string, source: NodeJS.ReadableStream, options: UnpackOptions = {}): Promise<void> {
  const extract = tar.extract();
  const dirModes: Array<{ path: string; mode: number }> = [];
  extract.on('entry', (header, stream, next) => {
    void (async () => {
      const parts = entryParts(header.name, options.rename);
      if (parts.length === 0) {
        stream.resume();
        return;
      }
      const target = join(await parentOf(dir, parts), parts.at(-1)!);
      const existing = await lstat(target).catch(() => undefined);
      const mode = (header.mode ?? 0o644) & 0o7777;
      if (header.type === 'directory') {
        stream.resume();
        if (existing && !existing.isDirectory()) throw new UsageError(`cannot copy a directory over ${target}: it is not a directory`);
        if (!existing) await mkdir(target, { mode: 0o700 });
        dirModes.push({ path: target, mode });
      } else if (header.type === 'symlink') {
        stream.resume();
        if (existing?.isDirectory()) throw new UsageError(`cannot copy a symlink over the directory ${target}`);
        if (existing) await unlink(target);
        await symlink(header.linkname ?? '', target);
      } else if (header.type === 'link') {
        stream.resume();
        const from = join(dir, ...entryParts(header.linkname ?? '', options.rename));
        if (existing) await rm(target, { recursive: true });
        await link(from, target);
      } else if (header.type === 'file' || header.type === 'contiguous-file') {
        if (existing?.isDirectory()) throw new UsageError(`cannot copy a file over the directory ${target}`);
        // A symlink there is replaced, never written through.
        if (existing && !existing.isFile()) await unlink(target);
        const handle = await open(target, existing?.isFile() ? 'r+' : 'wx', 0o600);
        try {
          await handle.truncate(0);
          for await (const chunk of stream as AsyncIterable<Buffer>) await handle.write(chunk);
          await handle.chmod(mode);
          if (options.keepOwners) await handle.chown(header.uid ?? 0, header.gid ?? 0);
        } finally {
          await handle.close();
        }
      } else {
        stream.resume();
        return;
      }
      if (header.mtime && header.type !== 'directory') await lutimes(target, header.mtime, header.mtime).catch(() => undefined);
    })().then(() => next(), (err: unknown) => next(err as Error));
  });
  await pipeline(source instanceof Readable ? source : Readable.from(source as AsyncIterable<Buffer>), extract);
  // Modes of directories last: a read-only one would have refused what went into it.
  for (const d of dirModes.reverse()) await chmod(d.path, d.mode);
}
