// Holds the host ports the engine publishes. A DNAT rule silently wins over a program listening
// on the same port, so without a socket of ours a second service (or a later `nc -l`) would bind
// the port and never see a packet. Binding first also finds a port already in use before any
// container starts, as a ConflictError naming the address, instead of a dead published port.
import { createServer, type Server } from 'node:net';
import { createSocket, type Socket } from 'node:dgram';
import { ConflictError, RuntimeFailure, UsageError } from '../common/errors.js';

export interface PortRequest {
  protocol: 'tcp' | 'udp';
  /** '0.0.0.0' = all. */
  hostIp: string;
  /** 0 = pick a free one. */
  hostPort: number;
}

interface Held {
  port: PortRequest;
  close(): Promise<void>;
}

function describe(p: PortRequest): string {
  return `host port ${p.hostIp}:${p.hostPort}/${p.protocol}`;
}

function bindError(p: PortRequest, error: unknown): Error {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EADDRINUSE') return new ConflictError(`${describe(p)} is already in use`, { cause: error });
  if (code === 'EADDRNOTAVAIL') return new ConflictError(`${describe(p)} cannot be held: ${p.hostIp} is not an address of this host`, { cause: error });
  return new RuntimeFailure(`${describe(p)} cannot be held: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
}

function holdTcp(p: PortRequest): Promise<Held> {
  // Whatever reaches the socket itself (traffic the DNAT rules do not catch) is dropped at once:
  // holding the port is the point, serving it is the container's job.
  const server: Server = createServer((socket) => socket.destroy());
  return new Promise((resolve, reject) => {
    server.once('error', (e) => reject(bindError(p, e)));
    // exclusive: in a cluster worker the port must still be ours alone.
    server.listen({ host: p.hostIp, port: p.hostPort, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : p.hostPort;
      resolve({
        port: { ...p, hostPort: port },
        close: () => new Promise<void>((done) => server.close(() => done())),
      });
    });
  });
}

function holdUdp(p: PortRequest): Promise<Held> {
  const socket: Socket = createSocket({ type: 'udp4' });
  return new Promise((resolve, reject) => {
    socket.once('error', (e) => {
      socket.close();
      reject(bindError(p, e));
    });
    socket.bind({ address: p.hostIp, port: p.hostPort, exclusive: true }, () => {
      socket.removeAllListeners('error');
      // A datagram read and ignored is as good as one dropped; an error later (none expected on
      // a socket that never sends) must not crash the engine.
      socket.on('error', () => undefined);
      resolve({
        port: { ...p, hostPort: socket.address().port },
        close: () => new Promise<void>((done) => socket.close(() => done())),
      });
    });
  });
}

function checkRequest(p: PortRequest): void {
  if (p.protocol !== 'tcp' && p.protocol !== 'udp') throw new UsageError(`not a port protocol: ${String(p.protocol)}`);
  if (!Number.isInteger(p.hostPort) || p.hostPort < 0 || p.hostPort > 65535) throw new UsageError(`not a host port: ${p.hostPort}`);
}

const same = (a: PortRequest, b: PortRequest): boolean => a.protocol === b.protocol && a.hostIp === b.hostIp && a.hostPort === b.hostPort;

export class PortReservations {
  private readonly owners = new Map<string, Held[]>();

  /** All or nothing: binds each (tcp: a listening server that drops whatever connects; udp: a bound socket), resolves the ports actually held (hostPort 0 replaced). A port in use throws ConflictError and releases what this call had taken. */
  async reserve(owner: string, ports: PortRequest[]): Promise<PortRequest[]> {
    ports.forEach(checkRequest);
    const already = this.owners.get(owner) ?? [];
    const taken: Held[] = [];
    const result: PortRequest[] = [];
    try {
      // One after another so that the first conflict stops the call and the message names it.
      for (const p of ports) {
        // A container restarted by the engine asks again for what it holds: that is no conflict.
        const held = p.hostPort !== 0 ? already.find((h) => same(h.port, p)) : undefined;
        if (held) {
          result.push(held.port);
          continue;
        }
        const h = await (p.protocol === 'tcp' ? holdTcp(p) : holdUdp(p));
        taken.push(h);
        result.push(h.port);
      }
    } catch (error) {
      await Promise.all(taken.map((h) => h.close()));
      throw error;
    }
    // Read again: another reserve() for this owner may have finished while this one was binding.
    this.owners.set(owner, [...(this.owners.get(owner) ?? []), ...taken]);
    return result;
  }

  async release(owner: string): Promise<void> {
    const held = this.owners.get(owner) ?? [];
    this.owners.delete(owner);
    await Promise.all(held.map((h) => h.close()));
  }

  async close(): Promise<void> {
    await Promise.all([...this.owners.keys()].map((owner) => this.release(owner)));
  }
}

/**
 * `8000-8010` with `80-90` -> 11 pairs; `8000` with `80`; an empty host side -> random host
 * ports (0). Compose allows a host range with one container port ("any free port of the
 * range"); that choice is the caller's, so it is refused here rather than guessed.
 */
export function expandPortRange(hostRange: string, containerRange: string): { hostPort: number; containerPort: number }[] {
  const parse = (text: string, what: string): [number, number] => {
    const m = /^(\d+)(?:-(\d+))?$/.exec(text.trim());
    const first = Number(m?.[1]);
    const last = m?.[2] === undefined ? first : Number(m[2]);
    if (!m || first < 0 || last > 65535 || last < first) throw new UsageError(`not a ${what} port or range: ${JSON.stringify(text)}`);
    return [first, last];
  };
  const [cFirst, cLast] = parse(containerRange, 'container');
  if (cFirst === 0) throw new UsageError(`not a container port: ${JSON.stringify(containerRange)}`);
  const count = cLast - cFirst + 1;
  if (hostRange.trim() === '') return Array.from({ length: count }, (_, i) => ({ hostPort: 0, containerPort: cFirst + i }));
  const [hFirst, hLast] = parse(hostRange, 'host');
  if (hLast - hFirst + 1 !== count) {
    throw new UsageError(`host ports ${hostRange} and container ports ${containerRange} are not ranges of the same length`);
  }
  return Array.from({ length: count }, (_, i) => ({ hostPort: hFirst + i, containerPort: cFirst + i }));
}
