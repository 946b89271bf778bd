// How container commands reach the engine: the paths from the environment (STACK_SOCKET,
// STACK_HOST=unix://..., STACK_ROOT, STACK_RUN_ROOT), an engine started on first use.

import { enginePaths } from '../common/engine-paths.js';
import type { ApiClient } from '../client/api-client.js';
import type { CliIO } from './io.js';

export async function engineClient(io: CliIO): Promise<ApiClient> {
  const { connectEngine } = await import('../client/engine-connection.js');
  return connectEngine(enginePaths(io.env), {
    autostart: io.env.STACK_NO_AUTOSTART !== '1',
    say: (line) => io.stderr.write(`${line}\n`),
  });
}

export function list(v: string | string[] | undefined): string[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}
