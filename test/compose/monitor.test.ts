// The project monitor: its pure parts (which engine events matter, ports, states, stats),
// then against a private engine: container states from engine events (health, restarts,
// exit codes, removal), the logs of every container across restart, stop/start and
// recreation with no line repeated or lost (compared with the engine's own log), stats
// samples of running containers, and a clean stop on abort.
import t from 'tap';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { streamLogs } from '../../src/client/log-stream.js';
import type { ContainerInspect, ContainerSummary, EngineEvent } from '../../src/common/api-types.js';
import type { ComposeEvent } from '../../src/compose/events.js';
import { containerStateOf, effectOf, isMonitored, ProjectMonitor, publishedPorts, statsOf } from '../../src/compose/monitor.js';
import { engineSkipReason, makeEngineHarness } from '../api/engine-harness.js';
import { runCli } from '../cli/run-cli.js';

const skip = engineSkipReason() ?? (existsSync('/usr/sbin/iptables') ? false : 'needs iptables');

const event = (action: string, attributes: Record<string, string> = {}, type: EngineEvent['Type'] = 'container'): EngineEvent =>
  ({ Type: type, Action: action, Actor: { ID: 'abc', Attributes: attributes }, scope: 'local', time: 0, timeNano: 0 });

t.test('pure parts: event effects, membership, ports, states, stats', async (t) => {
  t.equal(effectOf(event('start')), 'inspect');
  t.equal(effectOf(event('health_status: healthy')), 'inspect');
  t.equal(effectOf(event('destroy')), 'removed');
  t.equal(effectOf(event('exec_start: sh')), 'ignore', 'health probes as exec events would inspect once a probe');
  t.equal(effectOf(event('create', {}, 'network')), 'ignore');
  const labels = { 'com.docker.compose.project': 'shop', 'com.docker.compose.service': 'web' };
  t.ok(isMonitored(labels, 'shop', undefined));
  t.ok(isMonitored(labels, 'shop', []));
  t.ok(isMonitored(labels, 'shop', ['db', 'web']));
  t.notOk(isMonitored(labels, 'shop', ['db']), 'another service');
  t.notOk(isMonitored(labels, 'other', undefined), 'another project');
  t.notOk(isMonitored({ ...labels, 'com.docker.compose.oneoff': 'True' }, 'shop', undefined), 'a one-off run container');
  t.same(publishedPorts({ '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '8080' }, { HostIp: '::', HostPort: '8080' }], '53/udp': [{ HostIp: '127.0.0.1', HostPort: '5353' }], '9000/tcp': null }),
    ['127.0.0.1:5353->53/udp', '8080->80/tcp']);
  const inspect = {
    Id: 'abc', Name: '/shop-web-1', RestartCount: 2,
    State: { Status: 'exited', Running: false, Paused: false, Restarting: false, OOMKilled: false, Dead: false, Pid: 0, ExitCode: 3, Error: '', StartedAt: '2026-01-01T00:00:00Z', FinishedAt: '2026-01-01T00:01:00Z', Health: { Status: 'unhealthy', FailingStreak: 3, Log: [] } },
    Config: { Labels: labels }, NetworkSettings: { Ports: {} },
  } as unknown as ContainerInspect;
  t.same(containerStateOf(inspect, 1), { type: 'container-state', id: 'abc', service: 'web', container: 'shop-web-1', state: 'exited', health: 'unhealthy', restarts: 3, exitCode: 3, startedAt: '2026-01-01T00:00:00Z', ports: [] });
  const created = { ...inspect, State: { ...inspect.State, Status: 'created', StartedAt: '0001-01-01T00:00:00Z', Health: undefined } } as unknown as ContainerInspect;
  t.same(containerStateOf(created, 0), { type: 'container-state', id: 'abc', service: 'web', container: 'shop-web-1', state: 'created', restarts: 2, ports: [] });
  const usage = (total: number, system: number) => ({ cpu_usage: { total_usage: total, usage_in_kernelmode: 0, usage_in_usermode: 0 }, system_cpu_usage: system, online_cpus: 2, throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 } });
  t.same(statsOf('abc', 'web', 'shop-web-1', { cpu_stats: usage(150, 2000), precpu_stats: usage(100, 1000), memory_stats: { usage: 5000, stats: { total_inactive_file: 1000 } } }),
    { type: 'stats', id: 'abc', service: 'web', container: 'shop-web-1', cpuPercent: 10, memoryBytes: 4000 });
});

const COMPOSE = `name: mon
services:
  db:
    image: busybox:test
    command: ["sh", "-c", "touch /tmp/ready; exec sleep 3600"]
    init: true
    healthcheck:
      test: ["CMD", "test", "-f", "/tmp/ready"]
      interval: 250ms
  counter:
    image: busybox:test
    init: true
    command: ["sh", "-c", "n=$$(cat /n 2>/dev/null || echo 0); while true; do n=$$((n+1)); echo $$n > /n; echo line $$n; sleep 0.05; done"]
`;

t.test('against an engine: states, logs across restarts and recreation, stats, abort', { skip, timeout: 180_000 }, async (t) => {
  const h = await makeEngineHarness('monitor');
  const dir = mkdtempSync(join(tmpdir(), 'stack-monitor-'));
  const stack = (...args: string[]) => runCli(args, { cwd: dir, env: h.env });
  const abort = new AbortController();
  t.teardown(async () => {
    abort.abort();
    await stack('down', '-t', '1').catch(() => undefined);
    await h.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });
  writeFileSync(join(dir, 'compose.yaml'), COMPOSE);

  const events: ComposeEvent[] = [];
  const monitor = new ProjectMonitor(h.client, { project: 'mon', emit: (e) => events.push(e), signal: abort.signal, statsIntervalMs: 300 });
  const running = monitor.run();
  const until = async (what: string, check: () => boolean): Promise<void> => {
    for (const deadline = Date.now() + 30_000; !check() && Date.now() < deadline;) await sleep(50);
    t.ok(check(), what);
  };
  const states = (service: string) => events.filter((e): e is Extract<ComposeEvent, { type: 'container-state' }> => e.type === 'container-state' && e.service === service);
  const lines = () => events.filter((e): e is Extract<ComposeEvent, { type: 'log' }> => e.type === 'log' && e.service === 'counter').map((e) => e.text.trim());
  const engineLines = async (id: string): Promise<string[]> => {
    const out: string[] = [];
    await streamLogs(h.client, id, { follow: false }, (l) => out.push(l.text.trim()));
    return out;
  };

  const up = await stack('up', '-d');
  t.equal(up.code, 0, up.stderr);
  await until('db is seen healthy, from its health event', () => states('db').some((s) => s.state === 'running' && s.health === 'healthy'));
  await until('counter is seen running', () => states('counter').some((s) => s.state === 'running'));
  await until('counter logs are followed', () => lines().length >= 5);
  const counter = (await h.client.call<ContainerInspect>('GET', '/containers/mon-counter-1/json')).Id;

  await h.client.call('POST', `/containers/${counter}/restart`, { query: { t: 1 } });
  await until('a restart counts', () => states('counter').some((s) => s.state === 'running' && s.restarts === 1));
  const afterRestart = lines().length;
  await until('logs keep coming after the restart', () => lines().length >= afterRestart + 5);

  await h.client.call('POST', `/containers/${counter}/stop`, { query: { t: 1 } });
  await until('the stop is seen with its exit code', () => states('counter').some((s) => s.state === 'exited' && s.exitCode !== undefined));
  await h.client.call('POST', `/containers/${counter}/start`);
  const afterStart = lines().length;
  await until('logs keep coming after stop and start', () => lines().length >= afterStart + 5);
  await h.client.call('POST', `/containers/${counter}/stop`, { query: { t: 1 } });
  const expected = await engineLines(counter);
  await until('every line the engine logged arrived', () => lines().length >= expected.length);
  t.same(lines(), expected, 'across a restart and a stop/start: the engine\'s log exactly, nothing repeated, nothing lost');
  t.ok(new Set(expected).size === expected.length && expected.length > 15, `${expected.length} distinct lines`);

  await until('a stats sample of the running db', () => events.some((e) => e.type === 'stats' && e.service === 'db' && e.memoryBytes > 0));
  const stoppedAt = events.lastIndexOf(states('counter').filter((s) => s.state === 'exited').at(-1)!);
  t.notOk(events.slice(stoppedAt).some((e) => e.type === 'stats' && e.service === 'counter'), 'no samples of the stopped counter');

  const before = lines().length;
  const recreate = await stack('up', '-d', '--force-recreate', 'counter', '--no-deps');
  t.equal(recreate.code, 0, recreate.stderr);
  const fresh = (await h.client.call<ContainerSummary[]>('GET', '/containers/json', { query: { all: 1 } })).find((c) => c.Names[0] === '/mon-counter-1')!.Id;
  t.not(fresh, counter, 'a new container');
  await until('the old container is seen removed', () => states('counter').some((s) => s.id === counter && s.state === 'removed'));
  await until('the new one is followed', () => states('counter').some((s) => s.id === fresh && s.state === 'running') && lines().length >= before + 5);

  abort.abort();
  await running;
  t.pass('run() ends on abort');
  const count = events.length;
  await sleep(500);
  t.equal(events.length, count, 'nothing more is emitted after the abort');
});
