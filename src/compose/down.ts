// `down` and stopping a project: containers in reverse dependency order (each with its
// stop grace period unless a timeout is given), then the project's networks, and its
// volumes only when asked. Works from labels, so a project whose file changed since
// `up` is still taken down completely (its orphans with --remove-orphans).

import type { ApiClient } from '../client/api-client.js';
import { applyPlan } from './apply.js';
import type { EmitEvent } from './events.js';
import type { ServiceGraph } from './graph.js';
import type { Project } from './model.js';
import { observeProject } from './observe.js';
import { planDown, type Plan } from './plan.js';
import { runServiceAction } from './service-actions.js';

export interface DownRequest {
  removeOrphans?: boolean;
  volumes?: boolean;
  timeout?: number;
  emit: EmitEvent;
}

export async function downProject(client: ApiClient, name: string, project: Project | undefined, graph: ServiceGraph | undefined, request: DownRequest): Promise<Plan> {
  const observed = await observeProject(client, name, undefined);
  const plan = planDown(name, project, graph, observed, request);
  if (plan.orphans.length > 0) request.emit({ type: 'orphans', containers: plan.orphans });
  if (plan.oneOffsLeft) request.emit({ type: 'warning', message: `one-off containers of "stack run" are left, and the networks they use: ${plan.oneOffsLeft.join(', ')}; remove them with --remove-orphans` });
  await applyPlan(client, plan, {
    emit: request.emit,
    ...(request.volumes ? { removeVolumes: true } : {}),
    ...(request.timeout !== undefined ? { stopTimeout: request.timeout } : {}),
  });
  return plan;
}

/** Stop (or, with kill, SIGKILL) the running containers of these services, dependents first; best effort. */
export async function stopServices(client: ApiClient, projectName: string, graph: ServiceGraph, services: readonly string[], options: { emit: EmitEvent; timeout?: number; kill?: boolean }): Promise<void> {
  await runServiceAction(client, projectName, graph, options.kill ? 'kill' : 'stop', services, {
    emit: options.emit,
    ...(options.timeout !== undefined ? { timeout: options.timeout } : {}),
  }).catch(() => undefined);
}
