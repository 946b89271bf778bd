// Docker's multiplexed stream format, used by logs, attach and exec when the container
// has no TTY: each frame is an 8-byte header (stream id, three zero bytes, big-endian
// payload length) followed by the payload. Both the engine (writing) and the CLI
// (reading) speak it, and so do docker, dockerode and testcontainers.

export type StreamId = 0 | 1 | 2;
export const STDIN: StreamId = 0;
export const STDOUT: StreamId = 1;
export const STDERR: StreamId = 2;

export const MULTIPLEXED_STREAM = 'application/vnd.docker.multiplexed-stream';
export const RAW_STREAM = 'application/vnd.docker.raw-stream';

export function encodeFrame(stream: StreamId, payload: Buffer | string): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(body.length, 4);
  return Buffer.concat([header, body]);
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
