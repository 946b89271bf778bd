// Reads the engine's event stream (`GET /events`, one JSON object a line) until the caller
// aborts or the engine ends it (an `until` reached).

import type { EngineEvent } from '../common/api-types.js';
import type { ApiClient } from './api-client.js';

export interface EventRequest {
  /** Docker's /events filters: type, event, container, image, label. */
  filters?: Record<string, string[]>;
  since?: string;
  until?: string;
  signal?: AbortSignal;
  /** Called once the engine has answered, so the caller knows no event is missed from here on. */
  onSubscribed?: () => void;
}

export async function streamEvents(client: ApiClient, request: EventRequest, onEvent: (event: EngineEvent) => void): Promise<void> {
  let res;
  try {
    res = await client.open('GET', '/events', {
      query: { filters: request.filters ? JSON.stringify(request.filters) : undefined, since: request.since, until: request.until },
      ...(request.signal ? { signal: request.signal } : {}),
    });
  } catch (err) {
    if (request.signal?.aborted) return;
    throw err;
  }
  request.onSubscribed?.();
  let pending = '';
  await new Promise<void>((resolve, reject) => {
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      pending += chunk;
      let newline;
      while ((newline = pending.indexOf('\n')) !== -1) {
        const line = pending.slice(0, newline).trim();
        pending = pending.slice(newline + 1);
        if (line) onEvent(JSON.parse(line) as EngineEvent);
      }
    });
    res.on('end', resolve);
    res.on('close', resolve);
    res.on('error', (err) => (request.signal?.aborted ? resolve() : reject(err)));
  });
}
