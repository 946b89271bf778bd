// The document `stack config` prints: the Project in Compose's canonical long form, as
// `docker compose config` prints it (durations back to `1m30s`, sizes in bytes, ports
// as long-syntax mappings with `published` a string), in a fixed key order so the same
// input always gives the same bytes: top level name, services, networks, volumes,
// secrets, configs, models, then x-* keys; every mapping below sorted by key; lists
// kept in their order, since order means something in them (ports, volumes, command).

import type { DeployConfig, HealthCheck, Project, Service } from './model.js';
import { formatDuration } from './short-syntax/durations.js';

type Doc = Record<string, unknown>;

/** Collections the model always has; an empty one says nothing, so it is not printed. */
const OMIT_WHEN_EMPTY = new Set([
  'cap_add',
  'cap_drop',
  'configs',
  'depends_on',
  'environment',
  'expose',
  'extra_hosts',
  'labels',
  'networks',
  'ports',
  'profiles',
  'secrets',
  'volumes',
]);

export function toCanonicalDocument(project: Project): Doc {
  const doc: Doc = { name: project.name };
  doc.services = mapValues(project.services, canonicalService);
  for (const key of ['networks', 'volumes', 'secrets', 'configs', 'models'] as const) {
    const resources = project[key];
    if (resources && Object.keys(resources).length > 0) doc[key] = sortedDeep(resources);
  }
  for (const key of sortedKeys(project.extensions)) doc[key] = sortedDeep(project.extensions[key]);
  return doc;
}

function canonicalService(service: Service): Doc {
  const { name: _name, extensions, ...fields } = service;
  const out: Doc = { ...fields, ...extensions };
  for (const key of OMIT_WHEN_EMPTY) {
    const v = out[key];
    if (v !== null && typeof v === 'object' && Object.keys(v).length === 0) delete out[key];
  }
  if (service.stop_grace_period !== undefined) out.stop_grace_period = formatDuration(service.stop_grace_period);
  if (service.healthcheck) out.healthcheck = canonicalHealthcheck(service.healthcheck);
  if (service.deploy) out.deploy = canonicalDeploy(service.deploy);
  if (out.extra_hosts) out.extra_hosts = extraHostList(service.extra_hosts);
  return sortedDeep(out) as Doc;
}

function canonicalHealthcheck(check: HealthCheck): Doc {
  const out: Doc = { ...check };
  for (const key of ['interval', 'timeout', 'start_period', 'start_interval'] as const) {
    const ms = check[key];
    if (ms !== undefined) out[key] = formatDuration(ms);
  }
  return out;
}

function canonicalDeploy(deploy: DeployConfig): Doc {
  const out: Doc = { ...deploy };
  const durations = { restart_policy: ['delay', 'window'], update_config: ['delay', 'monitor'], rollback_config: ['delay', 'monitor'] } as const;
  for (const [section, keys] of Object.entries(durations)) {
    const spec = deploy[section as keyof typeof durations] as Record<string, unknown> | undefined;
    if (!spec) continue;
    const copy: Doc = { ...spec };
    for (const key of keys) if (typeof spec[key] === 'number') copy[key] = formatDuration(spec[key]);
    out[section] = copy;
  }
  return out;
}

/**
 * `host=ip` entries: the form every Compose version reads back, and one entry per
 * address so a host with an IPv4 and an IPv6 address keeps both.
 */
function extraHostList(hosts: Record<string, string[]>): string[] {
  return sortedKeys(hosts).flatMap((host) => (hosts[host] ?? []).map((ip) => `${host}=${ip}`));
}

function mapValues<T>(record: Record<string, T>, f: (value: T) => unknown): Doc {
  const out: Doc = {};
  for (const key of sortedKeys(record)) out[key] = f(record[key]!);
  return out;
}

/**
 * Keys by code unit, not locale: the output must not depend on the machine. (That is
 * what sort() does without a comparer, and much faster than a comparer in JS.)
 */
function sortedKeys(record: object): string[] {
  return Object.keys(record).sort();
}

/** A plain copy with every mapping's keys sorted and undefined values left out. */
function sortedDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedDeep);
  if (value === null || typeof value !== 'object') return value;
  const out: Doc = {};
  for (const key of sortedKeys(value)) {
    const v = (value as Doc)[key];
    if (v !== undefined) out[key] = sortedDeep(v);
  }
  return out;
}
