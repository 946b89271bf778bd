// Watching a running project for the live display: the engine's event stream (filtered by
// the project label) turned into container-state events, the logs of every container of
// the project (picked up again when a container is recreated or restarted, without
// repeating or losing a line), and a stats sample of each running container every ~2 s.
// Event driven: a container is inspected when the engine says it changed, not polled.
// Everything stops when the caller's signal aborts.

import { setTimeout as delay } from 'node:timers/promises';
import type { ApiClient } from '../client/api-client.js';
import { streamLogs, unixSeconds } from '../client/log-stream.js';
import type { ContainerInspect, ContainerSummary, EngineEvent, PortBinding } from '../common/api-types.js';
import { cpuPercent, memoryUsedBytes, type ContainerStats } from '../common/container-stats-shape.js';
import { NotFoundError } from '../common/errors.js';
import type { ComposeEvent, EmitEvent } from './events.js';
import { LABEL } from './labels.js';

export interface MonitorOptions {
  project: string;
  /** Only these services' containers; every service's when empty or unset. */
  services?: readonly string[];
  emit: EmitEvent;
  signal: AbortSignal;
  /** Between two rounds of stats samples. */
  statsIntervalMs?: number;
  /** Lines of a container's log to read before following it the first time (all when unset). */
  initialTail?: number;
  /** How long to wait before subscribing again when the event stream drops (engine restart). */
  resubscribeMs?: number;
}

/** What an engine event about a container calls for. */
export type EventEffect = 'ignore' | 'inspect' | 'removed';

export function effectOf(event: EngineEvent): EventEffect {
  if (event.Type !== 'container') return 'ignore';
  // Docker reports each health probe as exec events: following them would inspect once a probe.
  if (event.Action.startsWith('exec_')) return 'ignore';
  return event.Action === 'destroy' ? 'removed' : 'inspect';
}

/** Whether a container (by its labels) is one of the monitored services' (one-off `run` containers are not). */
export function isMonitored(labels: Record<string, string | undefined>, project: string, services: readonly string[] | undefined): boolean {
  if (labels[LABEL.project] !== project || labels[LABEL.oneoff] === 'True') return false;
  const service = labels[LABEL.service];
  return service !== undefined && (!services || services.length === 0 || services.includes(service));
}

/** `8080->80/tcp` for each published port, with the host address when it is not the wildcard. */
export function publishedPorts(ports: Record<string, PortBinding[] | null> | undefined): string[] {
  const out: string[] = [];
  for (const [port, bindings] of Object.entries(ports ?? {})) {
    for (const b of bindings ?? []) {
      if (!b.HostPort) continue;
      const host = b.HostIp && b.HostIp !== '0.0.0.0' && b.HostIp !== '::' ? `${b.HostIp}:` : '';
      out.push(`${host}${b.HostPort}->${port}`);
    }
  }
  return [...new Set(out)].sort();
}

/** The container-state event of an inspected container. */
export function containerStateOf(info: ContainerInspect, manualRestarts: number): Extract<ComposeEvent, { type: 'container-state' }> {
  const s = info.State;
  const exited = s.Status === 'exited' || s.Status === 'dead';
  const started = s.StartedAt !== '' && !s.StartedAt.startsWith('0001-');
  return {
    type: 'container-state',
    id: info.Id,
    service: info.Config.Labels?.[LABEL.service] ?? '',
    container: info.Name.replace(/^\//, ''),
    state: s.Status,
    ...(s.Health ? { health: s.Health.Status } : {}),
    restarts: info.RestartCount + manualRestarts,
    ...(exited ? { exitCode: s.ExitCode } : {}),
    ...(started ? { startedAt: s.StartedAt } : {}),
    ports: publishedPorts(info.NetworkSettings?.Ports),
  };
}

export function statsOf(id: string, service: string, container: string, stats: Pick<ContainerStats, 'cpu_stats' | 'precpu_stats' | 'memory_stats'>): ComposeEvent {
  return { type: 'stats', id, service, container, cpuPercent: cpuPercent(stats), memoryBytes: memoryUsedBytes(stats.memory_stats) };
}

interface Watched {
  id: string;
  service: string;
  name: string;
  running: boolean;
  manualRestarts: number;
  /** The refresh now running or queued, so inspections of one container stay in order. */
  refreshing: Promise<void>;
  refreshQueued: boolean;
  removed: boolean;
  logs: ContainerLogFollower;
}

export class ProjectMonitor {
  private readonly watched = new Map<string, Watched>();
  private readonly work = new Set<Promise<unknown>>();

  constructor(private readonly client: ApiClient, private readonly options: MonitorOptions) {}

  /** Resolves once the signal has aborted and every stream has closed. */
  async run(): Promise<void> {
    const { signal } = this.options;
    const stats = this.sampleStats();
    while (!signal.aborted) {
      try {
        const events = await this.subscribe();
        // Listed after subscribing, so a change between the two is seen by one or the other.
        await this.refreshAll();
        await events;
      } catch (err) {
        if (signal.aborted) break;
        this.options.emit({ type: 'warning', message: `the engine's event stream failed (${(err as Error).message}); reconnecting` });
      }
      if (!signal.aborted) await delay(this.options.resubscribeMs ?? 500, undefined, { signal }).catch(() => undefined);
    }
    await stats;
    while (this.work.size > 0) await Promise.allSettled([...this.work]);
  }

  /** Opens the event stream; resolves to a promise of its end. */
  private async subscribe(): Promise<Promise<void>> {
    const filters = JSON.stringify({ type: ['container'], label: [`${LABEL.project}=${this.options.project}`] });
    const res = await this.client.open('GET', '/events', { query: { filters }, signal: this.options.signal });
    return new Promise<void>((resolve) => {
      let pending = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        pending += chunk;
        let nl: number;
        while ((nl = pending.indexOf('\n')) !== -1) {
          const line = pending.slice(0, nl);
          pending = pending.slice(nl + 1);
          if (line.trim() === '') continue;
          let event: EngineEvent;
          try {
            event = JSON.parse(line) as EngineEvent;
          } catch {
            continue; // not an event: nothing to act on
          }
          this.onEngineEvent(event);
        }
      });
      res.on('end', resolve);
      res.on('close', resolve);
      res.on('error', () => resolve());
    });
  }

  private async refreshAll(): Promise<void> {
    const filters = JSON.stringify({ label: [`${LABEL.project}=${this.options.project}`] });
    const rows = await this.client.call<ContainerSummary[]>('GET', '/containers/json', { query: { all: 1, filters }, signal: this.options.signal });
    for (const row of rows) {
      if (!isMonitored(row.Labels, this.options.project, this.options.services)) continue;
      this.refresh(this.watch(row.Id, row.Labels[LABEL.service] ?? '', (row.Names[0] ?? row.Id).replace(/^\//, '')));
    }
  }

  private onEngineEvent(event: EngineEvent): void {
    const effect = effectOf(event);
    const attributes = event.Actor.Attributes;
    if (effect === 'ignore' || !isMonitored(attributes, this.options.project, this.options.services)) return;
    const w = this.watch(event.Actor.ID, attributes[LABEL.service] ?? '', attributes.name ?? event.Actor.ID);
    if (effect === 'removed') {
      w.removed = true;
      // After any inspection still under way, so the removal is the last word on this container.
      this.track(w.refreshing.then(() => {
        this.watched.delete(w.id);
        this.options.emit({ type: 'container-state', id: w.id, service: w.service, container: w.name, state: 'removed', restarts: w.manualRestarts, ports: [] });
      }));
      return;
    }
    if (event.Action === 'restart') w.manualRestarts++;
    if (event.Action === 'start') w.logs.restarted();
    this.refresh(w);
  }

  private watch(id: string, service: string, name: string): Watched {
    let w = this.watched.get(id);
    if (!w) {
      w = {
        id, service, name, running: false, manualRestarts: 0, refreshing: Promise.resolve(), refreshQueued: false, removed: false,
        logs: new ContainerLogFollower(this.client, id, this.options.initialTail, (line) => this.options.emit({ type: 'log', service, container: name, stream: line.stream, text: line.text }), this.options.signal, (p) => this.track(p.catch((err: unknown) => this.options.emit({ type: 'warning', message: `cannot follow the log of ${name}: ${(err as Error).message}` })))),
      };
      this.watched.set(id, w);
    }
    return w;
  }

  /** Inspects the container after any inspection already under way; several requests while one waits make one. */
  private refresh(w: Watched): void {
    if (w.refreshQueued) return;
    w.refreshQueued = true;
    w.refreshing = this.track(w.refreshing.then(async () => {
      w.refreshQueued = false;
      if (w.removed || this.options.signal.aborted) return;
      let info: ContainerInspect;
      try {
        info = await this.client.call<ContainerInspect>('GET', `/containers/${w.id}/json`, { signal: this.options.signal });
      } catch (err) {
        if (err instanceof NotFoundError) return; // its destroy event says the rest
        if (!this.options.signal.aborted) this.options.emit({ type: 'warning', message: `cannot inspect container ${w.name}: ${(err as Error).message}` });
        return;
      }
      if (w.removed) return;
      w.name = info.Name.replace(/^\//, '');
      w.running = info.State.Running;
      this.options.emit(containerStateOf(info, w.manualRestarts));
      if (info.State.Running) w.logs.ensureFollowing();
    }));
  }

  /** One stats request per running container every interval; a slow round delays the next, never overlaps it. */
  private async sampleStats(): Promise<void> {
    const { signal } = this.options;
    const interval = this.options.statsIntervalMs ?? 2000;
    while (!signal.aborted) {
      await delay(interval, undefined, { signal }).catch(() => undefined);
      if (signal.aborted) return;
      await Promise.all([...this.watched.values()].filter((w) => w.running && !w.removed).map(async (w) => {
        try {
          const stats = await this.client.call<ContainerStats>('GET', `/containers/${w.id}/stats`, { query: { stream: 'false' }, signal });
          if (!w.removed && w.running) this.options.emit(statsOf(w.id, w.service, w.name, stats));
        } catch {
          // Gone or stopped between the list and the sample: the next round does not ask again.
        }
      }));
    }
  }

  private track<T>(p: Promise<T>): Promise<T> {
    const settled = p.catch(() => undefined);
    this.work.add(settled);
    void settled.then(() => this.work.delete(settled));
    return p;
  }
}

/**
 * Follows one container's log across its runs. Each run's stream ends when the container
 * stops; the next starts from the last instant seen, and entries at or before it are
 * dropped, so a restart neither repeats nor loses a line.
 */
export class ContainerLogFollower {
  private last: string | undefined;
  private following = false;
  private again = false;

  constructor(
    private readonly client: ApiClient,
    private readonly id: string,
    private readonly initialTail: number | undefined,
    private readonly onLine: (line: { stream: 'stdout' | 'stderr'; text: string }) => void,
    private readonly signal: AbortSignal,
    private readonly track: (p: Promise<unknown>) => void,
  ) {}

  /** The container runs: follow its log unless already following. */
  ensureFollowing(): void {
    if (this.following || this.signal.aborted) return;
    this.following = true;
    this.track(this.follow());
  }

  /** It started again: a stream still open may be the old run's, ending soon; follow once more after it. */
  restarted(): void {
    if (this.following) this.again = true;
    else this.ensureFollowing();
  }

  private async follow(): Promise<void> {
    try {
      do {
        this.again = false;
        await streamLogs(this.client, this.id, {
          follow: true,
          signal: this.signal,
          ...(this.last !== undefined ? { since: unixSeconds(this.last) } : this.initialTail !== undefined ? { tail: String(this.initialTail) } : {}),
        }, (line) => {
          if (this.last !== undefined && line.time <= this.last) return;
          this.last = line.time;
          this.onLine(line);
        }).catch((err: unknown) => {
          if (!(err instanceof NotFoundError) && !this.signal.aborted) throw err;
        });
      } while (this.again && !this.signal.aborted);
    } finally {
      this.following = false;
    }
  }
}
