// Reads a container's json-file log (one {"log","stream","time"} object a line, written by
// the shim) for `GET /containers/{id}/logs`: tail, since/until, stream selection, and
// follow, which keeps reading as the file grows until the container stops or the
// client goes away. The log outlives the engine: a restarted engine reads the same file.

import { watch } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import type { LogEntry } from '../runtime/shim-runtime.js';

export interface LogQuery {
  stdout: boolean;
  stderr: boolean;
  /** Entries whose time is at or after this RFC3339Nano instant. */
  since?: string;
  /** Entries whose time is before this instant. */
  until?: string;
  /** Only the last N entries (of those selected), before following. */
  tail?: number;
  follow: boolean;
}

/**
 * Docker's `since`/`until`: unix seconds with an optional fraction (`1700000000.5`), or
 * an RFC3339 time. Returns an RFC3339Nano string that compares as text with the log's.
 */
export function logInstant(value: string): string | undefined {
  if (value === '' || value === '0') return undefined;
  const seconds = /^(\d+)(?:\.(\d{1,9}))?$/.exec(value);
  if (seconds) {
    const whole = new Date(Number(seconds[1]) * 1000).toISOString().slice(0, 19);
    return `${whole}.${(seconds[2] ?? '').padEnd(9, '0')}Z`;
  }
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new TypeError(`"${value}" is not a time: give unix seconds (1700000000.5) or RFC3339 (2024-01-02T15:04:05Z)`);
  const fraction = /\.(\d{1,9})/.exec(value)?.[1] ?? '';
  return `${new Date(ms).toISOString().slice(0, 19)}.${fraction.padEnd(9, '0')}Z`;
}

function wanted(entry: LogEntry, query: LogQuery): boolean {
  if (entry.stream === 'stdout' ? !query.stdout : !query.stderr) return false;
  if (query.since !== undefined && entry.time < query.since) return false;
  if (query.until !== undefined && entry.time >= query.until) return false;
  return true;
}

function parseLines(text: string): LogEntry[] {
  const out: LogEntry[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    try {
      out.push(JSON.parse(line) as LogEntry);
    } catch {
      // A line cut short by a crash of the shim mid-write: skip it rather than fail the read.
    }
  }
  return out;
}

export interface FollowOptions {
  /** True once the container has stopped: following ends after the last read. */
  isStopped: () => boolean;
  /** Settles when the container stops, so the last read need not wait for the poll. */
  stopped?: Promise<unknown>;
  signal?: AbortSignal;
  pollMs?: number;
}

/**
 * Sends the selected entries to `emit`; with `query.follow`, keeps sending new ones
 * until the container stops (then drains the file) or `signal` aborts.
 */
export async function readContainerLog(path: string, query: LogQuery, emit: (entry: LogEntry) => void, follow?: FollowOptions): Promise<void> {
  let offset = 0;
  let partial = '';
  const readMore = async (): Promise<LogEntry[]> => {
    let size: number;
    try {
      size = (await stat(path)).size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    if (size <= offset) return [];
    const fh = await open(path, 'r');
    try {
      const buffer = Buffer.alloc(size - offset);
      const { bytesRead } = await fh.read(buffer, 0, buffer.length, offset);
      offset += bytesRead;
      const text = partial + buffer.subarray(0, bytesRead).toString('utf8');
      const cut = text.lastIndexOf('\n');
      partial = text.slice(cut + 1);
      return parseLines(text.slice(0, cut + 1));
    } finally {
      await fh.close();
    }
  };

  let first = (await readMore()).filter((e) => wanted(e, query));
  if (query.tail !== undefined && query.tail >= 0) first = query.tail === 0 ? [] : first.slice(-query.tail);
  for (const entry of first) emit(entry);
  if (!query.follow || !follow) return;

  const signal = follow.signal;
  await new Promise<void>((resolve, reject) => {
    let busy = false;
    let again = false;
    let done = false;
    const finish = (err?: unknown): void => {
      if (done) return;
      done = true;
      watcher?.close();
      clearInterval(poll);
      signal?.removeEventListener('abort', onAbort);
      if (err) reject(err as Error);
      else resolve();
    };
    const pump = (): void => {
      if (done) return;
      if (busy) {
        again = true;
        return;
      }
      busy = true;
      // Read the stop flag before reading the file, so nothing written before the stop is missed.
      const stopped = follow.isStopped();
      readMore().then(
        (entries) => {
          for (const entry of entries) if (wanted(entry, query)) emit(entry);
          busy = false;
          if (query.until !== undefined && new Date().toISOString() >= query.until) finish();
          else if (stopped) finish();
          else if (again) {
            again = false;
            pump();
          }
        },
        (err: unknown) => finish(err),
      );
    };
    const onAbort = (): void => finish();
    signal?.addEventListener('abort', onAbort, { once: true });
    let watcher: ReturnType<typeof watch> | undefined;
    try {
      watcher = watch(path, () => pump());
    } catch {
      // No file yet (nothing logged): the poll finds it once it exists.
    }
    // The watch sees writes at once; the poll catches the stop and a log created late.
    const poll = setInterval(pump, follow.pollMs ?? 250);
    void follow.stopped?.then(() => pump(), () => undefined);
    if (signal?.aborted) finish();
    else pump();
  });
}
