// The build context as `POST /build` receives it: a tar (plain or gzip) unpacked into a
// temp directory for the builder. Only regular files, directories and symlinks are kept,
// with their modes and times (owners do not matter: COPY makes files root's unless
// --chown says otherwise); nothing is written outside the directory or through a symlink.

import { chmod, lstat, mkdir, open, symlink, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { decompressed, safeParts, UnsafeLayerError } from '../unpack.js';

export async function extractContext(source: Readable, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o755 });
  const dirs: Array<{ path: string; mode: number; mtime: Date }> = [];
  const extract = tar.extract();
  extract.on('entry', (header, body, next) => {
    const work = async (): Promise<void> => {
      const parts = safeParts(header.name);
      if (parts.length === 0) return;
      let parent = dir;
      for (const part of parts.slice(0, -1)) {
        parent = join(parent, part);
        const st = await lstat(parent).catch(() => undefined);
        if (!st) await mkdir(parent, { mode: 0o755 });
        else if (!st.isDirectory()) throw new UnsafeLayerError(`refusing "${header.name}" in the build context: "${part}" is not a directory`);
      }
      const path = join(parent, parts[parts.length - 1]!);
      const mode = (header.mode ?? 0o644) & 0o7777;
      const mtime = header.mtime ?? new Date(0);
      if (header.type === 'directory') {
        if (!(await lstat(path).catch(() => undefined))) await mkdir(path, { mode: 0o755 });
        dirs.push({ path, mode, mtime });
      } else if (header.type === 'file' || header.type === 'contiguous-file') {
        const fh = await open(path, 'wx', 0o600);
        try {
          for await (const chunk of body as AsyncIterable<Buffer>) await fh.write(chunk);
        } finally {
          await fh.close();
        }
        await chmod(path, mode);
        await utimes(path, mtime, mtime);
      } else if (header.type === 'symlink') {
        await symlink(header.linkname ?? '', path);
      }
    };
    work().then(() => {
      body.resume();
      next();
    }, (err: unknown) => {
      body.resume();
      next(err as Error);
    });
  });
  await pipeline(await decompressed(source), extract);
  for (const d of dirs.reverse()) {
    await chmod(d.path, d.mode);
    await utimes(d.path, d.mtime, d.mtime);
  }
}
