// `logs` of a project: the output of several containers as log events. Following, it also
// picks up containers of the chosen services that start (or start again) later, told by
// the engine's start events, and resumes each after the last line it printed, so a
// restarted container's earlier output is not repeated.

import type { ApiClient } from '../client/api-client.js';
import { streamEvents } from '../client/event-stream.js';
import { streamLogs, unixSeconds } from '../client/log-stream.js';
import { NotFoundError } from '../common/errors.js';
import type { EmitEvent } from './events.js';
import { LABEL } from './labels.js';

export interface LoggedContainer {
  id: string;
  name: string;
  service: string;
}

export interface ProjectLogsRequest {
  project: string;
  containers: readonly LoggedContainer[];
  /** Following: also containers of these services that start later. */
  services: readonly string[];
  follow: boolean;
  tail?: string;
  since?: string;
  until?: string;
  timestamps: boolean;
  signal: AbortSignal;
  emit: EmitEvent;
  /** A container joins that was not in `containers`, so a renderer can widen its prefixes. */
  onNewContainer?: (container: LoggedContainer) => void;
}

/** Resolves when every log has ended (not following), or when the signal aborts (following). */
export async function projectLogs(client: ApiClient, request: ProjectLogsRequest): Promise<void> {
  const lastSeen = new Map<string, string>();
  const reading = new Set<string>();
  const startedAgain = new Set<string>();
  const streams: Array<Promise<void>> = [];

  const read = async (c: LoggedContainer): Promise<void> => {
    if (reading.has(c.id)) {
      // Its current stream may be ending with the stop before this start: read again after it.
      startedAgain.add(c.id);
      return;
    }
    reading.add(c.id);
    try {
      do {
        startedAgain.delete(c.id);
        const last = lastSeen.get(c.id);
        await streamLogs(client, c.id, {
          follow: request.follow,
          signal: request.signal,
          ...(last === undefined && request.tail !== undefined ? { tail: request.tail } : {}),
          ...(last !== undefined ? { since: unixSeconds(last) } : request.since !== undefined ? { since: request.since } : {}),
          ...(request.until !== undefined ? { until: request.until } : {}),
        }, (line) => {
          if (last !== undefined && line.time <= last) return;
          lastSeen.set(c.id, line.time);
          request.emit({ type: 'log', service: c.service, container: c.name, stream: line.stream, text: request.timestamps ? `${line.time} ${line.text}` : line.text });
        }).catch((err: unknown) => {
          // A container removed while we read it has simply no more output.
          if (!request.signal.aborted && !(err instanceof NotFoundError)) throw err;
        });
      } while (request.follow && startedAgain.has(c.id) && !request.signal.aborted);
    } finally {
      reading.delete(c.id);
    }
  };

  const known = new Map(request.containers.map((c) => [c.id, c]));
  if (request.follow) {
    // Subscribe before the first reads, so a start between the two is not missed.
    let subscribed!: () => void;
    const ready = new Promise<void>((resolve) => { subscribed = resolve; });
    const watching = streamEvents(client, {
      filters: { type: ['container'], event: ['start'], label: [`${LABEL.project}=${request.project}`] },
      signal: request.signal,
      onSubscribed: subscribed,
    }, (event) => {
      const service = event.Actor.Attributes[LABEL.service] ?? '';
      let c = known.get(event.Actor.ID);
      if (!c) {
        if (!request.services.includes(service) || event.Actor.Attributes[LABEL.oneoff] === 'True') return;
        c = { id: event.Actor.ID, name: event.Actor.Attributes.name ?? event.Actor.ID.slice(0, 12), service };
        known.set(c.id, c);
        request.onNewContainer?.(c);
      }
      streams.push(read(c));
    });
    await Promise.race([ready, watching]);
    streams.push(watching);
  }
  for (const c of request.containers) streams.push(read(c));
  // New reads join `streams` while we wait: settle until none is left running.
  for (let settled = 0; settled < streams.length;) {
    const batch = streams.slice(settled);
    await Promise.all(batch);
    settled += batch.length;
  }
}
