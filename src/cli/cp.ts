// `stack cp [-a] SRC DEST`: files between a container and the host, as `docker cp` copies
// them (through the engine's archive API), one side `CONTAINER:PATH` — or, in a project,
// `SERVICE:PATH` (replica 1, or --index N), as `docker compose cp`. `-` as the host side is
// a tar on stdin or stdout.
//
// Docker's rules for where things land: a file onto an existing directory goes inside it; onto
// a path that does not exist, becomes that path (its parent must exist; a trailing `/` there
// says a directory was meant and is an error); a directory onto an existing directory goes
// inside it as a subdirectory, unless the source ends in `/.`, which copies its contents; onto
// a path that does not exist, becomes that path. A directory cannot replace a file.

import { lstat } from 'node:fs/promises';
import { basename, dirname, posix, resolve } from 'node:path';
import { Readable } from 'node:stream';
import type { Argv, CommandModule } from 'yargs';
import type { ApiClient } from '../client/api-client.js';
import { NotFoundError, UsageError } from '../common/errors.js';
import { engineClient } from './engine-client.js';
import type { GlobalArgs } from './global-options.js';
import type { CliIO } from './io.js';
import { containersOfService, findProjectScope, replicaIndex, resolveContainer, splitNames } from './project-scope.js';

interface CpArgs extends GlobalArgs {
  src: string;
  dest: string;
  archive?: boolean | undefined;
  index?: number | undefined;
}

interface PathStat {
  name: string;
  mode: number;
}

/** Go's os.ModeDir, as the engine's path stat carries it. */
const GO_MODE_DIR = 2 ** 31;

/** `NAME:PATH` with NAME not a host path (`./a:b` and `/x:y` are host paths). */
function containerSide(arg: string): { name: string; path: string } | undefined {
  const at = arg.indexOf(':');
  if (at <= 0 || arg.startsWith('/') || arg.startsWith('.')) return undefined;
  return { name: arg.slice(0, at), path: arg.slice(at + 1) };
}

async function containerStat(client: ApiClient, id: string, path: string): Promise<PathStat | undefined> {
  try {
    const res = await client.open('HEAD', `/containers/${id}/archive`, { query: { path } });
    res.resume();
    const header = res.headers['x-docker-container-path-stat'];
    return JSON.parse(Buffer.from(String(header), 'base64').toString('utf8')) as PathStat;
  } catch (err) {
    if (err instanceof NotFoundError) return undefined;
    throw err;
  }
}

/** `/.` at the end: the directory's contents rather than the directory. */
function contentsOnly(path: string): boolean {
  return path.endsWith('/.') || path === '.';
}

export function cpCommand(io: CliIO): CommandModule<GlobalArgs, CpArgs> {
  return {
    command: 'cp <src> <dest>',
    describe: 'Copy files between a container (or a service\'s) and the host',
    builder: (y: Argv<GlobalArgs>) =>
      y
        .usage([
          '$0 cp [options] CONTAINER:SRC_PATH DEST_PATH|-',
          '$0 cp [options] SRC_PATH|- CONTAINER:DEST_PATH',
          '',
          'In a project, CONTAINER may be a service (its first replica, or --index N).',
        ].join('\n'))
        // Untyped: as strings, yargs would turn a lone `-` into ''.
        .positional('src', { demandOption: true, description: 'CONTAINER:PATH, a host path, or - for a tar on stdin' })
        .positional('dest', { demandOption: true, description: 'CONTAINER:PATH, a host path, or - for a tar on stdout' })
        .option('archive', { alias: 'a', type: 'boolean', description: 'Keep owners (uid/gid) as they are' })
        .option('index', { type: 'number', description: 'Which replica of a service (default 1)' }) as unknown as Argv<CpArgs>,
    handler: async (args) => {
      // yargs reads a lone `-` as a flag set to true.
      const word = (v: unknown): string => (v === true ? '-' : String(v));
      const [src, dest] = [word(args.src), word(args.dest)];
      const from = containerSide(src);
      const to = containerSide(dest);
      if (from && to) throw new UsageError('copying between two containers is not supported: copy to the host first');
      if (!from && !to) throw new UsageError(`one side must be CONTAINER:PATH (or SERVICE:PATH in a project), e.g. "stack cp web:/etc/hosts ."`);
      const client = await engineClient(io);
      const side = (from ?? to)!;
      if (!posix.isAbsolute(side.path)) throw new UsageError(`"${side.path}": the path in the container must be absolute`);
      const id = await containerId(client, args, io, side.name);
      if (from) await copyOut(client, io, id, from.path, dest, args.archive ?? false);
      else await copyIn(client, io, id, src, to!.path, args.archive ?? false);
    },
  };
}

async function containerId(client: ApiClient, args: CpArgs, io: CliIO, name: string): Promise<string> {
  const scope = await findProjectScope(args, io, client);
  const index = replicaIndex(args.index);
  if (scope && splitNames(scope, [name]).services.length === 1) return containersOfService(scope, name, index ?? 1)[0]!.Id;
  if (index !== undefined) throw new UsageError(`--index picks a replica of a service, and "${name}" is not a service${scope ? ` of project "${scope.name}"` : ''}`);
  return (await resolveContainer(client, scope, name)).id;
}

async function copyOut(client: ApiClient, io: CliIO, id: string, src: string, dest: string, keepOwners: boolean): Promise<void> {
  const res = await client.open('GET', `/containers/${id}/archive`, { query: { path: src } }).catch((err: unknown) => {
    throw err instanceof NotFoundError ? new NotFoundError(`${src}: no such file or directory in the container`, { cause: err }) : err;
  });
  if (dest === '-') {
    for await (const chunk of res as AsyncIterable<Buffer>) io.stdout.write(chunk);
    return;
  }
  const stat = JSON.parse(Buffer.from(String(res.headers['x-docker-container-path-stat']), 'base64').toString('utf8')) as PathStat;
  const srcIsDir = (stat.mode & GO_MODE_DIR) !== 0;
  const target = resolve(io.cwd, dest);
  const existing = await lstat(target).catch(() => undefined);
  const { unpackIntoHostDir } = await import('../client/host-archive.js');
  const unpack = (dir: string, rename?: { from: string; to: string }) => unpackIntoHostDir(dir, res, { keepOwners, ...(rename ? { rename } : {}) });
  if (existing?.isDirectory()) {
    // Contents only: the tar's top entry is the directory itself; it becomes the target.
    if (srcIsDir && contentsOnly(src)) return unpack(target, { from: stat.name, to: '.' });
    return unpack(target);
  }
  if (existing && srcIsDir) throw new UsageError(`cannot copy the directory ${src} over the file ${dest}`);
  if (!existing && dest.endsWith('/') && !srcIsDir) throw new UsageError(`${dest}: no such directory (a trailing / says the file goes into one)`);
  const parent = await lstat(dirname(target)).catch(() => undefined);
  if (!parent?.isDirectory()) throw new UsageError(`${dirname(dest) || '.'}: no such directory to copy into`);
  return unpack(dirname(target), { from: stat.name, to: basename(target) });
}

async function copyIn(client: ApiClient, io: CliIO, id: string, src: string, dest: string, keepOwners: boolean): Promise<void> {
  const put = (dir: string, body: AsyncIterable<Buffer | string> | NodeJS.ReadableStream) =>
    client.call('PUT', `/containers/${id}/archive`, { query: { path: dir }, rawBody: { contentType: 'application/x-tar', stream: Readable.from(body) } });
  if (src === '-') {
    await put(dest, io.stdin ?? process.stdin);
    return;
  }
  const source = resolve(io.cwd, src);
  const st = await lstat(source).catch(() => undefined);
  if (!st) throw new UsageError(`${src}: no such file or directory`);
  const { packHostPath } = await import('../client/host-archive.js');
  const existing = await containerStat(client, id, dest);
  const destIsDir = existing !== undefined && (existing.mode & GO_MODE_DIR) !== 0;
  if (destIsDir) {
    await put(dest, packHostPath(source, { rootName: st.isDirectory() && contentsOnly(src) ? '' : basename(source), keepOwners }));
    return;
  }
  if (existing && st.isDirectory()) throw new UsageError(`cannot copy the directory ${src} over the file ${dest} in the container`);
  if (!existing && dest.endsWith('/')) throw new UsageError(`${dest}: no such directory in the container`);
  const parent = posix.dirname(dest.replace(/\/+$/, ''));
  const parentStat = await containerStat(client, id, parent);
  if (!parentStat || (parentStat.mode & GO_MODE_DIR) === 0) throw new UsageError(`${parent}: no such directory in the container to copy into`);
  await put(parent, packHostPath(source, { rootName: posix.basename(dest.replace(/\/+$/, '')), keepOwners }));
}
