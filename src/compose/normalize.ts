// Stage 9 of loading (see load.ts): the merged, schema-valid document to a typed
// Project. Short syntaxes become long ones, units and paths are applied (per service,
// in normalize-service.ts); here are the parts that span the project: its name, the
// top-level networks, volumes, secrets and configs with their engine names, which
// services the enabled profiles leave running, and the implicit `default` network.
//
// The schema already checked shapes, but strings inside them ("80:80:80:80", "1x")
// can still be wrong; each such problem is reported at its source position and the
// stage carries on, so a user sees every mistake at once.

import { basename } from 'node:path';
import { sortProblems, type Problem } from '../common/errors.js';
import type { ConfigConfig, NetworkConfig, Project, SecretConfig, Service, VolumeConfig } from './model.js';
import { keyValues, normalizeService, type Declared, type ServiceContext } from './normalize-service.js';
import { isMapping as isRecord, scalarText } from './mapping.js';
import { containerPosition, copyAllPositions, copyEntryPosition, formatPath, locate, setContainerPosition, type DocPath } from './positions.js';
import { hostPath, type HostPaths } from './short-syntax/volumes.js';

export interface NormalizeOptions {
  /** Absolute; relative paths in the stack file are resolved against it. */
  projectDirectory: string;
  /** From -p; wins over everything else. */
  projectName?: string;
  /** The process environment under the project's `.env`: for bare `KEY` entries, `~` and COMPOSE_PROJECT_NAME. */
  env: Readonly<Record<string, string | undefined>>;
  composeFiles: string[];
  /** Enabled profiles; `*` enables all. */
  profiles: string[];
  /** For env_file and label_file; undefined means the file does not exist. */
  readFile: (absPath: string) => string | undefined;
}

type Doc = Record<string, unknown>;

const PROJECT_NAME = /^[a-z0-9][a-z0-9_-]*$/;
const PROJECT_NAME_RULE = 'use only lowercase letters, digits, dashes and underscores, starting with a letter or digit';

export function normalizeProject(doc: Doc, options: NormalizeOptions): { project: Project; problems: Problem[] } {
  const problems: Problem[] = [];
  const report = (path: DocPath, message: string, part: 'key' | 'value' = 'value'): void => {
    const problem: Problem = { path: formatPath(path), message };
    const position = locate(doc, path, part);
    if (position) problem.position = position;
    problems.push(problem);
  };

  const name = projectName(doc, options, report);
  const paths: HostPaths = { projectDirectory: options.projectDirectory, home: options.env.HOME };
  const declared: Declared = {
    networks: new Set(Object.keys(section(doc.networks))),
    volumes: new Set(Object.keys(section(doc.volumes))),
    secrets: new Set(Object.keys(section(doc.secrets))),
    configs: new Set(Object.keys(section(doc.configs))),
  };
  const ctx: ServiceContext = {
    paths,
    env: options.env,
    readFile: options.readFile,
    declared,
    report,
    addProblems: (more) => problems.push(...more),
  };

  const rawServices = section(doc.services);
  const services: Record<string, Service> = {};
  const disabledServices: Record<string, Service> = {};
  const dependencyPaths: Record<string, Record<string, DocPath>> = {};
  for (const [serviceName, raw] of Object.entries(rawServices)) {
    const normalized = normalizeService(serviceName, isRecord(raw) ? raw : {}, ctx);
    const into = isEnabled(normalized.service, options.profiles) ? services : disabledServices;
    into[serviceName] = normalized.service;
    copyEntryPosition(rawServices, serviceName, into);
    dependencyPaths[serviceName] = normalized.dependencyPaths;
  }
  checkDependencies(services, disabledServices, dependencyPaths, report);

  const networks = resources(doc, 'networks', (key, spec) => networkConfig(key, spec, name, report));
  // Compose creates `<project>_default` for services that name no network, unless the file configures it.
  if (!networks.default && Object.values(services).some((s) => 'default' in s.networks)) {
    networks.default = { name: `${name}_default` };
  }

  const project: Project = {
    name,
    workingDir: options.projectDirectory,
    composeFiles: [...options.composeFiles],
    services,
    disabledServices,
    networks,
    volumes: resources(doc, 'volumes', (key, spec) => volumeConfig(key, spec, name, report)),
    secrets: resources(doc, 'secrets', (key, spec) => fileObjectConfig(key, spec, name, paths, ['secrets', key], report)),
    configs: resources(doc, 'configs', (key, spec) => fileObjectConfig(key, spec, name, paths, ['configs', key], report)),
    extensions: {},
  };
  if (isRecord(doc.models)) project.models = structuredClone(doc.models) as Project['models'];
  for (const [key, value] of Object.entries(doc)) {
    if (key.startsWith('x-')) project.extensions[key] = structuredClone(value);
  }
  for (const key of ['name', 'services', 'networks', 'volumes', 'secrets', 'configs', 'models']) copyEntryPosition(doc, key, project);
  copyEntryPosition(doc, 'services', project, 'disabledServices');
  checkExternalResources(doc, report);
  const self = containerPosition(doc);
  if (self) setContainerPosition(project, self);

  return { project, problems: sortProblems(problems) };
}

/** -p, then the file's `name`, then COMPOSE_PROJECT_NAME, then the directory's name made valid. */
function projectName(doc: Doc, options: NormalizeOptions, report: (path: DocPath, message: string) => void): string {
  const fromDirectory = basename(options.projectDirectory)
    .toLowerCase()
    .replace(/[^a-z0-9_-]/g, '')
    .replace(/^[_-]+/, '');
  const explicit = (value: string, path: DocPath, origin: string): string => {
    if (PROJECT_NAME.test(value)) return value;
    report(path, `project name "${value}"${origin} is not valid: ${PROJECT_NAME_RULE}`);
    return fromDirectory || 'default';
  };
  if (options.projectName) return explicit(options.projectName, [], ' (from -p)');
  if (typeof doc.name === 'string' && doc.name !== '') return explicit(doc.name, ['name'], '');
  const fromEnv = options.env.COMPOSE_PROJECT_NAME;
  if (fromEnv) return explicit(fromEnv, [], ' (from COMPOSE_PROJECT_NAME)');
  if (fromDirectory) return fromDirectory;
  report([], `cannot make a project name from the directory "${options.projectDirectory}": set "name" at the top of the stack file or pass -p`);
  return 'default';
}

function isEnabled(service: Service, profiles: readonly string[]): boolean {
  if (service.profiles.length === 0) return true;
  return profiles.includes('*') || service.profiles.some((p) => profiles.includes(p));
}

/**
 * A running service cannot wait for one its profiles leave out. Optional dependencies
 * (`required: false`) that are disabled or missing are dropped, as Compose does; a
 * required dependency on a missing service is left for the graph stage to report.
 */
function checkDependencies(
  services: Record<string, Service>,
  disabled: Record<string, Service>,
  paths: Record<string, Record<string, DocPath>>,
  report: (path: DocPath, message: string, part?: 'key' | 'value') => void,
): void {
  for (const [name, service] of Object.entries(services)) {
    for (const [dep, spec] of Object.entries(service.depends_on)) {
      if (services[dep]) continue;
      const off = disabled[dep];
      if (off && spec.required) {
        const flags = off.profiles.map((p) => `--profile ${p}`);
        const how = flags.length === 1 ? `enable it with ${flags[0]}` : `enable it with one of ${flags.join(', ')}`;
        report(paths[name]?.[dep] ?? ['services', name, 'depends_on', dep], `service "${name}" depends on "${dep}", which is disabled by its profiles: ${how}`, 'key');
      }
      if (off || !spec.required) delete service.depends_on[dep];
    }
  }
}

/** Settings that make no sense for a resource made outside the project. */
const NOT_FOR_EXTERNAL: Record<string, readonly string[]> = {
  networks: ['driver', 'driver_opts', 'ipam', 'internal', 'attachable', 'enable_ipv6'],
  volumes: ['driver', 'driver_opts'],
  secrets: ['file', 'environment', 'content'],
  configs: ['file', 'environment', 'content'],
};

function checkExternalResources(doc: Doc, report: (path: DocPath, message: string, part?: 'key' | 'value') => void): void {
  for (const [kind, keys] of Object.entries(NOT_FOR_EXTERNAL)) {
    for (const [name, spec] of Object.entries(section(doc[kind]))) {
      if (!isRecord(spec) || !isExternal(spec)) continue;
      for (const key of keys) {
        if (spec[key] === undefined) continue;
        report([kind, name, key], `${kind.slice(0, -1)} "${name}" is external, so it cannot set "${key}": it is made outside this project; remove "${key}" or "external"`, 'key');
      }
    }
  }
}

/** A top-level section (`services:` may be written empty) as a mapping. */
function section(value: unknown): Doc {
  return isRecord(value) ? value : {};
}

function resources<T extends object>(doc: Doc, key: string, make: (name: string, spec: Doc) => T): Record<string, T> {
  const raw = section(doc[key]);
  const out: Record<string, T> = {};
  for (const [name, spec] of Object.entries(raw)) {
    const specDoc = isRecord(spec) ? spec : {};
    const made = make(name, specDoc);
    copyAllPositions(specDoc, made);
    out[name] = made;
    copyEntryPosition(raw, name, out);
  }
  return out;
}

/**
 * The name the engine knows a resource by: as written, or the key for an external
 * one (it exists already under that name), or `<project>_<key>` so two projects'
 * `db` volumes never meet.
 */
function engineName(key: string, spec: Doc, project: string): string {
  if (typeof spec.name === 'string' && spec.name !== '') return spec.name;
  // `external: {name: x}` is the old way to name an external resource.
  if (isRecord(spec.external) && typeof spec.external.name === 'string') return spec.external.name;
  if (isExternal(spec)) return key;
  return `${project}_${key}`;
}

function isExternal(spec: Doc): boolean {
  return spec.external === true || isRecord(spec.external);
}

type Report = (path: DocPath, message: string) => void;

function commonFields<T extends { name: string; external?: boolean; labels?: Record<string, string>; driver_opts?: Record<string, string> }>(
  section: string,
  key: string,
  spec: Doc,
  project: string,
  report: Report,
): T {
  const out = structuredClone(spec) as unknown as T & Doc;
  out.name = engineName(key, spec, project);
  if (spec.external !== undefined) out.external = isExternal(spec);
  if (spec.labels !== undefined) out.labels = keyValues(spec.labels, [section, key, 'labels'], () => '', 'label', report);
  if (spec.driver_opts !== undefined) out.driver_opts = keyValues(spec.driver_opts, [section, key, 'driver_opts'], () => '', 'driver option', report);
  return out;
}

function networkConfig(key: string, spec: Doc, project: string, report: Report): NetworkConfig {
  return commonFields<NetworkConfig>('networks', key, spec, project, report);
}

function volumeConfig(key: string, spec: Doc, project: string, report: Report): VolumeConfig {
  return commonFields<VolumeConfig>('volumes', key, spec, project, report);
}

function fileObjectConfig(key: string, spec: Doc, project: string, paths: HostPaths, path: DocPath, report: Report): SecretConfig & ConfigConfig {
  const out = commonFields<SecretConfig & ConfigConfig>(String(path[0]), key, spec, project, report);
  if (typeof spec.file === 'string') {
    const abs = hostPath(spec.file, paths);
    if (abs.ok) out.file = abs.value;
    else report([...path, 'file'], abs.error);
  }
  if (spec.environment !== undefined) out.environment = scalarText(spec.environment);
  return out;
}
