// Apply: runs a plan against the engine. Operations are nodes of a graph (graph.ts's
// ServiceGraph, whose bounded forward traversal runs independent ones together), so
// networks, volumes and images come before the containers that use them, and a
// service's containers after its dependencies'. Before a container starts it waits for
// its depends_on conditions; a dependency that fails stops everything not yet started,
// with a message naming it, its last health check output and its last log lines, and
// leaves what was made in place to be inspected. Progress goes out as typed events only.

import { setTimeout as delay } from 'node:timers/promises';
import type { ApiClient } from '../client/api-client.js';
import { streamLogs } from '../client/log-stream.js';
import type { ContainerCreateBody, ContainerInspect, ContainerSummary, MountSpec, MountView, NetworkInspect } from '../common/api-types.js';
import { ANONYMOUS_LABEL, type VolumeView } from '../common/volume-api-types.js';
import { NotFoundError, RuntimeFailure } from '../common/errors.js';
import type { EmitEvent } from './events.js';
import { ServiceGraph } from './graph.js';
import type { RegistryLogins } from './image-sources.js';
import { LABEL } from './labels.js';
import type { DependencyWait, Operation, Plan } from './plan.js';
import { writeInjectedFiles } from './service-files.js';

export interface ApplyOptions {
  emit: EmitEvent;
  /** The user's registry logins for pulls and builds. */
  logins?: RegistryLogins;
  /** How many operations run at once (default 64, docker-compose's COMPOSE_PARALLEL_LIMIT). */
  concurrency?: number;
  /** Seconds a container gets to stop before it is killed (--timeout); default: its own StopTimeout. */
  stopTimeout?: number;
  /** Remove the anonymous volumes of removed containers (down -v). */
  removeVolumes?: boolean;
  /** up -V: a recreated container gets new anonymous volumes instead of its predecessor's. */
  renewAnonymousVolumes?: boolean;
  /** Polling of health and state; injected so tests can go faster. */
  pollMs?: number;
  sleep?: (ms: number) => Promise<void>;
  signal?: AbortSignal;
}

/** A dependency did not reach its condition: names it, says what it said last. */
export class DependencyFailed extends RuntimeFailure {
  constructor(readonly service: string, readonly dependency: string, readonly container: string, message: string) {
    super(message);
    this.name = 'DependencyFailed';
  }
}

// The engine's own work for one container is mostly waiting on processes (mount, the shim):
// more of it in flight keeps both cores busy, and a 50-service stack no longer goes 8 at a time.
const DEFAULT_CONCURRENCY = 64;

export async function applyPlan(client: ApiClient, plan: Plan, options: ApplyOptions): Promise<void> {
  const byId = new Map(plan.operations.map((o) => [o.id, o]));
  const graph = new ServiceGraph([...byId.keys()], plan.operations.flatMap((o) => o.after.filter((a) => byId.has(a)).map((a): [string, string] => [o.id, a])));
  const runner = new OperationRunner(client, plan.project, options);
  try {
    await graph.visit('forward', (id) => runner.run(byId.get(id)!), { concurrency: options.concurrency ?? DEFAULT_CONCURRENCY });
  } catch (err) {
    const op = runner.failedOp;
    options.emit({ type: 'error', ...(op?.service ? { service: op.service } : {}), ...(op && op.kind.endsWith('container') ? { container: op.target } : {}), message: (err as Error).message });
    throw err;
  }
}

/** The containers of a project's service, as the engine lists them (one-offs left out), by replica number. */
export async function serviceContainers(client: ApiClient, project: string, service: string): Promise<ContainerSummary[]> {
  return (await projectContainers(client, project)).filter((r) => r.Labels[LABEL.service] === service);
}

/** Every container of a project (one-offs left out), by service and replica number. */
export async function projectContainers(client: ApiClient, project: string): Promise<ContainerSummary[]> {
  // One label per query: engines differ on whether several label filters must all match.
  const filters = JSON.stringify({ label: [`${LABEL.project}=${project}`] });
  const rows = await client.call<ContainerSummary[]>('GET', '/containers/json', { query: { all: 1, filters } });
  const service = (r: ContainerSummary): string => r.Labels[LABEL.service] ?? '';
  return rows.filter((r) => r.Labels[LABEL.oneoff] !== 'True')
    .sort((a, b) => (service(a) < service(b) ? -1 : service(a) > service(b) ? 1 : Number(a.Labels[LABEL.number] ?? 0) - Number(b.Labels[LABEL.number] ?? 0)));
}

class OperationRunner {
  failedOp: Operation | undefined;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly client: ApiClient, private readonly project: string, private readonly options: ApplyOptions) {
    this.sleep = options.sleep ?? ((ms) => delay(ms));
  }

  async run(op: Operation): Promise<void> {
    try {
      // An interrupted `up` starts nothing more; what is under way finishes.
      if (this.options.signal?.aborted) throw new RuntimeFailure('interrupted');
      await this.perform(op);
    } catch (err) {
      this.failedOp ??= op;
      throw err;
    }
  }

  private async perform(op: Operation): Promise<void> {
    const emit = this.options.emit;
    const svc = op.service ?? '';
    switch (op.kind) {
      case 'create-network':
        emit({ type: 'network-creating', network: op.target });
        await this.client.call('POST', '/networks/create', { body: op.network ?? { Name: op.target } });
        emit({ type: 'network-created', network: op.target });
        return;
      case 'recreate-network':
        await this.recreateNetwork(op);
        return;
      case 'create-volume':
        emit({ type: 'volume-creating', volume: op.target });
        await this.client.call('POST', '/volumes/create', { body: op.volume ?? { Name: op.target } });
        emit({ type: 'volume-created', volume: op.target });
        return;
      case 'pull-image': {
        emit({ type: 'image-pulling', image: op.target, service: svc });
        // Loaded when used: it brings the build context packer, which down and most ups never need.
        const { pullImage } = await import('./image-sources.js');
        await pullImage(this.client, op, (detail) => emit({ type: 'image-pulling', image: op.target, service: svc, detail }), this.options.logins);
        emit({ type: 'image-pulled', image: op.target, service: svc });
        return;
      }
      case 'build-image': {
        emit({ type: 'image-building', image: op.target, service: svc });
        const { buildImage } = await import('./image-sources.js');
        await buildImage(this.client, op, (detail) => emit({ type: 'image-building', image: op.target, service: svc, detail }), this.options.logins);
        emit({ type: 'image-built', image: op.target, service: svc });
        return;
      }
      case 'create-container':
        await this.waitForDependencies(op);
        await this.createAndStart(op);
        return;
      case 'recreate-container': {
        await this.waitForDependencies(op);
        emit({ type: 'container-recreating', service: svc, container: op.target });
        const anonymous = this.options.renewAnonymousVolumes ? [] : await this.anonymousVolumesOf(op);
        await this.stopAndRemove(op, false, anonymous.length === 0);
        const carried = carryOver(op.create!, anonymous);
        await this.createAndStart({ ...op, create: carried.body }, true);
        // What the new container does not mount any more is the old one's alone: it goes with it.
        for (const m of carried.left) await this.client.call('DELETE', `/volumes/${encodeURIComponent(m.Name!)}`).catch(() => undefined);
        return;
      }
      case 'start-container':
        await this.waitForDependencies(op);
        emit({ type: 'container-starting', service: svc, container: op.target });
        await this.client.call('POST', `/containers/${op.containerId}/start`);
        emit({ type: 'container-started', service: svc, container: op.target });
        return;
      case 'stop-container':
        emit({ type: 'container-stopping', service: svc, container: op.target });
        await this.client.call('POST', `/containers/${op.containerId}/stop`, { query: { t: this.options.stopTimeout } }).catch(ignoreNotFound);
        emit({ type: 'container-stopped', service: svc, container: op.target });
        return;
      case 'remove-container':
      case 'remove-orphan':
        if (op.stopped) await this.remove(op);
        else await this.stopAndRemove(op, true);
        return;
      case 'remove-network':
        emit({ type: 'network-removing', network: op.target });
        await this.client.call('DELETE', `/networks/${encodeURIComponent(op.target)}`);
        emit({ type: 'network-removed', network: op.target });
        return;
      case 'remove-volume':
        emit({ type: 'volume-removing', volume: op.target });
        await this.client.call('DELETE', `/volumes/${encodeURIComponent(op.target)}`);
        emit({ type: 'volume-removed', volume: op.target });
        return;
    }
  }

  private async createAndStart(op: Operation, recreating = false): Promise<void> {
    const emit = this.options.emit;
    const svc = op.service ?? '';
    if (!recreating) emit({ type: 'container-creating', service: svc, container: op.target });
    const { Id } = await this.client.call<{ Id: string }>('POST', '/containers/create', { query: { name: op.target }, body: op.create });
    await writeInjectedFiles(this.client, Id, op.files ?? []);
    emit({ type: recreating ? 'container-recreated' : 'container-created', service: svc, container: op.target });
    emit({ type: 'container-starting', service: svc, container: op.target });
    await this.client.call('POST', `/containers/${Id}/start`);
    emit({ type: 'container-started', service: svc, container: op.target });
  }

  /**
   * A project network made again from changed config: its containers (all of them about to be
   * recreated by the plan) are stopped and taken off it first, since the engine refuses to
   * remove a network in use. A container of another project on it stops this, named.
   */
  private async recreateNetwork(op: Operation): Promise<void> {
    const emit = this.options.emit;
    const path = `/networks/${encodeURIComponent(op.target)}`;
    const seen = await this.client.call<NetworkInspect>('GET', path);
    const attached = Object.entries(seen.Containers ?? {});
    const members = await Promise.all(attached.map(([id]) => this.client.call<ContainerInspect>('GET', `/containers/${id}/json`)));
    const strangers = members.filter((c) => c.Config.Labels?.[LABEL.project] !== this.project).map((c) => c.Name.replace(/^\//, ''));
    if (strangers.length) throw new RuntimeFailure(`network ${op.target} changed in the stack file, but ${strangers.join(', ')} (not of project ${this.project}) use${strangers.length === 1 ? 's' : ''} it: disconnect ${strangers.length === 1 ? 'it' : 'them'} ("stack network disconnect ${op.target} NAME") and run up again`);
    emit({ type: 'network-removing', network: op.target });
    await Promise.all(members.map(async (c) => {
      const name = c.Name.replace(/^\//, '');
      const service = c.Config.Labels?.[LABEL.service] ?? '';
      emit({ type: 'container-stopping', service, container: name });
      await this.client.call('POST', `/containers/${c.Id}/stop`, { query: { t: this.options.stopTimeout } });
      emit({ type: 'container-stopped', service, container: name });
      await this.client.call('POST', `${path}/disconnect`, { body: { Container: c.Id, Force: true } });
    }));
    await this.client.call('DELETE', path);
    emit({ type: 'network-removed', network: op.target });
    emit({ type: 'network-creating', network: op.target });
    await this.client.call('POST', '/networks/create', { body: op.network });
    emit({ type: 'network-created', network: op.target });
  }

  /**
   * The anonymous volumes (named by the engine, not the stack file: declared without a source,
   * or an image's VOLUME) of the container a recreate replaces. Compose hands them to the
   * new container, so data the service keeps there (a database's VOLUME) survives a config change.
   */
  private async anonymousVolumesOf(op: Operation): Promise<MountView[]> {
    if (!op.containerId) return [];
    const old = await this.client.call<ContainerInspect>('GET', `/containers/${op.containerId}/json`).catch((err: unknown) => {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    });
    const out: MountView[] = [];
    for (const m of old?.Mounts ?? []) {
      if (m.Type !== 'volume' || !m.Name) continue;
      const volume = await this.client.call<VolumeView>('GET', `/volumes/${encodeURIComponent(m.Name)}`).catch(() => undefined);
      if (volume && ANONYMOUS_LABEL in (volume.Labels ?? {})) out.push(m);
    }
    return out;
  }

  /** Stop (giving the container its grace period), then remove; a container already gone is fine. */
  private async stopAndRemove(op: Operation, announceRemoval: boolean, removeAnonymous = true): Promise<void> {
    const emit = this.options.emit;
    const svc = op.service ?? '';
    try {
      emit({ type: 'container-stopping', service: svc, container: op.target });
      await this.client.call('POST', `${containerPath(op)}/stop`, { query: { t: this.options.stopTimeout } });
      emit({ type: 'container-stopped', service: svc, container: op.target });
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
      if (announceRemoval) emit({ type: 'container-removed', service: svc, container: op.target });
      return;
    }
    if (announceRemoval) await this.remove(op);
    else await this.client.call('DELETE', containerPath(op), { query: { force: 1, v: removeAnonymous ? 1 : 0 } }).catch(ignoreNotFound);
  }

  /** Removes a container (stopped, or killed with force); one already gone is fine. */
  private async remove(op: Operation): Promise<void> {
    const emit = this.options.emit;
    const svc = op.service ?? '';
    emit({ type: 'container-removing', service: svc, container: op.target });
    await this.client.call('DELETE', containerPath(op), { query: { force: 1, v: this.options.removeVolumes ? 1 : 0 } }).catch(ignoreNotFound);
    emit({ type: 'container-removed', service: svc, container: op.target });
  }

  private async waitForDependencies(op: Operation): Promise<void> {
    await waitForDependencies(this.client, this.project, { service: op.service ?? '', container: op.target }, op.waits ?? [], { ...this.options, sleep: this.sleep });
  }
}

function containerPath(op: Operation): string {
  return `/containers/${op.containerId ?? encodeURIComponent(op.target)}`;
}

function ignoreNotFound(err: unknown): undefined {
  if (err instanceof NotFoundError) return undefined;
  throw err;
}

/**
 * Before a container of `who.service` starts: every dependency in `waits` meets its condition
 * (started, healthy, completed successfully), or this throws DependencyFailed naming it.
 * Used by apply for the service's containers and by `run` for its one-off.
 */
export async function waitForDependencies(client: ApiClient, project: string, who: { service: string; container: string }, waits: readonly DependencyWait[], options: WaitOptions): Promise<void> {
  await Promise.all(waits.map((w) => waitFor(client, project, who, w, options)));
}

async function waitFor(client: ApiClient, project: string, who: { service: string; container: string }, wait: DependencyWait, options: WaitOptions): Promise<void> {
  const containers = await serviceContainers(client, project, wait.service);
  if (containers.length === 0) {
    if (!wait.required) return;
    throw new DependencyFailed(who.service, wait.service, '', `service ${who.service} depends on ${wait.service}, which has no container`);
  }
  if (wait.condition === 'service_started') return;
  options.emit({ type: 'waiting', service: who.service, container: who.container, dependency: wait.service, condition: wait.condition });
  await Promise.all(containers.map((c) => awaitCondition(client, who, wait, c.Id, options)));
}

/** Polls one container of a dependency until it is healthy (or has exited 0, for completion), or fails. */
async function awaitCondition(client: ApiClient, who: { service: string; container: string }, wait: DependencyWait, id: string, options: WaitOptions): Promise<void> {
  const sleep = options.sleep ?? ((ms: number) => delay(ms));
  for (;;) {
    if (options.signal?.aborted) throw new RuntimeFailure('interrupted');
    const info = await client.call<ContainerInspect>('GET', `/containers/${id}/json`);
    const name = info.Name.replace(/^\//, '');
    const state = info.State;
    const fail = async (what: string): Promise<never> => {
      const health = state.Health?.Log?.at(-1)?.Output?.trim();
      const logs = await lastLogLines(client, id, 10);
      const lines = [`service ${who.service} cannot start: its dependency ${wait.service} (container ${name}) ${what}`];
      if (health !== undefined) lines.push(`last health check output of ${name}: ${health === '' ? '(none)' : health}`);
      lines.push(logs.length ? `last log lines of ${name}:\n${logs.map((l) => `  ${l}`).join('\n')}` : `${name} has written no log lines`);
      throw new DependencyFailed(who.service, wait.service, name, lines.join('\n'));
    };
    if (wait.condition === 'service_completed_successfully') {
      if (!state.Running && !state.Restarting && state.Status !== 'created') {
        if (state.ExitCode === 0) return;
        return fail(`exited with code ${state.ExitCode}`);
      }
    } else {
      if (!state.Health) return fail('has no health check: give it a healthcheck, or depend on it with condition service_started');
      if (state.Health.Status === 'healthy') {
        options.emit({ type: 'health', service: wait.service, container: name, status: 'healthy' });
        return;
      }
      if (state.Health.Status === 'unhealthy') {
        options.emit({ type: 'health', service: wait.service, container: name, status: 'unhealthy', ...(state.Health.Log?.at(-1) ? { output: state.Health.Log.at(-1)!.Output } : {}) });
        return fail('is unhealthy');
      }
      if (!state.Running && !state.Restarting) return fail(`exited with code ${state.ExitCode} before it became healthy`);
    }
    await sleep(options.pollMs ?? 200);
  }
}

/**
 * The create body of a recreated container with its predecessor's anonymous volumes mounted
 * where they were, unless the new config mounts something else there; `left` are those no
 * longer mounted.
 */
export function carryOver(body: ContainerCreateBody, anonymous: readonly MountView[]): { body: ContainerCreateBody; left: MountView[] } {
  if (anonymous.length === 0) return { body, left: [] };
  const normal = (p: string): string => p.replace(/\/+$/, '') || '/';
  const host = body.HostConfig ?? {};
  const explicit = new Set([
    ...(host.Binds ?? []).map((b) => normal(b.split(':')[1] ?? '')),
    ...(host.Mounts ?? []).map((m) => normal(m.Target)),
    ...Object.keys(host.Tmpfs ?? {}).map(normal),
  ]);
  const carried = anonymous.filter((m) => !explicit.has(normal(m.Destination)));
  const left = anonymous.filter((m) => explicit.has(normal(m.Destination)));
  const mounts: MountSpec[] = carried.map((m) => ({ Type: 'volume', Source: m.Name!, Target: m.Destination, ...(m.RW ? {} : { ReadOnly: true }) }));
  return { body: { ...body, HostConfig: { ...host, Mounts: [...(host.Mounts ?? []), ...mounts] } }, left };
}

/** The last `n` lines a container wrote, for error messages. */
export async function lastLogLines(client: ApiClient, id: string, n: number): Promise<string[]> {
  const lines: string[] = [];
  try {
    await streamLogs(client, id, { follow: false, tail: String(n) }, (line) => lines.push(...line.text.replace(/\r?\n$/, '').split(/\r?\n/)));
  } catch {
    // The logs are a courtesy in an error message: none is better than a second error.
  }
  return lines.slice(-n);
}

export interface WaitOptions {
  emit: EmitEvent;
  pollMs?: number;
  sleep?: (ms: number) => Promise<void>;
  signal?: AbortSignal;
}

/**
 * `up --wait`: every container of these services running (and healthy when it has a health
 * check), or, for one-shot services (restart "no"), exited with code 0.
 */
export async function waitForServices(client: ApiClient, project: string, services: readonly string[], options: WaitOptions): Promise<void> {
  const sleep = options.sleep ?? ((ms: number) => delay(ms));
  const containers = (await Promise.all(services.map((s) => serviceContainers(client, project, s)))).flat();
  await Promise.all(containers.map(async (c) => {
    const service = c.Labels[LABEL.service] ?? '';
    for (;;) {
      if (options.signal?.aborted) throw new RuntimeFailure('interrupted');
      const info = await client.call<ContainerInspect>('GET', `/containers/${c.Id}/json`);
      const name = info.Name.replace(/^\//, '');
      const s = info.State;
      const oneShot = (info.HostConfig.RestartPolicy?.Name ?? 'no') === 'no' || info.HostConfig.RestartPolicy?.Name === '';
      if (!s.Running && !s.Restarting && s.Status !== 'created') {
        if (oneShot && s.ExitCode === 0) {
          options.emit({ type: 'container-exited', service, container: name, exitCode: 0 });
          return;
        }
        const logs = await lastLogLines(client, c.Id, 10);
        throw new RuntimeFailure(`container ${name} (service ${service}) exited with code ${s.ExitCode}${logs.length ? `; last log lines:\n${logs.map((l) => `  ${l}`).join('\n')}` : ''}`);
      }
      if (s.Running && (!s.Health || s.Health.Status === 'healthy')) {
        options.emit(s.Health ? { type: 'health', service, container: name, status: 'healthy' } : { type: 'container-running', service, container: name });
        return;
      }
      if (s.Health?.Status === 'unhealthy') {
        const output = s.Health.Log?.at(-1)?.Output?.trim() ?? '';
        throw new RuntimeFailure(`container ${name} (service ${service}) is unhealthy; last health check output: ${output || '(none)'}`);
      }
      await sleep(options.pollMs ?? 200);
    }
  }));
}
