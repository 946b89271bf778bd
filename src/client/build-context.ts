// The build context a client sends with `POST /build`: the context directory as a tar,
// less what its .dockerignore leaves out (the Dockerfile and .dockerignore always go, as
// the docker CLI sends them). A Dockerfile outside the context goes in under a name of
// its own, which the engine is then told.

import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import tar from 'tar-stream';
import { isIgnored, parseDockerignore } from '../common/dockerignore.js';
import { UsageError } from '../common/errors.js';

export interface PackedContext {
  tar: NodeJS.ReadableStream;
  /** The Dockerfile's path inside the context tar. */
  dockerfile: string;
}

export async function packBuildContext(contextDir: string, dockerfilePath: string | undefined): Promise<PackedContext> {
  const root = resolve(contextDir);
  const st = await lstat(root).catch(() => undefined);
  if (!st?.isDirectory()) throw new UsageError(`the build context "${contextDir}" is not a directory`);
  const dockerfileAbs = resolve(root, dockerfilePath ?? 'Dockerfile');
  const inside = relative(root, dockerfileAbs);
  const outside = inside.startsWith('..') || inside.startsWith(sep);
  const dockerfile = outside ? `.dockerfile.${randomBytes(6).toString('hex')}` : inside.split(sep).join('/');
  const dockerfileText = await readFile(dockerfileAbs).catch(() => {
    throw new UsageError(`cannot read the Dockerfile ${dockerfileAbs}`);
  });
  const patterns = parseDockerignore(await readFile(join(root, '.dockerignore'), 'utf8').catch(() => ''));
  const always = new Set(['.dockerignore', dockerfile]);
  const pack = tar.pack();
  const add = (header: Parameters<tar.Pack['entry']>[0], body?: Buffer | string): Promise<void> =>
    new Promise((res, rej) => {
      pack.entry(header, body ?? '', (err) => (err ? rej(err) : res()));
    });
  const walk = async (dir: string, rel: string): Promise<void> => {
    for (const name of (await readdir(dir)).sort()) {
      const abs = join(dir, name);
      const path = rel === '' ? name : `${rel}/${name}`;
      const s = await lstat(abs);
      const ignored = !always.has(path) && isIgnored(patterns, path);
      const base = { name: path, mode: s.mode & 0o7777, mtime: s.mtime, uid: 0, gid: 0 };
      if (s.isDirectory()) {
        // A directory is walked even when ignored: an exception may take something under it back.
        if (!ignored) await add({ ...base, name: `${path}/`, type: 'directory' });
        await walk(abs, path);
      } else if (ignored) {
        continue;
      } else if (s.isSymbolicLink()) {
        await add({ ...base, type: 'symlink', linkname: await readlink(abs) });
      } else if (s.isFile()) {
        await new Promise<void>((res, rej) => {
          const entry = pack.entry({ ...base, type: 'file', size: s.size }, (err) => (err ? rej(err) : res()));
          createReadStream(abs).on('error', rej).pipe(entry);
        });
      }
    }
  };
  void (async () => {
    await walk(root, '');
    if (outside) await add({ name: dockerfile, type: 'file', mode: 0o644 }, dockerfileText);
    pack.finalize();
  })().catch((err: unknown) => pack.destroy(err as Error));
  return { tar: pack as unknown as NodeJS.ReadableStream, dockerfile };
}
