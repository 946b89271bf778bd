// What a service's container is, in the engine API's terms: its name, its image and the
// create body, made from the typed model alone (pure). The config hash, a digest of that
// body without what differs between replicas, is what `up` compares to decide whether a
// running container still matches its service.

import type { ContainerCreateBody, EndpointConfig, HealthConfig, HostConfig, PortBinding, RestartPolicy } from '../common/api-types.js';
import { sha256Hex } from '../common/sha256.js';
import { LABEL } from './labels.js';
import type { Project, Service } from './model.js';
import { injectedFilesShape, serviceFileBinds } from './service-files.js';

/** How many containers `up` keeps of a service: --scale, else deploy.replicas, else 1. */
export function replicasOf(service: Service, scale: Readonly<Record<string, number>> | undefined): number {
  return scale?.[service.name] ?? service.deploy?.replicas ?? 1;
}

/** `<project>-<service>-<n>`, or the service's `container_name`. */
export function containerName(project: string, service: Service, number: number): string {
  return service.container_name ?? `${project}-${service.name}-${number}`;
}

/** The image a service runs: its `image`, or `<project>-<service>` for a built one without a name, as Compose names it. */
export function serviceImage(project: Project, service: Service): string {
  return service.image ?? `${project.name}-${service.name}`;
}

/** The engine's name of a network the project declares (its `name:`, already `<project>_<key>` by default). */
export function networkName(project: Project, key: string): string {
  return project.networks[key]?.name ?? `${project.name}_${key}`;
}

export function volumeName(project: Project, key: string): string {
  return project.volumes[key]?.name ?? `${project.name}_${key}`;
}

/** The networks a service joins, in the order the engine attaches them (by priority, then name). */
export function serviceNetworks(service: Service): string[] {
  return Object.keys(service.networks).sort((a, b) => {
    const pa = service.networks[a]?.priority ?? 0;
    const pb = service.networks[b]?.priority ?? 0;
    return pa !== pb ? pb - pa : a < b ? -1 : a > b ? 1 : 0;
  });
}

/** The labels every container of the service carries, whatever its number. */
function serviceLabels(project: Project, service: Service): Record<string, string> {
  return {
    ...service.labels,
    [LABEL.project]: project.name,
    [LABEL.service]: service.name,
    [LABEL.oneoff]: 'False',
    [LABEL.workingDir]: project.workingDir,
    [LABEL.configFiles]: project.composeFiles.join(','),
    [LABEL.image]: serviceImage(project, service),
  };
}

const MS_TO_NS = 1e6;

function healthcheck(service: Service): HealthConfig | undefined {
  const h = service.healthcheck;
  if (!h) return undefined;
  const ns = (ms: number | undefined) => (ms === undefined ? undefined : Math.round(ms * MS_TO_NS));
  const out: HealthConfig = {};
  if (h.test) out.Test = h.test;
  const fields: Array<[keyof HealthConfig, number | undefined]> = [
    ['Interval', ns(h.interval)], ['Timeout', ns(h.timeout)], ['StartPeriod', ns(h.start_period)], ['StartInterval', ns(h.start_interval)], ['Retries', h.retries],
  ];
  for (const [k, v] of fields) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

function restartPolicy(service: Service): RestartPolicy {
  if (service.restart !== undefined) {
    const [name, retries] = service.restart.split(':');
    return { Name: (name ?? 'no') as RestartPolicy['Name'], MaximumRetryCount: retries === undefined ? 0 : Number(retries) };
  }
  const condition = service.deploy?.restart_policy?.condition;
  if (condition === 'any') return { Name: 'always', MaximumRetryCount: 0 };
  if (condition === 'on-failure') return { Name: 'on-failure', MaximumRetryCount: service.deploy?.restart_policy?.max_attempts ?? 0 };
  return { Name: 'no', MaximumRetryCount: 0 };
}

/** Published ports, one binding per host port; a host range stays a range (the engine picks one port of it). */
export function portBindings(service: Service): Record<string, PortBinding[]> {
  const out: Record<string, PortBinding[]> = {};
  for (const p of service.ports) {
    (out[`${p.target}/${p.protocol}`] ??= []).push({ HostIp: p.host_ip ?? '', HostPort: p.published ?? '' });
  }
  return out;
}

function mounts(project: Project, service: Service): { binds: string[]; tmpfs: Record<string, string>; anonymous: string[] } {
  const binds: string[] = [];
  const tmpfs: Record<string, string> = {};
  const anonymous: string[] = [];
  for (const v of service.volumes) {
    const ro = v.read_only ? ':ro' : '';
    if (v.type === 'volume') {
      if (v.source === undefined) anonymous.push(v.target);
      else binds.push(`${volumeName(project, v.source)}:${v.target}${ro || (v.volume?.nocopy ? ':nocopy' : '')}`);
    } else if (v.type === 'bind') {
      binds.push(`${v.source}:${v.target}${ro}`);
    } else if (v.type === 'tmpfs') {
      const options = [v.tmpfs?.size !== undefined ? `size=${v.tmpfs.size}` : '', v.tmpfs?.mode !== undefined ? `mode=${v.tmpfs.mode.toString(8)}` : ''].filter(Boolean);
      tmpfs[v.target] = options.join(',');
    }
  }
  binds.push(...serviceFileBinds(project, service));
  for (const t of service.tmpfs ?? []) {
    const at = t.indexOf(':');
    if (at === -1) tmpfs[t] = '';
    else tmpfs[t.slice(0, at)] = t.slice(at + 1);
  }
  return { binds, tmpfs, anonymous };
}

/** `service:x` modes point at x's first container, by name (names are stable; IDs are not). */
function serviceMode(project: Project, mode: string | undefined): string | undefined {
  if (mode === undefined || !mode.startsWith('service:')) return mode;
  const other = project.services[mode.slice('service:'.length)];
  return other ? `container:${containerName(project.name, other, 1)}` : mode;
}

/**
 * `links:` as the engine's `NAME:ALIAS` pairs, one per container the linked service is meant
 * to have (deploy.replicas): links are dependencies, so those start first. The engine writes
 * them into /etc/hosts when the container starts.
 */
export function serviceLinks(project: Project, service: Service): string[] {
  return (service.links ?? []).flatMap((link) => {
    const [target = '', alias = target] = link.split(':');
    const other = project.services[target];
    if (!other) return [];
    return Array.from({ length: replicasOf(other, undefined) }, (_, i) => `${containerName(project.name, other, i + 1)}:${alias}`);
  });
}

/** `external_links:` as `NAME:ALIAS`: containers made outside the project, which must exist when it starts. */
function externalLinks(service: Service): string[] {
  return (service.external_links ?? []).map((l) => (l.includes(':') ? l : `${l}:${l}`));
}

/**
 * The body with only the `links:` to containers in `present`: as in Compose, a container links
 * to the containers its linked services have, and none when such a service is not up
 * (--no-deps). External links stay: the engine says plainly when their container is missing.
 */
export function keepLinksTo(project: Project, service: Service, body: ContainerCreateBody, present: ReadonlySet<string>): ContainerCreateBody {
  const links = body.HostConfig?.Links;
  if (!links) return body;
  const ofServices = new Set(serviceLinks(project, service));
  const kept = links.filter((l) => !ofServices.has(l) || present.has(l.split(':')[0]!));
  const { Links: _dropped, ...host } = body.HostConfig!;
  return { ...body, HostConfig: kept.length ? { ...host, Links: kept } : host };
}

/** A container that is not one of the service's numbered replicas: a one-off of `run`. */
interface OneOffShape {
  name: string;
  /** --use-aliases: the service's name and aliases on its networks too, not only the container's name. */
  serviceAliases: boolean;
}

/**
 * The create body of container `number` of a service (or of a one-off). The config hash label
 * is left out: the hash is made from this body, and `containerCreateBody` adds it.
 */
function bodyWithoutHash(project: Project, service: Service, number: number, oneOff?: OneOffShape): ContainerCreateBody {
  const name = oneOff?.name ?? containerName(project.name, service, number);
  const { binds, tmpfs, anonymous } = mounts(project, service);
  const limits = service.deploy?.resources?.limits;
  const memory = limits?.memory ?? service.mem_limit;
  const cpus = limits?.cpus ?? service.cpus;
  const pids = limits?.pids ?? service.pids_limit;
  const networks = serviceNetworks(service);
  const links = [...serviceLinks(project, service), ...externalLinks(service)];
  const exposed = [...service.expose.map((e) => (e.includes('/') ? e : `${e}/tcp`)), ...service.ports.map((p) => `${p.target}/${p.protocol}`)];

  const host: HostConfig = {
    Binds: binds,
    ...(Object.keys(tmpfs).length ? { Tmpfs: tmpfs } : {}),
    ...(service.ports.length ? { PortBindings: portBindings(service) } : {}),
    RestartPolicy: restartPolicy(service),
    NetworkMode: serviceMode(project, service.network_mode) ?? (networks[0] !== undefined ? networkName(project, networks[0]) : 'default'),
    ...(service.init !== undefined ? { Init: service.init } : {}),
    ...(service.cap_add.length ? { CapAdd: service.cap_add } : {}),
    ...(service.cap_drop.length ? { CapDrop: service.cap_drop } : {}),
    ...(service.read_only ? { ReadonlyRootfs: true } : {}),
    ...(service.privileged ? { Privileged: true } : {}),
    ...(Object.keys(service.extra_hosts).length ? { ExtraHosts: Object.entries(service.extra_hosts).flatMap(([h, ips]) => ips.map((ip) => `${h}:${ip}`)) } : {}),
    ...(memory !== undefined ? { Memory: memory } : {}),
    ...(service.mem_reservation !== undefined ? { MemoryReservation: service.mem_reservation } : {}),
    ...(service.memswap_limit !== undefined ? { MemorySwap: service.memswap_limit } : {}),
    ...(cpus !== undefined ? { NanoCpus: Math.round(cpus * 1e9) } : {}),
    ...(service.cpu_shares !== undefined ? { CpuShares: service.cpu_shares } : {}),
    ...(service.cpu_quota !== undefined ? { CpuQuota: service.cpu_quota } : {}),
    ...(service.cpu_period !== undefined ? { CpuPeriod: service.cpu_period } : {}),
    ...(pids !== undefined ? { PidsLimit: pids } : {}),
    ...(service.dns ? { Dns: service.dns } : {}),
    ...(service.dns_search ? { DnsSearch: service.dns_search } : {}),
    ...(service.dns_opt ? { DnsOptions: service.dns_opt } : {}),
    ...(service.volumes_from?.length ? { VolumesFrom: service.volumes_from.map((v) => volumesFromEntry(project, v)) } : {}),
    ...(links.length ? { Links: links } : {}),
    ...(service.shm_size !== undefined ? { ShmSize: service.shm_size } : {}),
    ...(service.ulimits ? { Ulimits: Object.entries(service.ulimits).map(([Name, l]) => ({ Name, Soft: l.soft, Hard: l.hard })) } : {}),
    ...(service.sysctls ? { Sysctls: service.sysctls } : {}),
    ...(service.group_add?.length ? { GroupAdd: service.group_add } : {}),
    ...(service.oom_score_adj !== undefined ? { OomScoreAdj: service.oom_score_adj } : {}),
  };
  const endpoints: Record<string, EndpointConfig> = {};
  for (const key of networks) {
    const n = service.networks[key];
    endpoints[networkName(project, key)] = {
      Aliases: oneOff && !oneOff.serviceAliases ? [name] : [service.name, name, ...(n?.aliases ?? [])],
      ...(n?.ipv4_address ? { IPAMConfig: { IPv4Address: n.ipv4_address } } : {}),
      ...(n?.mac_address ? { MacAddress: n.mac_address } : {}),
    };
  }
  const health = healthcheck(service);
  return {
    Image: serviceImage(project, service),
    Env: Object.entries(service.environment).filter(([, v]) => v !== null).map(([k, v]) => `${k}=${v}`).sort(),
    Labels: { ...serviceLabels(project, service), ...(oneOff ? {} : { [LABEL.number]: String(number) }) },
    ...(service.command !== undefined ? { Cmd: service.command ?? [] } : {}),
    ...(service.entrypoint !== undefined ? { Entrypoint: service.entrypoint ?? [] } : {}),
    ...(service.working_dir ? { WorkingDir: service.working_dir } : {}),
    ...(service.user ? { User: service.user } : {}),
    ...(service.hostname ? { Hostname: service.hostname } : {}),
    ...(service.domainname ? { Domainname: service.domainname } : {}),
    ...(service.stop_signal ? { StopSignal: service.stop_signal } : {}),
    ...(service.stop_grace_period !== undefined ? { StopTimeout: Math.ceil(service.stop_grace_period / 1000) } : {}),
    ...(health ? { Healthcheck: health } : {}),
    ...(service.tty ? { Tty: true } : {}),
    ...(service.stdin_open ? { OpenStdin: true } : {}),
    ...(service.mac_address ? { MacAddress: service.mac_address } : {}),
    ...(exposed.length ? { ExposedPorts: Object.fromEntries([...new Set(exposed)].sort().map((p) => [p, {}])) } : {}),
    ...(anonymous.length ? { Volumes: Object.fromEntries(anonymous.map((t) => [t, {}])) } : {}),
    HostConfig: host,
    ...(service.network_mode === undefined ? { NetworkingConfig: { EndpointsConfig: endpoints } } : {}),
  };
}

function volumesFromEntry(project: Project, entry: string): string {
  if (entry.startsWith('container:')) return entry.slice('container:'.length);
  const [svc = '', mode] = entry.replace(/^service:/, '').split(':');
  const other = project.services[svc];
  const target = other ? containerName(project.name, other, 1) : svc;
  return mode ? `${target}:${mode}` : target;
}

/** JSON with object keys sorted at every level, so equal configs give equal text. */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * The digest of everything that shapes a service's containers: its create body with the
 * per-replica parts (number, name alias) taken out. A running container whose label
 * differs no longer matches its service and is recreated.
 */
export function serviceConfigHash(project: Project, service: Service): string {
  const body = bodyWithoutHash(project, service, 0);
  const injected = injectedFilesShape(project, service);
  return configDigest(injected === undefined ? body : { body, injected });
}

/** The sha256 of a config's stable JSON: the config-hash label of containers, networks and volumes. */
export function configDigest(value: unknown): string {
  return sha256Hex(stableJson(value));
}

export function containerCreateBody(project: Project, service: Service, number: number, hash = serviceConfigHash(project, service)): ContainerCreateBody {
  const body = bodyWithoutHash(project, service, number);
  body.Labels = { ...body.Labels, [LABEL.configHash]: hash };
  return body;
}

/**
 * The create body of a one-off container of `stack run`, from the service as `run` changed it
 * (command, ports, environment...; see one-off.ts): labelled as a one-off with its slug, so
 * `up` and `down` tell it from the service's replicas, and without a config hash.
 */
export function oneOffCreateBody(project: Project, service: Service, shape: OneOffShape & { slug: string }): ContainerCreateBody {
  const body = bodyWithoutHash(project, service, 0, shape);
  body.Labels = { ...body.Labels, [LABEL.oneoff]: 'True', [LABEL.slug]: shape.slug };
  return body;
}
