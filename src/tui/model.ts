// The live display's state and the one function that changes it: compose events (in
// batches) and the user's actions in, a new state out. The log ring is the exception to
// immutability (copying 20,000 lines ten times a second is what the ring avoids): it
// grows in place and `logVersion` says it did. Everything the components show is
// computed here, so it is tested without a terminal.

import { watchLineOf, type ComposeEvent, type ContainerRunState, type WatchEvent } from '../compose/events.js';
import { LogRing, type LogLine } from './log-ring.js';

export const LOG_CAPACITY = 20_000;

export interface ServiceSpec {
  name: string;
  /** Replicas the stack file asks for. */
  replicas: number;
}

export interface ContainerView {
  id: string;
  name: string;
  service: string;
  state: ContainerRunState;
  health?: 'starting' | 'healthy' | 'unhealthy';
  restarts: number;
  exitCode?: number;
  startedAt?: string;
  ports: string[];
  cpuPercent?: number;
  memoryBytes?: number;
}

export interface StatusMessage {
  level: 'info' | 'warning' | 'error';
  text: string;
}

export interface TuiState {
  project: string;
  services: ServiceSpec[];
  /** By container id. */
  containers: Readonly<Record<string, ContainerView>>;
  /** What `up` (or a key's action) is doing to a service now: "Building", "Pulling 12/40 MB", "Waiting for db". */
  activity: Readonly<Record<string, string>>;
  status?: StatusMessage;
  logs: LogRing;
  logVersion: number;
  /** Index of the selected service row. */
  selected: number;
  /** The service whose logs alone are shown; all when unset. */
  focus?: string;
  /** The applied filter (case-insensitive substring). */
  filter: string;
  /** The filter being typed after `/`; unset when not typing. */
  draft?: string;
  follow: boolean;
  /** When not following: seq of the bottom line shown. */
  anchor?: number;
  help: boolean;
  /** Set once the user asked to stop the stack (q, Ctrl-C): the header says so. */
  stopping?: 'graceful' | 'kill';
}

export type TuiAction =
  | { kind: 'events'; events: readonly ComposeEvent[] }
  | { kind: 'services'; services: ServiceSpec[] }
  | { kind: 'select'; delta: number }
  | { kind: 'focus-selected' }
  | { kind: 'focus-all' }
  | { kind: 'filter-start' }
  | { kind: 'filter-type'; text: string }
  | { kind: 'filter-erase' }
  | { kind: 'filter-apply' }
  | { kind: 'filter-clear' }
  | { kind: 'toggle-follow' }
  /** Pages up (negative) or down, each pageSize lines of the current view. */
  | { kind: 'scroll'; pages: number; pageSize: number }
  | { kind: 'toggle-help' }
  | { kind: 'status'; status: StatusMessage }
  | { kind: 'stopping'; how: 'graceful' | 'kill' };

export function initialState(project: string, services: ServiceSpec[], capacity = LOG_CAPACITY): TuiState {
  return { project, services, containers: {}, activity: {}, logs: new LogRing(capacity), logVersion: 0, selected: 0, filter: '', follow: true, help: false };
}

export function reduce(state: TuiState, action: TuiAction): TuiState {
  switch (action.kind) {
    case 'events': {
      // Log lines only grow the ring: counted, not a state copy each (a batch holds ~1000).
      let next = state;
      let lines = 0;
      for (const e of action.events) {
        if (e.type === 'log') {
          appendLog(state.logs, e);
          lines++;
        } else next = applyEvent(next, e);
      }
      return lines > 0 ? { ...next, logVersion: next.logVersion + lines } : next;
    }
    case 'services':
      return { ...state, services: action.services, selected: Math.min(state.selected, Math.max(0, action.services.length - 1)) };
    case 'select': {
      const last = state.services.length - 1;
      return { ...state, selected: Math.max(0, Math.min(last, state.selected + action.delta)) };
    }
    case 'focus-selected': {
      const service = state.services[state.selected]?.name;
      return service === undefined ? state : { ...state, focus: service, anchor: undefined, follow: true };
    }
    case 'focus-all':
      return { ...state, focus: undefined, anchor: undefined, follow: true };
    case 'filter-start':
      return { ...state, draft: state.filter };
    case 'filter-type':
      return state.draft === undefined ? state : { ...state, draft: state.draft + action.text };
    case 'filter-erase':
      return state.draft === undefined ? state : { ...state, draft: state.draft.slice(0, -1) };
    case 'filter-apply':
      return { ...state, filter: state.draft ?? state.filter, draft: undefined, anchor: undefined, follow: true };
    case 'filter-clear':
      return { ...state, filter: '', draft: undefined, anchor: undefined, follow: true };
    case 'toggle-follow':
      return state.follow ? { ...state, follow: false, anchor: lastMatching(state, state.logs.nextSeq - 1) } : { ...state, follow: true, anchor: undefined };
    case 'scroll':
      return scroll(state, action.pages * Math.max(1, action.pageSize));
    case 'toggle-help':
      return { ...state, help: !state.help };
    case 'status':
      return { ...state, status: action.status };
    case 'stopping':
      return { ...state, stopping: action.how };
  }
}

const ACTIVITY: Partial<Record<ComposeEvent['type'], string>> = {
  'container-creating': 'Creating',
  'container-recreating': 'Recreating',
  'container-starting': 'Starting',
  'container-stopping': 'Stopping',
  'container-removing': 'Removing',
};

/** Events after which a service is no longer busy with what `up` did to it. */
const SETTLED = new Set<ComposeEvent['type']>(['image-pulled', 'image-built', 'container-started', 'container-running', 'container-stopped', 'container-removed']);

function applyEvent(state: TuiState, e: ComposeEvent): TuiState {
  switch (e.type) {
    case 'log':
      appendLog(state.logs, e);
      return { ...state, logVersion: state.logVersion + 1 };
    case 'container-state': {
      const containers = { ...state.containers };
      if (e.state === 'removed') delete containers[e.id];
      else {
        const before = containers[e.id];
        containers[e.id] = {
          id: e.id, name: e.container, service: e.service, state: e.state, restarts: e.restarts, ports: e.ports,
          ...(e.health ? { health: e.health } : {}),
          ...(e.exitCode !== undefined ? { exitCode: e.exitCode } : {}),
          ...(e.startedAt !== undefined ? { startedAt: e.startedAt } : {}),
          // Usage stays until the next sample, but only while it runs.
          ...(e.state === 'running' && before?.cpuPercent !== undefined ? { cpuPercent: before.cpuPercent, memoryBytes: before.memoryBytes } : {}),
        };
      }
      return { ...state, containers };
    }
    case 'stats': {
      const c = state.containers[e.id];
      if (!c || c.state !== 'running') return state;
      return { ...state, containers: { ...state.containers, [e.id]: { ...c, cpuPercent: e.cpuPercent, memoryBytes: e.memoryBytes } } };
    }
    case 'image-pulling':
    case 'image-building': {
      if (!e.service) return state;
      const word = e.type === 'image-pulling' ? 'Pulling' : 'Building';
      return withActivity(state, e.service, e.detail ? `${word} ${e.detail}` : word);
    }
    case 'waiting':
      return withActivity(state, e.service, `Waiting for ${e.dependency}`);
    case 'network-creating': case 'network-created': case 'network-removing': case 'network-removed':
      return { ...state, status: { level: 'info', text: `Network ${e.network} ${e.type.slice('network-'.length)}` } };
    case 'volume-creating': case 'volume-created': case 'volume-removing': case 'volume-removed':
      return { ...state, status: { level: 'info', text: `Volume ${e.volume} ${e.type.slice('volume-'.length)}` } };
    case 'orphans':
      return { ...state, status: { level: 'warning', text: `orphan containers (${e.containers.join(', ')}): remove them with up --remove-orphans` } };
    case 'warning':
      return { ...state, status: { level: 'warning', text: e.message } };
    case 'error':
      return { ...(e.service ? withActivity(state, e.service, 'Failed') : state), status: { level: 'error', text: e.message } };
    case 'health':
      return e.status === 'healthy' ? withActivity(state, e.service, undefined) : state;
    case 'container-exited':
      return state;
    case 'watch-started': case 'watch-stopped': case 'watch-synced': case 'watch-restarted':
    case 'watch-rebuilding': case 'watch-rebuilt': case 'watch-exec': case 'watch-error':
      return applyWatchEvent(state, e);
    default: {
      if (SETTLED.has(e.type)) return 'service' in e && e.service ? withActivity(state, e.service, undefined) : state;
      const word = ACTIVITY[e.type];
      return word && 'service' in e && e.service ? withActivity(state, e.service, word) : state;
    }
  }
}

/** What watching did goes to the log pane as a `watch` line (of its service, so a focus keeps it); its failures to the status line too. */
function applyWatchEvent(state: TuiState, e: WatchEvent): TuiState {
  const line = watchLineOf(e)!;
  const service = 'service' in e && e.service !== undefined ? e.service : '';
  state.logs.push(service, 'watch', line.error ? 'stderr' : 'stdout', line.text);
  let next: TuiState = { ...state, logVersion: state.logVersion + 1 };
  if (line.error) next.status = { level: 'error', text: `watch: ${line.text}` };
  else if (e.type === 'watch-started' || e.type === 'watch-stopped') next.status = { level: 'info', text: line.text };
  if (e.type === 'watch-rebuilding') next = withActivity(next, e.service, 'Rebuilding');
  else if (e.type === 'watch-rebuilt' || (e.type === 'watch-error' && e.service !== undefined)) next = withActivity(next, service, undefined);
  return next;
}

function withActivity(state: TuiState, service: string, text: string | undefined): TuiState {
  if (state.activity[service] === text) return state;
  const activity = { ...state.activity };
  if (text === undefined) delete activity[service];
  else activity[service] = text;
  return { ...state, activity };
}

// Escape sequences and control characters would move the cursor or recolour the screen.
// eslint-disable-next-line no-control-regex
const CONTROL = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-_]|[\x00-\x08\x0b-\x1f\x7f]/g;

// eslint-disable-next-line no-control-regex
const ANY_CONTROL = /[\x00-\x1f\x7f]/;

function appendLog(ring: LogRing, e: Extract<ComposeEvent, { type: 'log' }>): void {
  const text = e.text.endsWith('\n') ? e.text.slice(0, -1) : e.text;
  // Most lines are plain text: one test, no copies.
  if (!ANY_CONTROL.test(text)) {
    ring.push(e.service, e.container, e.stream, text);
    return;
  }
  for (const line of text.split('\n')) ring.push(e.service, e.container, e.stream, line.replace(/\t/g, '    ').replace(CONTROL, ''));
}

// ---- the log view ---------------------------------------------------------------------

/** Whether a line belongs in the current view (its focus and filter). */
export function lineMatcher(state: Pick<TuiState, 'focus' | 'filter'>): (line: LogLine) => boolean {
  const { focus } = state;
  const filter = state.filter.toLowerCase();
  return (line) => {
    if (focus !== undefined && line.service !== focus) return false;
    if (filter === '') return true;
    line.lower ??= line.text.toLowerCase();
    return line.lower.includes(filter);
  };
}

/** The last matching line at or before seq, or the oldest kept line when none matches. */
function lastMatching(state: TuiState, seq: number): number {
  const matches = lineMatcher(state);
  for (let s = seq; s >= state.logs.firstSeq; s--) if (matches(state.logs.bySeq(s)!)) return s;
  return state.logs.firstSeq;
}

/** The lines of the log pane, oldest first: at most `height`, ending at the anchor (or the newest line). */
export function visibleLines(state: TuiState, height: number): LogLine[] {
  const out: LogLine[] = [];
  const bottom = state.follow || state.anchor === undefined ? state.logs.nextSeq - 1 : state.anchor;
  const matches = lineMatcher(state);
  if (bottom < state.logs.firstSeq) {
    // The lines a paused view held have left the ring: show the oldest page kept.
    for (let s = state.logs.firstSeq; s < state.logs.nextSeq && out.length < height; s++) {
      const line = state.logs.bySeq(s)!;
      if (matches(line)) out.push(line);
    }
    return out;
  }
  for (let s = Math.min(bottom, state.logs.nextSeq - 1); s >= state.logs.firstSeq && out.length < height; s--) {
    const line = state.logs.bySeq(s)!;
    if (matches(line)) out.push(line);
  }
  return out.reverse();
}

/** Moves the anchor by `lines` matching lines (negative: back in time); scrolling stops following. */
function scroll(state: TuiState, lines: number): TuiState {
  const ring = state.logs;
  if (ring.length === 0) return state.follow ? { ...state, follow: false, anchor: ring.nextSeq - 1 } : state;
  let seq = lastMatching(state, state.follow || state.anchor === undefined ? ring.nextSeq - 1 : Math.min(state.anchor, ring.nextSeq - 1));
  seq = Math.max(seq, ring.firstSeq);
  const step = lines < 0 ? -1 : 1;
  const matches = lineMatcher(state);
  for (let moved = 0, s = seq + step; moved < Math.abs(lines) && s >= ring.firstSeq && s < ring.nextSeq; s += step) {
    if (!matches(ring.bySeq(s)!)) continue;
    seq = s;
    moved++;
  }
  return { ...state, follow: false, anchor: seq };
}

// ---- the header and the table ---------------------------------------------------------

export interface ServiceRow {
  name: string;
  /** `running/desired` */
  replicas: string;
  state: string;
  health: string;
  ports: string;
  cpuPercent?: number;
  memoryBytes?: number;
  restarts: number;
  exitCode?: number;
  /** ms since the earliest start of its running containers. */
  uptimeMs?: number;
}

const HEALTH_ORDER = ['unhealthy', 'starting', 'healthy'] as const;

export function containersOf(state: TuiState, service: string): ContainerView[] {
  return Object.values(state.containers).filter((c) => c.service === service).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export function serviceRows(state: TuiState, now: number): ServiceRow[] {
  return state.services.map((spec) => {
    const cs = containersOf(state, spec.name);
    const running = cs.filter((c) => c.state === 'running');
    const sum = (pick: (c: ContainerView) => number | undefined): number | undefined =>
      running.some((c) => pick(c) !== undefined) ? running.reduce((n, c) => n + (pick(c) ?? 0), 0) : undefined;
    const starts = running.map((c) => Date.parse(c.startedAt ?? '')).filter((t) => Number.isFinite(t));
    const exited = cs.find((c) => c.exitCode !== undefined);
    const cpu = sum((c) => c.cpuPercent);
    const memory = sum((c) => c.memoryBytes);
    return {
      name: spec.name,
      replicas: `${running.length}/${spec.replicas}`,
      state: state.activity[spec.name] ?? aggregateState(cs),
      health: HEALTH_ORDER.find((h) => cs.some((c) => c.health === h)) ?? '',
      ports: [...new Set(cs.flatMap((c) => c.ports))].join(', '),
      ...(cpu !== undefined ? { cpuPercent: cpu } : {}),
      ...(memory !== undefined ? { memoryBytes: memory } : {}),
      restarts: cs.reduce((n, c) => n + c.restarts, 0),
      ...(exited?.exitCode !== undefined ? { exitCode: exited.exitCode } : {}),
      ...(starts.length > 0 ? { uptimeMs: Math.max(0, now - Math.min(...starts)) } : {}),
    };
  });
}

function aggregateState(cs: readonly ContainerView[]): string {
  if (cs.length === 0) return '-';
  for (const s of ['restarting', 'running', 'paused', 'created', 'exited', 'dead', 'removing'] as const) if (cs.some((c) => c.state === s)) return s;
  return cs[0]!.state;
}

export interface HeaderSummary {
  project: string;
  servicesRunning: number;
  servicesTotal: number;
  health: { healthy: number; starting: number; unhealthy: number };
  cpuPercent: number;
  memoryBytes: number;
}

export function headerSummary(state: TuiState): HeaderSummary {
  const all = Object.values(state.containers);
  const running = all.filter((c) => c.state === 'running');
  return {
    project: state.project,
    servicesRunning: state.services.filter((s) => running.some((c) => c.service === s.name)).length,
    servicesTotal: state.services.length,
    health: {
      healthy: all.filter((c) => c.health === 'healthy').length,
      starting: all.filter((c) => c.health === 'starting').length,
      unhealthy: all.filter((c) => c.health === 'unhealthy').length,
    },
    cpuPercent: running.reduce((n, c) => n + (c.cpuPercent ?? 0), 0),
    memoryBytes: running.reduce((n, c) => n + (c.memoryBytes ?? 0), 0),
  };
}

export function selectedService(state: TuiState): string | undefined {
  return state.services[state.selected]?.name;
}

/** Whether any container of the service runs (so `s` stops it; otherwise `s` starts it). */
export function serviceRunning(state: TuiState, service: string): boolean {
  return containersOf(state, service).some((c) => c.state === 'running' || c.state === 'restarting');
}

// ---- text helpers the components share ------------------------------------------------

export function formatBytes(n: number): string {
  if (n < 1024) return `${n}B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)}${units[i]}`;
}

export function formatDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d${String(h % 24).padStart(2, '0')}h`;
}
