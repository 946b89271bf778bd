// `up` as one call: observe the project, plan, refuse a plan with conflicts before anything
// starts, apply it, and with `wait`, return only once every service is running and healthy
// (one-shot services exited 0). The CLI fills the options and renders the events.

import type { ApiClient } from '../client/api-client.js';
import { ConflictError } from '../common/errors.js';
import { applyPlan, waitForServices } from './apply.js';
import type { EmitEvent } from './events.js';
import type { RegistryLogins } from './image-sources.js';
import { ignoredKeyWarnings } from './ignored-keys.js';
import type { LoadedProject } from './load.js';
import { machineObserveHost, observeProject, remoteObserveHost, type ObserveHost } from './observe.js';
import { planUp, type Plan, type UpOptions } from './plan.js';

export interface UpRequest extends UpOptions {
  dryRun?: boolean;
  wait?: boolean;
  /** Seconds a recreated container gets to stop. */
  timeout?: number;
  /** -V: recreated containers do not inherit their predecessors' anonymous volumes. */
  renewAnonymousVolumes?: boolean;
  emit: EmitEvent;
  logins?: RegistryLogins;
  signal?: AbortSignal;
  observeHost?: ObserveHost;
  pollMs?: number;
}

/** The plan that was (or, with dryRun, would be) applied. */
export async function upProject(client: ApiClient, loaded: LoadedProject, request: UpRequest): Promise<Plan> {
  const { project, graph } = loaded;
  const observed = await observeProject(client, project.name, project, request.observeHost ?? (client.transport.onThisMachine ? machineObserveHost : remoteObserveHost));
  const plan = planUp(project, graph, observed, loaded.environment ? { ...request, environment: loaded.environment } : request);
  for (const message of ignoredKeyWarnings(plan.services.map((s) => project.services[s]!).filter(Boolean))) request.emit({ type: 'warning', message });
  if (request.dryRun) return plan;
  if (plan.problems.length > 0) {
    throw new ConflictError(`nothing was started: ${plan.problems.length === 1 ? plan.problems[0] : `\n${plan.problems.map((p) => `  ${p}`).join('\n')}`}`);
  }
  if (plan.orphans.length > 0) request.emit({ type: 'orphans', containers: plan.orphans });
  for (const name of plan.unchanged) {
    const c = observed.containers.find((o) => o.name === name);
    request.emit({ type: 'container-running', service: c?.service ?? '', container: name });
  }
  await applyPlan(client, plan, {
    emit: request.emit,
    ...(request.timeout !== undefined ? { stopTimeout: request.timeout } : {}),
    ...(request.renewAnonymousVolumes ? { renewAnonymousVolumes: true } : {}),
    ...(request.logins ? { logins: request.logins } : {}),
    ...(request.signal ? { signal: request.signal } : {}),
    ...(request.pollMs !== undefined ? { pollMs: request.pollMs } : {}),
  });
  if (request.wait) {
    await waitForServices(client, project.name, plan.services, {
      emit: request.emit,
      ...(request.signal ? { signal: request.signal } : {}),
      ...(request.pollMs !== undefined ? { pollMs: request.pollMs } : {}),
    });
  }
  return plan;
}

/**
 * `up --build --force-recreate --no-deps SERVICE`: the service's image built anew and its
 * containers made again from it, what it depends on left alone. The TUI's rebuild key and
 * a watch rule's `rebuild` action both ask for it.
 */
export function rebuildServiceRequest(base: UpRequest, service: string): UpRequest {
  return { ...base, services: [service], noDeps: true, build: true, noBuild: false, forceRecreate: true, noRecreate: false, dryRun: false, wait: false };
}
