// The engine's embedded DNS server (aardvark-style). Containers on a bridge network use the
// bridge's gateway address as their nameserver; the engine answers there with the names and
// aliases of the containers on that network, and forwards every other name to the host's
// resolvers. One DnsServer listens on many gateway addresses, each bound to one network, so a
// name is only visible from the networks where its container is attached.

import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket from 'dns-packet';
import type { Answer, DecodedPacket, Packet, Question } from 'dns-packet';
import { ConflictError, RuntimeFailure } from '../common/errors.js';
import {
  answerFlags,
  canonicalName,
  encodeWithin,
  headerOnlyAnswer,
  isStandardQuery,
  RCODE_FORMERR,
  RCODE_NOERROR,
  RCODE_NOTIMP,
  readHeader,
  reverseNameToAddress,
  serverFailure,
  TCP_LIMIT,
  udpLimitOf,
  type MessageHeader,
} from './dns-message.js';
import { askUpstream, describeUpstream, parseUpstream, type Transport, type Upstream } from './dns-upstream.js';

export interface DnsRecordSource {
  /**
   * IPv4 addresses of `name` (lower-case, no trailing dot) as seen from a container on network
   * `networkId` (at address `client`, whose links may give names of their own); [] when unknown there.
   */
  lookup(networkId: string, name: string, client?: string): string[];
  /** The names (container name first) of the container holding `ip` on that network, for PTR; [] when none. */
  reverse(networkId: string, ip: string): string[];
}

export interface DnsServerOptions {
  records: DnsRecordSource;
  /** Upstream resolvers as 'ip' or 'ip:port' (port 53 by default). */
  upstreams: string[];
  /** Per upstream attempt; default 2000 ms. */
  timeoutMs?: number;
  /** Receives one line per problem worth knowing (an upstream timing out, a malformed packet); default: nothing. */
  log?: (line: string) => void;
  /** Forwards waiting on upstreams at once; beyond it queries get SERVFAIL. Default 256. */
  maxForwardsInFlight?: number;
  /** A TCP connection with no query for this long is closed; default 5000 ms. */
  tcpIdleTimeoutMs?: number;
}

/** Container records change as containers come and go: clients should not keep them long. */
const LOCAL_TTL = 60;
/** How often listen(port 0) tries again when the UDP port it got is taken for TCP. */
const EPHEMERAL_BIND_ATTEMPTS = 5;

interface Listener {
  networkId: string;
  address: string;
  udp: dgram.Socket;
  tcp: net.Server;
  connections: Set<net.Socket>;
  closed: boolean;
}

export class DnsServer {
  readonly #records: DnsRecordSource;
  readonly #upstreams: Upstream[];
  readonly #timeoutMs: number;
  readonly #log: (line: string) => void;
  readonly #maxForwards: number;
  readonly #tcpIdleMs: number;
  readonly #listeners = new Set<Listener>();
  /** One controller per forward in flight: their count is the bound, and close() aborts them. */
  readonly #forwards = new Set<AbortController>();
  /** Turns the address list of a name on every answer so clients spread over replicas. */
  #rotation = 0;
  #closed = false;

  constructor(options: DnsServerOptions) {
    this.#records = options.records;
    this.#upstreams = options.upstreams.map(parseUpstream);
    this.#timeoutMs = options.timeoutMs ?? 2000;
    this.#log = options.log ?? ((): void => {});
    this.#maxForwards = options.maxForwardsInFlight ?? 256;
    this.#tcpIdleMs = options.tcpIdleTimeoutMs ?? 5000;
  }

  /**
   * Answers on address:port over UDP and TCP for containers of `networkId`. Port 53 by default;
   * port 0 picks a free one (tests). The kernel refuses a second bind of the same address and
   * port, and that refusal is the error: one listener per gateway address and port.
   */
  async listen(networkId: string, address: string, port = 53): Promise<{ port: number }> {
    if (this.#closed) throw new ConflictError(`DNS server is closed; cannot listen on ${address}:${port}`);
    const attempts = port === 0 ? EPHEMERAL_BIND_ATTEMPTS : 1;
    for (let attempt = 1; ; attempt++) {
      let listener: Listener;
      try {
        listener = await this.#bind(networkId, address, port);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (attempt < attempts && code === 'EADDRINUSE') continue;
        const reason = error instanceof Error ? error.message : String(error);
        throw new RuntimeFailure(`DNS server cannot listen on ${address}:${port}: ${reason}`, { cause: error });
      }
      if (this.#closed) {
        await closeListener(listener);
        throw new ConflictError(`DNS server was closed while binding ${address}:${port}`);
      }
      this.#listeners.add(listener);
      return { port: listener.udp.address().port };
    }
  }

  /** Stops answering on `address` (every port) and releases its sockets and connections. */
  async unlisten(address: string): Promise<void> {
    const leaving = [...this.#listeners].filter((listener) => listener.address === address);
    for (const listener of leaving) this.#listeners.delete(listener);
    await Promise.all(leaving.map(closeListener));
  }

  /** Releases every socket and aborts forwards in flight; leaves no timers behind. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const forward of this.#forwards) forward.abort();
    const leaving = [...this.#listeners];
    this.#listeners.clear();
    await Promise.all(leaving.map(closeListener));
  }

  /** Binds UDP first (port 0 picks a port), then TCP on the same port. */
  async #bind(networkId: string, address: string, port: number): Promise<Listener> {
    const udp = dgram.createSocket({ type: net.isIPv6(address) ? 'udp6' : 'udp4' });
    const listener: Listener = {
      networkId,
      address,
      udp,
      tcp: net.createServer((socket) => this.#serveConnection(listener, socket)),
      connections: new Set(),
      closed: false,
    };
    try {
      await new Promise<void>((resolve, reject) => {
        udp.once('error', reject);
        udp.bind({ address, port, exclusive: true }, () => {
          udp.off('error', reject);
          resolve();
        });
      });
    } catch (error) {
      closeQuietly(udp);
      throw error;
    }
    udp.on('error', (error) => this.#log(`dns ${address}: UDP socket error: ${error.message}`));
    udp.on('message', (message, peer) => this.#serveDatagram(listener, message, peer));
    try {
      await new Promise<void>((resolve, reject) => {
        listener.tcp.once('error', reject);
        listener.tcp.listen({ host: address, port: udp.address().port, exclusive: true }, () => {
          listener.tcp.off('error', reject);
          resolve();
        });
      });
    } catch (error) {
      closeQuietly(udp);
      throw error;
    }
    listener.tcp.on('error', (error) => this.#log(`dns ${address}: TCP server error: ${error.message}`));
    return listener;
  }

  #serveDatagram(listener: Listener, message: Buffer, peer: dgram.RemoteInfo): void {
    void this.#respond(listener.networkId, message, 'udp', peer.address).then((answer) => {
      if (!answer || listener.closed) return;
      listener.udp.send(answer, peer.port, peer.address, (error) => {
        if (error) this.#log(`dns ${listener.address}: cannot answer ${peer.address}:${peer.port}: ${error.message}`);
      });
    });
  }

  /**
   * DNS over TCP (RFC 7766): each message has a 2-byte length, a connection may carry many
   * queries (answered as each is ready, possibly out of order), and data may arrive split.
   */
  #serveConnection(listener: Listener, socket: net.Socket): void {
    if (listener.closed) {
      socket.destroy();
      return;
    }
    listener.connections.add(socket);
    let buffered: Buffer = Buffer.alloc(0);
    let pending = 0;
    socket.setTimeout(this.#tcpIdleMs);
    socket.on('timeout', () => {
      // A query waiting on slow upstreams is not idleness.
      if (pending === 0) socket.destroy();
      else socket.setTimeout(this.#tcpIdleMs);
    });
    socket.on('error', (error) => this.#log(`dns ${listener.address}: TCP client ${socket.remoteAddress}: ${error.message}`));
    socket.on('close', () => listener.connections.delete(socket));
    socket.on('data', (chunk: Buffer) => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      while (buffered.length >= 2) {
        const length = buffered.readUInt16BE(0);
        if (buffered.length < 2 + length) break;
        const message = buffered.subarray(2, 2 + length);
        buffered = buffered.subarray(2 + length);
        pending += 1;
        void this.#respond(listener.networkId, message, 'tcp', socket.remoteAddress).then((answer) => {
          pending -= 1;
          if (!answer || socket.destroyed) return;
          const frame = Buffer.alloc(2 + answer.length);
          frame.writeUInt16BE(answer.length, 0);
          answer.copy(frame, 2);
          socket.write(frame);
        });
      }
    });
  }

  /** The answer to one query, or undefined when the message deserves none. Never rejects. */
  async #respond(networkId: string, message: Buffer, transport: Transport, client: string | undefined): Promise<Buffer | undefined> {
    const header = readHeader(message);
    if (!header) {
      this.#log(`dns: ignored a ${message.length}-byte ${transport} message, shorter than a DNS header`);
      return undefined;
    }
    // Answering answers could make two servers bounce messages between them forever.
    if (header.isResponse) {
      this.#log(`dns: ignored a ${transport} message that is a response, not a query (id ${header.id})`);
      return undefined;
    }
    if (!isStandardQuery(header)) return headerOnlyAnswer(header, RCODE_NOTIMP);
    if (header.questionCount !== 1) return headerOnlyAnswer(header, RCODE_FORMERR);
    let query: DecodedPacket;
    try {
      query = dnsPacket.decode(message);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      this.#log(`dns: ignored a malformed ${transport} query (id ${header.id}): ${reason}`);
      return undefined;
    }
    const question = query.questions?.[0];
    if (!question) return headerOnlyAnswer(header, RCODE_FORMERR);

    let local: Packet | undefined;
    try {
      local = this.#answerLocally(networkId, header, query, question, client);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      this.#log(`dns: records for ${question.name} on network ${networkId} failed: ${reason}`);
      return serverFailure(header, question);
    }
    if (local) return encodeWithin(local, transport === 'udp' ? udpLimitOf(query) : TCP_LIMIT);
    return this.#forward(header, question, message, transport);
  }

  /** An answer from the network's own records, or undefined when the name is not ours. */
  #answerLocally(networkId: string, header: MessageHeader, query: Packet, question: Question, client: string | undefined): Packet | undefined {
    if (question.class !== undefined && question.class !== 'IN' && question.class !== 'ANY') return undefined;
    const name = canonicalName(question.name);
    const answer = (answers: Answer[]): Packet => ({
      id: header.id,
      type: 'response',
      flags: answerFlags(header, RCODE_NOERROR, true),
      questions: [question],
      answers,
      // Answering with OPT tells an EDNS client that we speak EDNS too (RFC 6891 7).
      additionals: (query.additionals ?? []).some((record) => record.type === 'OPT')
        ? [{ type: 'OPT', name: '.', udpPayloadSize: udpLimitOf(query), extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }]
        : [],
    });

    if (question.type === 'PTR') {
      const address = reverseNameToAddress(name);
      const names = address === undefined ? [] : this.#records.reverse(networkId, address);
      if (names.length > 0) {
        return answer(names.map((data) => ({ type: 'PTR', name: question.name, ttl: LOCAL_TTL, data })));
      }
    }

    const addresses = this.#records.lookup(networkId, name, client);
    if (addresses.length === 0) return undefined;
    // The name exists here: other types get an empty NOERROR rather than going upstream,
    // which could answer for an unrelated host of the same name.
    // dns-packet decodes type 255 as 'ANY' though its typings leave it out.
    const type: string = question.type;
    if (type !== 'A' && type !== 'ANY') return answer([]);
    const start = this.#rotation++ % addresses.length;
    if (this.#rotation >= Number.MAX_SAFE_INTEGER) this.#rotation = 0;
    const rotated = [...addresses.slice(start), ...addresses.slice(0, start)];
    return answer(rotated.map((data) => ({ type: 'A', name: question.name, ttl: LOCAL_TTL, data })));
  }

  /**
   * Relays the query to each upstream in turn until one answers; its answer goes back as is
   * (a truncated UDP answer too: the client then asks us again over TCP, and we ask over TCP).
   */
  async #forward(header: MessageHeader, question: Question, message: Buffer, transport: Transport): Promise<Buffer> {
    if (this.#forwards.size >= this.#maxForwards) {
      this.#log(`dns: ${this.#maxForwards} forwards in flight; SERVFAIL for ${question.name}`);
      return serverFailure(header, question);
    }
    const controller = new AbortController();
    this.#forwards.add(controller);
    try {
      for (const upstream of this.#upstreams) {
        try {
          return await askUpstream(upstream, message, transport, this.#timeoutMs, controller.signal);
        } catch (error) {
          if (controller.signal.aborted) break;
          const reason = error instanceof Error ? error.message : String(error);
          this.#log(`dns: ${question.name} ${question.type} over ${transport} via ${describeUpstream(upstream)}: ${reason}`);
        }
      }
      return serverFailure(header, question);
    } finally {
      this.#forwards.delete(controller);
    }
  }
}

function closeQuietly(socket: dgram.Socket): void {
  try {
    socket.close();
  } catch {
    // A socket whose bind failed may already be closed.
  }
}

async function closeListener(listener: Listener): Promise<void> {
  listener.closed = true;
  for (const socket of listener.connections) socket.destroy();
  await Promise.all([
    new Promise<void>((resolve) => listener.udp.close(() => resolve())),
    new Promise<void>((resolve) => listener.tcp.close(() => resolve())),
  ]);
}

/** The nameserver lines of a resolv.conf text, as upstreams ('ip' strings). */
export function resolvConfNameservers(text: string): string[] {
  const servers: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    // resolv.conf comments start with '#' or ';' at the beginning of a line or after a value.
    const content = line.replace(/[#;].*$/, '').trim();
    const match = /^nameserver\s+(\S+)$/.exec(content);
    const address = match?.[1];
    if (address !== undefined && net.isIP(address.split('%')[0] ?? '') !== 0) servers.push(address);
  }
  return servers;
}
