// The engine's containers: create, start, stop, kill, restart, remove, wait, list and
// inspect, with health checks and restart policies. Each container is a record on disk
// (container-record.ts) plus, while it runs, a shim process that outlives the engine;
// the shim's state file is the truth about the process, the record about everything else.

import { randomBytes } from 'node:crypto';
import { rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type {
  ContainerCreateBody, ContainerInspect, ContainerStateView, ContainerSummary, EndpointConfig, HealthState, HostConfig,
} from '../common/api-types.js';
import { ZERO_TIME } from '../common/api-types.js';
import { ConflictError, NotFoundError, UsageError } from '../common/errors.js';
import { containerRootfsDirs, mountImageRootfs, unmountRootfs } from '../image/rootfs.js';
import { isMountPoint } from '../volumes/volume-store.js';
import { writeBundle } from '../runtime/bundle.js';
import type { ContainerState, ShimRuntime } from '../runtime/shim-runtime.js';
import { containerCommand, mergeImageConfig, runtimeSpec, validateContainerRequest } from './container-spec.js';
import { containerDir, containerLogPath, loadRecords, saveRecord, type ContainerRecord } from './container-record.js';
import type { ContainerVolumes } from './container-volumes.js';
import type { EventBus } from './event-bus.js';
import { HealthMonitor, parseHealthConfig, systemClock, type Clock } from './health-monitor.js';
import { imageId, type ImageService } from './image-service.js';
import { nextRestartDelay, shouldRestart } from './restart-policy.js';
import { processAlive } from '../common/process-alive.js';
import type { ContainerNetworking, ContainerSandbox } from './container-network.js';

export type { Clock };

const NAME = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
/** The longest a single waitForExit watch runs before it is renewed (setTimeout's limit is 2^31-1 ms). */
const WATCH_MS = 2_000_000_000;

/** A container the engine holds in memory: its record and what runs for it now. */
interface LiveContainer {
  record: ContainerRecord;
  health?: HealthMonitor;
  restartTimer?: unknown;
  /** The delay before the next automatic restart (Docker's doubling backoff). */
  restartDelayMs: number;
  /** Bumped at each start, so an exit is handled once, for the run it belongs to. */
  run: number;
  /** Settles when the current run's exit has been recorded. */
  exited: Promise<void>;
  markExited: () => void;
  /** Serialises start/stop/remove of this container. */
  lock: Promise<unknown>;
  /** Callers of wait(), told of each exit and of the removal. */
  waiters: Set<() => void>;
  removed: boolean;
  /** The kernel side of the last tear-down (network, cgroups, rootfs mount), still going on after the exit was recorded. */
  teardown?: Promise<void>;
}

export type WaitCondition = 'not-running' | 'next-exit' | 'removed';

export class ContainerService {
  private readonly containers = new Map<string, LiveContainer>();
  private closed = false;
  /** Ends the exit watches when the engine closes: its containers run on without it. */
  private readonly closing = new AbortController();

  constructor(
    private readonly options: {
      root: string;
      runtime: ShimRuntime;
      images: ImageService;
      events: EventBus;
      volumes: ContainerVolumes;
      clock?: Clock;
      /** Bridge networks, ports and /etc files; without it every container gets an empty network namespace. */
      networking?: ContainerNetworking;
    },
  ) {}

  private get clock(): Clock {
    return this.options.clock ?? systemClock;
  }

  // ---- recovery -------------------------------------------------------------------------

  /**
   * Reads every record and reconciles it with its shim: re-attaches to containers still
   * running, records the exits that happened while the engine was away, removes what a
   * create cut short left behind, then applies restart policies as an engine start does.
   */
  async recover(): Promise<void> {
    const { records, orphans } = await loadRecords(this.options.root);
    for (const id of orphans) await this.removeLeftovers(id);
    for (const record of records) {
      const live = this.track(record);
      const shim = await this.shimState(record.Id);
      if (shim && (shim.status === 'running' || shim.status === 'created') && processAlive(shim.shimPid)) {
        // Frozen processes stay frozen across an engine restart: a paused container stays paused.
        if (record.State.Status !== 'paused') record.State.Status = 'running';
        record.State.Pid = shim.pid;
        await this.options.networking?.adopt(record).catch((err: unknown) => {
          record.State.Error = `published ports not held again after the engine restart: ${(err as Error).message}`;
        });
        this.watchExit(live);
        this.startHealth(live, record.State.Health);
        continue;
      }
      if (record.State.Status === 'running' || record.State.Status === 'paused' || record.State.Status === 'restarting') {
        this.recordExit(live, shim && shim.status === 'stopped'
          ? shim
          : { exitCode: 255, signal: null, oomKilled: false, finishedAt: new Date(this.clock.now()).toISOString(), error: 'the engine lost track of the container (its runtime state is gone: was the machine restarted?)' });
        await this.detachNetwork(live);
        await saveRecord(this.options.root, record);
      }
    }
    for (const live of this.containers.values()) {
      // An exit the engine saw, but died before its network was taken down.
      if (live.record.State.Status !== 'running' && live.record.State.Status !== 'paused') await this.detachNetwork(live);
    }
    for (const live of this.containers.values()) {
      const s = live.record.State;
      if (s.Status === 'exited' && shouldRestart({ policy: live.record.HostConfig.RestartPolicy, exitCode: s.ExitCode, restartCount: live.record.RestartCount, stoppedByUser: live.record.ManuallyStopped, engineStarting: true })) {
        await this.start(live.record.Id).catch((err: unknown) => {
          live.record.State.Error = String((err as Error).message);
        });
      }
    }
  }

  /** A container directory without a record: a create the engine did not finish. */
  private async removeLeftovers(id: string): Promise<void> {
    const dirs = containerRootfsDirs(this.options.root, id);
    // The shim unmounts the rootfs once the container is gone; umount(8) only for what it
    // could not (no shim state: a create cut short, or a failed delete).
    await this.options.runtime.delete(id, { force: true, unmount: dirs.target }).catch(() => undefined);
    if (await isMountPoint(dirs.target)) await unmountRootfs(dirs.target);
    await rm(containerDir(this.options.root, id), { recursive: true, force: true });
  }

  private track(record: ContainerRecord): LiveContainer {
    let markExited: () => void = () => undefined;
    const exited = new Promise<void>((resolve) => (markExited = resolve));
    const live: LiveContainer = { record, restartDelayMs: 0, run: 0, exited, markExited, lock: Promise.resolve(), removed: false, waiters: new Set() };
    this.containers.set(record.Id, live);
    return live;
  }

  private async shimState(id: string): Promise<ContainerState | undefined> {
    try {
      return await this.options.runtime.state(id);
    } catch {
      return undefined;
    }
  }

  // ---- lookup ---------------------------------------------------------------------------

  /** By full ID, name (with or without the slash) or unique ID prefix, as Docker finds them. */
  find(ref: string): ContainerRecord {
    return this.findLive(ref).record;
  }

  private findLive(ref: string): LiveContainer {
    const exact = this.containers.get(ref);
    if (exact) return exact;
    const name = ref.startsWith('/') ? ref : `/${ref}`;
    for (const live of this.containers.values()) if (live.record.Name === name) return live;
    if (/^[a-f0-9]+$/.test(ref)) {
      const matches = [...this.containers.values()].filter((l) => l.record.Id.startsWith(ref));
      if (matches.length === 1) return matches[0]!;
      if (matches.length > 1) throw new ConflictError(`container ID prefix "${ref}" names ${matches.length} containers: give more of it`);
    }
    throw new NotFoundError(`No such container: ${ref}`);
  }

  all(): ContainerRecord[] {
    return [...this.containers.values()].map((l) => l.record);
  }

  /** Names of the containers created from an image (to refuse removing it). */
  usersOfImage(id: string): Array<{ name: string; running: boolean }> {
    return this.all().filter((r) => r.Image === id).map((r) => ({ name: r.Name.slice(1), running: r.State.Status === 'running' || r.State.Status === 'paused' || r.State.Status === 'restarting' }));
  }

  private withLock<T>(live: LiveContainer, work: () => Promise<T>): Promise<T> {
    const run = live.lock.then(work);
    live.lock = run.catch(() => undefined);
    return run;
  }

  // ---- create ---------------------------------------------------------------------------

  async create(name: string | undefined, body: ContainerCreateBody): Promise<{ Id: string; Warnings: string[] }> {
    if (this.closed) throw new ConflictError('the engine is shutting down');
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new UsageError('the request body must be a JSON object (the container config)');
    if (!body.Image) throw new UsageError('no image given: the config needs "Image"');
    if (name !== undefined && name !== '') {
      if (!NAME.test(name)) throw new UsageError(`invalid container name "${name}": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
      const taken = [...this.containers.values()].find((l) => l.record.Name === `/${name.replace(/^\//, '')}`);
      if (taken) throw new ConflictError(`the container name "/${name.replace(/^\//, '')}" is already in use by container ${taken.record.Id}: remove it or pick another name`);
    }
    // NetworkingConfig is a sibling of HostConfig in the create body, not part of the
    // container's Config: left in, it showed up in `docker inspect`'s Config.
    const { HostConfig: hostConfig = {}, NetworkingConfig: networking, ...requested } = body;
    const image = await this.options.images.find(body.Image);
    const config = mergeImageConfig(requested, image.config.config);
    validateContainerRequest(config, hostConfig);
    parseHealthConfig(config.Healthcheck);
    const networks = this.options.networking?.plan(config, hostConfig, networking?.EndpointsConfig) ?? {};

    const id = randomBytes(32).toString('hex');
    const args = containerCommand(config);
    const record: ContainerRecord = {
      Id: id,
      Name: `/${name ? name.replace(/^\//, '') : generatedName(id)}`,
      Created: new Date(this.clock.now()).toISOString(),
      Image: imageId(image),
      ImageRef: body.Image,
      Path: args[0]!,
      Args: args.slice(1),
      Config: { ...config, Image: body.Image, Hostname: config.Hostname || id.slice(0, 12) },
      HostConfig: { NetworkMode: 'default', RestartPolicy: { Name: 'no', MaximumRetryCount: 0 }, ...hostConfig },
      State: { Status: 'created', Pid: 0, ExitCode: 0, Error: '', OOMKilled: false, StartedAt: ZERO_TIME, FinishedAt: ZERO_TIME },
      RestartCount: 0,
      ManuallyStopped: false,
      NetworkSettings: { Networks: networks, Ports: {} },
    };
    const volumes = await this.options.volumes.resolve(config, hostConfig, (ref) => this.find(ref));
    record.MountPoints = volumes.mountPoints;
    const dirs = containerRootfsDirs(this.options.root, id);
    try {
      await mountImageRootfs(this.options.images.store, image, dirs);
      // The record is written last: a crash before this leaves a directory without one,
      // which recovery removes.
      await saveRecord(this.options.root, record);
    } catch (err) {
      volumes.release();
      await this.removeLeftovers(id);
      await this.options.volumes.removeVolumes(volumes.created);
      throw err;
    }
    this.track(record);
    volumes.release();
    this.publish('create', record);
    return { Id: id, Warnings: [] };
  }

  // ---- start ----------------------------------------------------------------------------

  /** Resolves false when it was already running (Docker answers 304). */
  start(ref: string): Promise<boolean> {
    const live = this.findLive(ref);
    return this.withLock(live, () => this.startLocked(live));
  }

  private async startLocked(live: LiveContainer): Promise<boolean> {
    if (this.closed) throw new ConflictError('the engine is shutting down');
    if (live.removed) throw new NotFoundError(`No such container: ${live.record.Id}`);
    const record = live.record;
    if (record.State.Status === 'running') return false;
    if (live.restartTimer !== undefined) {
      this.clock.clearTimeout(live.restartTimer);
      live.restartTimer = undefined;
    }
    const { runtime, root } = this.options;
    const dirs = containerRootfsDirs(root, record.Id);
    // The last exit's tear-down may be unmounting the rootfs: it finishes before the mount is looked at.
    await live.teardown;
    if (!(await isMountPoint(dirs.target))) {
      // After a reboot (or a stop that unmounted it) the overlay is gone: mount it again.
      const image = await this.options.images.find(record.Image);
      await mountImageRootfs(this.options.images.store, image, dirs);
    }
    if (await this.shimState(record.Id)) await runtime.delete(record.Id, { force: true });
    const volumeMounts = await this.options.volumes.attach(record, dirs.target);
    let bundle: string;
    try {
      const sandbox: ContainerSandbox = this.options.networking ? await this.options.networking.attach(record) : { network: 'none', mounts: [] };
      const spec = await runtimeSpec({ id: record.Id, rootfs: dirs.target, config: record.Config, host: record.HostConfig, sandbox, volumeMounts });
      bundle = await writeBundle(join(containerDir(root, record.Id), 'bundle'), spec);
    } catch (err) {
      await this.undoStart(live);
      throw err;
    }
    live.run++;
    let markExited: () => void = () => undefined;
    live.exited = new Promise<void>((resolve) => (markExited = resolve));
    live.markExited = markExited;
    let state: ContainerState;
    try {
      state = await runtime.start(record.Id, bundle);
    } catch (err) {
      await this.undoStart(live);
      record.State = { ...record.State, Status: record.State.Status === 'restarting' ? 'exited' : record.State.Status, Error: (err as Error).message, ExitCode: 127 };
      await saveRecord(root, record);
      live.markExited();
      this.notifyWaiters(live);
      throw err;
    }
    record.State = {
      Status: 'running',
      Pid: state.pid,
      ExitCode: 0,
      Error: '',
      OOMKilled: false,
      StartedAt: state.startedAt ?? new Date(this.clock.now()).toISOString(),
      FinishedAt: record.State.FinishedAt,
    };
    record.ManuallyStopped = false;
    await saveRecord(root, record);
    this.publish('start', record);
    this.watchExit(live);
    this.startHealth(live);
    return true;
  }

  private startHealth(live: LiveContainer, initial?: HealthState): void {
    const settings = parseHealthConfig(live.record.Config.Healthcheck);
    if (!settings) return;
    const id = live.record.Id;
    const monitor = new HealthMonitor({
      config: settings,
      clock: this.clock,
      startedAt: Date.parse(live.record.State.StartedAt),
      ...(initial ? { initial } : {}),
      exec: async (args, timeoutMs, signal) => {
        let output = '';
        const sink = new Writable({
          write(chunk: Buffer, _encoding, done) {
            if (output.length < 8192) output += chunk.toString('utf8');
            done();
          },
        });
        const r = await this.options.runtime.exec(id, { args, stdout: sink, stderr: sink, signal });
        return { exitCode: r.exitCode, output };
      },
      onChange: (health) => {
        live.record.State.Health = health;
        this.publish(`health_status: ${health.Status}`, live.record);
      },
      onProbe: (_result, health) => {
        live.record.State.Health = health;
        void saveRecord(this.options.root, live.record).catch(() => undefined);
      },
    });
    live.health = monitor;
    live.record.State.Health = monitor.health;
    monitor.start();
  }

  /** Follows the shim's state file until the run ends, then records the exit. */
  private watchExit(live: LiveContainer): void {
    const run = live.run;
    const id = live.record.Id;
    const follow = (): void => {
      this.options.runtime.waitForExit(id, WATCH_MS, this.closing.signal).then(
        (final) => {
          if (live.run !== run || live.removed) return;
          void this.handleExit(live, final);
        },
        () => {
          if (live.run === run && !live.removed && !this.closed) follow();
        },
      );
    };
    follow();
  }

  private recordExit(live: LiveContainer, final: Pick<ContainerState, 'exitCode' | 'signal' | 'oomKilled' | 'finishedAt' | 'error'>): void {
    const s = live.record.State;
    void live.health?.stop();
    live.health = undefined;
    s.Status = 'exited';
    s.Pid = 0;
    s.ExitCode = final.exitCode ?? (final.signal !== null ? 128 + final.signal : 255);
    s.OOMKilled = final.oomKilled;
    s.FinishedAt = final.finishedAt ?? new Date(this.clock.now()).toISOString();
    s.Error = final.error ?? '';
    if (s.Health) s.Health = { ...s.Health, Status: 'unhealthy' };
  }

  private async handleExit(live: LiveContainer, final: ContainerState): Promise<void> {
    const record = live.record;
    const ranForMs = this.clock.now() - Date.parse(record.State.StartedAt);
    this.recordExit(live, final);
    // Not awaited: the exit is known now; the kernel work goes on (a restart awaits it).
    void this.detachNetwork(live);
    if (record.State.OOMKilled) this.publish('oom', record);
    this.publish('die', record, { exitCode: String(record.State.ExitCode) });
    const restart = !this.closed && shouldRestart({
      policy: record.HostConfig.RestartPolicy,
      exitCode: record.State.ExitCode,
      restartCount: record.RestartCount,
      stoppedByUser: record.ManuallyStopped,
    });
    // One that stays stopped gives its cgroups and rootfs mount back now, beside the network
    // tear-down, rather than when it is removed (`down` removes right after the stop).
    if (!restart) this.releaseRuntime(live);
    if (restart) {
      live.restartDelayMs = nextRestartDelay({ previousDelayMs: live.restartDelayMs, ranForMs });
      record.State.Status = 'restarting';
      live.restartTimer = this.clock.setTimeout(() => {
        live.restartTimer = undefined;
        record.RestartCount++;
        this.withLock(live, () => (record.State.Status === 'restarting' ? this.startLocked(live) : Promise.resolve(false))).catch(() => undefined);
      }, live.restartDelayMs);
    }
    await saveRecord(this.options.root, record).catch(() => undefined);
    if (!restart) await this.options.volumes.release(record);
    live.markExited();
    this.notifyWaiters(live);
    // As Docker's daemon does for --rm: the container's anonymous volumes go with it.
    if (!restart && record.HostConfig.AutoRemove) await this.remove(record.Id, { force: true, volumes: true }).catch(() => undefined);
  }

  // ---- stop, kill, restart ----------------------------------------------------------------

  /** Resolves false when it was not running (Docker answers 304). */
  stop(ref: string, options: { timeoutSeconds?: number; signal?: string } = {}): Promise<boolean> {
    const live = this.findLive(ref);
    return this.withLock(live, () => this.stopLocked(live, options));
  }

  private async stopLocked(live: LiveContainer, options: { timeoutSeconds?: number; signal?: string }): Promise<boolean> {
    const record = live.record;
    await this.thawIfPaused(live);
    if (record.State.Status === 'restarting') {
      this.clock.clearTimeout(live.restartTimer);
      live.restartTimer = undefined;
      record.State.Status = 'exited';
      record.ManuallyStopped = true;
      await saveRecord(this.options.root, record);
      return true;
    }
    if (record.State.Status !== 'running') return false;
    record.ManuallyStopped = true;
    await saveRecord(this.options.root, record);
    const timeout = options.timeoutSeconds ?? record.Config.StopTimeout ?? 10;
    const signal = signalName(options.signal || record.Config.StopSignal || 'SIGTERM');
    this.publish('kill', record, { signal: signal.replace(/^SIG/, '') });
    await this.options.runtime.stop(record.Id, { signal, graceMs: timeout < 0 ? 2_000_000_000 : timeout * 1000 });
    await live.exited;
    this.publish('stop', record);
    return true;
  }

  async kill(ref: string, signal = 'SIGKILL'): Promise<void> {
    const live = this.findLive(ref);
    const record = live.record;
    // As Docker does: a paused container is thawed to receive the signal. Only then is the
    // lock taken: a kill must not wait for a stop in progress (it is what ends one early).
    if (record.State.Status === 'paused') await this.withLock(live, () => this.thawIfPaused(live));
    if (record.State.Status !== 'running') throw new ConflictError(`container ${record.Name.slice(1)} is not running`);
    const name = signalName(signal);
    // Signals that end a process count as the user stopping it: no restart policy undoes that.
    if (['SIGKILL', 'SIGTERM', 'SIGINT', 'SIGQUIT', signalName(record.Config.StopSignal || 'SIGTERM')].includes(name)) {
      record.ManuallyStopped = true;
      await saveRecord(this.options.root, record);
    }
    this.publish('kill', record, { signal: name.replace(/^SIG/, '') });
    await this.options.runtime.kill(record.Id, name);
  }

  /** The main process's terminal size (docker resize, which `docker run -t` sends from a terminal); without a terminal, nothing to do. */
  async resize(ref: string, rows: number, cols: number): Promise<void> {
    const record = this.findLive(ref).record;
    if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows <= 0 || cols <= 0 || rows > 0xffff || cols > 0xffff) {
      throw new UsageError(`resize needs h and w, the terminal's rows and columns (1 to 65535), not ${rows} x ${cols}`);
    }
    if (record.State.Status !== 'running') throw new ConflictError(`container ${record.Name.slice(1)} is not running`);
    if (!record.Config.Tty) return;
    await this.options.runtime.resize(record.Id, rows, cols);
  }

  async restart(ref: string, options: { timeoutSeconds?: number; signal?: string } = {}): Promise<void> {
    const live = this.findLive(ref);
    await this.withLock(live, async () => {
      await this.stopLocked(live, options);
      await this.startLocked(live);
    });
    this.publish('restart', live.record);
  }

  // ---- pause, unpause ----------------------------------------------------------------------

  /** Freezes every process of a running container (docker pause); health checks wait meanwhile. */
  pause(ref: string): Promise<void> {
    const live = this.findLive(ref);
    return this.withLock(live, async () => {
      const record = live.record;
      if (record.State.Status === 'paused') throw new ConflictError(`container ${record.Name.slice(1)} is already paused`);
      if (record.State.Status !== 'running') throw new ConflictError(`container ${record.Name.slice(1)} is not running`);
      await this.options.runtime.freeze(record.Id, true);
      void live.health?.stop();
      record.State.Status = 'paused';
      await saveRecord(this.options.root, record);
      this.publish('pause', record);
    });
  }

  unpause(ref: string): Promise<void> {
    const live = this.findLive(ref);
    return this.withLock(live, async () => {
      const record = live.record;
      if (record.State.Status !== 'paused') throw new ConflictError(`container ${record.Name.slice(1)} is not paused`);
      await this.thawIfPaused(live);
      this.publish('unpause', record);
    });
  }

  /** Before a stop, kill or removal: frozen processes cannot act on a signal. */
  private async thawIfPaused(live: LiveContainer): Promise<void> {
    const record = live.record;
    if (record.State.Status !== 'paused') return;
    await this.options.runtime.freeze(record.Id, false);
    record.State.Status = 'running';
    await saveRecord(this.options.root, record);
    this.startHealth(live, record.State.Health);
  }

  // ---- remove ---------------------------------------------------------------------------

  /** `volumes` (rm -v) also removes the container's anonymous volumes; named ones stay. */
  remove(ref: string, options: { force?: boolean; volumes?: boolean } = {}): Promise<void> {
    const live = this.findLive(ref);
    return this.withLock(live, async () => {
      if (live.removed) return;
      const record = live.record;
      const running = record.State.Status === 'running' || record.State.Status === 'paused';
      if (running && !options.force) {
        throw new ConflictError(`cannot remove container ${record.Name.slice(1)}: it is running; stop it first, or force the removal`);
      }
      if (live.restartTimer !== undefined) this.clock.clearTimeout(live.restartTimer);
      void live.health?.stop();
      if (running) {
        record.ManuallyStopped = true;
        // Frozen tasks (cgroup v1) do not die of SIGKILL until thawed.
        await this.thawIfPaused(live).catch(() => undefined);
        await this.options.runtime.kill(record.Id, 'SIGKILL').catch(() => undefined);
        await Promise.race([live.exited, new Promise((r) => setTimeout(r, 10_000))]);
      }
      live.removed = true;
      await live.teardown;
      await this.detachNetwork(live);
      // The record goes first: should the engine die mid-way, what is left is a directory
      // without a record, which recovery finishes removing.
      await unlink(join(containerDir(this.options.root, record.Id), 'container.json')).catch(() => undefined);
      this.containers.delete(record.Id);
      await this.removeLeftovers(record.Id);
      await this.options.volumes.release(record);
      if (options.volumes) await this.options.volumes.removeAnonymous(record);
      this.publish('destroy', record);
      live.markExited();
      this.notifyWaiters(live);
    });
  }

  async prune(): Promise<{ ContainersDeleted: string[]; SpaceReclaimed: number }> {
    const deleted: string[] = [];
    for (const record of this.all()) {
      if (record.State.Status === 'exited' || record.State.Status === 'created' || record.State.Status === 'dead') {
        await this.remove(record.Id);
        deleted.push(record.Id);
      }
    }
    return { ContainersDeleted: deleted, SpaceReclaimed: 0 };
  }

  // ---- wait ---------------------------------------------------------------------------

  /** Docker's wait conditions; resolves with the exit code once the condition holds. */
  async wait(ref: string, condition: WaitCondition = 'not-running', signal?: AbortSignal): Promise<{ StatusCode: number; Error: { Message: string } | null }> {
    const live = this.findLive(ref);
    const running = (): boolean => ['running', 'paused', 'restarting'].includes(live.record.State.Status);
    const holds = (): boolean => live.removed || (condition === 'not-running' && !running());
    if (!holds()) {
      await new Promise<void>((resolve) => {
        const check = (): void => {
          // A container about to be restarted by its policy has not stopped for `not-running`.
          if (condition === 'next-exit' || holds()) {
            live.waiters.delete(check);
            resolve();
          }
        };
        live.waiters.add(check);
        signal?.addEventListener('abort', () => {
          live.waiters.delete(check);
          resolve();
        }, { once: true });
      });
    }
    return {
      StatusCode: live.record.State.ExitCode,
      Error: live.record.State.Error ? { Message: live.record.State.Error } : null,
    };
  }

  /** Tells every waiter that the container exited or went away. */
  private notifyWaiters(live: LiveContainer): void {
    for (const check of [...live.waiters]) check();
  }

  // ---- views ----------------------------------------------------------------------------

  stateView(record: ContainerRecord): ContainerStateView {
    const s = record.State;
    const view: ContainerStateView = {
      Status: s.Status,
      Running: s.Status === 'running' || s.Status === 'paused',
      Paused: s.Status === 'paused',
      Restarting: s.Status === 'restarting',
      OOMKilled: s.OOMKilled,
      Dead: s.Status === 'dead',
      Pid: s.Pid,
      ExitCode: s.ExitCode,
      Error: s.Error,
      StartedAt: s.StartedAt,
      FinishedAt: s.FinishedAt,
    };
    const live = this.containers.get(record.Id);
    const health = live?.health?.health ?? s.Health;
    if (health) view.Health = health;
    return view;
  }

  inspect(ref: string): ContainerInspect {
    const live = this.findLive(ref);
    const record = live.record;
    const dirs = containerRootfsDirs(this.options.root, record.Id);
    return {
      Id: record.Id,
      Created: record.Created,
      Path: record.Path,
      Args: record.Args,
      State: this.stateView(record),
      Image: record.Image,
      Name: record.Name,
      RestartCount: record.RestartCount,
      Driver: 'overlay2',
      Platform: 'linux',
      LogPath: containerLogPath(this.options.root, record.Id),
      ResolvConfPath: '',
      HostnamePath: '',
      HostsPath: '',
      MountLabel: '',
      ProcessLabel: '',
      AppArmorProfile: '',
      ExecIDs: null,
      HostConfig: record.HostConfig,
      GraphDriver: { Name: 'overlay2', Data: { MergedDir: dirs.target, UpperDir: dirs.upper, WorkDir: dirs.work } },
      Mounts: this.options.volumes.views(record),
      Config: record.Config,
      NetworkSettings: networkSettingsView(record, this.options.networking?.netnsPath(record.Id) ?? ''),
    };
  }

  summary(record: ContainerRecord): ContainerSummary {
    return {
      Id: record.Id,
      Names: [record.Name],
      Image: record.ImageRef,
      ImageID: record.Image,
      Command: [record.Path, ...record.Args].map((a) => (/\s/.test(a) ? `"${a}"` : a)).join(' '),
      Created: Math.floor(Date.parse(record.Created) / 1000),
      Ports: portsView(record),
      Labels: record.Config.Labels ?? {},
      State: record.State.Status,
      Status: statusText(this.stateView(record), this.clock.now()),
      HostConfig: { NetworkMode: record.HostConfig.NetworkMode ?? 'default' },
      NetworkSettings: { Networks: record.NetworkSettings?.Networks ?? {} },
      Mounts: this.options.volumes.views(record),
    };
  }

  /** The rootfs of a container on the host (mounted while it runs; a stopped one's is mounted again here, until its removal). */
  async rootfs(ref: string): Promise<string> {
    const live = this.findLive(ref);
    const record = live.record;
    const dirs = containerRootfsDirs(this.options.root, record.Id);
    // A stopped container's rootfs may be being unmounted (releaseRuntime): mounted again after that.
    await live.teardown;
    if (!(await isMountPoint(dirs.target))) {
      const image = await this.options.images.find(record.Image);
      await mountImageRootfs(this.options.images.store, image, dirs);
    }
    return dirs.target;
  }

  /** The cgroups the shim placed the running container in (for stats and top). */
  async cgroups(ref: string): Promise<ContainerState['cgroups']> {
    const record = this.find(ref);
    if (record.State.Status !== 'running' && record.State.Status !== 'paused') throw new ConflictError(`container ${record.Name.slice(1)} is not running`);
    return (await this.options.runtime.state(record.Id)).cgroups;
  }

  logPath(ref: string): string {
    return containerLogPath(this.options.root, this.find(ref).Id);
  }

  isRunning(ref: string): boolean {
    const status = this.find(ref).State.Status;
    return status === 'running' || status === 'paused' || status === 'restarting';
  }

  /** Takes the network of a container down (its ports, veths, namespace, addresses); a failure is kept in the record, never thrown. */
  private detachNetwork(live: LiveContainer): Promise<void> {
    const record = live.record;
    const teardown = this.options.networking?.detach(record) ?? Promise.resolve();
    live.teardown = teardown.catch((err: unknown) => {
      record.State.Error ||= `network tear-down: ${(err as Error).message}`;
    });
    return live.teardown;
  }

  /**
   * The shim's leftovers of a stopped container (cgroups, state, bundle config) and its
   * rootfs mount, in one process, joined to the tear-down a start, a removal or a look
   * into the rootfs awaits first. A start or a look mounts the rootfs again; what fails
   * here is left to the removal, which deletes it again (removeLeftovers).
   */
  private releaseRuntime(live: LiveContainer): void {
    const id = live.record.Id;
    const released = this.options.runtime.delete(id, { force: true, unmount: containerRootfsDirs(this.options.root, id).target }).catch(() => undefined);
    live.teardown = Promise.all([live.teardown, released]).then(() => undefined);
  }

  /** What a start made before it failed: the network and the volumes' mounts. */
  private async undoStart(live: LiveContainer): Promise<void> {
    await this.detachNetwork(live);
    await this.options.volumes.release(live.record).catch(() => undefined);
  }

  /** Joins a network (POST /networks/{id}/connect): at once when running, at the next start otherwise. */
  async connectNetwork(ref: string, network: string, endpoint: EndpointConfig | null): Promise<void> {
    const live = this.findLive(ref);
    if (!this.options.networking) throw new ConflictError('this engine has no networking');
    await this.withLock(live, async () => {
      await this.options.networking!.connect(live.record, network, endpoint);
      await saveRecord(this.options.root, live.record);
    });
  }

  async disconnectNetwork(ref: string, network: string): Promise<void> {
    const live = this.findLive(ref);
    if (!this.options.networking) throw new ConflictError('this engine has no networking');
    await this.withLock(live, async () => {
      await this.options.networking!.disconnect(live.record, network);
      await saveRecord(this.options.root, live.record);
    });
  }

  /** Stops health checks and restart timers; containers keep running (they outlive the engine). */
  close(): void {
    this.closed = true;
    this.closing.abort();
    for (const live of this.containers.values()) {
      void live.health?.stop();
      if (live.restartTimer !== undefined) this.clock.clearTimeout(live.restartTimer);
    }
  }

  private publish(action: string, record: ContainerRecord, extra: Record<string, string> = {}): void {
    this.options.events.publish('container', action, record.Id, {
      ...(record.Config.Labels ?? {}),
      image: record.ImageRef,
      name: record.Name.slice(1),
      ...extra,
    });
  }
}

function networkSettingsView(record: ContainerRecord, sandboxKey: string): ContainerInspect['NetworkSettings'] {
  const networks = record.NetworkSettings?.Networks ?? {};
  const primary = Object.values(networks)[0];
  const running = record.State.Status === 'running' || record.State.Status === 'paused';
  return {
    Networks: networks,
    Ports: record.NetworkSettings?.Ports ?? {},
    IPAddress: primary?.IPAddress ?? '',
    IPPrefixLen: primary?.IPPrefixLen ?? 0,
    Gateway: primary?.Gateway ?? '',
    MacAddress: primary?.IPAddress ? primary.MacAddress : '',
    SandboxKey: running && primary?.IPAddress ? sandboxKey : '',
  };
}

/** `docker ps`'s port rows: one per host binding, plus exposed ports with no binding. */
function portsView(record: ContainerRecord): ContainerSummary['Ports'] {
  const out: ContainerSummary['Ports'] = [];
  for (const [key, bindings] of Object.entries(record.NetworkSettings?.Ports ?? {})) {
    const [port = '0', type = 'tcp'] = key.split('/');
    if (!bindings?.length) out.push({ PrivatePort: Number(port), Type: type });
    for (const b of bindings ?? []) out.push({ IP: b.HostIp || '0.0.0.0', PrivatePort: Number(port), PublicPort: Number(b.HostPort), Type: type });
  }
  return out;
}

/** `Up 5 minutes`, `Exited (0) 2 seconds ago`, as `docker ps` says it. */
export function statusText(state: ContainerStateView, now: number): string {
  if (state.Status === 'created') return 'Created';
  if (state.Status === 'restarting') return `Restarting (${state.ExitCode}) ${humanDuration(now - Date.parse(state.FinishedAt))} ago`;
  if (state.Status === 'running' || state.Status === 'paused') {
    const health = state.Health ? ` (${state.Health.Status === 'starting' ? 'health: starting' : state.Health.Status})` : '';
    return `Up ${humanDuration(now - Date.parse(state.StartedAt))}${state.Status === 'paused' ? ' (Paused)' : health}`;
  }
  if (state.FinishedAt === ZERO_TIME) return 'Exited';
  return `Exited (${state.ExitCode}) ${humanDuration(now - Date.parse(state.FinishedAt))} ago`;
}

export function humanDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 1) return 'Less than a second';
  if (s === 1) return '1 second';
  if (s < 60) return `${s} seconds`;
  const m = Math.round(s / 60);
  if (m === 1) return 'About a minute';
  if (m < 60) return `${m} minutes`;
  const h = Math.round(s / 3600);
  if (h === 1) return 'About an hour';
  if (h < 48) return `${h} hours`;
  return `${Math.round(h / 24)} days`;
}

const ADJECTIVES = ['brave', 'calm', 'eager', 'fond', 'keen', 'lucid', 'merry', 'nimble', 'quiet', 'sharp', 'swift', 'tidy'];
const NOUNS = ['otter', 'falcon', 'maple', 'comet', 'harbor', 'lynx', 'quartz', 'cedar', 'meadow', 'raven', 'summit', 'willow'];

/** A readable name for a container created without one, derived from its ID (no randomness of its own). */
function generatedName(id: string): string {
  const n = parseInt(id.slice(0, 8), 16);
  return `${ADJECTIVES[n % ADJECTIVES.length]}_${NOUNS[Math.floor(n / ADJECTIVES.length) % NOUNS.length]}_${id.slice(0, 4)}`;
}

/** `KILL`, `9`, `SIGKILL` → `SIGKILL`. */
export function signalName(signal: string): NodeJS.Signals {
  const numbers: Record<string, string> = { 1: 'SIGHUP', 2: 'SIGINT', 3: 'SIGQUIT', 6: 'SIGABRT', 9: 'SIGKILL', 10: 'SIGUSR1', 12: 'SIGUSR2', 15: 'SIGTERM', 28: 'SIGWINCH' };
  const upper = signal.toUpperCase();
  const name = numbers[upper] ?? (upper.startsWith('SIG') ? upper : `SIG${upper}`);
  if (!/^SIG[A-Z0-9]+$/.test(name)) throw new UsageError(`"${signal}" is not a signal name (e.g. SIGTERM, KILL, 9)`);
  return name as NodeJS.Signals;
}

