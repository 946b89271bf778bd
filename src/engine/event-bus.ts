// The engine's event stream (`GET /events`, `stack events`): every container change is
// published here; subscribers get new events as they happen, and a bounded history
// serves `since` for a client that reconnects.

import type { EngineEvent } from '../common/api-types.js';

const HISTORY = 1000;

export type EventListener = (event: EngineEvent) => void;

export class EventBus {
  private readonly history: EngineEvent[] = [];
  private readonly listeners = new Set<EventListener>();

  constructor(private readonly now: () => number = Date.now) {}

  publish(type: EngineEvent['Type'], action: string, id: string, attributes: Record<string, string> = {}): EngineEvent {
    const ms = this.now();
    const event: EngineEvent = {
      Type: type,
      Action: action,
      Actor: { ID: id, Attributes: attributes },
      scope: 'local',
      time: Math.floor(ms / 1000),
      timeNano: ms * 1_000_000,
    };
    if (type === 'container') {
      event.status = action;
      event.id = id;
      if (attributes.image !== undefined) event.from = attributes.image;
    }
    this.history.push(event);
    if (this.history.length > HISTORY) this.history.shift();
    for (const listener of this.listeners) listener(event);
    return event;
  }

  /** Events at or after `sinceNano` still in the history, oldest first. */
  since(sinceNano: number): EngineEvent[] {
    return this.history.filter((e) => e.timeNano >= sinceNano);
  }

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
