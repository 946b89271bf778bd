// How container commands reach the engine: STACK_HOST=ssh://... (or --host) names one on
// another host, reached over SSH; otherwise the local paths from the environment
// (STACK_SOCKET, STACK_HOST=unix://..., STACK_ROOT, STACK_RUN_ROOT), an engine started on first use.

import { enginePaths } from '../common/engine-paths.js';
import { UsageError } from '../common/errors.js';
import type { ApiClient } from '../client/api-client.js';
import { EngineConnections } from './engine-connections.js';
import type { CliIO } from './io.js';

export async function engineClient(io: CliIO): Promise<ApiClient> {
  const host = io.env.STACK_HOST;
  if (host !== undefined && host !== '' && !host.startsWith('unix://')) {
    if (!host.startsWith('ssh://')) throw new UsageError(`engine host "${host}" (STACK_HOST or --host) is neither unix://PATH nor ssh://[USER@]HOST[:PORT][/PATH/TO/stack.sock]`);
    // Without main.ts's connections (a command called on its own) the connection lives as long as the process.
    return (io.engineConnections ?? new EngineConnections()).reuse(host, async () => {
      const { connectRemoteEngine } = await import('../client/remote/remote-engine.js');
      return connectRemoteEngine(host, io.env);
    });
  }
  const { connectEngine } = await import('../client/engine-connection.js');
  return connectEngine(enginePaths(io.env), {
    autostart: io.env.STACK_NO_AUTOSTART !== '1',
    say: (line) => io.stderr.write(`${line}\n`),
  });
}

export function list(v: string | string[] | undefined): string[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}
