// `stack run SERVICE [CMD..]` as Compose's `run`: the service's dependencies brought up with
// `up`'s own plan (unless --no-deps) and waited for by their depends_on conditions, the
// service's networks, volumes and image made ready, then one container made from the
// service as the run's options change it (see `oneOffService`), named
// `<project>-<service>-run-<12 hex>` and labelled as a one-off so `up` never counts it as a
// replica and `down` leaves it unless --remove-orphans. Starting and following it is the
// caller's: the CLI treats it as any `stack run` container.

import { existsSync } from 'node:fs';
import type { ApiClient } from '../client/api-client.js';
import type { ContainerSummary } from '../common/api-types.js';
import { NotFoundError, UsageError } from '../common/errors.js';
import { waitForDependencies } from './apply.js';
import { closestName } from './did-you-mean.js';
import type { EmitEvent } from './events.js';
import { LABEL } from './labels.js';
import type { LoadedProject } from './load.js';
import type { PortConfig, Project, Service, VolumeMount } from './model.js';
import type { PullPolicy } from './plan.js';
import { keepLinksTo, oneOffCreateBody } from './service-container.js';
import { injectedFiles, missingFileSources, writeInjectedFiles } from './service-files.js';
import { splitCommand } from './short-syntax/command.js';
import type { Parsed } from './short-syntax/parsed.js';
import { parsePortShortSyntax } from './short-syntax/ports.js';
import { parseVolumeShortSyntax } from './short-syntax/volumes.js';
import { upProject } from './up.js';
import type { RegistryLogins } from './image-sources.js';

/** What `run` changes of the service, as its command line says it. */
export interface OneOffChanges {
  /** Replaces the service's command when not empty. */
  command: readonly string[];
  /** -e KEY=VAL, or KEY alone for the value in `env` (left out when unset there). */
  env: readonly string[];
  labels: Readonly<Record<string, string>>;
  /** -v in the stack file's short syntax; relative host paths are the project directory's. */
  volumes: readonly string[];
  /** -p in the stack file's short syntax; replaces the service's ports. */
  publish: readonly string[];
  /** --service-ports: publish the service's own ports (by default a one-off publishes none). */
  servicePorts: boolean;
  workdir?: string | undefined;
  user?: string | undefined;
  /** Split like a shell would; `''` clears the image's entrypoint. */
  entrypoint?: string | undefined;
  /** -t: the command gets a terminal (a one-off has none otherwise, whatever the service's `tty`). */
  tty?: boolean | undefined;
}

export interface OneOffRequest extends OneOffChanges {
  service: string;
  /** --name; default `<project>-<service>-run-<12 hex>`. */
  name?: string | undefined;
  /** --use-aliases: the service's name and network aliases point at this container too. */
  useAliases: boolean;
  noDeps: boolean;
  pull?: PullPolicy | undefined;
  /** --build: build the image first even if it is there. */
  build: boolean;
  emit: EmitEvent;
  logins?: RegistryLogins;
  /** The environment `-e KEY` reads. */
  environment: Readonly<Record<string, string | undefined>>;
  /** 64 hex digits, Compose's slug; injected so tests can name the container. */
  slug: string;
}

/** The one-off container, created and not started. */
export interface CreatedOneOff {
  id: string;
  name: string;
}

/** The service a run names, or a NotFoundError that says which services there are (and the likely one). */
export function serviceToRun(project: Project, name: string): Service {
  const service = project.services[name];
  if (service) return service;
  if (project.disabledServices[name]) throw new UsageError(`service "${name}" is disabled by its profiles: enable one with --profile ${project.disabledServices[name]!.profiles[0] ?? ''}`.trimEnd());
  const names = Object.keys(project.services).sort();
  const guess = closestName(name, names);
  throw new NotFoundError(`no such service: "${name}"${guess ? `; did you mean "${guess}"?` : ''} (the services are ${names.join(', ')})`);
}

/**
 * The service as `run` changes it, the way Compose does: no restart policy, no ports unless
 * asked, the command, environment, labels, volumes, working directory, user and entrypoint of
 * the command line. Pure; throws a UsageError naming a value it cannot read.
 */
export function oneOffService(project: Project, service: Service, changes: OneOffChanges, environment: Readonly<Record<string, string | undefined>>): Service {
  const paths = { projectDirectory: project.workingDir, home: environment.HOME };
  const read = <T>(flag: string, value: string, result: Parsed<T>): T => {
    if (!result.ok) throw new UsageError(`${flag} ${value}: ${result.error}`);
    return result.value;
  };
  const ports: PortConfig[] = changes.publish.length
    ? changes.publish.flatMap((p) => read('-p', p, parsePortShortSyntax(p)))
    : changes.servicePorts ? service.ports : [];
  const volumes: VolumeMount[] = [...service.volumes, ...changes.volumes.map((v) => read('-v', v, parseVolumeShortSyntax(v, paths)))];
  const environmentOverrides: Record<string, string> = {};
  for (const e of changes.env) {
    const at = e.indexOf('=');
    if (at === 0) throw new UsageError(`-e "${e}" has no variable name: use KEY=VALUE`);
    if (at !== -1) environmentOverrides[e.slice(0, at)] = e.slice(at + 1);
    else if (environment[e] !== undefined) environmentOverrides[e] = environment[e]!;
  }
  const { restart: _restart, tty: _tty, stdin_open: _stdin, ...rest } = service;
  const changed: Service = {
    ...rest,
    ports,
    volumes,
    environment: { ...service.environment, ...environmentOverrides },
    labels: { ...service.labels, ...changes.labels },
    ...(service.deploy ? { deploy: withoutRestartPolicy(service.deploy) } : {}),
    ...(changes.command.length ? { command: [...changes.command] } : {}),
    ...(changes.workdir ? { working_dir: changes.workdir } : {}),
    ...(changes.user ? { user: changes.user } : {}),
    ...(changes.tty ? { tty: true } : {}),
  };
  if (changes.entrypoint !== undefined) {
    changed.entrypoint = changes.entrypoint === '' ? [] : read('--entrypoint', changes.entrypoint, splitCommand(changes.entrypoint));
    // As Compose: a new entrypoint does not get the service's command as its arguments.
    if (!changes.command.length) changed.command = [];
  }
  return changed;
}

function withoutRestartPolicy(deploy: NonNullable<Service['deploy']>): NonNullable<Service['deploy']> {
  const { restart_policy: _policy, ...rest } = deploy;
  return rest;
}

/** `<project>-<service>-run-<first 12 hex of the slug>`, as Compose names one-offs. */
export function oneOffName(project: Project, service: Service, slug: string): string {
  return `${project.name}-${service.name}-run-${slug.slice(0, 12)}`;
}

/** Dependencies up and ready, then the one-off container created (not started). */
export async function createOneOff(client: ApiClient, loaded: LoadedProject, request: OneOffRequest): Promise<CreatedOneOff> {
  const { project, graph } = loaded;
  const service = serviceToRun(project, request.service);
  const changed = oneOffService(project, service, request, request.environment);
  const injected = injectedFiles(project, changed, loaded.environment ?? {});
  const problems = [...injected.problems, ...missingFileSources(project, changed, existsSync)];
  if (problems.length) throw new UsageError(`nothing was started: ${problems.join('; ')}`);
  const dependencies = request.noDeps ? [] : graph.withDependencies([service.name]).filter((s) => s !== service.name);
  await upProject(client, loaded, {
    services: dependencies,
    prepareOnly: [service.name],
    ...(request.pull ? { pull: request.pull } : {}),
    ...(request.build ? { build: true } : {}),
    ...(request.logins ? { logins: request.logins } : {}),
    emit: request.emit,
  });
  const name = request.name ?? oneOffName(project, service, request.slug);
  if (!request.noDeps) {
    const waits = Object.entries(service.depends_on).map(([d, dep]) => ({ service: d, condition: dep.condition, required: dep.required }));
    await waitForDependencies(client, project.name, { service: service.name, container: name }, waits, { emit: request.emit });
  }
  const filters = JSON.stringify({ label: [`${LABEL.project}=${project.name}`] });
  const present = (await client.call<ContainerSummary[]>('GET', '/containers/json', { query: { all: 1, filters } }))
    .filter((c) => c.Labels[LABEL.oneoff] !== 'True')
    .map((c) => (c.Names[0] ?? '').replace(/^\//, ''));
  const body = keepLinksTo(project, changed, oneOffCreateBody(project, changed, { name, serviceAliases: request.useAliases, slug: request.slug }), new Set(present));
  request.emit({ type: 'container-creating', service: service.name, container: name });
  const { Id } = await client.call<{ Id: string }>('POST', '/containers/create', { query: { name }, body });
  await writeInjectedFiles(client, Id, injected.files);
  request.emit({ type: 'container-created', service: service.name, container: name });
  return { id: Id, name };
}
