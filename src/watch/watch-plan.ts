// What watching a project means, worked out before anything starts: the services whose
// `develop.watch` rules apply (those named, or every one that has rules), each rule with
// the filter that decides which changed paths are its to act on. Bad requests are refused
// here, before `up` starts a thing: a named service without rules, no rules at all, a
// rebuild rule on a service that does not build.

import { readFileSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { UsageError } from '../common/errors.js';
import type { Project, Service, WatchRule } from '../compose/model.js';
import { makePathFilter, type PathFilter } from './path-filter.js';

export interface WatchTarget {
  service: string;
  /** The rule's index in the service's develop.watch, for messages. */
  index: number;
  rule: WatchRule;
  filter: PathFilter;
}

export interface WatchPlan {
  /** The services watched, in the project's order. */
  services: string[];
  targets: WatchTarget[];
  /** Rules left out, said to the user as warnings (a sync of a bind-mounted path). */
  warnings: string[];
}

const SYNC_ACTIONS = new Set<WatchRule['action']>(['sync', 'sync+restart', 'sync+exec']);

export function isSyncAction(action: WatchRule['action']): boolean {
  return SYNC_ACTIONS.has(action);
}

/** `readText` gives a file's text or undefined when it cannot be read (a build context's .dockerignore). */
export function planWatch(project: Project, named: readonly string[], readText: (path: string) => string | undefined = readTextFile): WatchPlan {
  for (const name of named) {
    if (!project.services[name]) {
      const why = project.disabledServices[name] ? 'it is disabled by its profiles: enable one with --profile' : 'the stack file has no such service';
      throw new UsageError(`cannot watch service ${name}: ${why}`);
    }
    if (!hasWatchRules(project.services[name]!)) throw new UsageError(`service ${name} has no develop.watch section; add one or drop it from the command`);
  }
  const services = named.length > 0 ? Object.keys(project.services).filter((s) => named.includes(s)) : Object.keys(project.services).filter((s) => hasWatchRules(project.services[s]!));
  if (services.length === 0) {
    throw new UsageError('none of the services has a develop.watch section, so there is nothing to watch: add develop.watch rules to a service (see https://docs.docker.com/compose/how-tos/file-watch/)');
  }
  const targets: WatchTarget[] = [];
  const warnings: string[] = [];
  for (const name of services) {
    const service = project.services[name]!;
    const buildContext = localBuildContext(service, readText);
    service.develop!.watch.forEach((rule, index) => {
      if (rule.action === 'rebuild' && !service.build) {
        throw new UsageError(`service ${name}: develop.watch[${index}] has action rebuild, but the service has no build section to rebuild from: add one, or use sync or restart`);
      }
      const mount = isSyncAction(rule.action) ? bindMountHolding(service, rule.path) : undefined;
      if (mount !== undefined) {
        warnings.push(`service ${name}: develop.watch[${index}] path ${rule.path} is already bind-mounted from ${mount}: it is not watched (the container sees its changes anyway)`);
        return;
      }
      targets.push({
        service: name,
        index,
        rule,
        filter: makePathFilter({
          path: rule.path,
          ...(rule.ignore ? { ignore: rule.ignore } : {}),
          ...(rule.include ? { include: rule.include } : {}),
          ...(buildContext ? { buildContext } : {}),
        }),
      });
    });
  }
  return { services, targets, warnings };
}

function hasWatchRules(service: Service): boolean {
  return (service.develop?.watch.length ?? 0) > 0;
}

/** The service's build context directory and its .dockerignore, when it builds from one on this machine. */
function localBuildContext(service: Service, readText: (path: string) => string | undefined): { dir: string; dockerignore: string; dockerfile?: string } | undefined {
  const context = service.build?.context;
  if (context === undefined || !context.startsWith('/')) return undefined;
  const dockerfile = service.build?.dockerfile;
  return { dir: context, dockerignore: readText(join(context, '.dockerignore')) ?? '', ...(dockerfile ? { dockerfile: relative(context, resolve(context, dockerfile)).split(sep).join('/') } : {}) };
}

/** The source of a bind mount at or above `path`, if one holds it (as Compose checks, a sync there would be redundant). */
function bindMountHolding(service: Service, path: string): string | undefined {
  for (const v of service.volumes) {
    if (v.type !== 'bind' || v.source === undefined) continue;
    const rel = relative(v.source, path);
    if (rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !rel.startsWith(sep))) return v.source;
  }
  return undefined;
}

function readTextFile(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}
