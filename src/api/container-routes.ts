// `/containers/...`: the container endpoints of the Docker Engine API, translated into
// calls on the engine's ContainerService. Streams (logs, stats, wait) end when the
// client goes away. What an idle engine never needs (archives with tar-stream, stats,
// top) is loaded by the first request that does.

import type { ServerResponse } from 'node:http';
import type { ContainerCreateBody, ContainerSummary, ExecCreateBody } from '../common/api-types.js';
import { encodeOutput, outputContentType, STDERR, STDOUT } from '../common/docker-stream.js';
import { logInstant, readContainerLog } from '../engine/container-logs.js';
import type { ContainerRecord } from '../engine/container-record.js';
import type { ContainerStats } from '../common/container-stats-shape.js';
import type { Engine } from '../engine/engine.js';
import { batchedWrites } from '../common/batched-writes.js';
import { HttpError, labelMatches, parseFilters, queryFlag, queryInt, readJsonBody, Reply, type Router } from './router.js';

export function addContainerRoutes(router: Router, engine: Engine): void {
  const containers = engine.containers;

  router.add('GET', '/containers/json', ({ query }) => {
    const all = queryFlag(query, 'all');
    const filters = parseFilters(query);
    const limit = queryInt(query, 'limit');
    let rows = containers.all()
      .filter((r) => all || r.State.Status === 'running' || r.State.Status === 'paused' || r.State.Status === 'restarting' || filters.has('status'))
      .filter((r) => matchesFilters(r, filters))
      .sort((a, b) => (a.Created < b.Created ? 1 : a.Created > b.Created ? -1 : 0))
      .map((r) => containers.summary(r));
    if (limit !== undefined && limit > 0) rows = rows.slice(0, limit);
    return rows satisfies ContainerSummary[];
  });

  router.add('POST', '/containers/create', async ({ req, query }) => {
    const body = (await readJsonBody(req)) as ContainerCreateBody;
    return new Reply(201, await containers.create(query.get('name') ?? undefined, body));
  });

  router.add('POST', '/containers/prune', () => containers.prune());

  router.add('GET', '/containers/:id/json', ({ params }) => containers.inspect(params.id!));

  router.add('POST', '/containers/:id/start', async ({ params }) => ((await containers.start(params.id!)) ? new Reply(204) : new Reply(304)));

  router.add('POST', '/containers/:id/stop', async ({ params, query }) => {
    const t = queryInt(query, 't');
    const stopped = await containers.stop(params.id!, { ...(t !== undefined ? { timeoutSeconds: t } : {}), ...(query.get('signal') ? { signal: query.get('signal')! } : {}) });
    return new Reply(stopped ? 204 : 304);
  });

  router.add('POST', '/containers/:id/restart', async ({ params, query }) => {
    const t = queryInt(query, 't');
    await containers.restart(params.id!, { ...(t !== undefined ? { timeoutSeconds: t } : {}), ...(query.get('signal') ? { signal: query.get('signal')! } : {}) });
    return new Reply(204);
  });

  router.add('POST', '/containers/:id/kill', async ({ params, query }) => {
    await containers.kill(params.id!, query.get('signal') || 'SIGKILL');
    return new Reply(204);
  });

  router.add('POST', '/containers/:id/pause', async ({ params }) => {
    await containers.pause(params.id!);
    return new Reply(204);
  });

  router.add('POST', '/containers/:id/unpause', async ({ params }) => {
    await containers.unpause(params.id!);
    return new Reply(204);
  });

  router.add('POST', '/containers/:id/wait', async ({ params, query, res, signal }) => {
    const condition = query.get('condition') || 'not-running';
    if (condition !== 'not-running' && condition !== 'next-exit' && condition !== 'removed') {
      throw new HttpError(400, `wait condition "${condition}" is not one of not-running, next-exit, removed`);
    }
    containers.find(params.id!);
    // Headers go out at once (Docker does the same) so a client knows the wait is in place.
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.flushHeaders();
    const result = await containers.wait(params.id!, condition, signal);
    res.end(JSON.stringify(result));
    return undefined;
  });

  router.add('DELETE', '/containers/:id', async ({ params, query }) => {
    await containers.remove(params.id!, { force: queryFlag(query, 'force'), volumes: queryFlag(query, 'v') });
    return new Reply(204);
  });

  router.add('GET', '/containers/:id/logs', async ({ params, query, res, signal }) => {
    const record = containers.find(params.id!);
    const stdout = queryFlag(query, 'stdout');
    const stderr = queryFlag(query, 'stderr');
    if (!stdout && !stderr) throw new HttpError(400, 'you must choose at least one stream: stdout=1 and/or stderr=1');
    const tailText = query.get('tail');
    const tail = tailText === null || tailText === '' || tailText === 'all' ? undefined : Number(tailText);
    if (tail !== undefined && !Number.isInteger(tail)) throw new HttpError(400, `tail="${tailText}" is not a number or "all"`);
    let since: string | undefined;
    let until: string | undefined;
    try {
      since = logInstant(query.get('since') ?? '');
      until = logInstant(query.get('until') ?? '');
    } catch (err) {
      throw new HttpError(400, (err as Error).message);
    }
    const timestamps = queryFlag(query, 'timestamps');
    const follow = queryFlag(query, 'follow');
    // As Docker: a container with a terminal has one stream, sent raw.
    const tty = record.Config.Tty ?? false;
    res.writeHead(200, { 'Content-Type': outputContentType(tty) });
    res.flushHeaders();
    const out = batchedWrites((chunk) => res.write(chunk));
    await readContainerLog(
      containers.logPath(record.Id),
      { stdout, stderr, follow, ...(since ? { since } : {}), ...(until ? { until } : {}), ...(tail !== undefined && tail >= 0 ? { tail } : {}) },
      (entry) => out.add(encodeOutput(tty, entry.stream === 'stderr' ? STDERR : STDOUT, timestamps ? `${entry.time} ${entry.log}` : entry.log)),
      follow ? { isStopped: () => !containers.isRunning(record.Id), stopped: containers.wait(record.Id, 'not-running', signal), signal } : undefined,
    );
    out.flush();
    res.end();
    return undefined;
  });

  router.add('POST', '/containers/:id/resize', async ({ params, query }) => {
    await containers.resize(params.id!, queryInt(query, 'h') ?? 0, queryInt(query, 'w') ?? 0);
    return new Reply(200);
  });

  router.add('GET', '/containers/:id/top', async ({ params, query }) => {
    const cgroups = await containers.cgroups(params.id!);
    const { listContainerProcesses } = await import('../engine/container-top.js');
    return listContainerProcesses(cgroups, query.get('ps_args') ?? undefined);
  });

  router.add('GET', '/containers/:id/stats', async ({ params, query, res, signal }) => {
    const stream = queryFlag(query, 'stream', true) && !queryFlag(query, 'one-shot');
    const record = containers.find(params.id!);
    const { readContainerStats } = await import('../engine/container-stats.js');
    const sample = async (previous?: ContainerStats): Promise<ContainerStats & { name: string; id: string }> => ({
      ...(await readContainerStats(containers.isRunning(record.Id) ? await containers.cgroups(record.Id).catch(() => []) : [], previous)),
      name: record.Name,
      id: record.Id,
    });
    if (!stream) {
      // Like Docker, a single answer carries a previous sample, so a CPU percentage can be computed from it.
      const first = await sample();
      await new Promise((r) => setTimeout(r, queryFlag(query, 'one-shot') ? 0 : 100));
      return sample(first);
    }
    res.writeHead(200, { 'Content-Type': 'application/json' });
    let previous: ContainerStats | undefined;
    while (!signal.aborted) {
      previous = await sample(previous);
      res.write(`${JSON.stringify(previous)}\n`);
      if (!containers.isRunning(record.Id)) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    res.end();
    return undefined;
  });

  router.add('HEAD', '/containers/:id/archive', async ({ params, query, res }) => {
    const path = requiredPath(query);
    const { statContainerPath } = await import('../engine/container-archive.js');
    const stat = await statContainerPath(await containers.rootfs(params.id!), path);
    res.writeHead(200, { 'X-Docker-Container-Path-Stat': Buffer.from(JSON.stringify(stat)).toString('base64') });
    res.end();
    return undefined;
  });

  router.add('GET', '/containers/:id/archive', async ({ params, query, res }) => {
    const path = requiredPath(query);
    const { archiveContainerPath } = await import('../engine/container-archive.js');
    const { stat, stream } = await archiveContainerPath(await containers.rootfs(params.id!), path);
    res.writeHead(200, { 'Content-Type': 'application/x-tar', 'X-Docker-Container-Path-Stat': Buffer.from(JSON.stringify(stat)).toString('base64') });
    await pipeTo(stream, res);
    return undefined;
  });

  router.add('PUT', '/containers/:id/archive', async ({ params, query, req }) => {
    const path = requiredPath(query);
    const { extractIntoContainer } = await import('../engine/container-archive.js');
    await extractIntoContainer(await containers.rootfs(params.id!), path, req);
    return new Reply(200);
  });

  router.add('POST', '/containers/:id/exec', async ({ params, req }) => {
    const body = (await readJsonBody(req)) as ExecCreateBody;
    return new Reply(201, engine.execs.create(params.id!, body));
  });
}

function requiredPath(query: URLSearchParams): string {
  const path = query.get('path');
  if (!path) throw new HttpError(400, 'the "path" query parameter is required (the path in the container)');
  return path;
}

function pipeTo(source: NodeJS.ReadableStream, res: ServerResponse): Promise<void> {
  return new Promise((resolve, reject) => {
    source.on('error', (err) => {
      res.destroy(err);
      reject(err);
    });
    res.on('close', () => resolve());
    source.pipe(res);
  });
}

/** Docker's container filters: id, name (substring), label (key or key=value), status, ancestor. */
function matchesFilters(record: ContainerRecord, filters: Map<string, string[]>): boolean {
  for (const [name, values] of filters) {
    if (values.length === 0) continue;
    const labels = record.Config.Labels ?? {};
    // Docker: several labels must all match; several values of any other filter, any one.
    const ok = values[name === 'label' ? 'every' : 'some']((value) => {
      switch (name) {
        case 'id': return record.Id.startsWith(value);
        case 'name': return record.Name.slice(1).includes(value.replace(/^\//, ''));
        case 'status': return record.State.Status === value;
        case 'ancestor': return record.ImageRef === value || record.Image === value || record.Image.slice(7).startsWith(value);
        case 'label': return labelMatches(labels, value);
        case 'exited': return record.State.Status === 'exited' && String(record.State.ExitCode) === value;
        default: throw new HttpError(400, `invalid filter "${name}": use id, name, label, status, ancestor or exited`);
      }
    });
    if (!ok) return false;
  }
  return true;
}
