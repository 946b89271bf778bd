// The typed events `up`, `down`, the service commands (start, stop, ...) and the log follower emit while they work. The core
// never writes to a terminal: renderers (plain lines, JSON lines, later the TUI) turn
// these into output, and tests read them as data.

import type { ContainerStatusName } from '../common/api-types.js';
import type { DependencyCondition } from './model.js';

export type ResourceStatus =
  | 'Creating' | 'Created' | 'Recreating' | 'Recreated' | 'Starting' | 'Started' | 'Running'
  | 'Stopping' | 'Stopped' | 'Removing' | 'Removed' | 'Pulling' | 'Pulled' | 'Building' | 'Built'
  | 'Pushing' | 'Pushed' | 'Waiting' | 'Healthy' | 'Exited' | 'Restarting' | 'Restarted' | 'Pausing' | 'Paused' | 'Unpausing' | 'Unpaused'
  | 'Killing' | 'Killed';

export type ComposeEvent =
  | { type: 'network-creating' | 'network-created' | 'network-removing' | 'network-removed'; network: string }
  | { type: 'volume-creating' | 'volume-created' | 'volume-removing' | 'volume-removed'; volume: string }
  | { type: 'image-pulling' | 'image-pulled' | 'image-building' | 'image-built' | 'image-pushing' | 'image-pushed'; image: string; service?: string; detail?: string }
  | {
    type: 'container-creating' | 'container-created' | 'container-recreating' | 'container-recreated' | 'container-starting' | 'container-started'
      | 'container-running' | 'container-stopping' | 'container-stopped' | 'container-removing' | 'container-removed'
      | 'container-restarting' | 'container-restarted' | 'container-pausing' | 'container-paused'
      | 'container-unpausing' | 'container-unpaused' | 'container-killing' | 'container-killed';
    service: string;
    container: string;
  }
  /** A container waits for a dependency to meet its condition before it starts. */
  | { type: 'waiting'; service: string; container: string; dependency: string; condition: DependencyCondition }
  | { type: 'health'; service: string; container: string; status: 'starting' | 'healthy' | 'unhealthy'; output?: string }
  | { type: 'container-exited'; service: string; container: string; exitCode: number }
  | { type: 'orphans'; containers: string[] }
  | { type: 'log'; service: string; container: string; stream: 'stdout' | 'stderr'; text: string }
  /** What the project monitor (monitor.ts) saw of a container: its state after an engine event. */
  | {
    type: 'container-state';
    /** The engine's id: a recreated container keeps its name but not its id. */
    id: string;
    service: string;
    container: string;
    state: ContainerRunState;
    health?: 'starting' | 'healthy' | 'unhealthy';
    /** Restarts by its restart policy plus restarts asked for while monitored. */
    restarts: number;
    /** Set once it has exited. */
    exitCode?: number;
    /** RFC3339, of the current run; unset before the first start. */
    startedAt?: string;
    /** Published ports, `HOSTPORT->PORT/PROTO`. */
    ports: string[];
  }
  /** One resource sample of a running container. */
  | { type: 'stats'; id: string; service: string; container: string; cpuPercent: number; memoryBytes: number }
  | { type: 'warning'; message: string }
  | { type: 'error'; service?: string; container?: string; message: string }
  | WatchEvent;

/** What file watching (develop.watch: `stack watch`, `up --watch`) did. */
export type WatchEvent =
  | { type: 'watch-started'; services: string[] }
  | { type: 'watch-stopped' }
  /** Changed files copied into a container and deleted ones removed; paths as the user knows them (relative to the project directory). */
  | { type: 'watch-synced'; service: string; container: string; files: string[]; deleted: string[] }
  | { type: 'watch-restarted'; service: string; containers: string[] }
  | { type: 'watch-rebuilding'; service: string; files: string[] }
  | { type: 'watch-rebuilt'; service: string }
  /** A sync+exec hook ran in a container; its output came as log events. */
  | { type: 'watch-exec'; service: string; container: string; command: string[]; exitCode: number }
  /** A change could not be acted on; watching goes on. */
  | { type: 'watch-error'; service?: string; message: string };

export type ContainerRunState = ContainerStatusName | 'removed';

export type EmitEvent = (event: ComposeEvent) => void;

/** What a progress event is about and its state, for line renderers; undefined for logs and messages. */
export function progressOf(e: ComposeEvent): { resource: 'Network' | 'Volume' | 'Image' | 'Container'; name: string; status: ResourceStatus; done: boolean } | undefined {
  const status = (word: string): ResourceStatus => (word[0]!.toUpperCase() + word.slice(1)) as ResourceStatus;
  const done = (s: ResourceStatus): boolean => /ed$/.test(s) || s === 'Running' || s === 'Healthy';
  switch (e.type) {
    case 'network-creating': case 'network-created': case 'network-removing': case 'network-removed': {
      const s = status(e.type.slice('network-'.length));
      return { resource: 'Network', name: e.network, status: s, done: done(s) };
    }
    case 'volume-creating': case 'volume-created': case 'volume-removing': case 'volume-removed': {
      const s = status(e.type.slice('volume-'.length));
      return { resource: 'Volume', name: e.volume, status: s, done: done(s) };
    }
    case 'image-pulling': case 'image-pulled': case 'image-building': case 'image-built': case 'image-pushing': case 'image-pushed': {
      const s = status(e.type.slice('image-'.length));
      return { resource: 'Image', name: e.image, status: s, done: done(s) };
    }
    case 'waiting':
      return { resource: 'Container', name: e.container, status: 'Waiting', done: false };
    case 'health':
      return e.status === 'healthy' ? { resource: 'Container', name: e.container, status: 'Healthy', done: true } : undefined;
    case 'container-exited':
      return { resource: 'Container', name: e.container, status: 'Exited', done: true };
    case 'orphans': case 'log': case 'warning': case 'error': case 'container-state': case 'stats':
    case 'watch-started': case 'watch-stopped': case 'watch-synced': case 'watch-restarted': case 'watch-rebuilding':
    case 'watch-rebuilt': case 'watch-exec': case 'watch-error':
      return undefined;
    default: {
      const s = status(e.type.slice('container-'.length));
      return { resource: 'Container', name: e.container, status: s, done: done(s) };
    }
  }
}

/** The line a renderer shows for a watch event (after a `watch` prefix), or undefined for other events. */
export function watchLineOf(e: ComposeEvent): { text: string; error: boolean } | undefined {
  const files = (paths: readonly string[]): string => {
    const shown = paths.slice(0, 3).join(', ');
    return paths.length > 3 ? `${shown}, … ${paths.length - 3} more` : shown;
  };
  const count = (n: number, what: string): string => `${n} ${what}${n === 1 ? '' : 's'}`;
  switch (e.type) {
    case 'watch-started':
      return { text: `watching ${e.services.join(', ')} for changes`, error: false };
    case 'watch-stopped':
      return { text: 'watching stopped', error: false };
    case 'watch-synced': {
      const parts = [
        ...(e.files.length > 0 ? [`synced ${count(e.files.length, 'file')} (${files(e.files)})`] : []),
        ...(e.deleted.length > 0 ? [`removed ${count(e.deleted.length, 'path')} (${files(e.deleted)})`] : []),
      ];
      return { text: `${e.service}: ${parts.join(', ')} in ${e.container}`, error: false };
    }
    case 'watch-restarted':
      return { text: `${e.service}: restarted ${e.containers.join(', ')}`, error: false };
    case 'watch-rebuilding':
      return { text: `${e.service}: rebuilding after changes to ${files(e.files)}`, error: false };
    case 'watch-rebuilt':
      return { text: `${e.service}: rebuilt and recreated`, error: false };
    case 'watch-exec':
      return { text: `${e.service}: ran ${JSON.stringify(e.command.join(' '))} in ${e.container}: exit code ${e.exitCode}`, error: e.exitCode !== 0 };
    case 'watch-error':
      return { text: `${e.service ? `${e.service}: ` : ''}${e.message}`, error: true };
    default:
      return undefined;
  }
}
