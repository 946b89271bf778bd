// Asking one upstream resolver on behalf of a container: the embedded DNS server relays the
// container's query bytes (over the transport the container used) and hands back the answer.

import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import net from 'node:net';
import { UsageError } from '../common/errors.js';

export interface Upstream {
  host: string;
  port: number;
}

export type Transport = 'udp' | 'tcp';

/** 'ip', 'ip:port', '[ipv6]' or '[ipv6]:port'; a bare IPv6 address has no port. */
export function parseUpstream(text: string): Upstream {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (bracketed && net.isIPv6(withoutZone(bracketed[1] ?? ''))) {
    return { host: bracketed[1] ?? '', port: portOf(text, bracketed[2]) };
  }
  if (net.isIP(withoutZone(text)) !== 0) return { host: text, port: 53 };
  const hostPort = /^([^:]+):(\d+)$/.exec(text);
  if (hostPort && net.isIPv4(hostPort[1] ?? '')) {
    return { host: hostPort[1] ?? '', port: portOf(text, hostPort[2]) };
  }
  throw new UsageError(`DNS upstream ${JSON.stringify(text)} is not an IP address or IP:port`);
}

function withoutZone(address: string): string {
  return address.split('%')[0] ?? '';
}

function portOf(text: string, port: string | undefined): number {
  if (port === undefined) return 53;
  const value = Number(port);
  if (!Number.isInteger(value) || value < 1 || value > 65535) {
    throw new UsageError(`DNS upstream ${JSON.stringify(text)} has no valid port (1-65535)`);
  }
  return value;
}

export function describeUpstream(upstream: Upstream): string {
  return net.isIPv6(withoutZone(upstream.host))
    ? `[${upstream.host}]:${upstream.port}`
    : `${upstream.host}:${upstream.port}`;
}

/**
 * Sends `query` to `upstream` and resolves with its answer, carrying the query's own id.
 * On the wire the query gets a fresh random id (and, over UDP, a fresh socket and so a random
 * source port), so an off-path host cannot easily slip a forged answer in.
 * Rejects on timeout, socket error, or when `signal` aborts (the server is closing).
 */
export function askUpstream(
  upstream: Upstream,
  query: Buffer,
  transport: Transport,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<Buffer> {
  const clientId = query.readUInt16BE(0);
  const wireId = randomBytes(2).readUInt16BE(0);
  const wireQuery = Buffer.from(query);
  wireQuery.writeUInt16BE(wireId, 0);
  const ask = transport === 'udp' ? askOverUdp : askOverTcp;
  return ask(upstream, wireQuery, wireId, timeoutMs, signal).then((answer) => {
    const relayed = Buffer.from(answer);
    relayed.writeUInt16BE(clientId, 0);
    return relayed;
  });
}

type Ask = (upstream: Upstream, query: Buffer, wireId: number, timeoutMs: number, signal: AbortSignal) => Promise<Buffer>;

/** An answer to our query: long enough for a header, QR set, our id. */
function answersQuery(message: Buffer, wireId: number): boolean {
  return message.length >= 12 && message.readUInt16BE(0) === wireId && (message[2] ?? 0) >= 0x80;
}

/**
 * Runs one attempt: `start` wires up the socket and calls `settle` once; the timer, the
 * abort listener and the socket are released however the attempt ends.
 */
function attempt(
  upstream: Upstream,
  timeoutMs: number,
  signal: AbortSignal,
  start: (settle: (error: Error | undefined, answer?: Buffer) => void) => () => void,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(new Error(`DNS upstream ${describeUpstream(upstream)}: server closing`));
      return;
    }
    let release = (): void => {};
    let done = false;
    const settle = (error: Error | undefined, answer?: Buffer): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      release();
      if (error) reject(error);
      else if (answer) resolve(answer);
    };
    const onAbort = (): void => settle(new Error(`DNS upstream ${describeUpstream(upstream)}: server closing`));
    const timer = setTimeout(
      () => settle(new Error(`DNS upstream ${describeUpstream(upstream)} did not answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    signal.addEventListener('abort', onAbort, { once: true });
    release = start(settle);
    if (done) release();
  });
}

const askOverUdp: Ask = (upstream, query, wireId, timeoutMs, signal) =>
  attempt(upstream, timeoutMs, signal, (settle) => {
    const socket = dgram.createSocket(net.isIPv6(withoutZone(upstream.host)) ? 'udp6' : 'udp4');
    socket.on('error', (error) => settle(new Error(`DNS upstream ${describeUpstream(upstream)}: ${error.message}`, { cause: error })));
    // A connected socket only receives datagrams from the upstream's address and port.
    socket.on('message', (message) => {
      if (answersQuery(message, wireId)) settle(undefined, message);
    });
    socket.connect(upstream.port, upstream.host, () => {
      socket.send(query, (error) => {
        if (error) settle(new Error(`DNS upstream ${describeUpstream(upstream)}: ${error.message}`, { cause: error }));
      });
    });
    return () => {
      try {
        socket.close();
      } catch {
        // Already closed after an error: nothing left to release.
      }
    };
  });

const askOverTcp: Ask = (upstream, query, wireId, timeoutMs, signal) =>
  attempt(upstream, timeoutMs, signal, (settle) => {
    const frame = Buffer.alloc(2 + query.length);
    frame.writeUInt16BE(query.length, 0);
    query.copy(frame, 2);
    let received: Buffer = Buffer.alloc(0);
    const socket = net.connect({ host: upstream.host, port: upstream.port }, () => socket.write(frame));
    socket.on('error', (error) => settle(new Error(`DNS upstream ${describeUpstream(upstream)}: ${error.message}`, { cause: error })));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      while (received.length >= 2) {
        const length = received.readUInt16BE(0);
        if (received.length < 2 + length) return;
        const message = received.subarray(2, 2 + length);
        received = received.subarray(2 + length);
        if (answersQuery(message, wireId)) {
          settle(undefined, message);
          return;
        }
      }
    });
    socket.on('close', () => settle(new Error(`DNS upstream ${describeUpstream(upstream)} closed the connection without an answer`)));
    return () => socket.destroy();
  });
