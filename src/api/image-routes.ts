// `/images/...`: list, inspect, remove and tag images of the engine's store; pull
// (`POST /images/create`) and push stream Docker's JSON progress lines, and an error once
// the stream has begun is a line too (`{"errorDetail":{"message"},"error"}`), as Docker
// does. `POST /auth` checks a login against the registry. Save (`GET /images/get`) streams
// a tar; load (`POST /images/load`) reads one whole before storing anything; prune removes
// dangling images and tells the build cache which ones went.

import type { ServerResponse } from 'node:http';
import { authConfigCredentials, decodeAuthHeader, type AuthConfig, type RegistryCredentials } from '../common/docker-config.js';
import type { Engine } from '../engine/engine.js';
import { familiarName, imageId } from '../engine/image-service.js';
import { formatReference, parseReference } from '../image/reference.js';
import { parsePlatform } from '../image/registry/platform.js';
import type { TransferEvent } from '../image/registry/progress.js';
import { HttpError, parseFilters, queryFlag, readJsonBody, Reply, type Router } from './router.js';

export function addImageRoutes(router: Router, engine: Engine): void {
  router.add('GET', '/images/json', () => engine.images.list());

  router.add('GET', '/images/get', async ({ res, query }) => saveImages(engine, res, query.getAll('names'), query));
  router.add('GET', '/images/*name/get', async ({ res, params, query }) => saveImages(engine, res, [params.name!], query));

  router.add('POST', '/images/load', async ({ req, res, query }) => {
    const quiet = queryFlag(query, 'quiet');
    const lines: string[] = [];
    let loaded;
    try {
      loaded = await engine.images.load(req, (image) => {
        const names = image.references.map(familiarName);
        lines.push(...(names.length > 0 ? names.map((n) => `Loaded image: ${n}\n`) : [`Loaded image ID: ${image.id}\n`]));
      });
    } catch (err) {
      // The archive is read whole before anything is stored, so a refusal is still an HTTP
      // error. (The load has loaded the archive code already.)
      const { ArchiveError } = await import('../image/archive/staged-archive.js');
      if (err instanceof ArchiveError) throw new HttpError(400, `the archive was refused, nothing was loaded: ${err.message}`);
      throw err;
    }
    res.writeHead(200, { 'Content-Type': 'application/json' });
    for (const line of lines) res.write(`${JSON.stringify({ stream: line })}\n`);
    if (quiet && loaded.length === 0) res.write(`${JSON.stringify({ stream: 'no images in the archive\n' })}\n`);
    res.end();
    return undefined;
  });

  router.add('POST', '/images/prune', async ({ query }) => {
    const filters = parseFilters(query);
    const dangling = filters.get('dangling')?.[0];
    for (const name of filters.keys()) if (name !== 'dangling') throw new HttpError(400, `image prune: the "${name}" filter is not supported (only dangling)`);
    const all = dangling === 'false' || dangling === '0';
    const report = await engine.images.prune((id) => engine.containers.usersOfImage(id), all);
    await engine.builds.forgetImages(report.removedManifests);
    return { ImagesDeleted: report.ImagesDeleted.length > 0 ? report.ImagesDeleted : null, SpaceReclaimed: report.SpaceReclaimed };
  });

  router.add('POST', '/images/create', async ({ req, res, query }) => {
    const fromImage = query.get('fromImage');
    if (!fromImage) throw new HttpError(400, query.get('fromSrc') ? 'importing with fromSrc is not supported: use "stack image import"' : 'fromImage is required');
    const reference = pullReference(fromImage, query.get('tag') ?? '');
    const credentials = registryAuth(req.headers['x-registry-auth']);
    const platformText = query.get('platform');
    const platform = platformText ? parsePlatform(platformText) : undefined;
    const stream = progressStream(res);
    try {
      const result = await engine.images.pull(reference, { ...(credentials ? { credentials } : {}), ...(platform ? { platform } : {}), onProgress: stream.event });
      stream.line({ status: `Digest: ${result.manifestDigest}` });
      stream.line({ status: `Status: ${result.changed ? 'Downloaded newer image' : 'Image is up to date'} for ${familiarName(reference)}` });
    } catch (err) {
      stream.error(err);
    }
    stream.end();
  });

  router.add('POST', '/images/*name/push', async ({ req, res, params, query }) => {
    const tag = query.get('tag');
    const name = tag ? `${params.name!}:${tag}` : params.name!;
    const credentials = registryAuth(req.headers['x-registry-auth']);
    // Not found is an HTTP error, as Docker answers it, before any stream begins.
    await engine.images.find(name);
    const stream = progressStream(res);
    try {
      const result = await engine.images.push(name, { ...(credentials ? { credentials } : {}), onProgress: stream.event });
      stream.line({ progressDetail: {}, aux: { Tag: result.tag, Digest: result.digest, Size: result.size } });
    } catch (err) {
      stream.error(err);
    }
    stream.end();
  });

  router.add('POST', '/images/*name/tag', async ({ params, query }) => {
    const repo = query.get('repo');
    if (!repo) throw new HttpError(400, 'repo is required');
    const tag = query.get('tag') || 'latest';
    let target: string;
    try {
      target = formatReference({ ...parseReference(repo), tag });
    } catch (err) {
      throw new HttpError(400, (err as Error).message);
    }
    await engine.images.tag(params.name!, target);
    return new Reply(201);
  });

  router.add('GET', '/images/*name/json', async ({ params }) => {
    const image = await engine.images.find(params.name!);
    const id = imageId(image);
    const tags = (await engine.images.all()).filter((i) => imageId(i) === id).map((i) => familiarName(i.reference));
    return engine.images.inspect(image, tags);
  });

  router.add('DELETE', '/images/*name', async ({ params, query }) =>
    engine.images.remove(params.name!, (id) => engine.containers.usersOfImage(id), queryFlag(query, 'force')));

  router.add('POST', '/auth', async ({ req }) => {
    const body = (await readJsonBody(req)) as AuthConfig;
    const credentials = authConfigCredentials(body);
    if (!credentials) throw new HttpError(400, 'username and password are required');
    const domain = body.serveraddress ? registryHost(body.serveraddress) : 'docker.io';
    try {
      await engine.images.checkLogin(domain, credentials);
    } catch (err) {
      throw new HttpError(401, (err as Error).message);
    }
    return { Status: 'Login Succeeded', IdentityToken: '' };
  });
}

/**
 * `docker save`: a tar streamed as it is made (`format=oci` for an OCI layout instead of
 * docker-archive). Unknown names are a 404 before the stream starts; a failure after it is
 * a cut stream, which the client sees as a broken tar.
 */
async function saveImages(engine: Engine, res: ServerResponse, names: string[], query: URLSearchParams): Promise<undefined> {
  if (names.length === 0) throw new HttpError(400, 'name at least one image to save (names=...)');
  const format = query.get('format') || 'docker';
  if (format !== 'docker' && format !== 'oci') throw new HttpError(400, `format "${format}" is not one of docker, oci`);
  for (const name of names) await engine.images.find(name);
  res.writeHead(200, { 'Content-Type': 'application/x-tar' });
  try {
    await engine.images.save(names, format, res);
  } catch (err) {
    process.stderr.write(`stackd: save of ${names.join(', ')} failed: ${(err as Error).message}\n`);
    res.destroy();
  }
  return undefined;
}

/** `fromImage=busybox&tag=1` or `tag=sha256:...` (a digest) as one reference. */
function pullReference(fromImage: string, tag: string): string {
  try {
    const ref = parseReference(fromImage);
    if (tag === '') return formatReference(ref);
    if (tag.startsWith('sha256:')) return formatReference({ domain: ref.domain, path: ref.path, digest: tag });
    return formatReference({ domain: ref.domain, path: ref.path, tag });
  } catch (err) {
    throw new HttpError(400, (err as Error).message);
  }
}

/** `https://index.docker.io/v1/` or `host:5000` -> the registry host. */
export function registryHost(server: string): string {
  const host = server.replace(/^[a-z]+:\/\//, '').replace(/\/.*$/, '');
  return host === 'index.docker.io' || host === 'registry-1.docker.io' ? 'docker.io' : host;
}

function registryAuth(header: string | string[] | undefined): RegistryCredentials | undefined {
  try {
    return decodeAuthHeader(Array.isArray(header) ? header[0] : header);
  } catch (err) {
    throw new HttpError(400, (err as Error).message);
  }
}

/** Docker's progress bar text, e.g. `[=====>      ]  1.2MB/3.4MB`. */
function progressBar(current: number, total: number): string {
  const width = 50;
  const filled = total > 0 ? Math.min(width, Math.floor((current / total) * width)) : 0;
  const bar = `${'='.repeat(Math.max(filled - 1, 0))}${filled > 0 ? '>' : ''}${' '.repeat(width - filled)}`;
  return `[${bar}] ${humanSize(current)}/${humanSize(total)}`;
}

function humanSize(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB'];
  let value = n;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)}${units[unit]}`;
}

/** A JSON-lines response; writes after the client went away are dropped. */
function progressStream(res: ServerResponse) {
  res.writeHead(200, { 'Content-Type': 'application/json' });
  const line = (body: Record<string, unknown>): void => {
    if (!res.destroyed && !res.writableEnded) res.write(`${JSON.stringify(body)}\n`);
  };
  return {
    line,
    event(event: TransferEvent): void {
      if (event.kind === 'message') {
        line({ status: event.text, ...(event.id ? { id: event.id } : {}) });
        return;
      }
      const detail = event.current !== undefined && event.total !== undefined ? { current: event.current, total: event.total } : {};
      line({
        status: event.status,
        progressDetail: detail,
        ...(event.current !== undefined && event.total !== undefined && (event.status === 'Downloading' || event.status === 'Pushing') ? { progress: progressBar(event.current, event.total) } : {}),
        id: event.id,
      });
    },
    error(err: unknown): void {
      const message = err instanceof Error ? err.message : String(err);
      line({ errorDetail: { message }, error: message });
    },
    end(): void {
      if (!res.writableEnded) res.end();
    },
  };
}
