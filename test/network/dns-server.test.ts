// The embedded DNS server against real sockets on 127.0.0.1: Node's own resolver (c-ares) as
// an independent client, raw dns-packet queries for what it cannot ask, and a small upstream
// server started here to see what gets forwarded and how.

import dgram from 'node:dgram';
import { promises as dns } from 'node:dns';
import net from 'node:net';
import t, { type Test } from 'tap';
import dnsPacket from 'dns-packet';
import type { Answer, DecodedPacket, Packet, Question } from 'dns-packet';
import { DnsServer, resolvConfNameservers, type DnsRecordSource, type DnsServerOptions } from '../../src/network/dns-server.js';

const LOOPBACK = '127.0.0.1';

/** Records per network: name -> addresses, and address -> names for PTR. */
function recordsOf(networks: Record<string, Record<string, string[]>>, reverse: Record<string, Record<string, string[]>> = {}): DnsRecordSource {
  return {
    lookup: (networkId, name) => networks[networkId]?.[name] ?? [],
    reverse: (networkId, ip) => reverse[networkId]?.[ip] ?? [],
  };
}

const NETWORKS = {
  netA: { web: ['10.1.0.2', '10.1.0.3'], 'web-1': ['10.1.0.2'], db: ['10.1.0.9'] },
  netB: { web: ['10.2.0.5'] },
};
const REVERSE = { netA: { '10.1.0.2': ['web-1', 'web'] } };

interface Started {
  server: DnsServer;
  port: number;
  logged: string[];
}

async function startServer(t: Test, options: Partial<DnsServerOptions> = {}, networkId = 'netA'): Promise<Started> {
  const logged: string[] = [];
  const server = new DnsServer({
    records: recordsOf(NETWORKS, REVERSE),
    upstreams: [],
    timeoutMs: 300,
    log: (line) => logged.push(line),
    ...options,
  });
  t.teardown(() => server.close());
  const { port } = await server.listen(networkId, LOOPBACK, 0);
  return { server, port, logged };
}

interface SeenQuery {
  name: string;
  type: string;
  id: number;
  transport: 'udp' | 'tcp';
}

/** What an upstream answers: records, an rcode, TC, or nothing at all (a dead upstream). */
type UpstreamReply = { answers?: Answer[]; rcode?: number; truncated?: boolean } | 'silence';

interface Upstream {
  address: string;
  seen: SeenQuery[];
}

/** A small upstream DNS server over UDP and TCP on 127.0.0.1, stopped at teardown. */
async function startUpstream(t: Test, reply: (question: Question, transport: 'udp' | 'tcp') => UpstreamReply): Promise<Upstream> {
  const seen: SeenQuery[] = [];
  const answerTo = (query: DecodedPacket, transport: 'udp' | 'tcp'): Buffer | undefined => {
    const question = query.questions?.[0];
    if (!question) return undefined;
    seen.push({ name: question.name, type: question.type, id: query.id ?? -1, transport });
    const decided = reply(question, transport);
    if (decided === 'silence') return undefined;
    const flags = (decided.rcode ?? 0) | (decided.truncated ? dnsPacket.TRUNCATED_RESPONSE : 0) | dnsPacket.RECURSION_AVAILABLE;
    return dnsPacket.encode({ id: query.id, type: 'response', flags, questions: [question], answers: decided.answers ?? [] });
  };
  const udp = dgram.createSocket('udp4');
  udp.on('message', (message, peer) => {
    const answer = answerTo(dnsPacket.decode(message), 'udp');
    if (answer) udp.send(answer, peer.port, peer.address);
  });
  await new Promise<void>((resolve) => udp.bind(0, LOOPBACK, resolve));
  const port = udp.address().port;
  const connections = new Set<net.Socket>();
  const tcp = net.createServer((socket) => {
    connections.add(socket);
    socket.on('close', () => connections.delete(socket));
    let buffered: Buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
        const message = buffered.subarray(2, 2 + buffered.readUInt16BE(0));
        buffered = buffered.subarray(2 + message.length);
        const answer = answerTo(dnsPacket.decode(message), 'tcp');
        if (answer) socket.write(dnsPacket.streamEncode(dnsPacket.decode(answer)));
      }
    });
  });
  await new Promise<void>((resolve) => tcp.listen(port, LOOPBACK, resolve));
  t.teardown(async () => {
    for (const socket of connections) socket.destroy();
    await Promise.all([
      new Promise<void>((resolve) => udp.close(() => resolve())),
      new Promise<void>((resolve) => tcp.close(() => resolve())),
    ]);
  });
  return { address: `${LOOPBACK}:${port}`, seen };
}

const aRecord = (name: string, data: string): Answer => ({ type: 'A', name, ttl: 30, data });

function resolverFor(port: number): dns.Resolver {
  const resolver = new dns.Resolver({ timeout: 1500, tries: 1 });
  resolver.setServers([`${LOOPBACK}:${port}`]);
  return resolver;
}

function query(name: string, type: Question['type'] = 'A', extra: Packet = {}): Buffer {
  return dnsPacket.encode({ id: 4242, type: 'query', flags: dnsPacket.RECURSION_DESIRED, questions: [{ name, type }], ...extra });
}

/** One datagram to the server; undefined when nothing comes back within `waitMs`. */
async function askUdp(port: number, message: Buffer, waitMs = 2000): Promise<Buffer | undefined> {
  const socket = dgram.createSocket('udp4');
  try {
    return await new Promise<Buffer | undefined>((resolve, reject) => {
      const timer = setTimeout(() => resolve(undefined), waitMs);
      socket.on('error', reject);
      socket.on('message', (answer) => {
        clearTimeout(timer);
        resolve(answer);
      });
      socket.send(message, port, LOOPBACK);
    });
  } finally {
    socket.close();
  }
}

async function askUdpDecoded(port: number, message: Buffer): Promise<Decoded> {
  const answer = await askUdp(port, message);
  if (!answer) throw new Error('no UDP answer');
  return dnsPacket.decode(answer);
}

function frame(message: Buffer): Buffer {
  const framed = Buffer.alloc(2 + message.length);
  framed.writeUInt16BE(message.length, 0);
  message.copy(framed, 2);
  return framed;
}

/** A TCP connection to the server that collects length-framed answers. */
async function connectTcp(t: Test, port: number): Promise<{ socket: net.Socket; answers: (count: number) => Promise<Decoded[]>; closed: Promise<void> }> {
  const socket = net.connect(port, LOOPBACK);
  t.teardown(() => {
    socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const received: Decoded[] = [];
  let waiting: (() => void) | undefined;
  let buffered: Buffer = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    while (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
      received.push(dnsPacket.decode(buffered.subarray(2, 2 + buffered.readUInt16BE(0))));
      buffered = buffered.subarray(2 + buffered.readUInt16BE(0));
    }
    waiting?.();
  });
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const answers = async (count: number): Promise<Decoded[]> => {
    while (received.length < count) {
      await Promise.race([
        new Promise<void>((resolve) => (waiting = resolve)),
        closed.then(() => {
          throw new Error(`connection closed after ${received.length} of ${count} answers`);
        }),
      ]);
    }
    return received.splice(0, count);
  };
  return { socket, answers, closed };
}

const addressesOf = (packet: DecodedPacket): string[] =>
  (packet.answers ?? []).flatMap((answer) => (answer.type === 'A' ? [answer.data] : []));

const rcodeOf = (packet: Buffer): number => packet.readUInt16BE(2) & 0xf;

/** dns-packet decodes the rcode as a name, though its typings leave the field out. */
type Decoded = DecodedPacket & { rcode?: string };

t.test('resolv.conf nameservers: addresses only, comments and other lines skipped', async (t) => {
  const text = [
    '# generated by resolvconf',
    'search example.internal',
    'nameserver 192.0.2.53',
    'nameserver   2001:db8::53  # second',
    ';nameserver 192.0.2.99',
    'nameserver not-an-ip',
    'options ndots:2',
    'nameserver 127.0.0.53',
    '',
  ].join('\n');
  t.same(resolvConfNameservers(text), ['192.0.2.53', '2001:db8::53', '127.0.0.53']);
  t.same(resolvConfNameservers(''), []);
});

t.test('container names and aliases answer A with every address, TTL 60, any case', async (t) => {
  const { port } = await startServer(t);
  const resolver = resolverFor(port);
  t.same((await resolver.resolve4('web')).sort(), ['10.1.0.2', '10.1.0.3']);
  t.same(await resolver.resolve4('WEB-1'), ['10.1.0.2'], 'case-insensitive');
  const withTtl = await resolver.resolve4('db.', { ttl: true });
  t.same(withTtl, [{ address: '10.1.0.9', ttl: 60 }], 'trailing dot ignored; TTL 60');

  const firsts = new Set<string>();
  for (let i = 0; i < 4; i++) {
    const answer = await askUdpDecoded(port, query('web'));
    t.equal(answer.id, 4242);
    t.equal(answer.rcode, 'NOERROR');
    t.ok(answer.flag_aa, 'authoritative for its own names');
    t.equal(answer.answers?.[0]?.name, 'web', 'answers name the question as asked');
    firsts.add(addressesOf(answer)[0] ?? '');
  }
  t.equal(firsts.size, 2, 'the address list turns between answers');
});

t.test('a known name answers other types with NOERROR and nothing, without going upstream', async (t) => {
  const upstream = await startUpstream(t, () => ({ answers: [{ type: 'AAAA', name: 'web', ttl: 5, data: '2001:db8::1' }] }));
  const { port } = await startServer(t, { upstreams: [upstream.address] });
  for (const type of ['AAAA', 'MX', 'TXT'] as const) {
    const answer = await askUdpDecoded(port, query('Web.', type));
    t.equal(answer.rcode, 'NOERROR', type);
    t.equal(answer.answers?.length, 0, `${type}: no records`);
  }
  t.same(upstream.seen, [], 'nothing forwarded');
});

t.test('PTR of a container address answers its names, container name first', async (t) => {
  const upstream = await startUpstream(t, () => ({ rcode: 3 }));
  const { port } = await startServer(t, { upstreams: [upstream.address] });
  const resolver = resolverFor(port);
  t.same(await resolver.reverse('10.1.0.2'), ['web-1', 'web']);
  const answer = await askUdpDecoded(port, query('2.0.1.10.in-addr.arpa', 'PTR'));
  t.same(answer.answers?.map((record) => [record.type, 'data' in record ? record.data : undefined, 'ttl' in record ? record.ttl : undefined]), [
    ['PTR', 'web-1', 60],
    ['PTR', 'web', 60],
  ]);
  await t.rejects(resolver.reverse('10.1.0.77'), { code: 'ENOTFOUND' }, 'an unknown address goes upstream (NXDOMAIN there)');
  t.same(upstream.seen.map((seen) => seen.name), ['77.0.1.10.in-addr.arpa']);
});

t.test('unknown names go upstream; the answer comes back with the client id, over the same transport', async (t) => {
  const upstream = await startUpstream(t, (question) =>
    question.name === 'example.test' ? { answers: [aRecord('example.test', '192.0.2.10')] } : { rcode: 3 },
  );
  const { port } = await startServer(t, { upstreams: [upstream.address] });
  t.same(await resolverFor(port).resolve4('example.test'), ['192.0.2.10']);
  await t.rejects(resolverFor(port).resolve4('nowhere.test'), { code: 'ENOTFOUND' }, 'NXDOMAIN relayed');

  const raw = await askUdpDecoded(port, query('example.test', 'A', { id: 777 }));
  t.equal(raw.id, 777, 'client id restored');
  t.same(addressesOf(raw), ['192.0.2.10']);
  t.notOk(raw.flag_aa, 'relayed as the upstream said, not as ours');

  const tcp = await connectTcp(t, port);
  tcp.socket.write(frame(query('example.test', 'A', { id: 778 })));
  const [overTcp] = await tcp.answers(1);
  t.equal(overTcp?.id, 778);
  t.same(overTcp && addressesOf(overTcp), ['192.0.2.10']);
  t.same(upstream.seen.map((seen) => seen.transport), ['udp', 'udp', 'udp', 'tcp'], 'TCP queries are forwarded over TCP');
});

t.test('a truncated upstream answer is relayed as is; the retry over TCP is forwarded over TCP', async (t) => {
  const many = Array.from({ length: 60 }, (_, i) => aRecord('big.test', `192.0.2.${i + 1}`));
  const upstream = await startUpstream(t, (_question, transport) =>
    transport === 'udp' ? { truncated: true, answers: many.slice(0, 5) } : { answers: many },
  );
  const { port } = await startServer(t, { upstreams: [upstream.address] });
  const overUdp = await askUdpDecoded(port, query('big.test'));
  t.ok(overUdp.flag_tc, 'TC relayed');
  t.equal(overUdp.answers?.length, 5);
  t.equal((await resolverFor(port).resolve4('big.test')).length, 60, "Node's resolver retries over TCP and gets all");
});

t.test('a silent upstream times out and the next one answers; all failing gives SERVFAIL', async (t) => {
  const dead = await startUpstream(t, () => 'silence');
  const alive = await startUpstream(t, () => ({ answers: [aRecord('example.test', '192.0.2.20')] }));
  const { port, logged } = await startServer(t, { upstreams: [dead.address, alive.address], timeoutMs: 200 });
  const started = Date.now();
  t.same(addressesOf(await askUdpDecoded(port, query('example.test'))), ['192.0.2.20']);
  t.ok(Date.now() - started >= 190, 'waited for the first upstream');
  t.equal(dead.seen.length, 1);
  t.match(logged.join('\n'), /did not answer within 200 ms/);

  const tcp = await connectTcp(t, port);
  tcp.socket.write(frame(query('example.test', 'A', { id: 9 })));
  const [overTcp] = await tcp.answers(1);
  t.same(overTcp && addressesOf(overTcp), ['192.0.2.20'], 'over TCP too');

  const { port: failing } = await startServer(t, { upstreams: [dead.address, dead.address], timeoutMs: 100 });
  const failed = await askUdpDecoded(failing, query('example.test', 'A', { id: 31 }));
  t.equal(failed.rcode, 'SERVFAIL');
  t.equal(failed.id, 31);
  t.equal(failed.questions?.[0]?.name, 'example.test', 'the question is echoed');

  const closedPort = await new Promise<number>((resolve) => {
    const probe = net.createServer().listen(0, LOOPBACK, () => {
      const { port: free } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(free));
    });
  });
  const { port: refused } = await startServer(t, { upstreams: [`${LOOPBACK}:${closedPort}`] });
  const tcpRefused = await connectTcp(t, refused);
  tcpRefused.socket.write(frame(query('example.test')));
  const [refusedAnswer] = await tcpRefused.answers(1);
  t.equal(refusedAnswer?.rcode, 'SERVFAIL', 'a refused TCP connection upstream fails over at once');

  const { port: none } = await startServer(t, { upstreams: [] });
  t.equal((await askUdpDecoded(none, query('example.test'))).rcode, 'SERVFAIL', 'no upstreams at all');
});

t.test('forwards in flight are bounded; beyond the bound, SERVFAIL at once', async (t) => {
  const dead = await startUpstream(t, () => 'silence');
  const { port, logged } = await startServer(t, { upstreams: [dead.address], timeoutMs: 1000, maxForwardsInFlight: 2 });
  const slow = [askUdp(port, query('a.test')), askUdp(port, query('b.test'))];
  await new Promise((resolve) => setTimeout(resolve, 50));
  const started = Date.now();
  const beyond = await askUdpDecoded(port, query('c.test'));
  t.equal(beyond.rcode, 'SERVFAIL');
  t.ok(Date.now() - started < 500, 'without waiting for an upstream');
  t.match(logged.join('\n'), /2 forwards in flight/);
  const answers = await Promise.all(slow);
  t.same(answers.map((answer) => answer && rcodeOf(answer)), [2, 2], 'the two in flight time out into SERVFAIL');
  t.same((await askUdpDecoded(port, query('web'))).rcode, 'NOERROR', 'own names are not bounded');
});

t.test('names are scoped per network: known on A, forwarded from B', async (t) => {
  const upstream = await startUpstream(t, () => ({ answers: [aRecord('db', '203.0.113.9')] }));
  const { server, port: portA } = await startServer(t, { upstreams: [upstream.address] }, 'netA');
  const { port: portB } = await server.listen('netB', LOOPBACK, 0);
  t.not(portA, portB);
  t.same(await resolverFor(portA).resolve4('db'), ['10.1.0.9'], 'from network A');
  t.same(await resolverFor(portB).resolve4('db'), ['203.0.113.9'], 'from network B: upstream');
  t.same(await resolverFor(portB).resolve4('web'), ['10.2.0.5'], "B's own web");
  t.equal(upstream.seen.length, 1);

  await server.unlisten(LOOPBACK);
  t.equal(await askUdp(portA, query('web'), 300), undefined, 'unlisten releases the address');
  const again = await server.listen('netB', LOOPBACK, portB);
  t.equal(again.port, portB, 'the port is free again');
});

t.test('100 replicas: UDP answer truncated with TC, TCP carries them all', async (t) => {
  const replicas = Array.from({ length: 100 }, (_, i) => `10.9.${Math.floor(i / 200)}.${(i % 200) + 2}`);
  const { port } = await startServer(t, { records: recordsOf({ netA: { worker: replicas } }) });

  const classic = await askUdp(port, query('worker'));
  t.ok(classic && classic.length <= 512, 'within 512 bytes without EDNS');
  const decoded = dnsPacket.decode(classic ?? Buffer.alloc(0));
  t.ok(decoded.flag_tc, 'TC set');
  t.ok((decoded.answers?.length ?? 0) > 0 && (decoded.answers?.length ?? 0) < 100, 'as many whole records as fit');

  const withEdns = query('worker', 'A', {
    additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 4096, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }],
  });
  const edns = await askUdp(port, withEdns);
  t.ok(edns && edns.length > 512 && edns.length <= 1232, `EDNS: larger, but within 1232 bytes (${edns?.length})`);
  const ednsDecoded = dnsPacket.decode(edns ?? Buffer.alloc(0));
  t.ok(ednsDecoded.flag_tc);
  t.ok(ednsDecoded.additionals?.some((record) => record.type === 'OPT'), 'answers EDNS with OPT');

  const tcp = await connectTcp(t, port);
  tcp.socket.write(frame(query('worker')));
  const [all] = await tcp.answers(1);
  t.notOk(all?.flag_tc);
  t.same(all && addressesOf(all).sort(), [...replicas].sort(), 'every replica over TCP');

  t.equal((await resolverFor(port).resolve4('worker')).length, 100, "Node's resolver falls back to TCP by itself");
});

t.test('TCP: several queries per connection, split reads, idle connections closed', async (t) => {
  const { port } = await startServer(t, { tcpIdleTimeoutMs: 300 });
  const tcp = await connectTcp(t, port);
  tcp.socket.write(Buffer.concat([frame(query('web', 'A', { id: 1 })), frame(query('db', 'A', { id: 2 }))]));
  const pair = await tcp.answers(2);
  t.same(pair.map((answer) => answer.id).sort(), [1, 2], 'two queries in one write');

  const split = frame(query('db', 'A', { id: 3 }));
  for (const byte of split) {
    tcp.socket.write(Buffer.from([byte]));
    await new Promise((resolve) => setImmediate(resolve));
  }
  const [whole] = await tcp.answers(1);
  t.equal(whole?.id, 3, 'a query arriving byte by byte');
  t.same(whole && addressesOf(whole), ['10.1.0.9']);

  const started = Date.now();
  await tcp.closed;
  t.ok(Date.now() - started < 2000, 'the idle connection is closed by the server');
});

t.test('malformed packets are ignored or refused and never stop the server', async (t) => {
  const { port, logged } = await startServer(t);
  // A fixed pseudo-random sequence: the same garbage on every run.
  let seed = 12345;
  const nextByte = (): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed & 0xff;
  };
  for (let i = 0; i < 50; i++) {
    const garbage = Buffer.from(Array.from({ length: 1 + (i * 7) % 80 }, nextByte));
    await askUdp(port, garbage, 20);
  }
  t.equal(await askUdp(port, Buffer.from([1, 2, 3, 4, 5]), 200), undefined, 'a truncated header is ignored');

  const noQuestion = query('web');
  noQuestion.writeUInt16BE(0, 4);
  const zero = await askUdp(port, noQuestion.subarray(0, 12));
  t.equal(zero && rcodeOf(zero), 1, 'qdcount 0: FORMERR');
  t.equal(zero?.readUInt16BE(0), 4242, 'with the query id');

  const two = dnsPacket.encode({ id: 5, type: 'query', questions: [{ name: 'web', type: 'A' }, { name: 'db', type: 'A' }] });
  const twoAnswer = await askUdp(port, two);
  t.equal(twoAnswer && rcodeOf(twoAnswer), 1, 'qdcount 2: FORMERR');

  const status = query('web');
  status.writeUInt16BE(status.readUInt16BE(2) | (2 << 11), 2);
  const statusAnswer = await askUdp(port, status);
  t.equal(statusAnswer && rcodeOf(statusAnswer), 4, 'opcode STATUS: NOTIMP');

  const cut = query('web').subarray(0, 15);
  t.equal(await askUdp(port, cut, 200), undefined, 'a question cut short is ignored');
  const response = dnsPacket.encode({ id: 6, type: 'response', questions: [{ name: 'web', type: 'A' }] });
  t.equal(await askUdp(port, response, 200), undefined, 'a response sent to us is ignored');
  t.match(logged.join('\n'), /shorter than a DNS header/);
  t.match(logged.join('\n'), /malformed udp query/);

  const tcp = await connectTcp(t, port);
  tcp.socket.write(Buffer.concat([frame(Buffer.alloc(0)), frame(Buffer.from('not dns at all')), frame(cut), frame(query('db', 'A', { id: 8 }))]));
  // 'not dns at all' reads as a header with opcode 14: refused, not ignored.
  const afterGarbage = await tcp.answers(2);
  const notDns = afterGarbage.find((answer) => answer.id === 0x6e6f);
  t.equal(notDns?.rcode, 'NOTIMP', 'text with an unknown opcode: NOTIMP');
  t.ok(afterGarbage.some((answer) => answer.id === 8), 'the connection survives garbage frames');

  t.same(await resolverFor(port).resolve4('db'), ['10.1.0.9'], 'still answering afterwards');
});

t.test('listen rejects with the address when it cannot bind', async (t) => {
  const holder = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => holder.bind(0, LOOPBACK, resolve));
  t.teardown(() => new Promise<void>((resolve) => holder.close(() => resolve())));
  const server = new DnsServer({ records: recordsOf({}), upstreams: [] });
  t.teardown(() => server.close());
  await t.rejects(server.listen('netA', LOOPBACK, holder.address().port), { message: new RegExp(`127\\.0\\.0\\.1:${holder.address().port}`) });
  t.throws(() => new DnsServer({ records: recordsOf({}), upstreams: ['dns.example'] }), /dns\.example/);
});

t.test('close() releases sockets, connections and forwards in flight: no handles left', async (t) => {
  const dead = await startUpstream(t, () => 'silence');
  // Sockets of earlier tests finish closing on the next turns of the event loop.
  await new Promise((resolve) => setTimeout(resolve, 100));
  const before = process.getActiveResourcesInfo().sort();
  const server = new DnsServer({ records: recordsOf(NETWORKS), upstreams: [dead.address], timeoutMs: 60_000 });
  const { port } = await server.listen('netA', LOOPBACK, 0);
  await server.listen('netB', LOOPBACK, 0);
  const client = net.connect(port, LOOPBACK);
  await new Promise((resolve) => client.once('connect', resolve));
  const clientClosed = new Promise((resolve) => client.once('close', resolve));
  client.on('error', () => {});
  client.write(frame(query('slow.test')));
  const slowUdp = askUdp(port, query('slow-too.test'), 1000);
  await new Promise((resolve) => setTimeout(resolve, 50));

  const started = Date.now();
  await server.close();
  await clientClosed;
  await slowUdp;
  t.ok(Date.now() - started < 1500, 'forwards in flight do not hold close() up');
  await new Promise((resolve) => setTimeout(resolve, 100));
  t.same(process.getActiveResourcesInfo().sort(), before, 'no sockets or timers left behind');
  await t.rejects(server.listen('netA', LOOPBACK, 0), /closed/);
});
