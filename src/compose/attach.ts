// Following a project's containers after `up` (without -d): every container's output as
// log events, and each exit as a container-exited event with its code, until all have
// stopped or the caller aborts.

import type { ApiClient } from '../client/api-client.js';
import { streamLogs } from '../client/log-stream.js';
import type { ContainerInspect } from '../common/api-types.js';
import type { EmitEvent } from './events.js';

export interface AttachedContainer {
  id: string;
  name: string;
  service: string;
}

export interface ContainerExitInfo extends AttachedContainer {
  exitCode: number;
}

/** Resolves when every container's log has ended (each one's exit reported through onExit first). */
export async function followContainers(client: ApiClient, containers: readonly AttachedContainer[], options: { emit: EmitEvent; signal: AbortSignal; onExit: (exit: ContainerExitInfo) => void }): Promise<void> {
  await Promise.all(containers.map(async (c) => {
    try {
      await streamLogs(client, c.id, { follow: true, signal: options.signal }, (line) =>
        options.emit({ type: 'log', service: c.service, container: c.name, stream: line.stream, text: line.text }));
    } catch (err) {
      if (options.signal.aborted) return;
      throw err;
    }
    if (options.signal.aborted) return;
    const info = await client.call<ContainerInspect>('GET', `/containers/${c.id}/json`).catch(() => undefined);
    if (!info || info.State.Running || info.State.Restarting) return;
    options.emit({ type: 'container-exited', service: c.service, container: c.name, exitCode: info.State.ExitCode });
    options.onExit({ ...c, exitCode: info.State.ExitCode });
  }));
}
