// Whether a container command (ps, logs, start, exec, ...) acts on a Compose project, as
// `docker compose ps` does, or on containers, as `docker ps` does; and what its names mean.
//
// A command is in project scope when -f, --project-directory or -p (or COMPOSE_PROJECT_NAME)
// was given, or a stack file is found from the working directory upward. -p alone (no
// file) works from the engine's labels. In scope, a name that is a service means that service's containers;
// any other name is a container name or ID, so `stack logs some-container` works anywhere.
// A stack file that was only discovered (not named) and does not load is set aside with a
// warning: these commands do not need it, and a broken compose.yaml in the folder must not
// stop `stack ps` or `stack logs NAME` from working. A file named with -f must load.

import type { ApiClient } from '../client/api-client.js';
import type { ContainerSummary } from '../common/api-types.js';
import { InvalidStackFileError, NotFoundError, UsageError } from '../common/errors.js';
import { projectContainers } from '../compose/apply.js';
import { closestName } from '../compose/did-you-mean.js';
import { ServiceGraph } from '../compose/graph.js';
import { LABEL } from '../compose/labels.js';
import type { LoadedProject } from '../compose/load.js';
import { loadComposeProject } from './compose-project.js';
import { foundStackFile } from './found-stack-file.js';
import type { GlobalArgs } from './global-options.js';
import type { CliIO } from './io.js';

export interface ProjectScope {
  name: string;
  /** The stack file's project; undefined when only -p named it (then labels are all we know). */
  loaded: LoadedProject | undefined;
  /** The services: the stack file's, or those the project's containers carry. */
  services: string[];
  /** Dependency order; without a stack file, none is known. */
  graph: ServiceGraph;
  /** The project's containers (one-offs left out) when the scope was made, by service and number. */
  containers: ContainerSummary[];
}

/** The project the command acts on, or undefined for docker-style use. */
export async function findProjectScope(args: GlobalArgs, io: CliIO, client: ApiClient): Promise<ProjectScope | undefined> {
  const loaded = await loadProjectIfAny(args, io);
  const name = loaded?.project.name ?? args.projectName ?? (io.env.COMPOSE_PROJECT_NAME || undefined);
  if (name === undefined) return undefined;
  const containers = await projectContainers(client, name);
  const services = loaded ? Object.keys(loaded.project.services).sort() : [...new Set(containers.map(serviceOf))].sort();
  return { name, loaded, services, graph: loaded?.graph ?? new ServiceGraph(services, []), containers };
}

async function loadProjectIfAny(args: GlobalArgs, io: CliIO): Promise<LoadedProject | undefined> {
  const named = args.file !== undefined || args.projectDirectory !== undefined || Boolean(io.env.COMPOSE_FILE);
  if (named) return loadComposeProject(args, io);
  const file = await foundStackFile(io);
  if (file === undefined) return undefined;
  try {
    return loadComposeProject(args, io);
  } catch (err) {
    if (!(err instanceof InvalidStackFileError || err instanceof NotFoundError || err instanceof UsageError)) throw err;
    const first = err.message.split('\n')[0];
    io.stderr.write(`warning: ${file} does not load (${first}${err.message.includes('\n') ? ', ...' : ''}); acting on containers by name`
      + `${args.projectName !== undefined ? ` and on project "${args.projectName}" by its labels` : ''}. "stack config" shows every problem.\n`);
    return undefined;
  }
}

export function serviceOf(c: ContainerSummary): string {
  return c.Labels[LABEL.service] ?? '';
}

export function containerNameOf(c: ContainerSummary): string {
  return (c.Names[0] ?? c.Id).replace(/^\//, '');
}

export function replicaOf(c: ContainerSummary): number {
  return Number(c.Labels[LABEL.number] ?? 1);
}

/** Positional names split into the project's services and container references (docker-style). */
export function splitNames(scope: ProjectScope | undefined, names: readonly string[]): { services: string[]; containers: string[] } {
  const services = new Set(scope?.services ?? []);
  return { services: names.filter((n) => services.has(n)), containers: names.filter((n) => !services.has(n)) };
}

/** A service's containers (the one of replica `index` when given); a clear error when there are none. */
export function containersOfService(scope: ProjectScope, service: string, index?: number): ContainerSummary[] {
  const all = scope.containers.filter((c) => serviceOf(c) === service);
  if (all.length === 0) throw new NotFoundError(`service "${service}" of project "${scope.name}" has no containers: "stack up ${service}" creates them`);
  if (index === undefined) return all;
  const one = all.filter((c) => replicaOf(c) === index);
  if (one.length === 0) throw new NotFoundError(`service "${service}" has no replica ${index}: it has ${all.map(replicaOf).join(', ')}`);
  return one;
}

/**
 * The error for a name that is neither a service nor a container: in project scope it
 * names both possibilities and suggests the nearest service.
 */
export function unknownName(scope: ProjectScope | undefined, name: string, cause?: unknown): Error {
  if (!scope) return cause instanceof Error ? cause : new NotFoundError(`No such container: ${name}`);
  const close = closestName(name, scope.services);
  return new NotFoundError(
    `no service or container "${name}" in project "${scope.name}"${close ? ` (did you mean "${close}"?)` : ''}; its services: ${scope.services.join(', ') || '(none)'}`,
    { cause },
  );
}

/** Inspects a container reference; in project scope a missing one becomes unknownName's error. */
export async function resolveContainer(client: ApiClient, scope: ProjectScope | undefined, ref: string): Promise<{ id: string; name: string }> {
  try {
    const info = await client.call<{ Id: string; Name: string }>('GET', `/containers/${encodeURIComponent(ref)}/json`);
    return { id: info.Id, name: info.Name.replace(/^\//, '') };
  } catch (err) {
    if (err instanceof NotFoundError) throw unknownName(scope, ref, err);
    throw err;
  }
}

/** A service named in a command that only takes services (ps SERVICE, wait SERVICE) must be one. */
export function requireServices(scope: ProjectScope, names: readonly string[]): void {
  for (const n of names) {
    if (scope.services.includes(n)) continue;
    const close = closestName(n, scope.services);
    throw new NotFoundError(`no service "${n}" in project "${scope.name}"${close ? ` (did you mean "${close}"?)` : ''}; its services: ${scope.services.join(', ') || '(none)'}`);
  }
}

/** The error of a command that needs a project (or container names) where there is none. */
export function noProject(what: string): UsageError {
  return new UsageError(`${what}: no project here (no stack file that loads in this directory or above it); name one with -f FILE or -p NAME`);
}

/** `--index N` as Compose has it: a replica number from 1. */
export function replicaIndex(value: number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < 1) throw new UsageError(`--index ${value}: a replica number is 1 or more`);
  return value;
}
