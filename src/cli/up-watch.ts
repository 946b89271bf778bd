// `stack up --watch` without the live display: the services' containers followed (those a
// rebuild recreates or a restart starts again too) while file changes are acted on by
// the develop.watch rules, until Ctrl-C: watching stops, then the services stop as after
// an attached `up` (exit 130); a second Ctrl-C kills them.

import type { ApiClient } from '../client/api-client.js';
import { serviceContainers } from '../compose/apply.js';
import { stopServices } from '../compose/down.js';
import type { LoadedProject } from '../compose/load.js';
import { projectLogs } from '../compose/project-logs.js';
import type { WatchPlan } from '../watch/watch-plan.js';
import { WatchSession } from '../watch/watch-session.js';
import type { CliIO } from './io.js';
import { registryLogins } from './registry-auth.js';
import type { Renderer } from './render-plain.js';
import type { UpArgs } from './up.js';

const EXIT_INTERRUPTED = 130;

/** Resolves with the exit code once Ctrl-C has stopped watching and the services. */
export async function followAndWatch(client: ApiClient, loaded: LoadedProject, services: string[], plan: WatchPlan, args: UpArgs, renderer: Renderer, io: CliIO): Promise<number> {
  const project = loaded.project.name;
  const containers = (await Promise.all(services.map(async (s) => (await serviceContainers(client, project, s)).map((c) => ({ id: c.Id, name: (c.Names[0] ?? c.Id).replace(/^\//, ''), service: s }))))).flat();
  renderer.alignLogs(containers.map((c) => c.name));
  const timeout = args.timeout !== undefined ? { timeout: args.timeout } : {};
  // Compose's up --watch keeps the images a rebuild replaces (only `watch` prunes them).
  const watching = WatchSession.start(client, loaded, plan, { emit: renderer.emit, upRequest: { logins: registryLogins(io), ...timeout }, prune: false }).catch((err: unknown) => {
    renderer.emit({ type: 'watch-error', message: `watching could not start: ${(err as Error).message}` });
    return undefined;
  });
  const following = new AbortController();
  const stopAll = (kill: boolean): Promise<void> => stopServices(client, project, loaded.graph, services, { emit: renderer.emit, kill, ...timeout });
  let interrupts = 0;
  const onInterrupt = (): void => {
    interrupts++;
    const stopping = interrupts === 1
      ? (renderer.emit({ type: 'warning', message: 'Gracefully stopping... (press Ctrl+C again to force)' }), watching.then((session) => session?.stop()).then(() => stopAll(false)))
      : stopAll(true);
    void stopping.catch((err: unknown) => renderer.emit({ type: 'warning', message: `stopping failed: ${(err as Error).message}` })).finally(() => following.abort());
  };
  process.on('SIGINT', onInterrupt);
  io.interrupt?.addEventListener('abort', onInterrupt, { once: true });
  try {
    await projectLogs(client, {
      project, containers, services, follow: true, timestamps: false, signal: following.signal, emit: renderer.emit,
      onNewContainer: (c) => renderer.alignLogs([c.name]),
    });
  } finally {
    process.off('SIGINT', onInterrupt);
    io.interrupt?.removeEventListener('abort', onInterrupt);
  }
  return EXIT_INTERRUPTED;
}
