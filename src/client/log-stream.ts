// Reads a container's logs from the engine (Docker's multiplexed stream, or the raw one
// of a container with a terminal) and, when following, rides out an engine restart: the
// connection drops, the engine comes back, and reading resumes after the last entry seen.

import { setTimeout as sleep } from 'node:timers/promises';
import { FrameDecoder, RAW_STREAM, STDERR, STDOUT, type StreamId } from '../common/docker-stream.js';
import { ApiClient, EngineUnreachable } from './api-client.js';

export interface LogLine {
  stream: 'stdout' | 'stderr';
  /** RFC3339Nano, as the engine recorded it. */
  time: string;
  text: string;
}

export interface LogRequest {
  follow: boolean;
  tail?: string;
  since?: string;
  until?: string;
  signal?: AbortSignal;
  /** How long to wait for a restarted engine before giving up (following only). */
  reconnectMs?: number;
  /**
   * Following a container with no restart policy: settles once it has stopped (a wait the
   * caller made). A stream that ends and this resolved is the whole log, with no call to
   * ask the engine why it ended; if it rejects, the engine is asked as without it.
   */
  stopped?: Promise<unknown>;
}

/** Calls onLine for each entry; resolves when the log ends (container stopped, or not following). */
export async function streamLogs(client: ApiClient, container: string, request: LogRequest, onLine: (line: LogLine) => void): Promise<void> {
  let last: string | undefined;
  let since = request.since;
  for (;;) {
    try {
      const res = await client.open('GET', `/containers/${encodeURIComponent(container)}/logs`, {
        query: { stdout: 1, stderr: 1, timestamps: 1, follow: request.follow ? 1 : 0, tail: last === undefined ? request.tail : undefined, since, until: request.until },
        ...(request.signal ? { signal: request.signal } : {}),
      });
      const onEntry = (stream: StreamId, payload: Buffer): void => {
        const text = payload.toString('utf8');
        const space = text.indexOf(' ');
        const time = text.slice(0, space);
        // After a reconnect `since` repeats the entries of the last instant seen: skip them.
        if (last !== undefined && time <= last) return;
        last = time;
        onLine({ stream: stream === STDERR ? 'stderr' : 'stdout', time, text: text.slice(space + 1) });
      };
      const decoder = res.headers['content-type'] === RAW_STREAM ? new RawLogDecoder(onEntry) : new FrameDecoder(onEntry);
      await new Promise<void>((resolve, reject) => {
        res.on('data', (chunk: Buffer) => decoder.push(chunk));
        res.on('end', () => {
          if (decoder instanceof RawLogDecoder) decoder.end();
          resolve();
        });
        res.on('aborted', () => reject(new EngineUnreachable(client.address, new Error('connection dropped'))));
        res.on('error', (err) => reject(new EngineUnreachable(client.address, err)));
      });
      if (!request.follow || request.signal?.aborted) return;
      // The stream ended: either the container stopped, or the engine went away mid-stream
      // (then the inspect fails as unreachable, and the catch below waits for it).
      if (request.stopped && (await request.stopped.then(() => true, () => false))) return;
      const state = await client.call<{ State: { Running: boolean; Restarting: boolean } }>('GET', `/containers/${encodeURIComponent(container)}/json`);
      if (!state.State.Running && !state.State.Restarting) return;
      // Restarting by its policy: its next run's log begins after a back-off; do not spin until then.
      if (state.State.Restarting) await sleep(100);
    } catch (err) {
      if (!(err instanceof EngineUnreachable) || !request.follow || request.signal?.aborted) {
        if (request.signal?.aborted) return;
        throw err;
      }
    }
    const deadline = Date.now() + (request.reconnectMs ?? 30_000);
    while (!(await client.ping())) {
      if (Date.now() > deadline || request.signal?.aborted) throw new EngineUnreachable(client.address, new Error('the engine did not come back'));
      await sleep(100);
    }
    if (last !== undefined) since = unixSeconds(last);
  }
}

/**
 * A terminal's log (raw, no frames): one stream, whose entries with timestamps=1 are
 * `TIMESTAMP text` lines. An entry is cut at each newline; an unfinished one is passed
 * on when the stream ends. (A line the engine split at 16 KiB reads as one entry with
 * the next piece's timestamp inside it, as with Docker: raw output has no boundaries.)
 */
class RawLogDecoder {
  private pending: Buffer = Buffer.alloc(0);

  constructor(private readonly onEntry: (stream: StreamId, payload: Buffer) => void) {}

  push(chunk: Buffer): void {
    let data = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    for (let newline = data.indexOf(0x0a); newline !== -1; newline = data.indexOf(0x0a)) {
      this.onEntry(STDOUT, data.subarray(0, newline + 1));
      data = data.subarray(newline + 1);
    }
    this.pending = data;
  }

  end(): void {
    if (this.pending.length) this.onEntry(STDOUT, this.pending);
    this.pending = Buffer.alloc(0);
  }
}

/** RFC3339Nano → unix seconds with nanoseconds, the `since` the API takes. */
export function unixSeconds(time: string): string {
  const whole = Math.floor(Date.parse(`${time.slice(0, 19)}Z`) / 1000);
  const fraction = /\.(\d+)/.exec(time)?.[1] ?? '0';
  return `${whole}.${fraction.padEnd(9, '0').slice(0, 9)}`;
}
