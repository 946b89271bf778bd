// The service commands of a project (start, stop, restart, pause, unpause, kill, rm): each
// acts on the containers of the chosen services that are in a state it applies to, start
// and restart in dependency order (what a service needs first, and those needs included,
// as Compose does), the others dependents first. Progress goes out as typed events; a
// container that fails does not stop the others, and the failures are reported together.

import type { ApiClient } from '../client/api-client.js';
import type { ContainerStatusName } from '../common/api-types.js';
import { RuntimeFailure } from '../common/errors.js';
import { projectContainers } from './apply.js';
import type { ComposeEvent, EmitEvent, WatchEvent } from './events.js';
import type { ServiceGraph } from './graph.js';
import { LABEL } from './labels.js';

export type ServiceAction = 'start' | 'stop' | 'restart' | 'pause' | 'unpause' | 'kill' | 'rm';

export interface ServiceActionOptions {
  emit: EmitEvent;
  /** Seconds a container gets to stop before SIGKILL (stop, restart); default: its own. */
  timeout?: number;
  /** The signal kill sends (default SIGKILL); stop and restart send it instead of the stop signal. */
  signal?: string;
  /** rm -v: also the containers' anonymous volumes. */
  removeVolumes?: boolean;
}

/** The progress events that name only a service and a container. */
type ContainerStep = Exclude<Extract<ComposeEvent, { service: string; container: string }>, { exitCode: number } | { dependency: string } | { status: string } | { text: string } | { id: string } | WatchEvent>['type'];

interface ActionSpec {
  order: 'dependencies first' | 'dependents first';
  appliesTo: readonly ContainerStatusName[];
  progress: [ContainerStep, ContainerStep];
  call(client: ApiClient, id: string, options: ServiceActionOptions): Promise<unknown>;
}

const at = (id: string, what: string): string => `/containers/${encodeURIComponent(id)}${what}`;

const ACTIONS: Record<ServiceAction, ActionSpec> = {
  start: { order: 'dependencies first', appliesTo: ['created', 'exited'], progress: ['container-starting', 'container-started'], call: (c, id) => c.call('POST', at(id, '/start')) },
  stop: { order: 'dependents first', appliesTo: ['running', 'restarting', 'paused'], progress: ['container-stopping', 'container-stopped'], call: (c, id, o) => c.call('POST', at(id, '/stop'), { query: { t: o.timeout, signal: o.signal } }) },
  restart: { order: 'dependencies first', appliesTo: ['created', 'running', 'restarting', 'exited', 'paused'], progress: ['container-restarting', 'container-restarted'], call: (c, id, o) => c.call('POST', at(id, '/restart'), { query: { t: o.timeout, signal: o.signal } }) },
  pause: { order: 'dependents first', appliesTo: ['running'], progress: ['container-pausing', 'container-paused'], call: (c, id) => c.call('POST', at(id, '/pause')) },
  unpause: { order: 'dependents first', appliesTo: ['paused'], progress: ['container-unpausing', 'container-unpaused'], call: (c, id) => c.call('POST', at(id, '/unpause')) },
  kill: { order: 'dependents first', appliesTo: ['running', 'restarting', 'paused'], progress: ['container-killing', 'container-killed'], call: (c, id, o) => c.call('POST', at(id, '/kill'), { query: { signal: o.signal } }) },
  rm: { order: 'dependents first', appliesTo: ['created', 'exited', 'dead'], progress: ['container-removing', 'container-removed'], call: (c, id, o) => c.call('DELETE', at(id, ''), { query: { v: o.removeVolumes ? 1 : undefined } }) },
};

/** The services an action visits: start and restart bring what the named ones depend on. */
export function servicesActedOn(action: ServiceAction, graph: ServiceGraph, services: readonly string[]): string[] {
  return ACTIONS[action].order === 'dependencies first' ? graph.withDependencies(services) : [...services].sort();
}

/** Runs the action on every applicable container of these services; resolves to the names acted on. */
export async function runServiceAction(client: ApiClient, project: string, graph: ServiceGraph, action: ServiceAction, services: readonly string[], options: ServiceActionOptions): Promise<string[]> {
  const spec = ACTIONS[action];
  const failures: string[] = [];
  const done: string[] = [];
  const [doing, did] = spec.progress;
  // Read once: a service's containers do not come or go while the action runs.
  const all = await projectContainers(client, project);
  await graph.visit(spec.order === 'dependencies first' ? 'forward' : 'reverse', async (service) => {
    const containers = all.filter((c) => c.Labels[LABEL.service] === service && spec.appliesTo.includes(c.State));
    await Promise.all(containers.map(async (c) => {
      const name = (c.Names[0] ?? c.Id).replace(/^\//, '');
      options.emit({ type: doing, service, container: name });
      try {
        await spec.call(client, c.Id, options);
        options.emit({ type: did, service, container: name });
        done.push(name);
      } catch (err) {
        failures.push(`${name}: ${(err as Error).message}`);
      }
    }));
  }, { only: servicesActedOn(action, graph, services) });
  if (failures.length > 0) throw new RuntimeFailure(`${action} failed for ${failures.length === 1 ? 'a container' : `${failures.length} containers`}:\n${failures.map((f) => `  ${f}`).join('\n')}`);
  return done;
}
