// Bridge networks for real, as root: busybox containers on private engines find each other
// by name and alias through the engine's DNS, networks are isolated from each other,
// published ports answer at 127.0.0.1 and at the host's address on the bridge, a port in
// use is refused before anything starts, and nothing of any of it stays in the kernel.
// Traffic goes only to 127.0.0.1 and to addresses on the bridges these tests make.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import { request } from 'node:http';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ContainerInspect, NetworkInspect } from '../../src/common/api-types.js';
import { debianTarball, importRootfsTarball } from '../../src/image/bootstrap.js';
import { ImageStore } from '../../src/image/store.js';
import { firewallTag } from '../../src/engine/network-service.js';
import { bridgeName } from '../../src/network/links.js';
import { engineSkipReason, makeEngineHarness, settled, type EngineHarness } from '../api/engine-harness.js';
import { runCli } from '../cli/run-cli.js';

const DEBIAN_CACHE = '/var/cache/stack-test';
// The file's tests add up to more than tap's 120 s per file when the Debian one's apt-get is slow.
t.setTimeout(360_000);

const skip = engineSkipReason() ?? (existsSync('/usr/sbin/iptables') ? false : 'networking tests need iptables (apt-get install iptables)');

async function stack(h: EngineHarness, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return runCli(args, { cwd: h.paths.root, env: h.env });
}

async function inspect(h: EngineHarness, name: string): Promise<ContainerInspect> {
  return h.client.call<ContainerInspect>('GET', `/containers/${name}/json`);
}

/** GET http://host:port/path from this process, bounded in time. */
function httpGet(host: string, port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path, timeout: 3000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve(body));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${host}:${port}${path} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/** Bridge names of every network this engine has had a record of (kept across snapshots: a removed network's record is gone). */
const bridgesSeen = new Map<string, Set<string>>();

/**
 * Kernel objects this engine could leave: its bridges (by the IDs of its network records),
 * veths on them, their addresses, its namespace files and mounts, its iptables chains (by
 * its tag). Scoped to this engine so that other engines on the host (a parallel test
 * file, another checkout's suite) do not count.
 */
function kernelSnapshot(root: string): Record<string, string[]> {
  const seen = bridgesSeen.get(root) ?? new Set<string>();
  bridgesSeen.set(root, seen);
  const dir = join(root, 'networks');
  if (existsSync(dir)) for (const f of readdirSync(dir).filter((n) => n.endsWith('.json'))) seen.add(bridgeName(f.slice(0, -'.json'.length)));
  const linkLines = execFileSync('ip', ['-o', 'link', 'show']).toString().split('\n');
  const links = linkLines
    .filter((l) => {
      const name = l.split(': ')[1]?.split('@')[0] ?? '';
      const master = / master (\S+)/.exec(l)?.[1] ?? '';
      return seen.has(name) || seen.has(master);
    })
    .map((l) => l.split(': ')[1]?.split('@')[0] ?? '');
  const addrs = execFileSync('ip', ['-o', '-4', 'addr', 'show']).toString().split('\n').filter((l) => seen.has(l.split(/\s+/)[1] ?? '')).map((l) => l.split(/\s+/)[3] ?? '');
  const mounts = readFileSync('/proc/self/mounts', 'utf8').split('\n').filter((l) => l.includes(root)).map((l) => l.split(' ')[1] ?? '');
  const tag = `STK-${firewallTag(root)}-`;
  const rules = execFileSync('iptables-save').toString().split('\n').filter((l) => l.includes(tag));
  return { links, addrs, mounts, rules };
}

t.test('containers on one network reach each other by name and alias; other networks cannot', { skip, timeout: 120_000 }, async (t) => {
  const h = await makeEngineHarness('net-dns');
  t.teardown(() => h.cleanup());
  t.equal((await stack(h, 'network', 'create', 'front')).code, 0);
  t.equal((await stack(h, 'network', 'create', 'back')).code, 0);
  const web = await stack(h, 'run', '-d', '--name', 'web', '--network', 'front', '--network-alias', 'www', 'busybox:test', 'httpd', '-f', '-p', '80', '-h', '/etc');
  t.equal(web.code, 0, web.stderr);
  const webIp = (await inspect(h, 'web')).NetworkSettings.Networks.front!.IPAddress;
  t.match(webIp, /^\d+\.\d+\.\d+\.\d+$/, 'the container has an address on the network');

  // Debian's busybox-static cannot resolve names itself (glibc's static resolver), and its
  // wget crashes with -T: nslookup asks the engine's DNS, wget fetches by the answer under timeout.
  const fetchByName = (name: string): Promise<{ code: number; stdout: string; stderr: string }> => stack(h, 'run', '--rm', '--network', 'front', 'busybox:test', 'sh', '-c',
    `ip=$(nslookup ${name} | sed -n 's/^Address: *//p' | tail -n 1) && timeout 5 wget -q -O - "http://$ip/hostname"`);
  const byName = await fetchByName('web');
  t.equal(byName.code, 0, byName.stderr);
  t.equal(byName.stdout.trim(), (await inspect(h, 'web')).Config.Hostname, 'by container name: its /etc/hostname');
  const byAlias = await fetchByName('WWW');
  t.equal(byAlias.stdout.trim(), (await inspect(h, 'web')).Config.Hostname, 'by alias, in any case');
  const lookup = await stack(h, 'run', '--rm', '--network', 'front', 'busybox:test', 'nslookup', 'www');
  t.match(lookup.stdout, webIp, 'the engine\'s DNS answers the alias with the address');

  const otherName = await stack(h, 'run', '--rm', '--network', 'back', 'busybox:test', 'nslookup', 'web');
  t.not(otherName.code, 0, 'the name is unknown on another network');
  const otherIp = await stack(h, 'run', '--rm', '--init', '--network', 'back', 'busybox:test', 'timeout', '3', 'wget', '-q', '-O', '-', `http://${webIp}/hostname`);
  t.not(otherIp.code, 0, 'and its address is unreachable from there');

  const net = await h.client.call<NetworkInspect>('GET', '/networks/front');
  t.same(Object.values(net.Containers).map((c) => c.Name), ['web'], 'inspect lists the running container');
  const refused = await stack(h, 'network', 'rm', 'front');
  t.equal(refused.code, 1);
  t.match(refused.stderr, /network front has active endpoints \(web\)/);
  const mac = await stack(h, 'run', '--rm', '--network', 'front', '--mac-address', '02:42:ac:11:00:99', '--hostname', 'fixed', 'busybox:test', 'sh', '-c', 'cat /sys/class/net/eth0/address; hostname');
  t.equal(mac.stdout, '02:42:ac:11:00:99\nfixed\n', 'the MAC and hostname asked for');
  const hosts = await stack(h, 'exec', 'web', 'cat', '/etc/hosts', '/etc/resolv.conf');
  t.match(hosts.stdout, new RegExp(`${webIp.replace(/\./g, '\\.')}\\t`), '/etc/hosts has the container\'s own address');
  t.match(hosts.stdout, new RegExp(`nameserver ${net.IPAM.Config[0]!.Gateway.replace(/\./g, '\\.')}`), 'resolv.conf points at the engine on the gateway');
});

t.test('the default bridge lingers after its last container (runs reuse it), then leaves; an engine stopping takes it', { skip, timeout: 60_000 }, async (t) => {
  const h = await makeEngineHarness('net-linger', { bridgeLingerMs: 1500 });
  t.teardown(() => h.cleanup());
  const defaultBridge = async (): Promise<{ link: string; subnet: string | undefined }> => {
    const n = await h.client.call<NetworkInspect>('GET', '/networks/bridge');
    return { link: bridgeName(n.Id), subnet: n.IPAM.Config[0]?.Subnet };
  };
  const linkExists = (name: string): boolean => existsSync(`/sys/class/net/${name}`);
  const { link } = await defaultBridge();
  t.notOk(linkExists(link), 'no bridge before the first container');
  t.equal((await stack(h, 'run', '--rm', 'busybox:test', 'true')).code, 0);
  const first = await defaultBridge();
  t.ok(linkExists(link) && first.subnet, 'after a run --rm the bridge stays a while');
  t.equal((await stack(h, 'run', '--rm', 'busybox:test', 'true')).code, 0);
  t.equal((await defaultBridge()).subnet, first.subnet, 'the next run used the same bridge and subnet');
  for (let i = 0; i < 100 && (linkExists(link) || (await defaultBridge()).subnet !== undefined); i++) await sleep(100);
  t.notOk(linkExists(link), 'then it leaves the kernel');
  t.equal((await defaultBridge()).subnet, undefined, '... and its subnet is given back');
  t.equal((await stack(h, 'run', '--rm', 'busybox:test', 'true')).code, 0);
  t.ok(linkExists(link), 'a run makes it again');
  await h.stopEngine();
  t.notOk(linkExists(link), 'an engine that stops takes its unused default bridge with it');
  t.notOk(execFileSync('iptables-save', { encoding: 'utf8' }).includes(first.subnet!), 'and its rules');
});

t.test('a removed network leaves the API at once and the kernel just after; its subnet can be asked for again at once; a removal an engine died in is finished at its next start', { skip, timeout: 60_000 }, async (t) => {
  const h = await makeEngineHarness('net-depart', { inProcess: false });
  t.teardown(() => h.cleanup());
  await h.startProcess();
  const before = kernelSnapshot(h.paths.root);
  const subnet = '10.88.91.0/24';
  const names = async (): Promise<string[]> => (await h.client.call<NetworkInspect[]>('GET', '/networks')).map((n) => n.Name).sort();
  const linkOf = async (name: string): Promise<string> => bridgeName((await h.client.call<NetworkInspect>('GET', `/networks/${name}`)).Id);
  const gone = (link: string): boolean => !readFileSync('/proc/net/dev', 'utf8').includes(`${link}:`);

  t.equal((await stack(h, 'network', 'create', '--subnet', subnet, 'first')).code, 0);
  const firstLink = await linkOf('first');
  t.equal((await stack(h, 'network', 'rm', 'first')).code, 0);
  t.same(await names(), ['bridge', 'host', 'none'], 'gone from the API when rm returns');
  const again = await stack(h, 'network', 'create', '--subnet', subnet, 'second');
  t.equal(again.code, 0, `the same subnet is given again right away: ${again.stderr}`);
  t.ok(gone(firstLink), 'the first bridge left the kernel before the second was made');
  const secondLink = await linkOf('second');
  t.notOk(gone(secondLink), 'the second bridge is there');

  // An engine that dies between answering and taking the bridge away: the record is left as <id>.removing.
  await h.stopEngine();
  const dir = join(h.paths.root, 'networks');
  const id = readdirSync(dir).map((f) => f.replace(/\.json$/, '')).find((i) => bridgeName(i) === secondLink)!;
  renameSync(join(dir, `${id}.json`), join(dir, `${id}.removing`));
  await h.startProcess();
  t.same(await names(), ['bridge', 'host', 'none'], 'the next engine does not bring it back');
  t.ok(gone(secondLink), 'it takes the bridge away at start');
  t.notOk(existsSync(join(dir, `${id}.removing`)), 'and the record');
  t.same(await settled(() => kernelSnapshot(h.paths.root), (now) => JSON.stringify(now) === JSON.stringify(before)), before, 'nothing left: links, addresses, rules');
});

t.test('published ports answer at 127.0.0.1 and at the bridge address; hairpin; a port in use is refused first', { skip, timeout: 120_000 }, async (t) => {
  const h = await makeEngineHarness('net-ports');
  t.teardown(() => h.cleanup());
  const before = kernelSnapshot(h.paths.root);
  const web = await stack(h, 'run', '-d', '--name', 'web', '-p', '127.0.0.1::80', '-p', '8080', 'busybox:test', 'sh', '-c', 'httpd -p 80 -h /etc; httpd -f -p 8080 -h /etc');
  t.equal(web.code, 0, web.stderr);
  const info = await inspect(h, 'web');
  const local = Number(info.NetworkSettings.Ports['80/tcp']![0]!.HostPort);
  const any = Number(info.NetworkSettings.Ports['8080/tcp']![0]!.HostPort);
  t.ok(local > 0 && any > 0, 'random host ports were picked');
  const hostname = info.Config.Hostname;
  let got = '';
  for (let i = 0; i < 20 && got === ''; i++) {
    got = await httpGet('127.0.0.1', local, '/hostname').catch(() => '');
    if (got === '') await sleep(100);
  }
  t.equal(got.trim(), hostname, '127.0.0.1:hostPort reaches the container');
  const gateway = info.NetworkSettings.Gateway;
  // The second httpd starts after the first one: wait for it too.
  let viaGateway = '';
  for (let i = 0; i < 20 && viaGateway === ''; i++) {
    viaGateway = await httpGet(gateway, any, '/hostname').catch(() => '');
    if (viaGateway === '') await sleep(100);
  }
  t.equal(viaGateway.trim(), hostname, 'the host\'s address on the bridge reaches a 0.0.0.0 binding');
  await t.rejects(httpGet(gateway, local, '/hostname'), 'a 127.0.0.1 binding is not published on other addresses');
  const hairpin = await stack(h, 'exec', 'web', 'timeout', '5', 'wget', '-q', '-O', '-', `http://${gateway}:${any}/hostname`);
  t.equal(hairpin.stdout.trim(), hostname, 'the container reaches its own published port through the host (hairpin)');
  const ps = await stack(h, 'ps');
  t.match(ps.stdout, `127.0.0.1:${local}->80/tcp`);

  // Something else holds a port: the start is refused, naming it, and nothing is made.
  const holder: Server = createServer();
  await new Promise<void>((r) => holder.listen(0, '127.0.0.1', r));
  t.teardown(() => holder.close());
  const taken = (holder.address() as { port: number }).port;
  const clash = await stack(h, 'run', '-d', '--name', 'clash', '-p', `127.0.0.1:${taken}:80`, 'busybox:test', 'sleep', '30');
  t.equal(clash.code, 1);
  t.match(clash.stderr, new RegExp(`container clash: host port 127\\.0\\.0\\.1:${taken}/tcp is already in use`));
  const clashInfo = await inspect(h, 'clash');
  t.equal(clashInfo.State.Status, 'created', 'the container never ran');
  t.notOk(existsSync(join(h.paths.runRoot, 'netns', clashInfo.Id)), 'no namespace was made for it');
  const again = await stack(h, 'run', '-d', '--name', 'twice', '-p', `0.0.0.0:${any}:80`, 'busybox:test', 'sleep', '30');
  t.match(again.stderr, new RegExp(`host port 0\\.0\\.0\\.0:${any}/tcp is already in use`), 'a port another container publishes is in use too');

  await stack(h, 'rm', '-f', 'web', 'clash', 'twice');
  t.same(kernelSnapshot(h.paths.root), before, 'nothing left: links, addresses, mounts, rules');
});

t.test('50 create/start/remove cycles with networks and volumes leak no links, namespaces, mounts, rules or addresses', { skip, timeout: 300_000 }, async (t) => {
  const h = await makeEngineHarness('net-leak');
  t.teardown(() => h.cleanup());
  const before = kernelSnapshot(h.paths.root);
  t.equal((await stack(h, 'network', 'create', 'cycle')).code, 0);
  kernelSnapshot(h.paths.root); // learns the new network's bridge, checked at the end after its record is gone
  t.equal((await stack(h, 'volume', 'create', '--opt', 'type=tmpfs', '--opt', 'device=tmpfs', '--opt', 'o=size=1m', 'scratch')).code, 0);
  for (let i = 0; i < 50; i++) {
    const r = await stack(h, 'run', '--rm', '--network', 'cycle', '-p', '127.0.0.1::80', '-v', 'kept:/kept', '-v', 'scratch:/scratch', '-v', '/anonymous',
      'busybox:test', 'sh', '-c', `echo ${i} >> /kept/count`);
    if (r.code !== 0) {
      t.fail(`cycle ${i}: ${r.stderr}`);
      break;
    }
  }
  const net = await h.client.call<NetworkInspect>('GET', '/networks/cycle');
  t.same(net.Containers, {}, 'every address was given back');
  t.same(readdirSync(join(h.paths.runRoot, 'netns')), [], 'no namespace files');
  const volumes = (await stack(h, 'volume', 'ls', '-q')).stdout.trim().split('\n');
  t.same(volumes, ['kept', 'scratch'], 'the named volumes stay; every anonymous one went with its container');
  t.equal(readFileSync(join(h.paths.root, 'volumes', 'kept', '_data', 'count'), 'utf8').split('\n').length, 51, 'every cycle wrote to the kept volume');
  t.equal((await stack(h, 'volume', 'rm', 'kept', 'scratch')).code, 0);
  t.equal((await stack(h, 'network', 'rm', 'cycle')).code, 0);
  t.same(await settled(() => kernelSnapshot(h.paths.root), (now) => JSON.stringify(now) === JSON.stringify(before)), before, 'the kernel is as before');
});

t.test('bad network requests are refused with the reason, and make nothing', { skip }, async (t) => {
  const h = await makeEngineHarness('net-bad');
  t.teardown(() => h.cleanup());
  const before = kernelSnapshot(h.paths.root);
  const cases: Array<[string[], RegExp]> = [
    [['run', '--network', 'nope', 'busybox:test', 'true'], /network nope not found/],
    [['run', '-p', '99999:80', 'busybox:test', 'true'], /"99999" is not a port or range/],
    [['run', '-p', '8000-8002:80-81', 'busybox:test', 'true'], /host range has 3 ports and the container range 2/],
    [['run', '--network', 'host', '-p', '8080:80', 'busybox:test', 'true'], /published ports need a bridge network/],
    [['run', '--ip', '10.1.2.3', 'busybox:test', 'true'], /static address \(10\.1\.2\.3\) needs a network with a configured subnet/],
    [['network', 'create', '--subnet', '10.1.2.3/24', 'x'], /host bits set: did you mean 10\.1\.2\.0\/24/],
    [['network', 'create', 'bridge'], /network with name bridge already exists/],
    [['network', 'rm', 'bridge'], /bridge is a pre-defined network and cannot be removed/],
  ];
  for (const [args, message] of cases) {
    const r = await stack(h, ...args);
    t.not(r.code, 0, args.join(' '));
    t.match(r.stderr, message, args.join(' '));
  }
  t.same(kernelSnapshot(h.paths.root), before, 'nothing was made in the kernel');
});

// SLOW (first run only: mmdebstrap makes the Debian base, cached in /var/cache/stack-test).
// apt in a container reaches Debian's mirror through the bridge's masquerade, its names
// resolved by the engine's DNS forwarding to the host's resolvers: what builds will need.
t.test('DEBIAN: a container installs a package from Debian\'s mirror through the NAT; glibc resolves container names', {
  skip: skip || (existsSync('/usr/bin/mmdebstrap') ? false : 'needs mmdebstrap'),
  timeout: 900_000,
}, async (t) => {
  const h = await makeEngineHarness('net-apt');
  t.teardown(() => h.cleanup());
  const store = await new ImageStore(join(h.paths.root, 'image')).init();
  const tarball = await debianTarball({ suite: 'bookworm', variant: 'minbase', cacheDir: DEBIAN_CACHE }, h.paths.root);
  await importRootfsTarball(store, tarball, 'debian:bookworm');
  t.equal((await stack(h, 'network', 'create', 'apt')).code, 0);
  t.equal((await stack(h, 'run', '-d', '--name', 'peer', '--network', 'apt', '--network-alias', 'buddy', 'busybox:test', 'sleep', '300')).code, 0);
  const peerIp = (await inspect(h, 'peer')).NetworkSettings.Networks.apt!.IPAddress;
  const names = await stack(h, 'run', '--rm', '--network', 'apt', 'debian:bookworm', 'getent', 'hosts', 'peer', 'buddy');
  t.equal(names.code, 0, names.stderr);
  t.same(names.stdout.trim().split('\n').map((l) => l.split(/\s+/)[0]), [peerIp, peerIp], 'getaddrinfo finds the container by name and alias');
  const apt = await stack(h, 'run', '--rm', '--network', 'apt', 'debian:bookworm', 'sh', '-c',
    'apt-get -qq update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get -qq install -y --no-install-recommends hello >/dev/null && hello');
  t.equal(apt.code, 0, apt.stderr);
  t.equal(apt.stdout, 'Hello, world!\n', 'the package from the mirror runs');
});

t.test('network connect and disconnect a running container; ls, inspect and prune', { skip, timeout: 120_000 }, async (t) => {
  const h = await makeEngineHarness('net-connect');
  t.teardown(() => h.cleanup());
  t.equal((await stack(h, 'network', 'create', '--label', 'team=web', 'one')).code, 0);
  t.equal((await stack(h, 'network', 'create', '--subnet', '10.88.77.0/24', 'two')).code, 0);
  t.equal((await stack(h, 'network', 'create', 'spare')).code, 0);
  t.equal((await stack(h, 'run', '-d', '--name', 'app', '--network', 'one', 'busybox:test', 'httpd', '-f', '-p', '80', '-h', '/etc')).code, 0);
  const joined = await stack(h, 'network', 'connect', '--alias', 'api', '--ip', '10.88.77.50', 'two', 'app');
  t.equal(joined.code, 0, joined.stderr);
  const info = await inspect(h, 'app');
  t.same(Object.keys(info.NetworkSettings.Networks), ['one', 'two']);
  t.equal(info.NetworkSettings.Networks.two!.IPAddress, '10.88.77.50', 'the static address asked for');
  const links = await stack(h, 'exec', 'app', 'ip', '-o', '-4', 'addr', 'show');
  t.match(links.stdout, /eth1\s+inet 10\.88\.77\.50\/24/, 'the running container got eth1 at once');
  const fromTwo = await stack(h, 'run', '--rm', '--network', 'two', 'busybox:test', 'sh', '-c',
    'ip=$(nslookup api | sed -n \'s/^Address: *//p\' | tail -n 1) && timeout 5 wget -q -O - "http://$ip/hostname"');
  t.equal(fromTwo.stdout.trim(), info.Config.Hostname, 'reached by its alias on the network it joined');

  const ls = await stack(h, 'network', 'ls');
  t.match(ls.stdout, /^NETWORK ID\s+NAME\s+DRIVER\s+SUBNET\s+SCOPE\n/);
  t.match(ls.stdout, /\s+two\s+bridge\s+10\.88\.77\.0\/24\s+local\n/);
  const labelled = await stack(h, 'network', 'ls', '-q', '-f', 'label=team=web');
  t.equal(labelled.stdout.trim().split('\n').length, 1, 'ls -f label= finds the labelled one');
  const inspected = JSON.parse((await stack(h, 'network', 'inspect', 'two')).stdout) as NetworkInspect[];
  t.equal(inspected[0]!.IPAM.Config[0]!.Subnet, '10.88.77.0/24');
  t.same(Object.values(inspected[0]!.Containers).map((c) => c.IPv4Address), ['10.88.77.50/24']);

  const left = await stack(h, 'network', 'disconnect', 'two', 'app');
  t.equal(left.code, 0, left.stderr);
  const after = await stack(h, 'exec', 'app', 'ip', '-o', '-4', 'addr', 'show');
  t.notMatch(after.stdout, /eth1/, 'eth1 is gone from the running container');
  t.same(Object.keys((await inspect(h, 'app')).NetworkSettings.Networks), ['one']);
  const pruned = await stack(h, 'network', 'prune', '-f');
  t.match(pruned.stdout, /^Deleted Networks:\n/);
  t.match(pruned.stdout, /\bspare\b/);
  t.match(pruned.stdout, /\btwo\b/);
  t.notMatch(pruned.stdout, /\bone\b/, 'a network in use stays');
});

t.test('after the engine is killed and started again, published ports, DNS and tear-down still work', { skip, timeout: 120_000 }, async (t) => {
  const h = await makeEngineHarness('net-restart', { inProcess: false });
  t.teardown(() => h.cleanup());
  const first = await h.startProcess();
  t.equal((await stack(h, 'network', 'create', 'keep')).code, 0);
  const before = kernelSnapshot(h.paths.root);
  t.equal((await stack(h, 'run', '-d', '--name', 'svc', '--network', 'keep', '-p', '127.0.0.1::80', 'busybox:test', 'httpd', '-f', '-p', '80', '-h', '/etc')).code, 0);
  const info = await inspect(h, 'svc');
  const port = Number(info.NetworkSettings.Ports['80/tcp']![0]!.HostPort);
  // SIGKILL the engine process: the container keeps running, the kernel keeps the rules.
  const gone = new Promise((resolve) => first.once('exit', resolve));
  first.kill('SIGKILL');
  await gone;
  let during = '';
  for (let i = 0; i < 20 && during === ''; i++) during = await httpGet('127.0.0.1', port, '/hostname').catch(() => '');
  t.equal(during.trim(), info.Config.Hostname, 'the published port answers while no engine runs');
  await h.startProcess();
  const holder = createServer();
  const taken = await new Promise<boolean>((resolve) => {
    holder.once('error', () => resolve(true));
    holder.listen(port, '127.0.0.1', () => resolve(false));
  });
  holder.close();
  t.ok(taken, 'the new engine holds the host port again');
  const lookup = await stack(h, 'run', '--rm', '--network', 'keep', 'busybox:test', 'nslookup', 'svc');
  t.match(lookup.stdout, info.NetworkSettings.Networks.keep!.IPAddress, 'the new engine answers DNS on the gateway');
  t.equal((await stack(h, 'rm', '-f', 'svc')).code, 0);
  t.same(kernelSnapshot(h.paths.root), before, 'removal after the restart takes everything down');
});
