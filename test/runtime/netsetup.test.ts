// The shim's own network wiring over rtnetlink: `net-attach` / `net-detach` and the `run`
// path's `stack.network` annotation, as root. Every test works inside a scratch network
// namespace of its own that plays the host (the shim runs under `nsenter --net=SCRATCH`),
// with a bridge br0 at 10.77.0.1/24 there; traffic goes only between the namespaces it makes.
import t, { type Test } from 'tap';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildRuntimeSpec, type NetworkInterface } from '../../src/runtime/bundle.js';
import { DEFAULT_SHIM_PATH, ShimRuntime } from '../../src/runtime/shim-runtime.js';
import { BUSYBOX, makeBusyboxRootfs, skipReason, waitUntil } from './fixtures.js';

interface Attachment {
  netns: string;
  create?: boolean;
  interfaces: NetworkInterface[];
}

interface Scratch {
  dir: string;
  /** The scratch namespace's file: the shim's "host". */
  host: string;
  /** `ip ARGS` in the scratch host namespace. */
  ip(...args: string[]): string;
  /** `ip ARGS` in a sandbox. */
  ipIn(netns: string, ...args: string[]): string;
  shim(command: string, input: unknown): { code: number | null; stderr: string };
  /** Interface names in the scratch host namespace. */
  hostLinks(): string[];
}

const reason = skipReason();

/** Mount points under `dir` (what a leak would leave). */
function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4] ?? '').filter((p) => p.startsWith(`${dir}/`));
}

function makeScratch(t: Test, name: string): Scratch {
  const dir = mkdtempSync(join(tmpdir(), `stack-net-${name}-`));
  const host = join(dir, 'host');
  writeFileSync(host, '');
  execFileSync('unshare', [`--net=${host}`, 'true']);
  const inNs = (netns: string, args: string[]): string => execFileSync('nsenter', [`--net=${netns}`, ...args], { encoding: 'utf8' });
  const scratch: Scratch = {
    dir,
    host,
    ip: (...args) => inNs(host, ['ip', ...args]),
    ipIn: (netns, ...args) => inNs(netns, ['ip', ...args]),
    shim(command, input) {
      const r = spawnSync('nsenter', [`--net=${host}`, DEFAULT_SHIM_PATH, command], { input: typeof input === 'string' ? input : JSON.stringify(input), encoding: 'utf8' });
      return { code: r.status, stderr: r.stderr };
    },
    hostLinks: () => (JSON.parse(scratch.ip('-j', 'link', 'show')) as Array<{ ifname: string }>).map((l) => l.ifname),
  };
  scratch.ip('link', 'add', 'br0', 'type', 'bridge');
  scratch.ip('addr', 'add', '10.77.0.1/24', 'dev', 'br0');
  scratch.ip('link', 'set', 'br0', 'up');
  // Runs even when the test failed half-way: every mount under dir, then dir.
  t.teardown(() => {
    for (const m of mountsUnder(dir).reverse()) spawnSync('umount', ['-l', m]);
    rmSync(dir, { recursive: true, force: true });
  });
  return scratch;
}

function sandbox(s: Scratch, file: string, address: string, index = 0): Attachment {
  const last = Number(address.split('.')[3]);
  return {
    netns: join(s.dir, file),
    create: true,
    interfaces: [{
      hostVeth: `stvtest${last}${index}`,
      name: `eth${index}`,
      bridge: 'br0',
      address,
      prefix: 24,
      mac: `02:42:0a:4d:00:${last.toString(16).padStart(2, '0')}`,
      gateway: '10.77.0.1',
    }],
  };
}

/** Nothing of a sandbox is left: no file, no mount, no host veth. */
function assertGone(t: Test, s: Scratch, a: Attachment): void {
  t.notOk(existsSync(a.netns), `no netns file ${a.netns}`);
  t.same(mountsUnder(s.dir).filter((m) => m !== s.host), [], 'no mounts but the scratch host');
  t.same(s.hostLinks().sort(), ['br0', 'lo'], 'no veth left in the host namespace');
}

if (reason) {
  t.plan(0, reason);
} else {
  t.test('net-attach wires a sandbox on the bridge; net-detach removes it, twice is fine', async (t) => {
    const s = makeScratch(t, 'attach');
    const a = sandbox(s, 'sb', '10.77.0.2');
    const r = s.shim('net-attach', a);
    t.equal(r.stderr, '');
    t.equal(r.code, 0);
    t.ok(existsSync(a.netns), 'the netns file exists');
    t.ok(mountsUnder(s.dir).includes(a.netns), 'and a namespace is bound on it');

    const [eth0] = JSON.parse(s.ipIn(a.netns, '-j', 'addr', 'show', 'dev', 'eth0')) as Array<{ flags: string[]; address: string; addr_info: Array<{ family: string; local: string; prefixlen: number }> }>;
    t.ok(eth0?.flags.includes('UP'), 'eth0 is up');
    t.equal(eth0?.address, '02:42:0a:4d:00:02', 'with its MAC');
    t.same(eth0?.addr_info.filter((i) => i.family === 'inet').map((i) => `${i.local}/${i.prefixlen}`), ['10.77.0.2/24'], 'and its address');
    const [lo] = JSON.parse(s.ipIn(a.netns, '-j', 'link', 'show', 'dev', 'lo')) as Array<{ flags: string[] }>;
    t.ok(lo?.flags.includes('UP'), 'lo is up');
    const routes = JSON.parse(s.ipIn(a.netns, '-j', 'route', 'show', 'default')) as Array<{ gateway: string; dev: string }>;
    t.same(routes.map((x) => `${x.gateway} ${x.dev}`), ['10.77.0.1 eth0'], 'default route via the gateway');

    const [hostEnd] = JSON.parse(s.ip('-j', '-d', 'link', 'show', 'dev', 'stvtest20')) as Array<{ flags: string[]; master: string; linkinfo: { info_slave_data: { hairpin: boolean } } }>;
    t.equal(hostEnd?.master, 'br0', 'the host end is on br0');
    t.ok(hostEnd?.flags.includes('UP'), 'the host end is up');
    t.equal(hostEnd?.linkinfo.info_slave_data.hairpin, true, 'hairpin on');

    const ping = spawnSync('nsenter', [`--net=${a.netns}`, BUSYBOX, 'ping', '-c', '1', '-W', '1', '10.77.0.1'], { encoding: 'utf8' });
    t.equal(ping.status, 0, `the sandbox reaches the bridge (${ping.stdout.trim().split('\n').pop()})`);

    t.same(s.shim('net-detach', a), { code: 0, stderr: '' });
    assertGone(t, s, a);
    t.same(s.shim('net-detach', a), { code: 0, stderr: '' }, 'a second detach is fine');
  });

  t.test('two sandboxes on one bridge talk over TCP', async (t) => {
    const s = makeScratch(t, 'pair');
    const client = sandbox(s, 'client', '10.77.0.2');
    const server = sandbox(s, 'server', '10.77.0.3');
    t.equal(s.shim('net-attach', client).code, 0);
    t.equal(s.shim('net-attach', server).code, 0);
    const www = join(s.dir, 'www');
    mkdirSync(www);
    writeFileSync(join(www, 'hello.txt'), 'hello over the bridge\n');
    const httpd = spawn('nsenter', [`--net=${server.netns}`, BUSYBOX, 'httpd', '-f', '-p', '10.77.0.3:8080', '-h', www], { stdio: 'ignore' });
    t.teardown(() => { httpd.kill('SIGKILL'); });
    let body = '';
    // busybox nc as the client: a bounded, one-request exchange.
    const served = await waitUntil(() => {
      const r = spawnSync('nsenter', [`--net=${client.netns}`, BUSYBOX, 'nc', '-w', '1', '10.77.0.3', '8080'], { input: 'GET /hello.txt HTTP/1.0\r\n\r\n', encoding: 'utf8' });
      body = r.stdout.split('\r\n\r\n')[1] ?? '';
      return r.status === 0 && body !== '';
    }, 5000);
    t.ok(served, 'httpd answered');
    t.equal(body, 'hello over the bridge\n');
    httpd.kill('SIGKILL');
    await new Promise((r) => httpd.once('exit', r));
    t.equal(s.shim('net-detach', client).code, 0);
    t.equal(s.shim('net-detach', server).code, 0);
    t.notOk(existsSync(client.netns) || existsSync(server.netns), 'both netns files gone');
    t.same(s.hostLinks().sort(), ['br0', 'lo'], 'no veth left');
  });

  t.test('a missing bridge: the error names it and nothing is left', async (t) => {
    const s = makeScratch(t, 'nobridge');
    const a = sandbox(s, 'sb', '10.77.0.2');
    a.interfaces[0]!.bridge = 'stknope';
    const r = s.shim('net-attach', a);
    t.equal(r.code, 1);
    t.equal(r.stderr, 'stack-shim: set master: stvtest20: bridge stknope: No such device\n');
    assertGone(t, s, a);

    // The second interface fails after the first was made: the first goes too.
    const two = sandbox(s, 'sb2', '10.77.0.4');
    two.interfaces.push({ ...sandbox(s, 'sb2', '10.77.0.5', 1).interfaces[0]!, bridge: 'stknope' });
    const r2 = s.shim('net-attach', two);
    t.equal(r2.code, 1);
    t.match(r2.stderr, /bridge stknope: No such device/);
    assertGone(t, s, two);
  });

  t.test('joining a namespace that exists: a failure undoes the veths made and leaves the namespace', async (t) => {
    const s = makeScratch(t, 'join');
    const netns = join(s.dir, 'existing');
    writeFileSync(netns, '');
    execFileSync('unshare', [`--net=${netns}`, 'true']);
    s.ipIn(netns, 'link', 'add', 'eth1', 'type', 'bridge');
    const a: Attachment = { netns, create: false, interfaces: [sandbox(s, 'x', '10.77.0.2').interfaces[0]!, sandbox(s, 'x', '10.77.0.3', 1).interfaces[0]!] };
    const r = s.shim('net-attach', a);
    t.equal(r.code, 1);
    t.equal(r.stderr, 'stack-shim: create veth: stvtest31 <-> eth1: File exists\n', 'the second veth fails: its name is taken inside');
    t.same(s.hostLinks().sort(), ['br0', 'lo'], 'the first veth was deleted again');
    t.ok(mountsUnder(s.dir).includes(netns), 'the namespace, not made here, is still bound');
    t.same((JSON.parse(s.ipIn(netns, '-j', 'link', 'show')) as Array<{ ifname: string }>).map((l) => l.ifname).sort(), ['eth1', 'lo'], 'and holds what it held');

    a.interfaces.pop();
    t.same(s.shim('net-attach', a), { code: 0, stderr: '' }, 'with one interface it joins');
    t.same(JSON.parse(s.ipIn(netns, '-j', 'route', 'show', 'default')), [], 'and adds no default route to a namespace it did not make');
    t.same(s.shim('net-detach', a), { code: 0, stderr: '' });
    assertGone(t, s, a);
  });

  t.test('a veth name already taken is refused and the other is left alone', async (t) => {
    const s = makeScratch(t, 'taken');
    s.ip('link', 'add', 'stvtest20', 'type', 'bridge');
    const a = sandbox(s, 'sb', '10.77.0.2');
    const r = s.shim('net-attach', a);
    t.equal(r.code, 1);
    t.equal(r.stderr, 'stack-shim: create veth: stvtest20 <-> eth0: File exists\n');
    t.notOk(existsSync(a.netns), 'no netns file');
    t.same(s.hostLinks().sort(), ['br0', 'lo', 'stvtest20'], 'the link that had the name is still there');
    const exists = s.shim('net-attach', { ...a, netns: s.host, create: true });
    t.match(exists.stderr, /create network namespace: .*host: File exists/, 'an existing netns file is never mounted over');
  });

  t.test('bad input is refused naming the field, before anything is made', async (t) => {
    const s = makeScratch(t, 'input');
    const good = sandbox(s, 'sb', '10.77.0.2');
    const iface = good.interfaces[0]!;
    const cases: Array<[unknown, string]> = [
      ['{"netns":', 'net-attach: not valid JSON near byte 9'],
      [[], 'net-attach: expected a JSON object'],
      [{ ...good, netns: 'relative/sb' }, 'net-attach: netns: "relative/sb" is not an absolute path'],
      [{ ...good, netns: undefined }, 'net-attach: netns is required'],
      [{ ...good, create: 'yes' }, 'net-attach: create: expected true or false'],
      [{ ...good, interfaces: {} }, 'net-attach: interfaces: expected an array'],
      [{ ...good, extra: 1 }, 'net-attach: extra: unknown field'],
      [{ ...good, interfaces: [7] }, 'net-attach: interfaces[0]: expected an object'],
      [{ ...good, interfaces: [{ ...iface, hostVeth: 'stv0123456789abc' }] }, 'net-attach: interfaces[0].hostVeth: "stv0123456789abc" must be 1 to 15 characters'],
      [{ ...good, interfaces: [{ ...iface, name: 'eth/0' }] }, `net-attach: interfaces[0].name: "eth/0" may not contain '/', ':' or spaces`],
      [{ ...good, interfaces: [{ ...iface, bridge: undefined }] }, 'net-attach: interfaces[0].bridge is required'],
      [{ ...good, interfaces: [{ ...iface, address: '10.77.0.256' }] }, 'net-attach: interfaces[0].address: "10.77.0.256" is not an IPv4 address'],
      [{ ...good, interfaces: [{ ...iface, prefix: 31 }] }, 'net-attach: interfaces[0].prefix: 31 is out of range (8 to 30)'],
      [{ ...good, interfaces: [{ ...iface, prefix: '24' }] }, 'net-attach: interfaces[0].prefix: expected an integer'],
      [{ ...good, interfaces: [{ ...iface, mac: '02:42:0a:4d:00' }] }, 'net-attach: interfaces[0].mac: "02:42:0a:4d:00" is not a MAC address like 02:42:0a:59:03:02'],
      [{ ...good, interfaces: [{ ...iface, mac: '01:00:5e:00:00:01' }] }, 'net-attach: interfaces[0].mac: 01:00:5e:00:00:01 is a multicast address'],
      [{ ...good, interfaces: [{ ...iface, gateway: '10.78.0.1' }] }, "net-attach: interfaces[0].gateway: 10.78.0.1 is outside the interface's subnet (/24)"],
      [{ ...good, interfaces: [{ ...iface, typo: 1 }] }, 'net-attach: interfaces[0].typo: unknown field'],
      [{ ...good, interfaces: [iface, { ...iface, hostVeth: 'stvother' }] }, "net-attach: interfaces[1].name: eth0 is also interfaces[0]'s"],
    ];
    for (const [input, message] of cases) {
      const r = s.shim('net-attach', input);
      t.same(r, { code: 1, stderr: `stack-shim: ${message}\n` }, message);
    }
    t.same(s.shim('net-detach', { netns: good.netns, interfaces: [{ hostVeth: 'a-name-far-too-long' }] }),
      { code: 1, stderr: 'stack-shim: net-detach: interfaces[0].hostVeth: "a-name-far-too-long" must be 1 to 15 characters\n' });
    assertGone(t, s, good);
  });

  t.test('net-detach of pieces never made is fine', async (t) => {
    const s = makeScratch(t, 'detach');
    t.same(s.shim('net-detach', { netns: join(s.dir, 'never'), interfaces: [{ hostVeth: 'stvnever0' }] }), { code: 0, stderr: '' });
    writeFileSync(join(s.dir, 'plain'), '');
    t.same(s.shim('net-detach', { netns: join(s.dir, 'plain'), interfaces: [] }), { code: 0, stderr: '' }, 'an unmounted file is removed');
    t.notOk(existsSync(join(s.dir, 'plain')));
  });

  t.test('run: the stack.network annotation wires the container before it starts', async (t) => {
    const s = makeScratch(t, 'run');
    const rootfs = makeBusyboxRootfs(join(s.dir, 'rootfs'));
    // ShimRuntime runs this instead of the shim, so the supervisor's "host" is the scratch namespace.
    const wrapper = join(s.dir, 'shim-in-scratch');
    writeFileSync(wrapper, `#!/bin/sh\nexec nsenter --net=${s.host} ${DEFAULT_SHIM_PATH} "$@"\n`);
    chmodSync(wrapper, 0o755);
    const runtime = new ShimRuntime({ stateRoot: join(s.dir, 'state'), shimPath: wrapper });
    const ids: string[] = [];
    t.teardown(async () => {
      for (const id of ids) await runtime.delete(id, { force: true }).catch(() => undefined);
    });
    const bundle = (id: string, a: Attachment, args: string[]): string => {
      const config = buildRuntimeSpec({ rootfs, args, network: { path: a.netns } });
      config.annotations = { ...config.annotations, 'stack.network': JSON.stringify(a) };
      const dir = join(s.dir, 'bundles', id);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
      ids.push(id);
      return dir;
    };

    const a = sandbox(s, 'c1', '10.77.0.2');
    const id = `t${process.pid}-net-1`;
    await runtime.start(id, bundle(id, a, ['sh', '-c', 'cat /sys/class/net/eth0/address; ip -o -4 addr show eth0 | tr -s " " | cut -d" " -f2,4; ip route | grep ^default; ping -c 1 -W 1 10.77.0.1 >/dev/null && echo ping=ok']));
    const state = await runtime.waitForExit(id, 10_000);
    const stdout = (await runtime.logs(id)).filter((l) => l.stream === 'stdout').map((l) => l.log).join('');
    t.equal(state.exitCode, 0, `the container exited 0 (${state.error ?? 'no error'})`);
    t.equal(stdout, '02:42:0a:4d:00:02\neth0 10.77.0.2/24\ndefault via 10.77.0.1 dev eth0 \nping=ok\n', 'the container sees eth0, its address, its route, and reaches the bridge');
    t.same(s.hostLinks().sort(), ['br0', 'lo', 'stvtest20'], 'the attachment outlives the container until the engine detaches it');
    t.same(s.shim('net-detach', a), { code: 0, stderr: '' });
    assertGone(t, s, a);

    const failing = sandbox(s, 'c2', '10.77.0.3');
    const id2 = `t${process.pid}-net-2`;
    await t.rejects(runtime.start(id2, bundle(id2, failing, ['/no/such/program'])), /failed to start/);
    assertGone(t, s, failing);

    const noBridge = sandbox(s, 'c3', '10.77.0.4');
    noBridge.interfaces[0]!.bridge = 'stknope';
    const id3 = `t${process.pid}-net-3`;
    await t.rejects(runtime.start(id3, bundle(id3, noBridge, ['true'])), { message: `container ${id3} failed to start: set master: stvtest40: bridge stknope: No such device` });
    assertGone(t, s, noBridge);

    const mismatch = sandbox(s, 'c4', '10.77.0.5');
    const id4 = `t${process.pid}-net-4`;
    const dir4 = bundle(id4, mismatch, ['true']);
    const config = JSON.parse(readFileSync(join(dir4, 'config.json'), 'utf8')) as { linux: { namespaces: Array<{ type: string; path?: string }> } };
    config.linux.namespaces = config.linux.namespaces.map((n) => (n.type === 'network' ? { type: 'network', path: join(s.dir, 'other') } : n));
    writeFileSync(join(dir4, 'config.json'), JSON.stringify(config));
    await t.rejects(runtime.start(id4, dir4), { message: `container ${id4} failed to start: config.json: annotations.stack.network: netns ${mismatch.netns} must also be the network namespace's path in linux.namespaces` });
    assertGone(t, s, mismatch);
  });
}
