// One service of the merged, validated document to its long form (model.ts): short
// syntaxes expanded, units applied, host paths made absolute, env files read, and
// references to top-level networks, volumes, secrets and configs checked. Part of the
// normalize stage (normalize.ts), which handles what spans services.

import { isAbsolute, relative } from 'node:path';
import type { Problem } from '../common/errors.js';
import { parseEnvFile } from './envfile.js';
import type {
  BlkioConfig,
  BuildConfig,
  DependencyCondition,
  DeployConfig,
  DeviceMapping,
  EnvFileRef,
  HealthCheck,
  LoggingConfig,
  PortConfig,
  Service,
  ServiceDependency,
  ServiceFileRef,
  ServiceHook,
  ServiceNetwork,
  Ulimit,
  VolumeMount,
  WatchRule,
} from './model.js';
import { copyAllPositions, copyEntryPosition, type DocPath, type PathSegment } from './positions.js';
import { splitCommand } from './short-syntax/command.js';
import { parseDuration } from './short-syntax/durations.js';
import type { Parsed } from './short-syntax/parsed.js';
import { parsePortLongSyntax, parsePortShortSyntax } from './short-syntax/ports.js';
import { parseBytes, parseCpus } from './short-syntax/units.js';
import { hostPath, parseVolumeLongSyntax, parseVolumeShortSyntax, type HostPaths } from './short-syntax/volumes.js';
import { closestName } from './did-you-mean.js';
import { isMapping as isRecord, scalarText } from './mapping.js';

type Raw = Record<string, unknown>;

/** Names declared at the top level, which services may refer to. */
export interface Declared {
  networks: ReadonlySet<string>;
  volumes: ReadonlySet<string>;
  secrets: ReadonlySet<string>;
  configs: ReadonlySet<string>;
}

export interface ServiceContext {
  paths: HostPaths;
  env: Readonly<Record<string, string | undefined>>;
  readFile: (absPath: string) => string | undefined;
  declared: Declared;
  /** Report a problem at a path of the input document (its position is looked up there, at the value unless `part` says key). */
  report: (path: DocPath, message: string, part?: 'key' | 'value') => void;
  /** Problems found inside other files (env files), which carry their own positions. */
  addProblems: (problems: Problem[]) => void;
}

export interface NormalizedService {
  service: Service;
  /** Where each `depends_on` entry was written, for problems found across services. */
  dependencyPaths: Record<string, DocPath>;
}

const DEPENDENCY_CONDITIONS: readonly DependencyCondition[] = ['service_started', 'service_healthy', 'service_completed_successfully'];

export function normalizeService(name: string, raw: Raw, ctx: ServiceContext): NormalizedService {
  const at = (...segs: PathSegment[]): DocPath => ['services', name, ...segs];
  const builder = new ServiceBuilder(name, ctx);
  const svc = builder.service;
  const dependencyPaths: Record<string, DocPath> = {};
  let scale: number | undefined;
  let fileEnvironment: Record<string, string | null> = {};
  let fileLabels: Record<string, string> = {};

  for (const [key, value] of Object.entries(raw)) {
    // An empty key (`environment:`) means the same as leaving it out, except where null
    // says something: `command: null` clears the image's command.
    if (value === undefined || (value === null && key !== 'command' && key !== 'entrypoint')) continue;
    const path = at(key);
    if (key.startsWith('x-')) {
      svc.extensions = { ...svc.extensions, [key]: structuredClone(value) };
      continue;
    }
    switch (key) {
      case 'extends': // resolved by the extends stage; a leftover says nothing more
        break;
      case 'build':
        svc.build = builder.build(value, path);
        break;
      case 'command':
      case 'entrypoint':
        svc[key] = builder.command(value, path);
        break;
      case 'environment':
        svc.environment = builder.environment(value, path);
        break;
      case 'env_file': {
        const read = builder.envFiles(value, path, 'env file');
        svc.env_file = read.refs;
        fileEnvironment = read.vars;
        break;
      }
      case 'label_file': {
        const read = builder.envFiles(value, path, 'label file');
        svc.label_file = read.refs.map((r) => r.path);
        fileLabels = Object.fromEntries(Object.entries(read.vars).map(([k, v]) => [k, v ?? '']));
        break;
      }
      case 'ports':
        svc.ports = builder.ports(value, path);
        break;
      case 'expose':
        svc.expose = builder.expose(value, path);
        break;
      case 'volumes':
        svc.volumes = builder.volumes(value, path);
        break;
      case 'networks':
        svc.networks = builder.networks(value, path);
        break;
      case 'depends_on':
        svc.depends_on = builder.dependsOn(value, path, dependencyPaths);
        break;
      case 'healthcheck':
        svc.healthcheck = builder.healthcheck(value, path);
        break;
      case 'deploy':
        svc.deploy = builder.deploy(value, path);
        break;
      case 'scale':
        scale = Number(value);
        break;
      case 'labels':
      case 'annotations':
      case 'sysctls':
      case 'storage_opt':
        svc[key] = builder.stringMap(value, path);
        break;
      case 'stop_grace_period': {
        const ms = builder.duration(value, path);
        if (ms !== undefined) svc.stop_grace_period = ms;
        break;
      }
      case 'develop':
        svc.develop = builder.develop(value, path);
        break;
      case 'secrets':
      case 'configs':
        svc[key] = builder.fileRefs(value, path, key);
        break;
      case 'extra_hosts':
        svc.extra_hosts = builder.extraHosts(value, path);
        break;
      case 'ulimits':
        svc.ulimits = builder.ulimits(value);
        break;
      case 'logging':
        svc.logging = builder.logging(value);
        break;
      case 'mem_limit':
      case 'mem_reservation':
      case 'shm_size':
      case 'memswap_limit': {
        const bytes = builder.bytes(value, path, key === 'memswap_limit');
        if (bytes !== undefined) svc[key] = bytes;
        break;
      }
      case 'cpus': {
        const cpus = builder.cpus(value, path);
        if (cpus !== undefined) svc.cpus = cpus;
        break;
      }
      case 'profiles':
      case 'cap_add':
      case 'cap_drop':
      case 'links':
      case 'external_links':
      case 'volumes_from':
      case 'security_opt':
      case 'group_add':
      case 'device_cgroup_rules':
      case 'dns':
      case 'dns_search':
      case 'dns_opt':
      case 'tmpfs':
        svc[key] = stringList(value);
        break;
      case 'devices':
        svc.devices = builder.devices(value, path);
        break;
      case 'blkio_config':
        svc.blkio_config = builder.blkio(value, path);
        break;
      case 'post_start':
      case 'pre_stop':
        svc[key] = Array.isArray(value) ? value.map((h, i) => builder.hook(h, [...path, i])) : [];
        break;
      default:
        // Keys with no short syntax and no units (image, user, restart, init, ...) as written.
        (svc as unknown as Raw)[key] = structuredClone(value);
    }
  }

  svc.environment = mergeUnder(fileEnvironment, svc.environment);
  svc.labels = mergeUnder(fileLabels, svc.labels);
  builder.replicas(scale, raw);
  if (svc.network_mode === undefined && Object.keys(svc.networks).length === 0) svc.networks = { default: null };
  if (svc.network_mode !== undefined && raw.networks !== undefined && Object.keys(svc.networks).length > 0) {
    ctx.report(at('networks'), `"networks" cannot be used together with network_mode "${svc.network_mode}": remove one of them`);
  }
  if (svc.image === undefined && svc.build === undefined && raw.provider === undefined) {
    ctx.report(at(), `service "${name}" has neither "image" nor "build": set one of them`, 'key');
  }
  copyAllPositions(raw, svc);
  return { service: svc, dependencyPaths };
}

function mergeUnder<T>(base: Record<string, T>, top: Record<string, T>): Record<string, T> {
  if (Object.keys(base).length === 0) return top;
  const out = { ...base, ...top };
  copyAllPositions(top, out);
  return out;
}

/** The conversions of one service's keys; each reports its own problems and returns the long form. */
class ServiceBuilder {
  readonly service: Service;

  constructor(
    readonly name: string,
    private readonly ctx: ServiceContext,
  ) {
    this.service = {
      name,
      environment: {},
      ports: [],
      expose: [],
      volumes: [],
      networks: {},
      depends_on: {},
      profiles: [],
      labels: {},
      secrets: [],
      configs: [],
      extra_hosts: {},
      cap_add: [],
      cap_drop: [],
    };
  }

  private ok<T>(result: Parsed<T>, path: DocPath): T | undefined {
    if (result.ok) return result.value;
    this.ctx.report(path, result.error);
    return undefined;
  }

  duration(value: unknown, path: DocPath): number | undefined {
    return this.ok(parseDuration(value as string | number), path);
  }

  bytes(value: unknown, path: DocPath, allowUnlimited = false): number | undefined {
    return this.ok(parseBytes(value as string | number, allowUnlimited), path);
  }

  cpus(value: unknown, path: DocPath): number | undefined {
    return this.ok(parseCpus(value as string | number), path);
  }

  command(value: unknown, path: DocPath): string[] | null {
    if (value === null) return null;
    if (typeof value === 'string') return this.ok(splitCommand(value), path) ?? [];
    return stringList(value);
  }

  environment(value: unknown, path: DocPath): Record<string, string | null> {
    // A variable written without a value is taken from the environment stack runs in.
    return keyValues(value, path, (key) => this.ctx.env[key] ?? null, 'environment variable', this.ctx.report);
  }

  stringMap(value: unknown, path: DocPath): Record<string, string> {
    return keyValues(value, path, () => '', 'entry', this.ctx.report);
  }

  /** env_file and label_file: files of `KEY=VALUE` lines, read in order, later ones winning. */
  envFiles(value: unknown, path: DocPath, what: 'env file' | 'label file'): { refs: EnvFileRef[]; vars: Record<string, string | null> } {
    const entries = Array.isArray(value) ? value : [value];
    const refs: EnvFileRef[] = [];
    const vars: Record<string, string | null> = {};
    entries.forEach((entry, i) => {
      const where = Array.isArray(value) ? [...path, i] : path;
      const spec = typeof entry === 'string' ? { path: entry } : isRecord(entry) ? entry : {};
      if (typeof spec.path !== 'string') return;
      const abs = this.ok(hostPath(spec.path, this.ctx.paths), where);
      if (abs === undefined) return;
      const ref: EnvFileRef = { path: abs, required: spec.required !== false };
      if (typeof spec.format === 'string') ref.format = spec.format;
      refs.push(ref);
      const text = this.ctx.readFile(abs);
      if (text === undefined) {
        if (ref.required) this.ctx.report(where, `${what} ${this.displayPath(abs)} not found: create it or mark it "required: false"`);
        return;
      }
      const parsedFile = parseEnvFile(text, this.displayPath(abs), (n: string) => this.ctx.env[n]);
      this.ctx.addProblems(parsedFile.problems);
      for (const [k, v] of Object.entries(parsedFile.vars)) vars[k] = typeof v === 'string' ? v : null;
    });
    return { refs, vars };
  }

  private displayPath(abs: string): string {
    const rel = relative(this.ctx.paths.projectDirectory, abs);
    return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : abs;
  }

  build(value: unknown, path: DocPath): BuildConfig {
    if (typeof value === 'string') return { context: this.buildContext(value, path), dockerfile: 'Dockerfile' };
    const raw = isRecord(value) ? value : {};
    const build = structuredClone(raw) as unknown as BuildConfig & Raw;
    build.context = this.buildContext(typeof raw.context === 'string' ? raw.context : '.', [...path, 'context']);
    if (raw.dockerfile === undefined && raw.dockerfile_inline === undefined) build.dockerfile = 'Dockerfile';
    if (raw.args !== undefined) build.args = this.environment(raw.args, [...path, 'args']);
    if (raw.labels !== undefined) build.labels = this.stringMap(raw.labels, [...path, 'labels']);
    if (raw.extra_hosts !== undefined) build.extra_hosts = this.extraHosts(raw.extra_hosts, [...path, 'extra_hosts']);
    if (raw.ulimits !== undefined) build.ulimits = this.ulimits(raw.ulimits);
    if (raw.secrets !== undefined) build.secrets = this.fileRefs(raw.secrets, [...path, 'secrets'], 'secrets');
    if (raw.shm_size !== undefined) {
      const bytes = this.bytes(raw.shm_size, [...path, 'shm_size']);
      if (bytes === undefined) delete build.shm_size;
      else build.shm_size = bytes;
    }
    if (raw.ssh !== undefined) {
      build.ssh = isRecord(raw.ssh) ? Object.entries(raw.ssh).map(([k, v]) => (v === null ? k : `${k}=${scalarText(v)}`)) : stringList(raw.ssh);
    }
    for (const list of ['cache_from', 'cache_to', 'tags', 'platforms', 'entitlements'] as const) {
      if (raw[list] !== undefined) build[list] = stringList(raw[list]);
    }
    if (raw.additional_contexts !== undefined) {
      const contexts = this.stringMap(raw.additional_contexts, [...path, 'additional_contexts']);
      for (const [k, v] of Object.entries(contexts)) {
        // `docker-image://x`, `service:x`, `oci-layout://...` name other sources, not directories.
        if (!/^[A-Za-z][A-Za-z0-9+.-]+:/.test(v) && !isRemoteContext(v)) {
          contexts[k] = this.ok(hostPath(v, this.ctx.paths), [...path, 'additional_contexts', k]) ?? v;
        }
      }
      build.additional_contexts = contexts;
    }
    copyAllPositions(raw, build);
    return build;
  }

  private buildContext(context: string, path: DocPath): string {
    if (isRemoteContext(context)) return context;
    return this.ok(hostPath(context, this.ctx.paths), path) ?? context;
  }

  ports(value: unknown, path: DocPath): PortConfig[] {
    const out: PortConfig[] = [];
    if (!Array.isArray(value)) return out;
    value.forEach((entry, i) => {
      const result: Parsed<PortConfig | PortConfig[]> = isRecord(entry)
        ? parsePortLongSyntax(entry)
        : parsePortShortSyntax(typeof entry === 'number' ? entry : scalarText(entry));
      const ports = this.ok(result, [...path, i]);
      if (ports === undefined) return;
      for (const port of Array.isArray(ports) ? ports : [ports]) {
        out.push(port);
        // Every port expanded from one range points back at the line of that range.
        copyEntryPosition(value, i, out, out.length - 1);
      }
    });
    return out;
  }

  expose(value: unknown, path: DocPath): string[] {
    const out: string[] = [];
    if (!Array.isArray(value)) return out;
    value.forEach((entry, i) => {
      const text = scalarText(entry);
      if (!/^\d+(-\d+)?(\/(tcp|udp|sctp))?$/.test(text)) {
        this.ctx.report([...path, i], `"${text}" is not a valid exposed port: use a port, a range or PORT/PROTOCOL, like "3000", "3000-3005" or "53/udp"`);
        return;
      }
      out.push(text);
      copyEntryPosition(value, i, out, out.length - 1);
    });
    return out;
  }

  volumes(value: unknown, path: DocPath): VolumeMount[] {
    const out: VolumeMount[] = [];
    if (!Array.isArray(value)) return out;
    value.forEach((entry, i) => {
      const where = [...path, i];
      const result = isRecord(entry) ? parseVolumeLongSyntax(entry, this.ctx.paths) : parseVolumeShortSyntax(scalarText(entry), this.ctx.paths);
      const mount = this.ok(result, where);
      if (!mount) return;
      if (mount.type === 'volume' && mount.source !== undefined && !this.ctx.declared.volumes.has(mount.source)) {
        this.ctx.report(where, `named volume "${mount.source}" is not declared: add it under the top-level "volumes" key${didYouMean(mount.source, this.ctx.declared.volumes)}`);
      }
      out.push(mount);
      copyEntryPosition(value, i, out, out.length - 1);
    });
    return out;
  }

  networks(value: unknown, path: DocPath): Record<string, ServiceNetwork | null> {
    const out: Record<string, ServiceNetwork | null> = {};
    const use = (network: string, config: unknown, where: DocPath, from: object, key: PathSegment): void => {
      if (network !== 'default' && !this.ctx.declared.networks.has(network)) {
        this.ctx.report(where, `network "${network}" is not declared: add it under the top-level "networks" key${didYouMean(network, this.ctx.declared.networks)}`);
      }
      out[network] = isRecord(config) ? this.serviceNetwork(config) : null;
      copyEntryPosition(from, key, out, network);
    };
    if (Array.isArray(value)) value.forEach((n, i) => use(scalarText(n), null, [...path, i], value, i));
    else if (isRecord(value)) for (const [n, config] of Object.entries(value)) use(n, config, [...path, n], value, n);
    return out;
  }

  private serviceNetwork(raw: Raw): ServiceNetwork {
    const network = structuredClone(raw) as ServiceNetwork & Raw;
    if (raw.aliases !== undefined) network.aliases = stringList(raw.aliases);
    if (raw.link_local_ips !== undefined) network.link_local_ips = stringList(raw.link_local_ips);
    if (raw.driver_opts !== undefined) network.driver_opts = this.stringMap(raw.driver_opts, []);
    copyAllPositions(raw, network);
    return network;
  }

  dependsOn(value: unknown, path: DocPath, paths: Record<string, DocPath>): Record<string, ServiceDependency> {
    const out: Record<string, ServiceDependency> = {};
    if (Array.isArray(value)) {
      value.forEach((entry, i) => {
        const dep = scalarText(entry);
        out[dep] = { condition: 'service_started', required: true, restart: false };
        paths[dep] = [...path, i];
        copyEntryPosition(value, i, out, dep);
      });
    } else if (isRecord(value)) {
      for (const [dep, raw] of Object.entries(value)) {
        const spec = isRecord(raw) ? raw : {};
        const condition = spec.condition === undefined ? 'service_started' : String(spec.condition);
        if (!(DEPENDENCY_CONDITIONS as readonly string[]).includes(condition)) {
          this.ctx.report([...path, dep, 'condition'], `unknown condition "${condition}": use service_started, service_healthy or service_completed_successfully`);
        }
        out[dep] = {
          condition: condition as DependencyCondition,
          required: spec.required !== false,
          restart: spec.restart === true,
        };
        paths[dep] = [...path, dep];
        copyEntryPosition(value, dep, out);
      }
    }
    return out;
  }

  healthcheck(value: unknown, path: DocPath): HealthCheck {
    const raw = isRecord(value) ? value : {};
    const check = structuredClone(raw) as HealthCheck & Raw;
    if (typeof raw.test === 'string') check.test = ['CMD-SHELL', raw.test];
    else if (raw.test !== undefined) check.test = stringList(raw.test);
    if (raw.disable === true) check.test = ['NONE'];
    delete check.disable;
    for (const key of ['interval', 'timeout', 'start_period', 'start_interval'] as const) {
      if (raw[key] === undefined) continue;
      const ms = this.duration(raw[key], [...path, key]);
      if (ms === undefined) delete check[key];
      else check[key] = ms;
    }
    copyAllPositions(raw, check);
    return check;
  }

  deploy(value: unknown, path: DocPath): DeployConfig {
    const raw = isRecord(value) ? value : {};
    const deploy = structuredClone(raw) as DeployConfig & Raw;
    if (raw.labels !== undefined) deploy.labels = this.stringMap(raw.labels, [...path, 'labels']);
    const resources = isRecord(raw.resources) ? raw.resources : undefined;
    for (const kind of ['limits', 'reservations'] as const) {
      const spec = resources?.[kind];
      const into = deploy.resources?.[kind] as Raw | undefined;
      if (!isRecord(spec) || !into) continue;
      const where = [...path, 'resources', kind];
      if (spec.cpus !== undefined) into.cpus = this.cpus(spec.cpus, [...where, 'cpus']);
      if (spec.memory !== undefined) into.memory = this.bytes(spec.memory, [...where, 'memory']);
      for (const k of ['cpus', 'memory']) if (into[k] === undefined) delete into[k];
    }
    const durations: [string, string[]][] = [
      ['restart_policy', ['delay', 'window']],
      ['update_config', ['delay', 'monitor']],
      ['rollback_config', ['delay', 'monitor']],
    ];
    for (const [section, keys] of durations) {
      const spec = raw[section];
      const into = deploy[section];
      if (!isRecord(spec) || !isRecord(into)) continue;
      for (const k of keys) {
        if (spec[k] === undefined) continue;
        const ms = this.duration(spec[k], [...path, section, k]);
        if (ms === undefined) delete into[k];
        else into[k] = ms;
      }
    }
    copyAllPositions(raw, deploy);
    return deploy;
  }

  /** `scale` is the older spelling of deploy.replicas; one number, kept in deploy. */
  replicas(scale: number | undefined, raw: Raw): void {
    const svc = this.service;
    const replicas = svc.deploy?.replicas;
    if (scale !== undefined) {
      if (replicas !== undefined && replicas !== scale) {
        this.ctx.report(['services', this.name, 'scale'], `scale ${scale} and deploy.replicas ${replicas} disagree: set only one of them`);
      } else {
        svc.deploy = { ...svc.deploy, replicas: scale };
        if (isRecord(raw.deploy)) copyAllPositions(raw.deploy, svc.deploy);
      }
    }
    const count = svc.deploy?.replicas;
    if (svc.container_name !== undefined && count !== undefined && count > 1) {
      this.ctx.report(
        ['services', this.name, 'container_name'],
        `container_name "${svc.container_name}" cannot be used with ${count} replicas: container names must be unique, so remove container_name or run one replica`,
      );
    }
  }

  develop(value: unknown, path: DocPath): { watch: WatchRule[] } {
    const raw = isRecord(value) ? value : {};
    const develop = structuredClone(raw) as { watch: WatchRule[] } & Raw;
    const watch = Array.isArray(raw.watch) ? raw.watch : [];
    develop.watch = watch.map((entry, i) => {
      const spec = isRecord(entry) ? entry : {};
      const rule = structuredClone(spec) as unknown as WatchRule & Raw;
      const where = [...path, 'watch', i];
      rule.path = typeof spec.path === 'string' ? (this.ok(hostPath(spec.path, this.ctx.paths), [...where, 'path']) ?? spec.path) : '';
      if (spec.ignore !== undefined) rule.ignore = stringList(spec.ignore);
      if (spec.include !== undefined) rule.include = stringList(spec.include);
      if (spec.exec !== undefined) rule.exec = this.hook(spec.exec, [...where, 'exec']);
      // As compose-go does: a sync needs to know where in the container the files go, and
      // sync+exec what to run; found here, at the rule, rather than when watching starts.
      const action = String(spec.action ?? '');
      if (action.startsWith('sync') && (typeof spec.target !== 'string' || spec.target === '')) {
        this.ctx.report([...where, 'action'], `action ${action} needs a "target": set the container path the files of ${String(spec.path ?? 'the rule\'s path')} are copied to, e.g. target: /app`);
      }
      if (action === 'sync+exec' && (rule.exec?.command.length ?? 0) === 0) {
        this.ctx.report(where, 'a watch rule with action sync+exec needs "exec.command": the command to run in the container after each sync', 'key');
      }
      copyAllPositions(spec, rule);
      return rule;
    });
    copyAllPositions(raw, develop);
    return develop;
  }

  hook(value: unknown, path: DocPath): ServiceHook {
    const raw = isRecord(value) ? value : {};
    const hook = structuredClone(raw) as ServiceHook & Raw;
    hook.command = this.command(raw.command ?? [], [...path, 'command']) ?? [];
    if (raw.environment !== undefined) hook.environment = this.environment(raw.environment, [...path, 'environment']);
    copyAllPositions(raw, hook);
    return hook;
  }

  fileRefs(value: unknown, path: DocPath, kind: 'secrets' | 'configs'): ServiceFileRef[] {
    const out: ServiceFileRef[] = [];
    if (!Array.isArray(value)) return out;
    const declared = kind === 'secrets' ? this.ctx.declared.secrets : this.ctx.declared.configs;
    value.forEach((entry, i) => {
      const spec = isRecord(entry) ? entry : { source: scalarText(entry) };
      const ref: ServiceFileRef = { source: scalarText(spec.source) };
      if (spec.target !== undefined) ref.target = scalarText(spec.target);
      if (spec.uid !== undefined) ref.uid = scalarText(spec.uid);
      if (spec.gid !== undefined) ref.gid = scalarText(spec.gid);
      if (typeof spec.mode === 'number') ref.mode = spec.mode;
      // Written as a string, a mode is octal, as in chmod ("0440").
      else if (typeof spec.mode === 'string' && /^[0-7]+$/.test(spec.mode)) ref.mode = parseInt(spec.mode, 8);
      if (!declared.has(ref.source)) {
        this.ctx.report([...path, i], `${kind.slice(0, -1)} "${ref.source}" is not declared: add it under the top-level "${kind}" key${didYouMean(ref.source, declared)}`);
      }
      out.push(ref);
      copyEntryPosition(value, i, out, out.length - 1);
    });
    return out;
  }

  extraHosts(value: unknown, path: DocPath): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    const add = (host: string, address: string): void => {
      // `[::1]` is how an IPv6 address is written next to a colon separator.
      const ip = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
      (out[host] ??= []).push(ip);
    };
    if (Array.isArray(value)) {
      value.forEach((entry, i) => {
        const text = scalarText(entry);
        // `host=ip` is the current form; `host:ip` the older one, where an IPv6 address may follow the first colon.
        const sep = text.includes('=') ? text.indexOf('=') : text.indexOf(':');
        if (sep <= 0 || sep === text.length - 1) {
          this.ctx.report([...path, i], `"${text}" is not a valid extra host: use "HOST=IP" like "db=10.0.0.5"`);
          return;
        }
        add(text.slice(0, sep), text.slice(sep + 1));
        copyEntryPosition(value, i, out, text.slice(0, sep));
      });
    } else if (isRecord(value)) {
      for (const [host, v] of Object.entries(value)) {
        for (const address of Array.isArray(v) ? v : [v]) add(host, scalarText(address));
        copyEntryPosition(value, host, out);
      }
    }
    return out;
  }

  ulimits(value: unknown): Record<string, Ulimit> {
    const out: Record<string, Ulimit> = {};
    if (!isRecord(value)) return out;
    for (const [name, v] of Object.entries(value)) {
      if (isRecord(v)) out[name] = { soft: Number(v.soft), hard: Number(v.hard) };
      else out[name] = { soft: Number(v), hard: Number(v) };
      copyEntryPosition(value, name, out);
    }
    return out;
  }

  logging(value: unknown): LoggingConfig {
    const raw = isRecord(value) ? value : {};
    const logging: LoggingConfig = {};
    if (typeof raw.driver === 'string') logging.driver = raw.driver;
    if (isRecord(raw.options)) {
      const options: Record<string, string> = {};
      for (const [k, v] of Object.entries(raw.options)) if (v !== null && v !== undefined) options[k] = scalarText(v);
      logging.options = options;
    }
    copyAllPositions(raw, logging);
    return logging;
  }

  devices(value: unknown, path: DocPath): DeviceMapping[] {
    const out: DeviceMapping[] = [];
    if (!Array.isArray(value)) return out;
    value.forEach((entry, i) => {
      if (isRecord(entry)) {
        const source = scalarText(entry.source);
        out.push({ source, target: entry.target === undefined ? source : scalarText(entry.target), permissions: entry.permissions === undefined ? 'rwm' : scalarText(entry.permissions) });
      } else {
        const parts = scalarText(entry).split(':');
        if (parts.length > 3 || parts[0] === '') {
          this.ctx.report([...path, i], `"${scalarText(entry)}" is not a valid device: use "HOST_PATH[:CONTAINER_PATH[:PERMISSIONS]]" like "/dev/ttyUSB0:/dev/ttyUSB0:rwm"`);
          return;
        }
        const [source, target, permissions] = parts as [string, string?, string?];
        out.push({ source, target: target ?? source, permissions: permissions ?? 'rwm' });
      }
      copyEntryPosition(value, i, out, out.length - 1);
    });
    return out;
  }

  blkio(value: unknown, path: DocPath): BlkioConfig {
    const raw = isRecord(value) ? value : {};
    const blkio = structuredClone(raw) as BlkioConfig & Raw;
    for (const key of ['device_read_bps', 'device_write_bps'] as const) {
      const list = raw[key];
      if (!Array.isArray(list)) continue;
      blkio[key] = list.map((entry, i) => {
        const spec = isRecord(entry) ? entry : {};
        return { path: scalarText(spec.path), rate: this.bytes(spec.rate, [...path, key, i, 'rate']) ?? 0 };
      });
    }
    copyAllPositions(raw, blkio);
    return blkio;
  }
}

/** Remote build contexts are fetched by the builder; they are not paths on this machine. */
function isRemoteContext(context: string): boolean {
  return /^(https?:\/\/|git:\/\/|ssh:\/\/|git@|github\.com\/)/.test(context);
}

/** `KEY=VALUE` lists and mappings alike to a mapping of strings; `missing` gives the value of a bare `KEY`. */
export function keyValues<T extends string | null>(
  value: unknown,
  path: DocPath,
  missing: (key: string) => T,
  what: string,
  report: (path: DocPath, message: string) => void,
): Record<string, string | T> {
  const out: Record<string, string | T> = {};
  if (Array.isArray(value)) {
    value.forEach((entry, i) => {
      const text = scalarText(entry);
      const eq = text.indexOf('=');
      const key = eq < 0 ? text : text.slice(0, eq);
      if (key.trim() === '') {
        report([...path, i], `"${text}" is not a valid ${what}: use "KEY=VALUE"`);
        return;
      }
      out[key] = eq < 0 ? missing(key) : text.slice(eq + 1);
      copyEntryPosition(value, i, out, key);
    });
  } else if (isRecord(value)) {
    for (const [key, v] of Object.entries(value)) {
      out[key] = v === null || v === undefined ? missing(key) : scalarText(v);
      copyEntryPosition(value, key, out);
    }
  }
  return out;
}

/** ` (did you mean "x"?)` when a declared name is close to the one written. */
function didYouMean(name: string, declared: ReadonlySet<string>): string {
  const close = closestName(name, declared);
  return close ? ` (did you mean "${close}"?)` : '';
}



function stringList(v: unknown): string[] {
  if (v === null || v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).map(scalarText);
}
