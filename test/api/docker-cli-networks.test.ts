// The official `docker` CLI's network commands against a private engine: create (with a
// subnet, internal), ls, inspect, run on a network with an alias and a published port,
// rm refused while in use, prune.
import t from 'tap';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUSYBOX_IMAGE, engineSkipReason, makeEngineHarness } from './engine-harness.js';
import { DOCKER, makeDocker } from './docker-cli-support.js';

const skip = engineSkipReason()
  ?? (existsSync(DOCKER) ? undefined : `the docker CLI is not installed (${DOCKER}): nothing to test it with`)
  ?? (existsSync('/usr/sbin/iptables') ? false : 'networking needs iptables');

t.test('docker network commands and docker run --network against the engine', { skip }, async (t) => {
  const engine = await makeEngineHarness('docker-networks');
  const home = mkdtempSync(join(tmpdir(), 'stack-docker-home-'));
  t.teardown(async () => {
    rmSync(home, { recursive: true, force: true });
    await engine.cleanup();
  });
  const docker = makeDocker(engine, home);
  const created = await docker(['network', 'create', '--subnet', '10.91.7.0/24', '--label', 'team=a', 'dnet']);
  t.equal(created.code, 0, created.stderr);
  t.match(created.stdout, /^[0-9a-f]{64}\n$/);
  t.equal((await docker(['network', 'create', '--internal', 'dinternal'])).code, 0);
  const ls = await docker(['network', 'ls', '--format', '{{.Name}} {{.Driver}}']);
  t.same(ls.stdout.trim().split('\n').sort(), ['bridge bridge', 'dinternal bridge', 'dnet bridge', 'host host', 'none null']);
  const subnet = await docker(['network', 'inspect', '-f', '{{range .IPAM.Config}}{{.Subnet}} {{.Gateway}}{{end}} {{.Labels.team}}', 'dnet']);
  t.equal(subnet.stdout, '10.91.7.0/24 10.91.7.1 a\n');
  t.equal((await docker(['network', 'inspect', '-f', '{{.Internal}}', 'dinternal'])).stdout, 'true\n');

  const run = await docker(['run', '-d', '--name', 'dweb', '--network', 'dnet', '--network-alias', 'site', '--ip', '10.91.7.20', '-p', '127.0.0.1::80', BUSYBOX_IMAGE, 'httpd', '-f', '-p', '80', '-h', '/etc']);
  t.equal(run.code, 0, run.stderr);
  const address = await docker(['inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', 'dweb']);
  t.equal(address.stdout, '10.91.7.20\n', 'the fixed address asked for');
  const port = await docker(['port', 'dweb', '80/tcp']);
  t.match(port.stdout, /^127\.0\.0\.1:\d+\n$/, 'docker port shows the published binding');
  const inUse = await docker(['network', 'rm', 'dnet']);
  t.equal(inUse.code, 1);
  t.match(inUse.stderr, /network dnet has active endpoints \(dweb\)/);
  t.equal((await docker(['rm', '-f', 'dweb'])).code, 0);
  const pruned = await docker(['network', 'prune', '-f']);
  t.match(pruned.stdout, /dinternal/);
  t.match(pruned.stdout, /dnet/);
  t.same((await docker(['network', 'ls', '-q'])).stdout.trim().split('\n').length, 3, 'the three predefined ones stay');
});
