// `POST /build`: Docker's legacy build endpoint. The body is the context as a tar; the
// query names the tags (`t`, repeatable), the Dockerfile, build args, target, labels,
// nocache and pull; the X-Registry-Config header carries the client's registry logins for
// the FROMs the engine pulls. The answer streams JSON lines as Docker's does: `{"stream": ...}` for
// step lines and output, `{"aux": {"ID": ...}}` for the result, and a failure as
// `{"errorDetail": {"message"}, "error"}` after whatever was already streamed.
// `POST /build/prune` empties or bounds the build cache.

import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeRegistryConfig, type RegistryCredentials } from '../common/docker-config.js';
import type { Engine } from '../engine/engine.js';
import { HttpError, parseFilters, queryFlag, type Router } from './router.js';

function jsonMap(query: URLSearchParams, name: string): Record<string, string> {
  const raw = query.get(name);
  if (raw === null || raw === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new HttpError(400, `${name} is not valid JSON: ${raw}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new HttpError(400, `${name} must be a JSON object of strings`);
  const out: Record<string, string> = {};
  // A null build arg means "take it from the client's environment": the client has done that already, or there is none.
  for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) if (v !== null) out[k] = String(v);
  return out;
}

/** X-Registry-Config: the client's registry logins, as `docker build` sends them. */
function registryConfig(header: string | string[] | undefined): Map<string, RegistryCredentials> {
  try {
    return decodeRegistryConfig(Array.isArray(header) ? header[0] : header);
  } catch (err) {
    throw new HttpError(400, (err as Error).message);
  }
}

export function addBuildRoutes(router: Router, engine: Engine): void {
  router.add('POST', '/build', async ({ req, res, query, signal }) => {
    const remote = query.get('remote');
    if (remote) throw new HttpError(400, `a remote context (${remote}) is not supported: send the context as a tar`);
    const buildArgs = jsonMap(query, 'buildargs');
    const labels = jsonMap(query, 'labels');
    const tags = query.getAll('t').filter((t) => t !== '');
    const quiet = queryFlag(query, 'q');
    const registryLogins = registryConfig(req.headers['x-registry-config']);
    res.writeHead(200, { 'Content-Type': 'application/json' });
    const send = (message: object): void => {
      if (!res.writableEnded) res.write(`${JSON.stringify(message)}\n`);
    };
    const dir = join(engine.images.store.tmpDir, `context-${randomBytes(8).toString('hex')}`);
    try {
      // Loaded here, with tar-stream: an engine that never builds never holds either.
      const { extractContext } = await import('../image/build/context-archive.js');
      await extractContext(req, dir);
      const result = await engine.builds.build({
        contextDir: dir,
        dockerfile: query.get('dockerfile') || 'Dockerfile',
        tags,
        buildArgs,
        labels,
        noCache: queryFlag(query, 'nocache'),
        pull: queryFlag(query, 'pull'),
        output: (text) => {
          if (!quiet) send({ stream: text });
        },
        signal,
        registryLogins,
        ...(query.get('target') ? { target: query.get('target')! } : {}),
      });
      send({ aux: { ID: result.id } });
      if (quiet) send({ stream: `${result.id}\n` });
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      send({ errorDetail: { message }, error: message });
    } finally {
      await rm(dir, { recursive: true, force: true });
      res.end();
    }
    return undefined;
  });

  // `docker builder prune`: `all`, `keep-storage` (bytes); no filters.
  router.add('POST', '/build/prune', async ({ query }) => {
    const filters = parseFilters(query);
    for (const name of filters.keys()) throw new HttpError(400, `build cache prune: the "${name}" filter is not supported`);
    const keepText = query.get('keep-storage') ?? '0';
    const keepStorage = Number(keepText);
    if (!Number.isSafeInteger(keepStorage) || keepStorage < 0) throw new HttpError(400, `keep-storage must be a number of bytes, not "${keepText}"`);
    return engine.builds.prune({ all: queryFlag(query, 'all'), keepStorage });
  });
}
