// Watching a project's files while it runs: changes from the change source (chokidar
// unless a test gives another) gathered into batches, each batch sorted out by rule and
// acted on once per service, in Compose's order (rebuild, then sync, restart, hooks).
// `initial_sync` rules are synced once when watching starts. A failure in a batch (a
// container gone, a build failing) is reported as a watch-error and watching goes on.

import { lstat } from 'node:fs/promises';
import { basename, isAbsolute, relative, sep } from 'node:path';
import type { ApiClient } from '../client/api-client.js';
import type { EmitEvent } from '../compose/events.js';
import type { LoadedProject } from '../compose/load.js';
import type { UpRequest } from '../compose/up.js';
import { ChangeBatcher, type ChangeBatcherOptions } from './change-batcher.js';
import { chokidarChangeSource, type ChangeSource, type ChangeSubscription, type FileChange } from './change-source.js';
import { execHook, rebuildService, restartService, syncService, type UpdateContext } from './service-updates.js';
import { walkTree, type SyncMapping } from './sync-archive.js';
import { isSyncAction, type WatchPlan } from './watch-plan.js';
import { sortBatch, syncMapping } from './batch-work.js';

export interface WatchSessionOptions {
  emit: EmitEvent;
  source?: ChangeSource;
  batching?: ChangeBatcherOptions;
  /** What a rebuild gives `up` besides its events: the user's registry logins, the stop timeout. */
  upRequest?: Omit<UpRequest, 'emit'>;
  /** After a rebuild, remove the image it replaced (watch --prune, on by default as in Compose). */
  prune?: boolean;
}

/** Files an initial sync leaves out as Compose does: the Dockerfile and stack files are not the app's. */
const NOT_INITIALLY_SYNCED = new Set(['Dockerfile', 'compose.yaml', 'compose.yml', 'docker-compose.yaml', 'docker-compose.yml', 'compose.override.yaml', 'compose.override.yml', 'docker-compose.override.yaml', 'docker-compose.override.yml']);

export class WatchSession {
  private subscription: ChangeSubscription | undefined;
  private readonly batcher: ChangeBatcher;
  private queue: Promise<void> = Promise.resolve();
  private stopped = false;
  private readonly abort = new AbortController();
  private readonly ctx: UpdateContext;

  private constructor(client: ApiClient, loaded: LoadedProject, private readonly plan: WatchPlan, private readonly options: WatchSessionOptions) {
    this.batcher = new ChangeBatcher((paths) => this.enqueue(() => this.handleBatch(paths)), options.batching);
    const workingDir = loaded.project.workingDir;
    this.ctx = {
      client,
      loaded,
      emit: options.emit,
      display: (path) => {
        const rel = relative(workingDir, path);
        return rel === '' || rel.startsWith(`..${sep}`) || rel === '..' || isAbsolute(rel) ? path : rel.split(sep).join('/');
      },
    };
  }

  /** Starts watching: resolves once changes are being seen and the initial syncs are done. */
  static async start(client: ApiClient, loaded: LoadedProject, plan: WatchPlan, options: WatchSessionOptions): Promise<WatchSession> {
    const session = new WatchSession(client, loaded, plan, options);
    for (const warning of plan.warnings) options.emit({ type: 'warning', message: warning });
    await session.begin();
    return session;
  }

  private async begin(): Promise<void> {
    for (const target of this.plan.targets) {
      // A file that is not there yet is not seen when it comes (a directory is): say so now.
      if (!(await lstat(target.rule.path).catch(() => undefined))) {
        this.options.emit({ type: 'warning', message: `service ${target.service}: develop.watch[${target.index}] path ${target.rule.path} does not exist: create it, then start watching again` });
      }
    }
    const source = this.options.source ?? chokidarChangeSource;
    this.subscription = source({
      paths: [...new Set(this.plan.targets.map((t) => t.rule.path))],
      skipsDirectory: (dir) => {
        const covering = this.plan.targets.filter((t) => t.filter.relativePath(dir) !== undefined);
        return covering.length > 0 && covering.every((t) => t.filter.skipsDirectory(dir));
      },
      onChange: (change) => this.onChange(change),
      onError: (err) => this.options.emit({ type: 'watch-error', message: `watching files: ${err.message}` }),
    });
    await this.subscription.ready;
    await this.enqueue(() => this.initialSync());
    this.options.emit({ type: 'watch-started', services: [...this.plan.services] });
  }

  /** Stops watching; resolves once the batch under way (a rebuild is told to stop) is over. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.abort.abort();
    this.batcher.close();
    await this.subscription?.close();
    await this.queue;
    this.options.emit({ type: 'watch-stopped' });
  }

  private onChange(change: FileChange): void {
    if (this.stopped) return;
    if (this.plan.targets.some((t) => t.filter.matches(change.path))) this.batcher.push(change.path);
  }

  /** Batches run one after another: a batch's changes are acted on before the next one's. */
  private enqueue(work: () => Promise<void>): Promise<void> {
    this.queue = this.queue.then(() => (this.stopped ? undefined : work()));
    return this.queue;
  }

  private async handleBatch(paths: readonly string[]): Promise<void> {
    for (const [service, w] of sortBatch(this.plan, paths, this.ctx.display)) {
      if (this.stopped) return;
      await this.attempt(service, async () => {
        if (w.rebuildFiles.length > 0) {
          await rebuildService(this.ctx, service, w.rebuildFiles, { base: this.options.upRequest ?? {}, prune: this.options.prune ?? true, signal: this.abort.signal });
        }
        if (w.syncs.length > 0) await syncService(this.ctx, service, w.syncs);
        if (w.restart) await restartService(this.ctx, service, this.options.upRequest?.timeout);
        for (const hook of w.hooks) await execHook(this.ctx, service, hook);
      });
    }
  }

  /** Every file of the rules with initial_sync: true, synced once, service by service. */
  private async initialSync(): Promise<void> {
    for (const service of this.plan.services) {
      const targets = this.plan.targets.filter((t) => t.service === service && t.rule.initial_sync === true && isSyncAction(t.rule.action));
      if (targets.length === 0) continue;
      await this.attempt(service, async () => {
        const mappings: SyncMapping[] = [];
        for (const target of targets) {
          const accepts = (path: string, isDirectory: boolean): boolean => (isDirectory ? !target.filter.skipsDirectory(path) : target.filter.matches(path) && !NOT_INITIALLY_SYNCED.has(basename(path)));
          const stats = await lstat(target.rule.path).catch(() => undefined);
          if (stats && !stats.isDirectory()) {
            // A rule on a single file: the file itself is the one to sync.
            if (target.filter.matches(target.rule.path)) mappings.push(syncMapping(target, ''));
            continue;
          }
          for (const f of await walkTree(target.rule.path, accepts)) if (!f.stats.isDirectory()) mappings.push(syncMapping(target, f.rel));
        }
        if (mappings.length > 0) await syncService(this.ctx, service, mappings);
      });
    }
  }

  /** Runs a service's work; a failure becomes a watch-error and watching goes on. */
  private async attempt(service: string, work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (err) {
      if (this.abort.signal.aborted) return;
      this.options.emit({ type: 'watch-error', service, message: (err as Error).message });
    }
  }
}
