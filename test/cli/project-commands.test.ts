// The container commands in a project, as `docker compose ps/logs/start/...` behave: a private
// engine, two projects in temp directories brought up with `stack up -d`, the real CLI
// in-process. ps (columns, -a, --services, -q, json, --status), logs (one service, all,
// -f picking up a restart), stop/start order, restart, pause/unpause, kill, rm, exec by
// service, events, wait, ls across projects, and bad input: an unknown service (with a
// did-you-mean), -p of a project with no containers, a broken compose.yaml in the folder.
// Both projects are taken down in teardown, and nothing is left.
import t from 'tap';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ContainerInspect, ContainerSummary, NetworkInspect } from '../../src/common/api-types.js';
import { engineSkipReason, makeEngineHarness, type EngineHarness } from '../api/engine-harness.js';
import { runCli, type CliResult } from './run-cli.js';
import { engineWithProject, projectDir } from '../compose/support/project-dir.js';

const skip = engineSkipReason() ?? (existsSync('/usr/sbin/iptables') ? false : 'needs iptables');

const SHOP = `name: shop
services:
  db:
    image: busybox:test
    command: ["sh", "-c", "echo db up; exec sleep 300"]
    init: true
  web:
    image: busybox:test
    command: ["sh", "-c", "echo web up; echo web err >&2; exec sleep 300"]
    init: true
    depends_on: [db]
  job:
    image: busybox:test
    command: ["sh", "-c", "echo job done; exit 3"]
`;

const BLOG = `name: blog
services:
  post:
    image: busybox:test
    command: ["sh", "-c", "echo post up; exec sleep 300"]
    init: true
`;

/** Runs a command that lasts until interrupted; interrupts it once its output satisfies `until` (or after 30 s). */
async function runUntil(h: EngineHarness, cwd: string, args: string[], until: (stdout: string) => boolean, meanwhile: () => Promise<void>): Promise<CliResult & { satisfied: boolean }> {
  const stop = new AbortController();
  let satisfied = false;
  const bound = setTimeout(() => stop.abort(), 30_000);
  const running = runCli(args, {
    cwd, env: h.env, interrupt: stop.signal,
    onStdout: (all) => {
      if (until(all)) {
        satisfied = true;
        stop.abort();
      }
    },
  });
  try {
    await meanwhile();
  } finally {
    const result = await running;
    clearTimeout(bound);
    return { ...result, satisfied };
  }
}

const inspect = (h: EngineHarness, name: string): Promise<ContainerInspect> => h.client.call<ContainerInspect>('GET', `/containers/${name}/json`);

t.test('ps, logs, stop/start, restart, pause, kill, rm, exec, events, wait and ls in projects', { skip, timeout: 240_000 }, async (t) => {
  const h = await makeEngineHarness('projcmd');
  const shop = projectDir(h, 'shop', SHOP);
  const blog = projectDir(h, 'blog', BLOG);
  const broken = mkdtempSync(join(tmpdir(), 'stack-proj-broken-'));
  writeFileSync(join(broken, 'compose.yaml'), 'services: [unclosed\n');
  t.teardown(async () => {
    await shop.stack('down', '-v', '--remove-orphans', '-t', '1').catch(() => undefined);
    await blog.stack('down', '-v', '--remove-orphans', '-t', '1').catch(() => undefined);
    await h.cleanup();
    for (const d of [shop.dir, blog.dir, broken]) rmSync(d, { recursive: true, force: true });
  });

  const up = await shop.stack('up', '-d');
  t.equal(up.code, 0, up.stderr);

  // wait: the one-shot job's exit code, and the command's own.
  const waited = await shop.stack('wait', 'job');
  t.same(waited, { code: 3, stdout: 'shop-job-1 exited with code 3\n', stderr: '' }, 'wait prints the exit code and exits with it');

  // ps
  const ps = await shop.stack('ps');
  t.equal(ps.code, 0, ps.stderr);
  const lines = ps.stdout.trimEnd().split('\n');
  t.match(lines[0], /^NAME\s+IMAGE\s+COMMAND\s+SERVICE\s+CREATED\s+STATUS\s+PORTS$/);
  t.equal(lines.length, 3, 'running containers only');
  t.match(lines[1], /^shop-db-1\s+busybox:test\s+".*"\s+db\s+.* ago\s+Up /);
  t.match(lines[2], /^shop-web-1\s+busybox:test\s+".*"\s+web\s+.* ago\s+Up /);
  t.match((await shop.stack('ps', '-a')).stdout, /shop-job-1\s+busybox:test\s+".*"\s+job\s+.* ago\s+Exited \(3\)/, '-a adds the stopped one');
  t.equal((await shop.stack('ps', '--services')).stdout, 'db\nweb\n');
  t.equal((await shop.stack('ps', '-a', '--services')).stdout, 'db\njob\nweb\n');
  t.equal((await shop.stack('ps', '--status', 'exited', '-q')).stdout, `${(await inspect(h, 'shop-job-1')).Id}\n`, '--status exited -q: the full ID');
  t.equal((await shop.stack('ps', '-q')).stdout.split('\n').filter(Boolean).length, 2);
  const json = (await shop.stack('ps', '--format', 'json', 'web')).stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  t.match(json, [{ Name: 'shop-web-1', Service: 'web', Project: 'shop', State: 'running', Image: 'busybox:test' }], 'json, one service');
  const typo = await shop.stack('ps', 'wbe');
  t.equal(typo.code, 1);
  t.match(typo.stderr, /no service "wbe" in project "shop" \(did you mean "web"\?\)/);
  const logsTypo = await shop.stack('logs', 'wbe');
  t.equal(logsTypo.code, 1);
  t.match(logsTypo.stderr, /no service or container "wbe" in project "shop" \(did you mean "web"\?\); its services: db, job, web/);

  // logs
  t.equal((await shop.stack('logs', 'web')).stdout, 'shop-web-1 | web up\nshop-web-1 | web err\n', 'one service: prefixed as up prefixes them, stderr included');
  const all = await shop.stack('logs');
  t.equal(all.code, 0, all.stderr);
  t.match(all.stdout, /^shop-db-1  \| db up$/m, 'all services, prefixes aligned to the longest name');
  t.match(all.stdout, /^shop-job-1 \| job done$/m);
  t.match(all.stdout, /^shop-web-1 \| web up$/m);
  t.equal((await shop.stack('logs', '--no-log-prefix', '--tail', '1', 'web')).stdout, 'web err\n');
  t.match((await shop.stack('logs', '-t', 'db')).stdout, /^shop-db-1 \| \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z db up\n$/);
  t.same(await shop.stack('logs', '--tail', '1', 'shop-db-1'), { code: 0, stdout: 'db up\n', stderr: '' }, 'a container name: docker-style output');

  // stop and start: dependents stop first, dependencies start first.
  const stop = await shop.stack('stop', '-t', '1');
  t.equal(stop.code, 0, stop.stderr);
  t.ok(stop.stdout.indexOf('Container shop-web-1  Stopped') !== -1 && stop.stdout.indexOf('Container shop-web-1  Stopped') < stop.stdout.indexOf('Container shop-db-1  Stopping'), `web stopped before db began to: ${stop.stdout}`);
  t.equal((await shop.stack('ps')).stdout.trimEnd().split('\n').length, 1, 'nothing runs');
  const start = await shop.stack('start', 'web');
  t.equal(start.code, 0, start.stderr);
  t.ok(start.stdout.indexOf('Container shop-db-1  Started') !== -1 && start.stdout.indexOf('Container shop-db-1  Started') < start.stdout.indexOf('Container shop-web-1  Starting'), `start web starts db first: ${start.stdout}`);
  t.ok(Date.parse((await inspect(h, 'shop-web-1')).State.StartedAt) >= Date.parse((await inspect(h, 'shop-db-1')).State.StartedAt), 'db started no later than web');
  t.notOk(start.stdout.includes('shop-job-1'), 'the job, not named and not a dependency, is left alone');

  // logs -f picks up the restarted container; restart goes through start events.
  const before = (await inspect(h, 'shop-web-1')).State.StartedAt;
  const followed = await runUntil(h, shop.dir, ['logs', '-f', 'web'], (out) => out.split('web up').length - 1 >= 3, async () => {
    const restart = await shop.stack('restart', '-t', '1', 'web');
    t.equal(restart.code, 0, restart.stderr);
    t.match(restart.stdout, 'Container shop-web-1  Restarted');
  });
  t.ok(followed.satisfied, `logs -f printed the restarted container's new output: ${followed.stdout}`);
  t.equal(followed.code, 0, followed.stderr);
  t.equal(followed.stdout.split('shop-web-1 | web up').length - 1, 3, 'each start\'s line once: two runs before, one after the restart');
  t.not((await inspect(h, 'shop-web-1')).State.StartedAt, before, 'web was restarted');

  // pause and unpause, seen in the events too (replayed from a time before them).
  const since = String(Date.now() / 1000 - 0.5);
  const paused = await shop.stack('pause', 'web');
  t.equal(paused.code, 0, paused.stderr);
  t.match(paused.stdout, 'Container shop-web-1  Paused');
  const state = (await inspect(h, 'shop-web-1')).State;
  t.match(state, { Status: 'paused', Paused: true, Running: true });
  t.match((await shop.stack('ps', 'web')).stdout, /Up .* \(Paused\)/);
  const execPaused = await shop.stack('exec', 'web', 'true');
  t.equal(execPaused.code, 1);
  t.match(execPaused.stderr, /shop-web-1 of service web is not running \(it is paused\): "stack unpause web" resumes it/);
  t.match((await shop.stack('unpause')).stdout, 'Container shop-web-1  Unpaused');
  t.equal((await inspect(h, 'shop-web-1')).State.Status, 'running');
  const events = await runUntil(h, shop.dir, ['events', '--since', since, 'web'], (out) => out.includes(' unpause '), async () => undefined);
  t.ok(events.satisfied, events.stdout + events.stderr);
  const webId = (await inspect(h, 'shop-web-1')).Id;
  t.match(events.stdout, new RegExp(`^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{6} container pause ${webId} \\(image=busybox:test, name=shop-web-1, service=web\\)$`, 'm'));
  t.notOk(events.stdout.includes('shop-db-1'), 'only the service asked for');
  const jsonEvents = await runUntil(h, shop.dir, ['events', '--json', '--since', since], (out) => out.includes('"unpause"'), async () => undefined);
  t.match(JSON.parse(jsonEvents.stdout.split('\n').find((l) => l.includes('"pause"'))!), { type: 'container', action: 'pause', id: webId, service: 'web', attributes: { name: 'shop-web-1' } });

  // exec by service name, and by container name.
  t.same(await shop.stack('exec', 'web', 'sh', '-c', 'echo $HOSTNAME'), { code: 0, stdout: `${(await inspect(h, 'shop-web-1')).Config.Hostname}\n`, stderr: '' });
  t.same(await shop.stack('exec', 'shop-db-1', 'echo', 'hi'), { code: 0, stdout: 'hi\n', stderr: '' });
  const noReplica = await shop.stack('exec', '--index', '2', 'web', 'true');
  t.equal(noReplica.code, 1);
  t.match(noReplica.stderr, /service "web" has no replica 2/);

  // kill and rm: a killed container is stopped; rm -f removes stopped service containers only.
  const kill = await shop.stack('kill', '-s', 'KILL', 'web');
  t.equal(kill.code, 0, kill.stderr);
  t.match(kill.stdout, 'Container shop-web-1  Killed');
  await shop.stack('wait', 'web');
  t.equal((await inspect(h, 'shop-web-1')).State.ExitCode, 137);
  const rm = await shop.stack('rm', '-f');
  t.equal(rm.code, 0, rm.stderr);
  t.match(rm.stdout, 'Container shop-web-1  Removed');
  t.match(rm.stdout, 'Container shop-job-1  Removed');
  t.notOk(rm.stdout.includes('shop-db-1'), 'the running db stays');
  t.equal((await shop.stack('ps', '-a', '--services')).stdout, 'db\n');
  const none = await shop.stack('start', 'web');
  t.equal(none.code, 1);
  t.match(none.stderr, /service "web" of project "shop" has no containers: "stack up web" creates them/);

  // Bad names.
  const unknown = await shop.stack('stop', 'wbe');
  t.equal(unknown.code, 1);
  t.match(unknown.stderr, /no service or container "wbe" in project "shop" \(did you mean "web"\?\)/);
  const ghost = await runCli(['-p', 'ghost', 'stop'], { cwd: h.paths.root, env: h.env });
  t.equal(ghost.code, 1);
  t.match(ghost.stderr, /project "ghost" has no containers \(and no stack file names it here\)/);
  t.equal((await runCli(['-p', 'ghost', 'ps'], { cwd: h.paths.root, env: h.env })).stdout, 'NAME   IMAGE   COMMAND   SERVICE   CREATED   STATUS   PORTS\n', '-p of an empty project: an empty list');
  t.match((await runCli(['-p', 'shop', 'ps'], { cwd: h.paths.root, env: h.env })).stdout, /shop-db-1\s+busybox:test/, '-p alone works from labels');

  // A broken compose.yaml in the folder does not stop container-style use.
  const brokenPs = await runCli(['ps'], { cwd: broken, env: h.env });
  t.equal(brokenPs.code, 0, brokenPs.stderr);
  t.match(brokenPs.stdout, /^CONTAINER ID\s+IMAGE/, 'docker-style listing');
  t.match(brokenPs.stderr, /warning: .*compose\.yaml does not load .*"stack config" shows every problem/);
  t.equal((await runCli(['logs', 'shop-db-1'], { cwd: broken, env: h.env })).stdout, 'db up\n'.repeat(3), 'logs CONTAINER works there (db ran three times: up, start web, restart web)');
  const noNames = await runCli(['stop'], { cwd: broken, env: h.env });
  t.equal(noNames.code, 2);
  t.match(noNames.stderr, /error: stop without container names acts on the project's services: no project here \(no stack file that loads in this directory or above it\); name one with -f FILE or -p NAME/);
  const brokenNamed = await runCli(['-f', 'compose.yaml', 'ps'], { cwd: broken, env: h.env });
  t.equal(brokenNamed.code, 15, 'a file named with -f must load');

  // ls across two projects.
  t.equal((await blog.stack('up', '-d')).code, 0);
  const ls = await shop.stack('ls');
  t.match(ls.stdout, /^NAME\s+STATUS\s+CONFIG FILES\nblog\s+running\(1\)\s+\S+compose\.yaml\nshop\s+running\(1\)\s+\S+compose\.yaml\n$/);
  t.equal((await shop.stack('ls', '-q', '--filter', 'name=blo')).stdout, 'blog\n');

  // logs -f picks up a container that did not exist when it began.
  const scaled = await runUntil(h, blog.dir, ['logs', '-f'], (out) => /^blog-post-2 \| post up$/m.test(out), async () => {
    const more = await blog.stack('up', '-d', '--scale', 'post=2');
    t.equal(more.code, 0, more.stderr);
  });
  t.ok(scaled.satisfied, `logs -f printed the new replica's output: ${scaled.stdout}${scaled.stderr}`);
  t.match(scaled.stdout, /^blog-post-1 \| post up$/m);
  t.equal((await blog.stack('stop', '-t', '1')).code, 0);
  t.equal((await shop.stack('ls', '-q')).stdout, 'shop\n', 'a stopped project only with -a');
  const lsJson = JSON.parse((await shop.stack('ls', '-a', '--format', 'json')).stdout) as Array<{ Name: string; Status: string; ConfigFiles: string }>;
  t.same(lsJson.map((p) => [p.Name, p.Status]), [['blog', 'exited(2)'], ['shop', 'running(1)']]);
  t.equal(lsJson[0]!.ConfigFiles, join(blog.dir, 'compose.yaml'));

  // wait --down-project: the exit code, then the project is gone.
  const waitDown = await blog.stack('wait', '--down-project', 'post');
  t.match(waitDown.stdout, /^blog-post-1 exited with code (137|143)\nblog-post-2 exited with code (137|143)\n/);
  t.match(waitDown.stdout, ' ✔ Container blog-post-2  Removed', 'then the project goes down');
  t.equal(waitDown.code, Number(/code (\d+)/.exec(waitDown.stdout)![1]));
  t.same(await h.client.call<ContainerSummary[]>('GET', '/containers/json', { query: { all: 1, filters: JSON.stringify({ label: ['com.docker.compose.project=blog'] }) } }), [], 'blog is down');

  // rm -s: a paused container is thawed to be stopped (frozen tasks do not die of a signal), then removed.
  t.equal((await shop.stack('pause', 'db')).code, 0);
  const rmStop = await shop.stack('rm', '-s', '-f', '-v', '-t', '1', 'db');
  t.equal(rmStop.code, 0, rmStop.stderr);
  t.match(rmStop.stdout, /Container shop-db-1  Stopped\n[^]* ✔ Container shop-db-1  Removed/);
  t.equal((await shop.stack('ps', '-a', '-q')).stdout, '', 'shop has no containers left');
  const down = await shop.stack('down', '-v', '-t', '1');
  t.equal(down.code, 0, down.stderr);
  t.same((await h.client.call<ContainerSummary[]>('GET', '/containers/json', { query: { all: 1 } })).map((c) => c.Names[0]), [], 'no containers left');
  t.same((await h.client.call<NetworkInspect[]>('GET', '/networks')).map((n) => n.Name).sort(), ['bridge', 'host', 'none'], 'no networks left');
  const netns = join(h.paths.runRoot, 'netns');
  t.same(existsSync(netns) ? readdirSync(netns) : [], [], 'no network namespace files left');
});

t.test('port and top: a service\'s published port and processes in a project, a container\'s anywhere', { skip, timeout: 120_000 }, async (t) => {
  const { h, p } = await engineWithProject(t, 'port-top', `name: pt
services:
  web:
    image: busybox:test
    command: ["httpd", "-f", "-p", "80"]
    ports: ["127.0.0.1::80", "127.0.0.1::81/udp"]
    deploy: { replicas: 2 }
  db:
    image: busybox:test
    command: ["sleep", "300"]
    init: true
`);
  const up = await p.stack('up', '-d');
  t.equal(up.code, 0, up.stderr);
  const port = await p.stack('port', 'web', '80');
  t.match(port, { code: 0, stdout: /^127\.0\.0\.1:\d+\n$/ }, 'a service\'s port: its host address');
  const second = await p.stack('port', '--index', '2', 'web', '80');
  t.match(second.stdout, /^127\.0\.0\.1:\d+\n$/);
  t.not(second.stdout, port.stdout, 'replica 2 has its own host port');
  t.match((await p.stack('port', '--protocol', 'udp', 'web', '81')).stdout, /^127\.0\.0\.1:\d+\n$/);
  const all = await p.stack('port', 'pt-web-1');
  t.match(all.stdout, /^80\/tcp -> 127\.0\.0\.1:\d+\n81\/udp -> 127\.0\.0\.1:\d+\n$/, 'a container: every mapping');
  for (const [argv, message] of [
    [['port', 'web'], 'name the port inside'],
    [['port', 'web', '8080'], 'no public port 8080/tcp published for pt-web-1'],
    [['port', 'web', 'http'], '"http" is not a port like 80 or 53/udp'],
    [['port', '--index', '3', 'web', '80'], 'service "web" has no replica 3'],
    [['port', 'nosuch', '80'], 'no service or container "nosuch" in project "pt"'],
  ] as const) {
    const bad = await p.stack(...argv);
    t.not(bad.code, 0, argv.join(' '));
    t.match(bad.stderr, message);
  }

  const top = await p.stack('top');
  t.equal(top.code, 0, top.stderr);
  t.match(top.stdout, /^pt-db-1\nUID +PID +PPID .*\n.*sleep 300\n\npt-web-1\n.*httpd -f -p 80\n\npt-web-2\n.*httpd/s, 'each container\'s processes under its name');
  const one = await p.stack('top', 'db');
  t.match(one.stdout, /^pt-db-1\n/);
  t.notMatch(one.stdout, 'httpd');
  t.match((await p.stack('top', 'pt-web-2')).stdout, /^UID .*httpd/s, 'a container name: its table alone');
  t.match((await p.stack('top', 'nosuch')).stderr, 'no service or container "nosuch" in project "pt"');
  t.match((await runCli(['top'], { cwd: h.paths.root, env: h.env })).stderr, '"stack top" needs a container, or a project');
});
