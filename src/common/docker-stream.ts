// Docker's multiplexed stream format, used by logs, attach and exec when the container
// has no TTY: each frame is an 8-byte header (stream id, three zero bytes, big-endian
// payload length) followed by the payload. With a TTY there is one stream and it goes
// raw, with no headers; the Content-Type says which. Both the engine (writing) and the
// CLI (reading) speak them, and so do docker, dockerode and testcontainers.

export type StreamId = 0 | 1 | 2;
export const STDIN: StreamId = 0;
export const STDOUT: StreamId = 1;
export const STDERR: StreamId = 2;

export const MULTIPLEXED_STREAM = 'application/vnd.docker.multiplexed-stream';
export const RAW_STREAM = 'application/vnd.docker.raw-stream';

/** The Content-Type of logs, attach and exec output: raw for a process with a terminal. */
export function outputContentType(tty: boolean): string {
  return tty ? RAW_STREAM : MULTIPLEXED_STREAM;
}

/** A chunk of output as it goes on the wire: a frame, or as it is with a terminal. */
export function encodeOutput<T extends Buffer | string>(tty: boolean, stream: StreamId, payload: T): T | Buffer {
  return tty ? payload : encodeFrame(stream, payload);
}

export function encodeFrame(stream: StreamId, payload: Buffer | string): Buffer {
  // One buffer, header and payload written in place (a log sends one frame per line).
  const length = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
  const frame = Buffer.allocUnsafe(8 + length);
  frame.writeUInt32BE(stream * 0x1000000, 0);
  frame.writeUInt32BE(length, 4);
  if (typeof payload === 'string') frame.write(payload, 8);
  else payload.copy(frame, 8);
  return frame;
}

/**
 * Splits a byte stream into frames; feed it chunks as they come (a frame may span
 * chunks). `onFrame` gets each whole payload.
 */
export class FrameDecoder {
  private pending: Buffer = Buffer.alloc(0);

  constructor(private readonly onFrame: (stream: StreamId, payload: Buffer) => void) {}

  push(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    while (this.pending.length >= 8) {
      const length = this.pending.readUInt32BE(4);
      if (this.pending.length < 8 + length) return;
      const stream = this.pending[0];
      const payload = this.pending.subarray(8, 8 + length);
      this.pending = this.pending.subarray(8 + length);
      this.onFrame(stream === 0 || stream === 2 ? stream : STDOUT, payload);
    }
  }

  /** Bytes of an unfinished frame left at the end of the stream. */
  get leftover(): number {
    return this.pending.length;
  }
}
