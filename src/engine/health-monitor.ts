// Runs one container's health check the way dockerd does (daemon/health.go), so
// `State.Health` and the `health_status` events read the same as Docker's to
// docker, dockerode, testcontainers and our own `depends_on: service_healthy`.
// It knows nothing of HTTP or of the runtime: the probe is an injected exec, time is
// an injected clock, and what to do with a status change is the caller's business.

import type { HealthConfig, HealthLogEntry, HealthState, HealthStatus } from '../common/api-types.js';
import { UsageError } from '../common/errors.js';
import { formatDuration } from '../common/go-duration.js';

const NANOS_PER_MS = 1e6;

/** Docker's defaults, used wherever the API config says 0. */
export const HEALTH_DEFAULTS = {
  intervalMs: 30_000,
  timeoutMs: 30_000,
  retries: 3,
  startPeriodMs: 0,
  startIntervalMs: 5_000,
} as const;

/** Docker keeps this many results in `State.Health.Log`. */
export const HEALTH_LOG_ENTRIES = 5;
/** Docker keeps this many bytes of a probe's output, then appends "...". */
export const HEALTH_OUTPUT_BYTES = 4096;

/** The shell CMD-SHELL runs under when the container config names none (Docker's `Config.Shell`). */
export const DEFAULT_SHELL: readonly string[] = ['/bin/sh', '-c'];

/** A health check with defaults applied and durations in milliseconds. */
export interface HealthCheckSettings {
  /** What each probe executes in the container: CMD's argv, or the shell plus CMD-SHELL's command. */
  command: string[];
  intervalMs: number;
  timeoutMs: number;
  retries: number;
  startPeriodMs: number;
  startIntervalMs: number;
}

/**
 * The settings a container's `Config.Healthcheck` asks for, or `undefined` when it has
 * no check: absent, empty Test, `["NONE"]`, or a Test type Docker does not know (dockerd
 * logs and ignores those, so a container created by another client still starts).
 * Throws UsageError, with dockerd's wording, for the values dockerd refuses at create.
 */
export function parseHealthConfig(
  config: HealthConfig | null | undefined,
  shell: readonly string[] = DEFAULT_SHELL,
): HealthCheckSettings | undefined {
  if (!config) return undefined;
  rejectInvalidDurations(config);
  const [kind, ...rest] = config.Test ?? [];
  let command: string[];
  if (kind === 'CMD') command = rest;
  else if (kind === 'CMD-SHELL') command = [...(shell.length > 0 ? shell : DEFAULT_SHELL), ...rest];
  else return undefined;
  if (rest.length === 0) {
    // dockerd would accept this and fail every probe; saying so at create is kinder.
    throw new UsageError(`Healthcheck Test ${JSON.stringify(config.Test)} names no command: add one after "${kind}"`);
  }
  return {
    command,
    intervalMs: millisOrDefault(config.Interval, HEALTH_DEFAULTS.intervalMs),
    timeoutMs: millisOrDefault(config.Timeout, HEALTH_DEFAULTS.timeoutMs),
    retries: config.Retries && config.Retries > 0 ? config.Retries : HEALTH_DEFAULTS.retries,
    startPeriodMs: millisOrDefault(config.StartPeriod, HEALTH_DEFAULTS.startPeriodMs),
    startIntervalMs: millisOrDefault(config.StartInterval, HEALTH_DEFAULTS.startIntervalMs),
  };
}

function rejectInvalidDurations(config: HealthConfig): void {
  const durations = [
    ['Interval', config.Interval],
    ['Timeout', config.Timeout],
    ['StartPeriod', config.StartPeriod],
    ['StartInterval', config.StartInterval],
  ] as const;
  for (const [field, nanos] of durations) {
    if (nanos && nanos < NANOS_PER_MS) throw new UsageError(`${field} in Healthcheck cannot be less than 1ms`);
  }
  if (config.Retries && config.Retries < 0) throw new UsageError('Retries in Healthcheck cannot be negative');
}

function millisOrDefault(nanos: number | undefined, defaultMs: number): number {
  return nanos ? nanos / NANOS_PER_MS : defaultMs;
}

/**
 * The check a container runs: its own `Config.Healthcheck` over the image's, field by
 * field, as dockerd merges them at create (a zero or empty field takes the image's).
 */
export function mergeHealthConfig(
  image: HealthConfig | null | undefined,
  container: HealthConfig | null | undefined,
): HealthConfig | undefined {
  if (!container) return image ? { ...image } : undefined;
  if (!image) return { ...container };
  return {
    Test: container.Test && container.Test.length > 0 ? container.Test : image.Test,
    Interval: container.Interval || image.Interval,
    Timeout: container.Timeout || image.Timeout,
    Retries: container.Retries || image.Retries,
    StartPeriod: container.StartPeriod || image.StartPeriod,
    StartInterval: container.StartInterval || image.StartInterval,
  };
}

/**
 * The health a container has when it (re)starts: dockerd resets status and streak but
 * keeps the log, so `inspect` still shows why the previous run went unhealthy.
 */
export function healthOnContainerStart(previous?: HealthState): HealthState {
  return { Status: 'starting', FailingStreak: 0, Log: previous ? previous.Log.map((e) => ({ ...e })) : [] };
}

export interface ProbeOutcome {
  exitCode: number;
  output: string;
}

/**
 * Runs `args` in the container. Must settle soon after `signal` aborts (kill the exec'd
 * process): the monitor waits for it, as dockerd does, so dying probes never pile up.
 */
export type ProbeExec = (args: string[], timeoutMs: number, signal: AbortSignal) => Promise<ProbeOutcome>;

/** Wall-clock milliseconds and timers; tests pass a fake one and need no sleeps. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = { now: () => Date.now(), setTimeout, clearTimeout };

export interface HealthMonitorOptions {
  /** From parseHealthConfig: a monitor exists only for a container that has a check. */
  config: HealthCheckSettings;
  exec: ProbeExec;
  clock: Clock;
  /**
   * When the container started (epoch ms); the start period counts from here, not from
   * start(), so a monitor restored after an engine restart does not grant a new one.
   * Defaults to the clock's time at start().
   */
  startedAt?: number;
  /** A persisted state to carry on from (engine restart); otherwise a fresh `starting`. */
  initial?: HealthState;
  /** Called only when Status changes; the engine emits `health_status: <status>` here. Must not throw. */
  onChange?: (health: HealthState, previousStatus: HealthStatus) => void;
  /** Called after every probe, with the state it led to (dockerd checkpoints here). Must not throw. */
  onProbe?: (result: HealthLogEntry, health: HealthState) => void;
}

interface InFlightProbe {
  controller: AbortController;
  settled: Promise<void>;
}

/**
 * One container run's health checking: start() when the container starts, stop() when it
 * stops. Probes never overlap: the next is timed from the end of the previous one. Not
 * restartable, like dockerd's monitor goroutine: a new container run gets a new monitor
 * (seeded with healthOnContainerStart(previous)).
 */
export class HealthMonitor {
  readonly #config: HealthCheckSettings;
  readonly #exec: ProbeExec;
  readonly #clock: Clock;
  readonly #onChange: HealthMonitorOptions['onChange'];
  readonly #onProbe: HealthMonitorOptions['onProbe'];
  #startedAt: number | undefined;
  #state: HealthState;
  #phase: 'new' | 'running' | 'stopped' = 'new';
  #timer: unknown;
  #probe: InFlightProbe | undefined;

  constructor(options: HealthMonitorOptions) {
    this.#config = options.config;
    this.#exec = options.exec;
    this.#clock = options.clock;
    this.#onChange = options.onChange;
    this.#onProbe = options.onProbe;
    this.#startedAt = options.startedAt;
    this.#state = copyHealth(options.initial ?? healthOnContainerStart());
    this.#state.Log = this.#state.Log.slice(-HEALTH_LOG_ENTRIES);
  }

  /** Docker's `State.Health`; a copy, so callers may keep or serialise it. */
  get health(): HealthState {
    return copyHealth(this.#state);
  }

  start(): void {
    if (this.#phase === 'running') return;
    if (this.#phase === 'stopped') throw new Error('a stopped HealthMonitor cannot be started again: create a new one for the new container run');
    this.#phase = 'running';
    this.#startedAt ??= this.#clock.now();
    this.#scheduleNextProbe();
  }

  /** No probe runs after this; an in-flight one is aborted and its result dropped. Resolves once it has settled. */
  async stop(): Promise<void> {
    this.#phase = 'stopped';
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    const probe = this.#probe;
    if (!probe) return;
    probe.controller.abort();
    await probe.settled;
  }

  #scheduleNextProbe(): void {
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      this.#runProbe();
    }, this.#nextDelayMs());
  }

  /** Docker ≥25: while still `starting` inside the start period, probe every StartInterval to turn healthy sooner. */
  #nextDelayMs(): number {
    const { startPeriodMs, startIntervalMs, intervalMs } = this.#config;
    const inStartPeriod = this.#clock.now() - this.#startedAtMs() < startPeriodMs;
    return inStartPeriod && this.#state.Status === 'starting' ? startIntervalMs : intervalMs;
  }

  #startedAtMs(): number {
    return this.#startedAt ?? this.#clock.now();
  }

  #runProbe(): void {
    const { command, timeoutMs } = this.#config;
    const controller = new AbortController();
    const startMs = this.#clock.now();
    let timedOut = false;
    const timeoutTimer = this.#clock.setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    const settled = settleProbe(() => this.#exec([...command], timeoutMs, controller.signal)).then((settlement) => {
      this.#clock.clearTimeout(timeoutTimer);
      this.#probe = undefined;
      // dockerd drops the result of a probe cancelled by a stop: it says nothing about health.
      if (this.#phase !== 'running') return;
      const result: HealthLogEntry = {
        Start: new Date(startMs).toISOString(),
        End: new Date(this.#clock.now()).toISOString(),
        ...(timedOut ? timeoutResult(timeoutMs, settlement) : outcomeResult(settlement)),
      };
      const previousStatus = this.#state.Status;
      this.#record(result, startMs);
      // Scheduled before the callbacks, so a throwing callback cannot silence the monitor.
      this.#scheduleNextProbe();
      this.#onProbe?.(result, this.health);
      if (this.#state.Status !== previousStatus) this.#onChange?.(this.health, previousStatus);
    });
    this.#probe = { controller, settled };
  }

  /** dockerd's handleProbeResult. */
  #record(result: HealthLogEntry, probeStartMs: number): void {
    const state = this.#state;
    state.Log = [...state.Log, result].slice(-HEALTH_LOG_ENTRIES);
    if (result.ExitCode === 0) {
      state.FailingStreak = 0;
      state.Status = 'healthy';
      return;
    }
    // A slow starter is not unhealthy yet; but once it has been healthy, every failure counts.
    const graced = state.Status === 'starting' && probeStartMs - this.#startedAtMs() < this.#config.startPeriodMs;
    if (graced) return;
    state.FailingStreak += 1;
    if (state.FailingStreak >= this.#config.retries) state.Status = 'unhealthy';
  }
}

type ProbeSettlement = { ran: true; outcome: ProbeOutcome } | { ran: false; error: string };

async function settleProbe(run: () => Promise<ProbeOutcome>): Promise<ProbeSettlement> {
  try {
    return { ran: true, outcome: await run() };
  } catch (error) {
    return { ran: false, error: error instanceof Error ? error.message : String(error) };
  }
}

type ResultFields = Pick<HealthLogEntry, 'ExitCode' | 'Output'>;

/** A probe that could not run (exec refused, container gone) is a failed probe, as in dockerd. */
function outcomeResult(settlement: ProbeSettlement): ResultFields {
  if (!settlement.ran) return { ExitCode: -1, Output: settlement.error };
  return { ExitCode: settlement.outcome.exitCode, Output: truncateOutput(settlement.outcome.output) };
}

function timeoutResult(timeoutMs: number, settlement: ProbeSettlement): ResultFields {
  // Go prints the duration with %v, hence formatDuration's Go-style "30s", "1m30s", "500ms".
  const message = `Health check exceeded timeout (${formatDuration(timeoutMs)})`;
  // What the killed probe printed helps; the error an aborted exec rejects with does not.
  const printed = settlement.ran ? truncateOutput(settlement.outcome.output) : '';
  return { ExitCode: -1, Output: printed ? `${message}: ${printed}` : message };
}

/** At most HEALTH_OUTPUT_BYTES of UTF-8, cut on a character boundary, with dockerd's "..." when cut. */
function truncateOutput(output: string): string {
  const bytes = Buffer.from(output, 'utf8');
  if (bytes.length <= HEALTH_OUTPUT_BYTES) return output;
  let end = HEALTH_OUTPUT_BYTES;
  // Back up over continuation bytes (10xxxxxx) so no character is split.
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end -= 1;
  return `${bytes.subarray(0, end).toString('utf8')}...`;
}

function copyHealth(health: HealthState): HealthState {
  return { Status: health.Status, FailingStreak: health.FailingStreak, Log: health.Log.map((e) => ({ ...e })) };
}
