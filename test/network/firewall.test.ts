// The firewall against real traffic: busybox servers and clients in scratch network
// namespaces, one of which plays the host. The real host's rules are never touched: every
// iptables process runs through a runner that enters the scratch host namespace.
import t, { type Test } from 'tap';
import { Firewall, type BridgeNetwork, type PublishedPort } from '../../src/network/firewall.js';
import { ScratchNet, skipReason } from './scratch-net.js';

const reason = skipReason();

/** The iptables-save text without comments and counters, for before/after comparisons. */
function saved(net: ScratchNet, ns: string): string {
  return net.sh(ns, ['iptables-save']).split('\n').filter((l) => !l.startsWith('#')).map((l) => l.replace(/\[\d+:\d+\]/, '')).join('\n');
}

/** Makes the filter and nat tables exist (iptables-nft creates them on first use), so "as before" can be compared. */
function primeTables(net: ScratchNet, ns: string): void {
  for (const table of ['filter', 'nat']) {
    net.sh(ns, ['iptables', '-t', table, '-N', 'PRIME']);
    net.sh(ns, ['iptables', '-t', table, '-X', 'PRIME']);
  }
}

const OUTSIDE_HTTP = 'http://10.99.0.2/cgi-bin/who';

/** A scratch set-up torn down when its test ends, pass or fail; the last test checks nothing is left. */
const nets: ScratchNet[] = [];
function scratch(name: string, t: Test): ScratchNet {
  const net = new ScratchNet(name);
  nets.push(net);
  t.teardown(() => net.cleanup());
  return net;
}

if (reason) {
  t.plan(0, reason);
} else {
  t.test('plain host: forwarding, isolation, masquerade, published ports', async (t) => {
    const net = scratch('plain', t);
    const host = net.namespace('host');
    const outside = net.namespace('outside');
    net.link(host, 'hout', '10.99.0.1/24', outside, 'eth0', '10.99.0.2/24');
    net.sh(outside, ['ip', 'route', 'add', '10.201.0.0/16', 'via', '10.99.0.1']);
    primeTables(net, host);
    const baseline = saved(net, host);

    const a: BridgeNetwork = { id: 'a', bridge: 'stkaaaa0001', subnet: '10.201.1.0/24', gateway: '10.201.1.1', internal: false };
    const b: BridgeNetwork = { id: 'b', bridge: 'stkbbbb0002', subnet: '10.201.2.0/24', gateway: '10.201.2.1', internal: false };
    const c: BridgeNetwork = { id: 'c', bridge: 'stkcccc0003', subnet: '10.201.3.0/24', gateway: '10.201.3.1', internal: true };
    for (const n of [a, b, c]) net.bridge(host, n.bridge, `${n.gateway}/24`);
    const c1 = net.container(host, 'c1', a.bridge, '10.201.1.2/24', a.gateway);
    const c2 = net.container(host, 'c2', a.bridge, '10.201.1.3/24', a.gateway);
    const c3 = net.container(host, 'c3', b.bridge, '10.201.2.2/24', b.gateway);
    const c4 = net.container(host, 'c4', c.bridge, '10.201.3.2/24', c.gateway);
    await Promise.all([
      net.httpServer(c1, 'c1'), net.httpServer(c2, 'c2'), net.httpServer(c3, 'c3'), net.httpServer(c4, 'c4'),
      net.httpServer(outside, 'outside'), net.udpServer(c1, 'c1', 5353),
    ]);

    const calls: string[][] = [];
    const fw = new Firewall({ tag: 'plain', run: net.runner(host, (argv) => calls.push(argv)) });
    const iptablesCalls = async (work: () => Promise<void>): Promise<number> => {
      const before = calls.length;
      await work();
      return calls.slice(before).filter((argv) => argv[0]?.startsWith('iptables')).length;
    };

    let started = process.hrtime.bigint();
    for (const n of [a, b, c]) t.ok((await iptablesCalls(() => fw.addNetwork(n))) <= 2, `addNetwork ${n.id}: at most 2 iptables processes`);
    t.comment(`addNetwork: ${(Number(process.hrtime.bigint() - started) / 3e6).toFixed(1)} ms per call`);
    t.equal(net.sh(host, ['cat', '/proc/sys/net/ipv4/ip_forward']).trim(), '1', 'forwarding is on in the runner namespace');
    t.equal(net.sh(host, ['cat', `/proc/sys/net/ipv4/conf/${a.bridge}/route_localnet`]).trim(), '1', 'route_localnet on the bridge');

    t.equal(await net.who(c1, 'http://10.201.1.3/cgi-bin/who'), 'c2 10.201.1.2', 'containers of one network reach each other');
    t.equal(await net.who(c1, 'http://10.201.2.2/cgi-bin/who', 1), undefined, 'network a does not reach network b');
    t.equal(await net.who(c3, 'http://10.201.1.2/cgi-bin/who', 1), undefined, 'network b does not reach network a');
    t.equal(await net.who(c4, 'http://10.201.1.2/cgi-bin/who', 1), undefined, 'the internal network does not reach network a');
    t.equal(await net.who(c1, OUTSIDE_HTTP), 'outside 10.99.0.1', 'outbound traffic is masqueraded to the host address');
    t.equal(await net.who(c4, OUTSIDE_HTTP, 1), undefined, 'an internal network has no way out');
    t.equal(await net.who(outside, 'http://10.201.1.2/cgi-bin/who', 1), undefined, 'the outside does not reach an unpublished container (even with a route)');

    const web: PublishedPort = { protocol: 'tcp', hostIp: '0.0.0.0', hostPort: 8080, containerIp: '10.201.1.2', containerPort: 80, bridge: a.bridge };
    const local: PublishedPort = { protocol: 'tcp', hostIp: '127.0.0.1', hostPort: 8081, containerIp: '10.201.1.3', containerPort: 80, bridge: a.bridge };
    const dns: PublishedPort = { protocol: 'udp', hostIp: '0.0.0.0', hostPort: 5353, containerIp: '10.201.1.2', containerPort: 5353, bridge: a.bridge };
    const hidden: PublishedPort = { protocol: 'tcp', hostIp: '0.0.0.0', hostPort: 8082, containerIp: '10.201.3.2', containerPort: 80, bridge: c.bridge };
    started = process.hrtime.bigint();
    t.ok((await iptablesCalls(() => fw.publish([web, local, dns, hidden]))) <= 2, 'publish: at most 2 iptables processes');
    t.comment(`publish of 4 ports: ${(Number(process.hrtime.bigint() - started) / 1e6).toFixed(1)} ms`);

    t.equal(await net.who(host, 'http://127.0.0.1:8080/cgi-bin/who'), 'c1 10.201.1.1', 'a published port at 127.0.0.1 (masqueraded to the gateway)');
    t.equal(await net.who(host, 'http://10.99.0.1:8080/cgi-bin/who'), 'c1 10.99.0.1', 'at the host\'s own address, from the host (no masquerade needed)');
    t.equal(await net.who(outside, 'http://10.99.0.1:8080/cgi-bin/who'), 'c1 10.99.0.2', 'from outside, with the client\'s address kept');
    t.match(await net.who(c1, 'http://10.99.0.1:8080/cgi-bin/who'), /^c1 /, 'hairpin: a container reaches its own published port');
    t.match(await net.who(c2, 'http://10.99.0.1:8080/cgi-bin/who'), /^c1 /, 'a neighbour reaches it through the host address too');
    t.equal(await net.who(host, 'http://127.0.0.1:8081/cgi-bin/who'), 'c2 10.201.1.1', 'a port published at 127.0.0.1 answers there');
    t.equal(await net.who(host, 'http://10.99.0.1:8081/cgi-bin/who', 1), undefined, '... and not at the host\'s other address');
    t.equal(await net.who(outside, 'http://10.99.0.1:8081/cgi-bin/who', 1), undefined, '... nor from outside');
    t.equal(await net.udpWho(host, '127.0.0.1', 5353), 'c1 10.201.1.1', 'udp at 127.0.0.1');
    t.equal(await net.udpWho(outside, '10.99.0.1', 5353), 'c1 10.99.0.2', 'udp from outside');
    t.equal(await net.who(host, 'http://127.0.0.1:8082/cgi-bin/who', 1), undefined, 'ports of an internal network are not published');
    t.notOk((await fw.rules()).some((r) => r.includes('10.201.3.2')), 'no rule leads into the internal network');

    const before = saved(net, host);
    t.equal(await iptablesCalls(() => fw.addNetwork(a)), 1, 'adding a network again only reads the rules');
    t.equal(await iptablesCalls(() => fw.publish([web, local, dns])), 1, 'publishing again only reads the rules');
    t.equal(saved(net, host), before, 'calling twice changes nothing');

    const twin: PublishedPort = { ...web, hostIp: '10.99.0.1', hostPort: 9090 };
    await fw.publish([twin]);
    t.ok((await iptablesCalls(() => fw.unpublish([web, local]))) <= 2, 'unpublish: at most 2 iptables processes');
    t.equal(await net.who(host, 'http://127.0.0.1:8080/cgi-bin/who', 1), undefined, 'an unpublished port no longer leads to the container');
    t.match(await net.who(c1, 'http://10.99.0.1:9090/cgi-bin/who'), /^c1 /, 'the hairpin rule a second port still needs is kept');
    await fw.unpublish([web, local]);
    t.equal(await iptablesCalls(() => fw.unpublish([web, local])), 1, 'unpublishing again only reads the rules');

    // The caller should unpublish first; a port it forgot must not outlive its network.
    await fw.publish([{ protocol: 'tcp', hostIp: '0.0.0.0', hostPort: 8083, containerIp: '10.201.2.2', containerPort: 80, bridge: b.bridge }]);
    await fw.removeNetwork(b);
    t.notOk((await fw.rules()).some((r) => r.includes('10.201.2.2')), 'ports into the removed network are gone with it');
    t.equal(await net.who(c1, OUTSIDE_HTTP), 'outside 10.99.0.1', 'removing another network leaves this one working');
    t.notOk((await fw.rules()).some((r) => r.includes(b.bridge)), 'no rule of the removed network is left');
    await fw.removeNetwork(c);
    // The udp port and the twin are still published: removing the last network takes them too.
    started = process.hrtime.bigint();
    t.ok((await iptablesCalls(() => fw.removeNetwork(a))) <= 2, 'removeNetwork: at most 2 iptables processes');
    t.comment(`removeNetwork (last): ${(Number(process.hrtime.bigint() - started) / 1e6).toFixed(1)} ms`);
    t.same(await fw.rules(), [], 'no rule of this engine is left');
    t.equal(saved(net, host), baseline, 'iptables-save is as before');
    t.equal(await iptablesCalls(() => fw.removeNetwork(a)), 1, 'removing again only reads the rules');
  });

  t.test('a host with Docker: FORWARD DROP, DOCKER-USER, isolation chains, br_netfilter', async (t) => {
    const net = scratch('docker', t);
    const host = net.namespace('host');
    const outside = net.namespace('outside');
    net.link(host, 'hout', '10.99.0.1/24', outside, 'eth0', '10.99.0.2/24');
    try {
      net.sh(host, ['sh', '-c', 'modprobe br_netfilter 2>/dev/null; echo 1 > /proc/sys/net/bridge/bridge-nf-call-iptables']);
      t.pass('br_netfilter on: bridged traffic passes FORWARD');
    } catch {
      t.comment('br_netfilter is not available: bridged traffic skips FORWARD here');
    }
    net.bridge(host, 'docker0', '172.17.0.1/16');
    const d1 = net.container(host, 'd1', 'docker0', '172.17.0.2/16', '172.17.0.1');
    // What dockerd 24 makes at start, in its order.
    const dockerRules = `*filter
:FORWARD DROP [0:0]
:DOCKER - [0:0]
:DOCKER-ISOLATION-STAGE-1 - [0:0]
:DOCKER-ISOLATION-STAGE-2 - [0:0]
:DOCKER-USER - [0:0]
-A FORWARD -j DOCKER-USER
-A FORWARD -j DOCKER-ISOLATION-STAGE-1
-A FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -o docker0 -j DOCKER
-A FORWARD -i docker0 ! -o docker0 -j ACCEPT
-A FORWARD -i docker0 -o docker0 -j ACCEPT
-A DOCKER-ISOLATION-STAGE-1 -i docker0 ! -o docker0 -j DOCKER-ISOLATION-STAGE-2
-A DOCKER-ISOLATION-STAGE-1 -j RETURN
-A DOCKER-ISOLATION-STAGE-2 -o docker0 -j DROP
-A DOCKER-ISOLATION-STAGE-2 -j RETURN
-A DOCKER-USER -j RETURN
COMMIT
*nat
:DOCKER - [0:0]
-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
-A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER
-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE
-A DOCKER -i docker0 -j RETURN
COMMIT
`;
    net.sh(host, ['sh', '-c', `printf '%s' "$1" | iptables-restore --noflush`, 'sh', dockerRules]);
    net.sh(host, ['sh', '-c', 'echo 1 > /proc/sys/net/ipv4/ip_forward']);
    const baseline = saved(net, host);

    const a: BridgeNetwork = { id: 'a', bridge: 'stkaaaa0001', subnet: '10.201.1.0/24', gateway: '10.201.1.1', internal: false };
    const b: BridgeNetwork = { id: 'b', bridge: 'stkbbbb0002', subnet: '10.201.2.0/24', gateway: '10.201.2.1', internal: false };
    for (const n of [a, b]) net.bridge(host, n.bridge, `${n.gateway}/24`);
    const c1 = net.container(host, 'c1', a.bridge, '10.201.1.2/24', a.gateway);
    const c2 = net.container(host, 'c2', a.bridge, '10.201.1.3/24', a.gateway);
    const c3 = net.container(host, 'c3', b.bridge, '10.201.2.2/24', b.gateway);
    await Promise.all([net.httpServer(c1, 'c1'), net.httpServer(c2, 'c2'), net.httpServer(c3, 'c3'), net.httpServer(d1, 'd1'), net.httpServer(outside, 'outside')]);

    t.equal(await net.who(c1, 'http://10.201.1.3/cgi-bin/who', 1), undefined, 'without our rules, Docker\'s DROP policy stops our bridge traffic');

    // Two engines side by side, as tests run them: each keeps to its own chains.
    const fw = new Firewall({ tag: 'one', run: net.runner(host) });
    const other = new Firewall({ tag: 'two', run: net.runner(host) });
    await fw.addNetwork(a);
    await other.addNetwork(b);
    const web: PublishedPort = { protocol: 'tcp', hostIp: '0.0.0.0', hostPort: 8080, containerIp: '10.201.1.2', containerPort: 80, bridge: a.bridge };
    await fw.publish([web]);

    t.equal(await net.who(c1, 'http://10.201.1.3/cgi-bin/who'), 'c2 10.201.1.2', 'containers of one network reach each other');
    t.equal(await net.who(c1, OUTSIDE_HTTP), 'outside 10.99.0.1', 'our outbound traffic flows and is masqueraded');
    t.equal(await net.who(outside, 'http://10.99.0.1:8080/cgi-bin/who'), 'c1 10.99.0.2', 'our published port is reached from outside');
    t.equal(await net.who(host, 'http://127.0.0.1:8080/cgi-bin/who'), 'c1 10.201.1.1', 'and at 127.0.0.1');
    t.equal(await net.who(c3, OUTSIDE_HTTP), 'outside 10.99.0.1', 'the other engine\'s network works too');
    t.equal(await net.who(d1, OUTSIDE_HTTP), 'outside 10.99.0.1', 'Docker\'s containers still reach the outside');
    t.equal(await net.who(d1, 'http://10.201.1.2/cgi-bin/who', 1), undefined, 'Docker\'s containers do not reach ours directly');

    // dockerd restarting puts its jump back on top; our next call must get ahead of it again.
    net.sh(host, ['iptables', '-I', 'FORWARD', '1', '-j', 'DOCKER-USER']);
    await fw.publish([web]);
    await other.addNetwork(b);
    const forward = net.sh(host, ['iptables', '-S', 'FORWARD']).split('\n').filter((l) => l.startsWith('-A'));
    t.match(forward[0] ?? '', /-j STK-(one|two)-FWD$/, 'an engine\'s jump is first again after Docker re-inserted its own');
    t.ok(forward.slice(0, 2).every((l) => /STK-/.test(l)), 'both engines\' jumps are above Docker\'s');

    await other.removeNetwork(b);
    t.same(await other.rules(), [], 'the other engine left nothing');
    t.ok((await fw.rules()).length > 0, 'and took nothing of ours');
    t.equal(await net.who(c1, 'http://10.201.1.3/cgi-bin/who'), 'c2 10.201.1.2', 'ours still work');
    await fw.removeNetwork(a);
    t.same(await fw.rules(), [], 'nothing of ours is left');
    t.equal(saved(net, host).replace(/^-A FORWARD -j DOCKER-USER\n/m, ''), baseline, 'Docker\'s rules are as they were (but for the jump its "restart" added)');
    t.equal(await net.who(d1, OUTSIDE_HTTP), 'outside 10.99.0.1', 'Docker\'s containers still reach the outside');
  });

  t.test('nothing of the scratch set-ups is left on the host', async (t) => {
    for (const net of nets) t.same(net.leftovers(), [], `${net.dir}: no namespace file, mount, veth or process`);
  });
}
