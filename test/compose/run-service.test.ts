// `stack run SERVICE` end to end on a private engine with the busybox image: the one-off's
// output and exit code, its dependencies started and healthy first (or not, with --no-deps),
// --rm, -e, ports published only with --service-ports, `links:` resolved from the linking
// container, `up` after a run, `down` leaving one-offs unless --remove-orphans, the image
// case inside a project folder, and bad input. Every test takes its project down and checks
// nothing is left behind.
import t from 'tap';
import { existsSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import type { ContainerInspect, ContainerSummary } from '../../src/common/api-types.js';
import { engineSkipReason, makeEngineHarness, type EngineHarness } from '../api/engine-harness.js';
import type { CliResult } from '../cli/run-cli.js';
import { assertProjectGone, projectDir } from './support/project-dir.js';
import { freePort } from '../api/free-port.js';

const skip = engineSkipReason() ?? (existsSync('/usr/sbin/iptables') ? false : 'needs iptables');

const STACK = (port: number) => `name: rs
services:
  db:
    image: busybox:test
    command: ["sh", "-c", "sleep 1; touch /tmp/ready; exec httpd -f -p 5432 -h /etc"]
    init: true
    healthcheck:
      test: ["CMD", "test", "-f", "/tmp/ready"]
      interval: 250ms
      retries: 40
  web:
    image: busybox:test
    command: ["httpd", "-f", "-p", "80", "-h", "/etc"]
    init: true
    restart: always
    depends_on:
      db: { condition: service_healthy }
    links: ["db:database"]
    environment: { GREETING: hello }
    ports: ["127.0.0.1:${port}:80"]
`;

/** db's page, fetched by the link alias "database" (an /etc/hosts line the engine writes at start). */
const VIA_LINK = 'timeout 5 wget -q -O - http://database:5432/hostname';

async function containers(h: EngineHarness): Promise<ContainerSummary[]> {
  return (await h.client.call<ContainerSummary[]>('GET', '/containers/json', { query: { all: 1 } })).sort((a, b) => (a.Names[0]! < b.Names[0]! ? -1 : 1));
}

const names = async (h: EngineHarness): Promise<string[]> => (await containers(h)).map((c) => c.Names[0]!.slice(1));
const oneOffs = async (h: EngineHarness): Promise<ContainerSummary[]> => (await containers(h)).filter((c) => c.Labels['com.docker.compose.oneoff'] === 'True');

/** One TCP connect to 127.0.0.1:port: true when something accepts it. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, timeout: 3000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

t.test('stack run SERVICE: deps, exit code, --rm, -e, links, ports, up and down around one-offs', { skip, timeout: 240_000 }, async (t) => {
  const h = await makeEngineHarness('run-service');
  const port = await freePort();
  const p = projectDir(h, 'run-service', STACK(port));
  t.teardown(async () => {
    await p.stack('down', '-v', '--remove-orphans', '-t', '1').catch(() => undefined);
    await h.cleanup();
    rmSync(p.dir, { recursive: true, force: true });
  });

  const solo = await p.stack('run', '--rm', '--no-deps', 'web', 'echo', 'hi');
  t.equal(solo.code, 0, solo.stderr);
  t.equal(solo.stdout, 'hi\n', 'the command\'s output alone on stdout');
  t.same(await names(h), [], '--no-deps started no dependency, and --rm left no container');

  const linked = await p.stack('run', '--rm', 'web', 'sh', '-c', `${VIA_LINK} && exit 3`);
  t.equal(linked.code, 3, `the command's exit code passes through: ${linked.stderr}`);
  const db = await h.client.call<ContainerInspect>('GET', '/containers/rs-db-1/json');
  t.equal(db.State.Health?.Status, 'healthy', 'the dependency was started and is healthy');
  t.equal(linked.stdout.trim(), db.Config.Hostname, 'the link alias "database" reaches db, which served only once healthy');
  t.match(linked.stderr, 'Container rs-db-1  Healthy', 'dependency progress goes to stderr');
  t.same(await names(h), ['rs-db-1'], '--rm left only the dependency');

  const kept = await p.stack('run', '-e', 'GREETING=hey', '-l', 'purpose=test', 'web', 'sh', '-c', 'echo "$GREETING"');
  t.equal(kept.code, 0, kept.stderr);
  t.equal(kept.stdout, 'hey\n', '-e overrides the service\'s environment');
  const [oneOff] = await oneOffs(h);
  t.ok(oneOff, 'without --rm the one-off stays');
  const name = oneOff!.Names[0]!.slice(1);
  t.match(name, /^rs-web-run-[0-9a-f]{12}$/, 'named <project>-<service>-run-<12 hex>');
  t.match(oneOff!.Labels, { 'com.docker.compose.project': 'rs', 'com.docker.compose.service': 'web', 'com.docker.compose.oneoff': 'True', purpose: 'test' });
  const info = await h.client.call<ContainerInspect>('GET', `/containers/${oneOff!.Id}/json`);
  t.equal(info.HostConfig.RestartPolicy?.Name, 'no', 'no restart policy');
  t.same(Object.keys(info.HostConfig.PortBindings ?? {}), [], 'no ports published without --service-ports');
  t.same(Object.values(info.NetworkSettings.Networks).map((n) => n.Aliases), [[name]], 'only its own name on the network, not the service\'s');

  const detached = await p.stack('run', '-d', '--service-ports', 'web');
  t.equal(detached.code, 0, detached.stderr);
  const served = detached.stdout.trim();
  t.match(served, /^[0-9a-f]{64}$/, '-d prints the ID');
  t.ok(await accepts(port), `--service-ports publishes the service's port ${port} on 127.0.0.1`);
  await h.client.call('DELETE', `/containers/${served}`, { query: { force: 1 } });
  t.notOk(await accepts(port), 'and nothing listens there without it');

  const up = await p.stack('up', '-d');
  t.equal(up.code, 0, up.stderr);
  t.notMatch(up.stdout + up.stderr, name, 'up says nothing of the one-off');
  t.notMatch(up.stderr, 'orphan', '... nor calls it an orphan');
  t.same(await names(h), ['rs-db-1', 'rs-web-1', name].sort(), 'up made web-1 beside the one-off, not counting it as a replica');
  const viaLink = await p.stack('exec', 'rs-web-1', 'sh', '-c', VIA_LINK);
  t.equal(viaLink.stdout.trim(), db.Config.Hostname, `up's container reaches db by the link alias too: ${viaLink.stderr}`);
  const dbAddress = (await h.client.call<ContainerInspect>('GET', '/containers/rs-db-1/json')).NetworkSettings.Networks['rs_default']?.IPAddress;
  const answered = (r: CliResult): string[] => [...r.stdout.matchAll(/^Address: *(\d+\.\d+\.\d+\.\d+)$/gm)].map((m) => m[1]!);
  const byDns = await p.stack('exec', 'rs-web-1', 'nslookup', 'database');
  t.same(answered(byDns), [dbAddress], `the engine's DNS answers the link alias for the linking container: ${byDns.stdout}`);
  const elsewhere = await p.stack('exec', 'rs-db-1', 'nslookup', 'database');
  t.same(answered(elsewhere), [], 'and for no other container');
  const again = await p.stack('up', '-d');
  t.match(again.stdout, 'Container rs-web-1  Running', 'a second up leaves web-1 as it is');

  const down = await p.stack('down', '-t', '1');
  t.equal(down.code, 0, down.stderr);
  t.same(await names(h), [name], 'down without --remove-orphans leaves the one-off, as Compose does');
  t.match(down.stderr, `one-off containers of "stack run" are left, and the networks they use: ${name}; remove them with --remove-orphans`);
  await assertProjectGone(t, h, p);
});

t.test('stack run inside a project folder: images, typos and options that do not fit', { skip, timeout: 120_000 }, async (t) => {
  const h = await makeEngineHarness('run-service-image');
  const p = projectDir(h, 'run-service', STACK(await freePort()));
  t.teardown(async () => {
    await p.stack('down', '-v', '--remove-orphans', '-t', '1').catch(() => undefined);
    await h.cleanup();
    rmSync(p.dir, { recursive: true, force: true });
  });

  const image = await p.stack('run', '--rm', 'busybox:test', 'echo', 'x');
  t.equal(image.code, 0, image.stderr);
  t.equal(image.stdout, 'x\n', 'a name that is not a service runs as an image');

  const typo = await p.stack('run', 'wbe', 'echo', 'x');
  t.equal(typo.code, 1);
  t.match(typo.stderr, 'error: no such service or image: "wbe"; did you mean the service "web"? (the services are db, web)');
  t.notMatch(typo.stderr, 'Unable to find image', 'nothing is pulled for a typo');

  const imageOnly = await p.stack('run', '--restart', 'always', 'web', 'true');
  t.equal(imageOnly.code, 2);
  t.match(imageOnly.stderr, 'error: --restart: not an option of a service\'s one-off ("web" is a service of');

  const both = await p.stack('run', '--service-ports', '-p', '8080:80', 'web', 'true');
  t.equal(both.code, 2);
  t.match(both.stderr, 'error: --service-ports and -p cannot be used together');

  const serviceOnly = await p.stack('run', '--no-deps', 'busybox:test', 'true');
  t.equal(serviceOnly.code, 2);
  t.match(serviceOnly.stderr, 'error: --no-deps: only for a service of the stack file, and "busybox:test" is not one here');

  const badPort = await p.stack('run', '--no-deps', '-p', 'eighty', 'web', 'true');
  t.equal(badPort.code, 2);
  t.match(badPort.stderr, 'error: -p eighty:');

  const interactive = await p.stack('run', '-i', '--no-deps', 'web', 'cat');
  t.equal(interactive.code, 2);
  t.match(interactive.stderr, 'error: -i: stdin is not relayed to containers yet');

  const overridden = await p.stack('-f', join(p.dir, 'compose.yaml'), 'run', '--rm', '--no-deps', '-T', '--entrypoint', 'sh -c', '-w', '/tmp', '-u', '1:1', 'web', 'pwd; id -u');
  t.equal(overridden.code, 0, overridden.stderr);
  t.equal(overridden.stdout, '/tmp\n1\n', '--entrypoint (split as a shell would), -w and -u replace the service\'s');

  const help = await p.stack('run', '--help');
  t.match(help.stdout, 'The first word is a SERVICE when a stack file is in context', 'the help says which word is a service');

  t.same(await names(h), [], 'bad input made no container');
  await assertProjectGone(t, h, p);
});
