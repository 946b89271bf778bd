// Gathers file changes until they stop coming for a quiet period, then hands them over
// once, each path once: an editor's save (write, rename, delete a backup) or a `git
// checkout` is one batch, acted on once per service, not once per file. Compose waits
// 500 ms of quiet; a tree that never goes quiet is still handed over after `maxWaitMs`.

import { realTimers, type Timers } from '../common/timers.js';

export const DEFAULT_QUIET_MS = 500;

export interface ChangeBatcherOptions {
  quietMs?: number;
  /** The longest a change waits while others keep coming (default: 10 quiet periods). */
  maxWaitMs?: number;
  timers?: Timers;
  now?: () => number;
}

export class ChangeBatcher {
  private pending = new Set<string>();
  private timer: unknown;
  private firstAt = 0;
  private readonly quietMs: number;
  private readonly maxWaitMs: number;
  private readonly timers: Timers;
  private readonly now: () => number;

  constructor(private readonly deliver: (paths: string[]) => void, options: ChangeBatcherOptions = {}) {
    this.quietMs = options.quietMs ?? DEFAULT_QUIET_MS;
    this.maxWaitMs = options.maxWaitMs ?? this.quietMs * 10;
    this.timers = options.timers ?? realTimers;
    this.now = options.now ?? Date.now;
  }

  push(path: string): void {
    if (this.pending.size === 0) this.firstAt = this.now();
    // Delete first so a path changed again moves to the end: the batch keeps the order of last changes.
    this.pending.delete(path);
    this.pending.add(path);
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    const waited = this.now() - this.firstAt;
    this.timer = this.timers.setTimeout(() => this.flush(), Math.max(0, Math.min(this.quietMs, this.maxWaitMs - waited)));
  }

  /** Hands over what is pending now. */
  flush(): void {
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.size === 0) return;
    const batch = [...this.pending];
    this.pending = new Set();
    this.deliver(batch);
  }

  /** Drops what is pending: watching has stopped. */
  close(): void {
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    this.pending.clear();
  }
}
