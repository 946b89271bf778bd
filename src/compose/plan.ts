// Plan: the desired Project and the observed state in, a DAG of operations out, each
// with the cause that calls for it. Pure: no engine, no clock, no filesystem; the checks
// that need the machine (ports taken, build contexts missing) arrive as observed facts,
// so a conflict is found here, before anything starts. `formatPlan` prints it stably:
// it is what `stack up --dry-run` shows and what the golden tests compare.

import type { ContainerCreateBody, NetworkCreateBody } from '../common/api-types.js';
import type { VolumeCreateBody } from '../common/volume-api-types.js';
import type { ServiceGraph } from './graph.js';
import type { DependencyCondition, Project, Service } from './model.js';
import { imageKey, type ObservedContainer, type ObservedState } from './observe.js';
import { LABEL } from './labels.js';
import { injectedFiles, missingFileSources, type InjectedFile } from './service-files.js';
import { containerCreateBody, containerName, keepLinksTo, networkName, replicasOf, serviceConfigHash, configDigest, serviceImage, serviceNetworks, volumeName } from './service-container.js';

export type OperationKind =
  | 'create-network'
  | 'recreate-network'
  | 'create-volume'
  | 'pull-image'
  | 'build-image'
  | 'remove-orphan'
  | 'create-container'
  | 'recreate-container'
  | 'start-container'
  | 'remove-container'
  | 'stop-container'
  | 'remove-network'
  | 'remove-volume';

/** A dependency a service's containers wait for before they start. */
export interface DependencyWait {
  service: string;
  condition: DependencyCondition;
  required: boolean;
}

export interface Operation {
  /** Unique in the plan: `network:NAME`, `container:NAME`, ... */
  id: string;
  kind: OperationKind;
  /** The engine's name of what it acts on (network, volume, image, container). */
  target: string;
  /** Why it is needed, said to a person: "missing", "config changed", "scale 3 -> 1". */
  cause: string;
  /** Operations that must finish first. */
  after: string[];
  service?: string;
  number?: number;
  /** The existing container it replaces, starts, stops or removes. */
  containerId?: string;
  /** For removal: an operation before it stopped the container (down), so only the removal is left. */
  stopped?: boolean;
  /** For container creation: the body to send. */
  create?: ContainerCreateBody;
  /** For container creation: secrets and configs written into it before it starts. */
  files?: InjectedFile[];
  /** For container creation and start: the dependencies to wait for first. */
  waits?: DependencyWait[];
  /** For network and volume creation: the body to send. */
  network?: NetworkCreateBody;
  volume?: VolumeCreateBody;
  /** For image builds: the service's build context and Dockerfile. */
  build?: { context: string; dockerfile?: string; args?: Record<string, string>; target?: string; labels?: Record<string, string>; tags?: string[]; noCache?: boolean; pull?: boolean };
}

export interface Plan {
  project: string;
  operations: Operation[];
  /** The services the command acts on (with their dependencies unless --no-deps), dependency order. */
  services: string[];
  /** Containers that already match their service and are running. */
  unchanged: string[];
  /** Containers of services the project no longer has, left alone (no --remove-orphans). */
  orphans: string[];
  /** Conflicts that forbid applying the plan: ports in use, missing images, contexts or external resources. */
  problems: string[];
  /** For down without --remove-orphans: one-off containers of `run` left in place, with the networks they use. */
  oneOffsLeft?: string[];
}

export type PullPolicy = 'always' | 'missing' | 'never';

export interface UpOptions {
  services?: readonly string[];
  noDeps?: boolean;
  forceRecreate?: boolean;
  noRecreate?: boolean;
  /** --scale svc=N; overrides deploy.replicas. */
  scale?: Readonly<Record<string, number>>;
  removeOrphans?: boolean;
  pull?: PullPolicy;
  /** --build: build every service with a build section, present or not. */
  build?: boolean;
  /** --no-build: never build; a missing image of a build service is a problem. */
  noBuild?: boolean;
  /**
   * Services whose networks, volumes and image are made ready but whose containers are left
   * alone: the service of `stack run`, whose one-off container the run makes itself.
   */
  prepareOnly?: readonly string[];
  /** The project's environment (the process's under .env): values of `environment:` secrets and configs. */
  environment?: Readonly<Record<string, string | undefined>>;
}

export interface DownOptions {
  removeOrphans?: boolean;
  /** -v: the project's named volumes and the containers' anonymous ones go too. */
  volumes?: boolean;
}

const by = <T>(key: (t: T) => string | number) => (a: T, b: T): number => {
  const ka = key(a), kb = key(b);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
};

export { replicasOf };

/** The services `up` acts on, in dependency order. */
function selectServices(project: Project, graph: ServiceGraph, options: UpOptions, problems: string[]): string[] {
  const asked = options.services ?? [];
  const prepared = options.prepareOnly ?? [];
  for (const name of [...asked, ...prepared]) {
    if (!project.services[name]) {
      problems.push(project.disabledServices[name]
        ? `service "${name}" is disabled by its profiles: enable one with --profile`
        : `no such service: "${name}"; the services are ${Object.keys(project.services).sort().join(', ')}`);
    }
  }
  const known = asked.filter((n) => project.services[n]);
  const chosen = new Set(asked.length === 0 && prepared.length === 0 ? Object.keys(project.services) : options.noDeps ? known : graph.withDependencies(known));
  for (const name of prepared) if (project.services[name]) chosen.add(name);
  return graph.topologicalOrder().filter((s) => chosen.has(s));
}

/** The plan of `stack up`. */
export function planUp(project: Project, graph: ServiceGraph, observed: ObservedState, options: UpOptions = {}): Plan {
  const problems: string[] = [];
  const services = selectServices(project, graph, options, problems);
  const operations: Operation[] = [];
  const add = (op: Operation): Operation => {
    operations.push(op);
    return op;
  };

  for (const [name, n] of Object.entries(options.scale ?? {})) {
    if (!project.services[name]) problems.push(`--scale ${name}=${n}: no such service`);
  }

  // Networks and volumes the chosen services use.
  const networkKeys = [...new Set(services.flatMap((s) => serviceNetworks(project.services[s]!)))].sort();
  const networkOp = new Map<string, string>();
  const changedNetworks = new Set<string>();
  for (const key of networkKeys) {
    const name = networkName(project, key);
    const config = project.networks[key];
    const seen = observed.networks[name];
    if (seen && (config?.external || !changedConfig(seen.labels, project.name, networkBody(project, key, name).Labels!) || options.noRecreate)) continue;
    if (config?.external) {
      problems.push(`network ${name} is declared as external but does not exist: create it with "stack network create ${name}"`);
      continue;
    }
    if (seen) {
      // Compose's rule: a project network whose config changed is made again, and the containers on it with it.
      const users = observed.containers.filter((c) => !services.includes(c.service) && project.services[c.service] && serviceNetworks(project.services[c.service]!).includes(key));
      if (users.length) problems.push(`network ${name} changed in the stack file, but containers of services not named here use it (${users.map((c) => c.name).join(', ')}): run "stack up" for all services`);
      changedNetworks.add(key);
    }
    networkOp.set(key, add({ id: `network:${name}`, kind: seen ? 'recreate-network' : 'create-network', target: name, cause: seen ? 'config changed' : 'missing', after: [], network: networkBody(project, key, name) }).id);
  }
  const volumeKeys = [...new Set(services.flatMap((s) => project.services[s]!.volumes.filter((v) => v.type === 'volume' && v.source !== undefined).map((v) => v.source!)))].sort();
  const volumeOp = new Map<string, string>();
  for (const key of volumeKeys) {
    const name = volumeName(project, key);
    const body = volumeBody(project, key, name);
    const seen = observed.volumes[name];
    if (seen) {
      // Never made again on its own: that would throw its data away.
      if (!project.volumes[key]?.external && changedConfig(seen.labels, project.name, body.Labels!)) {
        problems.push(`volume ${name} exists with other options than the stack file now gives it; its data is left as it is. To make it again (its data will be lost) run "stack down -v" or "stack volume rm ${name}", or keep it by marking it external: true`);
      }
      continue;
    }
    if (project.volumes[key]?.external) {
      problems.push(`volume ${name} is declared as external but does not exist: create it with "stack volume create ${name}"`);
      continue;
    }
    volumeOp.set(key, add({ id: `volume:${name}`, kind: 'create-volume', target: name, cause: 'missing', after: [], volume: body }).id);
  }

  // Images: built or pulled before any container of theirs is made.
  const imageOp = new Map<string, string>();
  const rebuilt = new Set<string>();
  // As Compose does: an image another service of the project builds is built, never pulled.
  const builders = new Map<string, NonNullable<Service['build']>>();
  for (const other of Object.values(project.services)) {
    if (other.build && !builders.has(serviceImage(project, other))) builders.set(serviceImage(project, other), other.build);
  }
  for (const s of services) {
    const service = project.services[s]!;
    const image = serviceImage(project, service);
    const build = service.build ?? builders.get(image);
    const present = observed.images[imageKey(image)] !== undefined;
    const id = `image:${image}`;
    const policy = options.pull ?? pullPolicyOf(service);
    if (build && (options.build || (!present && !options.noBuild) || policy === 'build')) {
      if (observed.missingBuildContexts.includes(build.context)) {
        problems.push(`service ${s}: build context ${build.context} does not exist: check "build:" in the stack file`);
        continue;
      }
      if (!operations.some((o) => o.id === id)) add(buildOperation(image, s, build, options.build ? '--build' : 'missing'));
      imageOp.set(s, id);
      rebuilt.add(s);
      continue;
    }
    if (!present && build && options.noBuild) {
      problems.push(`service ${s}: image ${image} is missing and --no-build forbids building it`);
      continue;
    }
    if (policy === 'always' || (!present && policy === 'missing')) {
      if (!operations.some((o) => o.id === id)) add({ id, kind: 'pull-image', target: image, cause: present ? 'pull policy always' : 'missing', after: [], service: s });
      imageOp.set(s, id);
    } else if (!present) {
      problems.push(`service ${s}: image ${image} is missing and the pull policy is never: make it first, or pull with --pull missing`);
    }
  }

  // Orphans: containers of services the project no longer has.
  const orphans: string[] = [];
  for (const c of observed.containers) {
    if (c.oneoff || project.services[c.service] || project.disabledServices[c.service]) continue;
    if (options.removeOrphans) add({ id: `container:${c.name}`, kind: 'remove-orphan', target: c.name, cause: `service ${c.service || '?'} is not in the project`, after: [], containerId: c.id });
    else orphans.push(c.name);
  }

  const prepareOnly = new Set(options.prepareOnly ?? []);
  const started = services.filter((s) => !prepareOnly.has(s));
  checkPorts(project, started, observed, options, problems);

  // Containers, service by service in dependency order.
  const unchanged: string[] = [];
  const serviceOps = new Map<string, string[]>();
  const recreated = new Set<string>();
  const selected = new Set(started);
  for (const s of started) {
    const service = project.services[s]!;
    const hash = serviceConfigHash(project, service);
    const wanted = replicasOf(service, options.scale);
    const existing = observed.containers.filter((c) => c.service === s && !c.oneoff).sort(by((c) => c.number));
    const keep = existing.slice(0, wanted);
    const extra = existing.slice(wanted);
    const waits: DependencyWait[] = Object.entries(service.depends_on)
      .filter(([d]) => selected.has(d))
      .map(([d, dep]) => ({ service: d, condition: dep.condition, required: dep.required }))
      .sort(by((w) => w.service));
    const after = [
      ...serviceNetworks(service).map((k) => networkOp.get(k)).filter((x): x is string => x !== undefined),
      ...service.volumes.map((v) => (v.type === 'volume' && v.source ? volumeOp.get(v.source) : undefined)).filter((x): x is string => x !== undefined),
      ...(imageOp.has(s) ? [imageOp.get(s)!] : []),
      ...graph.dependenciesOf(s).flatMap((d) => serviceOps.get(d) ?? []),
    ].filter((x, i, all) => all.indexOf(x) === i);
    const ops: string[] = [];
    const modeParent = /^service:(.+)$/.exec(service.network_mode ?? '')?.[1];
    // A link is an /etc/hosts line written at start: a recreated linked container has a new address.
    const linkedRecreated = (service.links ?? []).map((l) => l.split(':')[0]!).find((l) => recreated.has(l));
    const followsRecreated = modeParent !== undefined && recreated.has(modeParent)
      ? 'its network_mode service was recreated'
      : linkedRecreated !== undefined ? `its linked service ${linkedRecreated} was recreated` : undefined;
    const imageId = observed.images[imageKey(serviceImage(project, service))];
    const injected = injectedFiles(project, service, options.environment ?? {});
    problems.push(...injected.problems, ...missingFileSources(project, service, (f) => !observed.missingFiles.includes(f)));
    const files = injected.files.length ? { files: injected.files } : {};

    for (const c of keep) {
      const changedNetwork = serviceNetworks(service).find((k) => changedNetworks.has(k));
      const why = changedNetwork !== undefined ? `network ${networkName(project, changedNetwork)} changed` : divergence(c, hash, imageId, rebuilt.has(s), followsRecreated);
      const name = c.name;
      if (options.forceRecreate || (why && !options.noRecreate)) {
        ops.push(add({
          id: `container:${name}`, kind: 'recreate-container', target: name, cause: options.forceRecreate ? '--force-recreate' : why!, after, service: s, number: c.number,
          containerId: c.id, create: containerCreateBody(project, service, c.number, hash), ...files, waits,
        }).id);
        recreated.add(s);
      } else if (c.state !== 'running' && c.state !== 'restarting') {
        ops.push(add({ id: `container:${name}`, kind: 'start-container', target: name, cause: c.state === 'created' ? 'created, not started' : 'stopped', after, service: s, number: c.number, containerId: c.id, waits }).id);
      } else {
        unchanged.push(name);
      }
    }
    const used = new Set(existing.map((c) => c.number));
    const cause = existing.length > 0 ? `scale ${existing.length} -> ${wanted}` : 'new';
    for (let n = 1, made = keep.length; made < wanted; n++) {
      if (used.has(n)) continue;
      const name = containerName(project.name, service, n);
      ops.push(add({ id: `container:${name}`, kind: 'create-container', target: name, cause, after, service: s, number: n, create: containerCreateBody(project, service, n, hash), ...files, waits }).id);
      made++;
    }
    for (const c of extra) {
      add({ id: `container:${c.name}`, kind: 'remove-container', target: c.name, cause: `scale ${existing.length} -> ${wanted}`, after: [], service: s, number: c.number, containerId: c.id });
    }
    serviceOps.set(s, ops);
  }
  const present = new Set([
    ...observed.containers.filter((c) => !c.oneoff && !operations.some((o) => o.containerId === c.id && (o.kind === 'remove-container' || o.kind === 'remove-orphan'))).map((c) => c.name),
    ...operations.filter((o) => o.create).map((o) => o.target),
  ]);
  for (const op of operations) if (op.create && op.service) op.create = keepLinksTo(project, project.services[op.service]!, op.create, present);
  return { project: project.name, operations, services, unchanged: unchanged.sort(), orphans: orphans.sort(), problems };
}

/**
 * Whether a project's network or volume was made from other config than `wanted`'s: both
 * carry the config-hash label (ones made before there was one are taken as they are).
 */
function changedConfig(seen: Record<string, string>, projectName: string, wanted: Record<string, string>): boolean {
  const had = seen[LABEL.configHash];
  return seen[LABEL.project] === projectName && had !== undefined && had !== wanted[LABEL.configHash];
}

/** A create body with the config-hash label of the rest of it. */
function withConfigHash<T extends { Labels?: Record<string, string> | null }>(body: T): T {
  return { ...body, Labels: { ...body.Labels, [LABEL.configHash]: configDigest(body) } };
}

function volumeBody(project: Project, key: string, name: string): VolumeCreateBody {
  const config = project.volumes[key];
  return withConfigHash({
    Name: name,
    Labels: { ...config?.labels, [LABEL.project]: project.name, [LABEL.volume]: key },
    ...(config?.driver ? { Driver: config.driver } : {}),
    ...(config?.driver_opts ? { DriverOpts: config.driver_opts } : {}),
  });
}

function networkBody(project: Project, key: string, name: string): NetworkCreateBody {
  const config = project.networks[key];
  const subnets = config?.ipam?.config?.map((c) => ({ ...(c.subnet ? { Subnet: c.subnet } : {}), ...(c.gateway ? { Gateway: c.gateway } : {}), ...(c.ip_range ? { IPRange: c.ip_range } : {}) }));
  return withConfigHash({
    Name: name,
    Labels: { ...config?.labels, [LABEL.project]: project.name, [LABEL.network]: key },
    ...(config?.driver ? { Driver: config.driver } : {}),
    ...(config?.internal ? { Internal: true } : {}),
    ...(config?.attachable ? { Attachable: true } : {}),
    ...(config?.enable_ipv6 ? { EnableIPv6: true } : {}),
    ...(config?.driver_opts ? { Options: config.driver_opts } : {}),
    ...(subnets?.length ? { IPAM: { Config: subnets } } : {}),
  });
}

/** The operation that builds a service's image from its `build:` section. */
export function buildOperation(image: string, service: string, build: NonNullable<Service['build']>, cause: string): Operation {
  return {
    id: `image:${image}`, kind: 'build-image', target: image, cause, after: [], service,
    build: {
      context: build.context,
      ...(build.dockerfile ? { dockerfile: build.dockerfile } : {}),
      ...(build.args ? { args: Object.fromEntries(Object.entries(build.args).filter((e): e is [string, string] => e[1] !== null)) } : {}),
      ...(build.target ? { target: build.target } : {}),
      ...(build.labels && Object.keys(build.labels).length ? { labels: build.labels } : {}),
      ...(build.tags?.length ? { tags: build.tags } : {}),
      ...(build.no_cache ? { noCache: true } : {}),
      ...(build.pull ? { pull: true } : {}),
    },
  };
}

function pullPolicyOf(service: Service): PullPolicy | 'build' {
  switch (service.pull_policy) {
    case 'always': return 'always';
    case 'never': return 'never';
    case 'build': return 'build';
    default: return 'missing';
  }
}

/** Why a container no longer matches its service, or undefined when it does. */
function divergence(c: ObservedContainer, hash: string, imageId: string | undefined, rebuilt: boolean, followsRecreated: string | undefined): string | undefined {
  if (c.configHash !== hash) return 'config changed';
  if (rebuilt) return 'image rebuilt';
  if (imageId !== undefined && c.imageId !== '' && c.imageId !== imageId) return 'image changed';
  return followsRecreated;
}

/** Host ports held by something else, asked for twice, or by several replicas. */
function checkPorts(project: Project, services: string[], observed: ObservedState, options: UpOptions, problems: string[]): void {
  const taken = new Set(observed.hostPortsInUse);
  const claimed = new Map<string, string>();
  for (const s of services) {
    const service = project.services[s]!;
    for (const p of service.ports) {
      if (!p.published || !/^\d+$/.test(p.published)) continue;
      const key = `${p.host_ip || '0.0.0.0'}:${p.published}/${p.protocol}`;
      if (taken.has(key)) problems.push(`service ${s}: host port ${key} is already in use: free it or publish another port`);
      const other = claimed.get(key);
      if (other !== undefined && other !== s) problems.push(`services ${other} and ${s} both publish host port ${key}: change one of them`);
      claimed.set(key, s);
      const replicas = replicasOf(service, options.scale);
      if (replicas > 1) problems.push(`service ${s}: ${replicas} replicas cannot all publish host port ${key}: publish a range or no host port`);
    }
  }
}

/** The plan of `stack down`: containers in reverse dependency order, then networks, then (with -v) volumes. */
export function planDown(projectName: string, project: Project | undefined, graph: ServiceGraph | undefined, observed: ObservedState, options: DownOptions = {}): Plan {
  const operations: Operation[] = [];
  const orphans: string[] = [];
  const byService = new Map<string, ObservedContainer[]>();
  // As Compose: one-offs of `run` go only with --remove-orphans (then with their service, or as orphans).
  const oneOffsLeft = options.removeOrphans ? [] : observed.containers.filter((c) => c.oneoff);
  for (const c of observed.containers) {
    if (oneOffsLeft.includes(c)) continue;
    const known = !project || project.services[c.service] || project.disabledServices[c.service];
    if (!known && !c.oneoff) {
      if (options.removeOrphans) operations.push({ id: `container:${c.name}`, kind: 'remove-orphan', target: c.name, cause: `service ${c.service || '?'} is not in the project`, after: [], containerId: c.id });
      else orphans.push(c.name);
      continue;
    }
    const list = byService.get(c.service) ?? [];
    list.push(c);
    byService.set(c.service, list);
  }
  // Dependents go first: a service's containers stop after those of every service that needs
  // it have stopped. Only the stops are ordered: a dependent's removal (its rootfs, cgroups,
  // network) runs while its dependencies stop, not before, so it costs `down` no extra wait.
  const order = graph ? [...graph.topologicalOrder()].reverse() : [];
  const services = [...order.filter((s) => byService.has(s)), ...[...byService.keys()].filter((s) => !order.includes(s)).sort()];
  const serviceStops = new Map<string, string[]>();
  for (const s of services) {
    const after = (graph?.dependentsOf(s) ?? []).flatMap((d) => serviceStops.get(d) ?? []);
    const stops = byService.get(s)!.sort(by((c) => c.number)).map((c) => {
      operations.push({ id: `stop:${c.name}`, kind: 'stop-container', target: c.name, cause: 'down', after, service: s, number: c.number, containerId: c.id });
      operations.push({ id: `container:${c.name}`, kind: 'remove-container', target: c.name, cause: 'down', after: [`stop:${c.name}`], service: s, number: c.number, containerId: c.id, stopped: true });
      return `stop:${c.name}`;
    });
    serviceStops.set(s, stops);
  }
  const containerOps = operations.filter((o) => o.kind !== 'stop-container').map((o) => o.id);

  const networks = new Set<string>();
  for (const [key, config] of Object.entries(project?.networks ?? {})) if (!config.external) networks.add(networkName(project!, key));
  for (const n of Object.values(observed.networks)) if (n.labels[LABEL.project] === projectName) networks.add(n.name);
  for (const c of oneOffsLeft) for (const n of c.networks) networks.delete(n);
  for (const name of [...networks].sort()) {
    if (observed.networks[name]) operations.push({ id: `network:${name}`, kind: 'remove-network', target: name, cause: 'down', after: containerOps });
  }
  if (options.volumes) {
    const volumes = new Set<string>();
    for (const [key, config] of Object.entries(project?.volumes ?? {})) if (!config.external) volumes.add(volumeName(project!, key));
    for (const v of Object.values(observed.volumes)) if (v.labels[LABEL.project] === projectName) volumes.add(v.name);
    for (const name of [...volumes].sort()) {
      if (observed.volumes[name]) operations.push({ id: `volume:${name}`, kind: 'remove-volume', target: name, cause: 'down -v', after: containerOps });
    }
  }
  return { project: projectName, operations, services, unchanged: [], orphans: orphans.sort(), problems: [], ...(oneOffsLeft.length ? { oneOffsLeft: oneOffsLeft.map((c) => c.name) } : {}) };
}

const VERB: Record<OperationKind, string> = {
  'create-network': 'create network',
  'recreate-network': 'recreate network',
  'create-volume': 'create volume',
  'pull-image': 'pull image',
  'build-image': 'build image',
  'remove-orphan': 'remove orphan container',
  'create-container': 'create container',
  'recreate-container': 'recreate container',
  'start-container': 'start container',
  'remove-container': 'remove container',
  'stop-container': 'stop container',
  'remove-network': 'remove network',
  'remove-volume': 'remove volume',
};

/** The plan as stable text: numbered operations with their causes, what they wait for, and what is left alone. */
export function formatPlan(plan: Plan): string {
  const lines: string[] = [];
  const index = new Map(plan.operations.map((o, i) => [o.id, i + 1]));
  if (plan.operations.length === 0) {
    lines.push(`project ${plan.project}: nothing to do`);
  } else {
    lines.push(`project ${plan.project}: ${plan.operations.length} operation${plan.operations.length === 1 ? '' : 's'}`);
    plan.operations.forEach((o, i) => {
      const after = o.after.map((a) => index.get(a)).filter((n): n is number => n !== undefined).sort((a, b) => a - b);
      const parts = [`${String(i + 1).padStart(3)}. ${VERB[o.kind]} ${o.target} (${o.cause})`];
      if (after.length) parts.push(`after ${after.join(', ')}`);
      if (o.waits?.length) parts.push(`waits for ${o.waits.map((w) => `${w.service} ${w.condition}${w.required ? '' : ' if present'}`).join(', ')}`);
      lines.push(parts.join('; '));
    });
  }
  if (plan.unchanged.length) lines.push(`up to date: ${plan.unchanged.join(', ')}`);
  if (plan.orphans.length) lines.push(`orphan containers (remove them with --remove-orphans): ${plan.orphans.join(', ')}`);
  if (plan.oneOffsLeft?.length) lines.push(`one-off containers left with their networks (remove them with --remove-orphans): ${plan.oneOffsLeft.join(', ')}`);
  for (const p of plan.problems) lines.push(`problem: ${p}`);
  return `${lines.join('\n')}\n`;
}
