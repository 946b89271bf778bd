// A batch of changed paths sorted out into what each watched service has to do: the
// files that call for a rebuild, the paths to sync (each with its rule's path and
// target), whether to restart, and the sync+exec hooks to run (each once per batch, however
// many of its files changed). Pure: the session acts on it.

import type { ServiceHook } from '../compose/model.js';
import type { SyncMapping } from './sync-archive.js';
import { isSyncAction, type WatchPlan, type WatchTarget } from './watch-plan.js';

export interface ServiceWork {
  /** Changed files (as displayed) of rebuild rules. */
  rebuildFiles: string[];
  syncs: SyncMapping[];
  restart: boolean;
  hooks: ServiceHook[];
}

/** Work by service, in the plan's service order; services the batch does not touch are left out. */
export function sortBatch(plan: WatchPlan, paths: readonly string[], display: (path: string) => string): Map<string, ServiceWork> {
  const work = new Map<string, ServiceWork>();
  for (const service of plan.services) {
    const w: ServiceWork = { rebuildFiles: [], syncs: [], restart: false, hooks: [] };
    for (const target of plan.targets.filter((t) => t.service === service)) {
      const { action, exec } = target.rule;
      for (const path of paths) {
        if (!target.filter.matches(path)) continue;
        if (action === 'rebuild' && !w.rebuildFiles.includes(display(path))) w.rebuildFiles.push(display(path));
        if (isSyncAction(action)) w.syncs.push(syncMapping(target, target.filter.relativePath(path)!));
        if (action === 'restart' || action === 'sync+restart') w.restart = true;
        if (action === 'sync+exec' && exec && !w.hooks.includes(exec)) w.hooks.push(exec);
      }
    }
    if (w.rebuildFiles.length > 0 || w.syncs.length > 0 || w.restart || w.hooks.length > 0) work.set(service, w);
  }
  return work;
}

/** A path of a rule to sync; under a changed directory, what the rule ignores stays out. */
export function syncMapping(target: WatchTarget, rel: string): SyncMapping {
  return {
    rulePath: target.rule.path,
    target: target.rule.target!,
    rel,
    accepts: (path, isDirectory) => (isDirectory ? !target.filter.skipsDirectory(path) : target.filter.matches(path)),
  };
}
