// The build context a client sends with `POST /build`: the context directory as a tar,
// less what its .dockerignore leaves out (the Dockerfile and .dockerignore always go, as
// the docker CLI sends them). A Dockerfile outside the context goes in under a name of
// its own, which the engine is then told.

import { randomBytes } from 'node:crypto';
import { lstat, readFile } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { isIgnored, parseDockerignore } from '../common/dockerignore.js';
import { UsageError } from '../common/errors.js';
import { packHostPath } from './host-archive.js';

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
  const pack = packHostPath(root, {
    rootName: '',
    skip: (path) => !always.has(path) && isIgnored(patterns, path),
    ...(outside ? { extraFiles: [{ name: dockerfile, content: dockerfileText, mode: 0o644 }] } : {}),
  });
  return { tar: pack, dockerfile };
}
