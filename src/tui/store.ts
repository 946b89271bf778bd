// Where the live display's state lives between renders: the reducer's current state, a
// subscription for React (useSyncExternalStore), and the batcher that gathers compose
// events so that 10,000 log lines a second make at most ~10 renders, not 10,000.

import type { ComposeEvent } from '../compose/events.js';
import { realTimers, type Timers } from '../common/timers.js';
import { reduce, type TuiAction, type TuiState } from './model.js';

export class TuiStore {
  private state: TuiState;
  private readonly listeners = new Set<() => void>();

  constructor(initial: TuiState) {
    this.state = initial;
  }

  readonly getState = (): TuiState => this.state;

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  readonly dispatch = (action: TuiAction): void => {
    const next = reduce(this.state, action);
    if (next === this.state) return;
    this.state = next;
    for (const listener of this.listeners) listener();
  };
}

export type { Timers };

/** Collects events and delivers them together, at most once per interval. */
export class EventBatcher {
  private pending: ComposeEvent[] = [];
  private timer: unknown;

  constructor(private readonly deliver: (events: ComposeEvent[]) => void, private readonly intervalMs = 100, private readonly timers: Timers = realTimers) {}

  readonly push = (event: ComposeEvent): void => {
    this.pending.push(event);
    if (this.timer === undefined) this.timer = this.timers.setTimeout(() => this.flush(), this.intervalMs);
  };

  /** Delivers what is pending now (also on close, so nothing is lost). */
  flush(): void {
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.deliver(batch);
  }
}
