// Output written in batches: whatever is added in one go (a log read emits all the lines it
// found at once, a chunk from the engine holds a thousand) goes out in one write, when that
// code yields (a microtask, so before anything awaiting it runs on), not one per line. On the
// engine's side each write on a response is an HTTP chunk with its own header and a trip
// through the stream machinery; on the CLI's, a write to stdout is a system call: for a
// 300,000-line log, most of the time of each.

/** Writes more than this go out at once rather than waiting for the turn to end. */
const MAX_BATCH_BYTES = 1 << 20;

export interface BatchedWrites {
  add(data: Buffer | string): void;
  /** Writes what is pending now (before ending the stream). */
  flush(): void;
}

export function batchedWrites(write: (chunk: Buffer) => void): BatchedWrites {
  let pending: Buffer[] = [];
  let size = 0;
  let scheduled = false;
  const flush = (): void => {
    scheduled = false;
    if (pending.length === 0) return;
    const chunk = pending.length === 1 ? pending[0]! : Buffer.concat(pending, size);
    pending = [];
    size = 0;
    write(chunk);
  };
  return {
    add(data) {
      const bytes = typeof data === 'string' ? Buffer.from(data) : data;
      pending.push(bytes);
      size += bytes.length;
      if (size >= MAX_BATCH_BYTES) flush();
      else if (!scheduled) {
        scheduled = true;
        queueMicrotask(flush);
      }
    },
    flush,
  };
}
