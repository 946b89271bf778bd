// Port reservations against real sockets on 127.0.0.1 (and one bind on 0.0.0.0 that carries no traffic).
import t from 'tap';
import { createServer, connect, type Server } from 'node:net';
import { createSocket, type Socket } from 'node:dgram';
import { ConflictError, UsageError } from '../../src/common/errors.js';
import { PortReservations, expandPortRange } from '../../src/network/port-reservations.js';

function listen(host: string, port = 0): Promise<Server> {
  const server = createServer((s) => s.end());
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => resolve(server));
  });
}

function portOf(server: Server): number {
  const a = server.address();
  if (!a || typeof a === 'string') throw new Error('no port');
  return a.port;
}

const closeServer = (s: Server): Promise<void> => new Promise((r) => s.close(() => r()));

/** Whether a tcp port can be taken by someone else right now. */
async function tcpFree(host: string, port: number): Promise<boolean> {
  try {
    await closeServer(await listen(host, port));
    return true;
  } catch {
    return false;
  }
}

function bindUdp(port: number): Promise<Socket> {
  const socket = createSocket('udp4');
  return new Promise((resolve, reject) => {
    socket.once('error', (e) => { socket.close(); reject(e); });
    socket.bind({ address: '127.0.0.1', port }, () => resolve(socket));
  });
}

async function udpFree(port: number): Promise<boolean> {
  try {
    const s = await bindUdp(port);
    await new Promise<void>((r) => s.close(() => r()));
    return true;
  } catch {
    return false;
  }
}

t.test('a port in use is a conflict naming ip:port/proto', async (t) => {
  const ports = new PortReservations();
  t.teardown(() => ports.close());
  const other = await listen('127.0.0.1');
  t.teardown(() => closeServer(other));
  const busy = portOf(other);
  await t.rejects(ports.reserve('web', [{ protocol: 'tcp', hostIp: '127.0.0.1', hostPort: busy }]),
    new ConflictError(`host port 127.0.0.1:${busy}/tcp is already in use`));
  await t.rejects(ports.reserve('web', [{ protocol: 'tcp', hostIp: '0.0.0.0', hostPort: busy }]),
    { name: 'ConflictError', message: `host port 0.0.0.0:${busy}/tcp is already in use` }, 'all addresses include the one in use');
});

t.test('all or nothing: what the call took is released on a conflict', async (t) => {
  const ports = new PortReservations();
  t.teardown(() => ports.close());
  const other = await listen('127.0.0.1');
  t.teardown(() => closeServer(other));
  const probe = await listen('127.0.0.1');
  const free = portOf(probe);
  await closeServer(probe);
  await t.rejects(ports.reserve('web', [
    { protocol: 'tcp', hostIp: '127.0.0.1', hostPort: free },
    { protocol: 'tcp', hostIp: '127.0.0.1', hostPort: portOf(other) },
  ]), ConflictError);
  t.ok(await tcpFree('127.0.0.1', free), 'the first port is free again');
});

t.test('held until released; 0 picks a free port; connections are dropped', async (t) => {
  const ports = new PortReservations();
  t.teardown(() => ports.close());
  const [held] = await ports.reserve('web', [{ protocol: 'tcp', hostIp: '127.0.0.1', hostPort: 0 }]);
  const port = held?.hostPort ?? 0;
  t.ok(port > 0, `a port was picked (${port})`);
  t.notOk(await tcpFree('127.0.0.1', port), 'nobody else can take it');
  const again = await ports.reserve('web', [{ protocol: 'tcp', hostIp: '127.0.0.1', hostPort: port }]);
  t.same(again, [{ protocol: 'tcp', hostIp: '127.0.0.1', hostPort: port }], 'the owner asking again for what it holds is no conflict');
  await t.rejects(ports.reserve('db', [{ protocol: 'tcp', hostIp: '127.0.0.1', hostPort: port }]), ConflictError, 'another owner is refused');
  const closed = await new Promise<boolean>((resolve) => {
    const c = connect({ host: '127.0.0.1', port });
    const timer = setTimeout(() => { c.destroy(); resolve(false); }, 2000);
    c.on('close', () => { clearTimeout(timer); resolve(true); });
    c.on('error', () => undefined);
  });
  t.ok(closed, 'a connection to the held port is closed at once');
  await ports.release('web');
  t.ok(await tcpFree('127.0.0.1', port), 'release frees it');
  await ports.release('web');
  t.pass('releasing twice is fine');
});

t.test('udp', async (t) => {
  const ports = new PortReservations();
  t.teardown(() => ports.close());
  const [held] = await ports.reserve('dns', [{ protocol: 'udp', hostIp: '127.0.0.1', hostPort: 0 }]);
  const port = held?.hostPort ?? 0;
  t.ok(port > 0, `a udp port was picked (${port})`);
  t.notOk(await udpFree(port), 'nobody else can bind it');
  const other = await bindUdp(0);
  t.teardown(() => new Promise<void>((r) => other.close(() => r())));
  const busy = other.address().port;
  await t.rejects(ports.reserve('dns2', [{ protocol: 'udp', hostIp: '127.0.0.1', hostPort: busy }]),
    { name: 'ConflictError', message: `host port 127.0.0.1:${busy}/udp is already in use` });
  await ports.close();
  t.ok(await udpFree(port), 'close releases every owner');
});

t.test('bad requests', async (t) => {
  const ports = new PortReservations();
  t.teardown(() => ports.close());
  await t.rejects(ports.reserve('x', [{ protocol: 'tcp', hostIp: '127.0.0.1', hostPort: 70000 }]), UsageError);
  await t.rejects(ports.reserve('x', [{ protocol: 'tcp', hostIp: '192.0.2.1', hostPort: 0 }]), { name: 'ConflictError', message: /192\.0\.2\.1 is not an address of this host/ });
});

t.test('expandPortRange', async (t) => {
  t.same(expandPortRange('8000-8002', '80-82'), [
    { hostPort: 8000, containerPort: 80 }, { hostPort: 8001, containerPort: 81 }, { hostPort: 8002, containerPort: 82 },
  ]);
  t.same(expandPortRange('8080', '80'), [{ hostPort: 8080, containerPort: 80 }]);
  t.same(expandPortRange('', '80-81'), [{ hostPort: 0, containerPort: 80 }, { hostPort: 0, containerPort: 81 }], 'no host side: random ports');
  t.throws(() => expandPortRange('8000-8010', '80'), UsageError, 'ranges of different lengths');
  t.throws(() => expandPortRange('9-8', '80'), UsageError, 'a backwards range');
  t.throws(() => expandPortRange('x', '80'), UsageError);
});
