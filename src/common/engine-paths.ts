// Where an engine keeps its state, its runtime files and its socket. Both sides read it:
// the engine to know where to live, the CLI to know where to find (or start) it. Every
// path is overridable, so tests run private engines side by side.

import { join } from 'node:path';

export interface EnginePaths {
  /** Persistent state: containers, images, volumes (default /var/lib/stack). */
  root: string;
  /** Runtime state that a reboot may clear: shim state, the pid file (default /run/stack). */
  runRoot: string;
  /** The Unix socket of the API (default <runRoot>/stack.sock). */
  socket: string;
}

export interface EnginePathOverrides {
  root?: string | undefined;
  runRoot?: string | undefined;
  socket?: string | undefined;
}

type Environment = Readonly<Record<string, string | undefined>>;

/**
 * Flags first, then STACK_ROOT / STACK_RUN_ROOT / STACK_SOCKET (or STACK_HOST as
 * unix://PATH, like DOCKER_HOST), then the defaults.
 */
export function enginePaths(env: Environment, overrides: EnginePathOverrides = {}): EnginePaths {
  const root = overrides.root ?? env.STACK_ROOT ?? '/var/lib/stack';
  const runRoot = overrides.runRoot ?? env.STACK_RUN_ROOT ?? '/run/stack';
  const host = env.STACK_HOST?.startsWith('unix://') ? env.STACK_HOST.slice('unix://'.length) : undefined;
  const socket = overrides.socket ?? env.STACK_SOCKET ?? host ?? join(runRoot, 'stack.sock');
  return { root, runRoot, socket };
}

/** The pid file that marks a live engine and keeps a second one from starting on the same paths. */
export function enginePidFile(paths: EnginePaths): string {
  return join(paths.runRoot, 'stackd.pid');
}

/** Where an engine started in the background by the CLI writes its own output. */
export function engineLogFile(paths: EnginePaths): string {
  return join(paths.runRoot, 'stackd.log');
}
