// The engine with real containers: a detached container outlives the engine being
// SIGKILLed and restarted (logs keep flowing, `logs -f` follows across the restart),
// restart policies with backoff, health checks, and a SIGKILL in the middle of starting
// containers leaving consistent state.
import t from 'tap';
import { readdirSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { streamLogs } from '../../src/client/log-stream.js';
import type { ContainerInspect } from '../../src/common/api-types.js';
import { BUSYBOX_IMAGE, engineSkipReason, makeEngineHarness, type EngineHarness } from '../api/engine-harness.js';
import { runCli } from '../cli/run-cli.js';

const skip = engineSkipReason() ?? false;

async function inspect(h: EngineHarness, id: string): Promise<ContainerInspect> {
  return h.client.call<ContainerInspect>('GET', `/containers/${id}/json`);
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

async function create(h: EngineHarness, name: string, body: Record<string, unknown>): Promise<string> {
  const { Id } = await h.client.call<{ Id: string }>('POST', '/containers/create', { query: { name }, body: { Image: BUSYBOX_IMAGE, ...body } });
  await h.client.call('POST', `/containers/${Id}/start`);
  return Id;
}

t.test('a detached container outlives an engine killed with SIGKILL; logs -f follows across the restart', { skip }, async (t) => {
  const h = await makeEngineHarness('survive', { inProcess: false });
  t.teardown(() => h.cleanup());
  const engine = await h.startProcess();
  const run = await runCli(['run', '-d', '--name', 'ticker', BUSYBOX_IMAGE, 'sh', '-c', 'i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.2; done'], { cwd: h.paths.root, env: h.env });
  t.equal(run.code, 0, run.stderr);
  const id = run.stdout.trim();
  const before = await inspect(h, id);
  t.equal(before.State.Status, 'running');

  const seen: string[] = [];
  const following = streamLogs(h.client, 'ticker', { follow: true, reconnectMs: 20_000 }, (line) => seen.push(line.text));
  await until('two ticks', async () => (seen.length >= 2 ? true : undefined));
  engine.kill('SIGKILL');
  await new Promise((r) => engine.once('exit', r));
  t.notOk(await h.client.ping(), 'the engine is gone');
  await sleep(600);
  await h.startProcess();
  const after = await inspect(h, id);
  t.equal(after.State.Status, 'running', 'still running after the engine restart');
  t.equal(after.State.Pid, before.State.Pid, 'the same process');
  const countAtRestart = seen.length;
  await until('ticks after the restart', async () => (seen.length >= countAtRestart + 3 ? true : undefined));
  const numbers = seen.map((l) => Number(/tick (\d+)/.exec(l)?.[1]));
  t.same(numbers, numbers.map((_, i) => i), 'logs -f saw every line once, in order, across the restart');

  const stop = await runCli(['stop', '-t', '1', 'ticker'], { cwd: h.paths.root, env: h.env });
  t.equal(stop.code, 0, stop.stderr);
  await following;
  t.equal((await inspect(h, id)).State.Status, 'exited');
});

t.test('a paused container stays paused across an engine restart, then unpauses and stops', { skip }, async (t) => {
  const h = await makeEngineHarness('paused', { inProcess: false });
  t.teardown(() => h.cleanup());
  const engine = await h.startProcess();
  const cli = (...argv: string[]) => runCli(argv, { cwd: h.paths.root, env: h.env });
  t.equal((await cli('run', '-d', '--name', 'frozen', BUSYBOX_IMAGE, 'sleep', '300')).code, 0);
  t.same(await cli('pause', 'frozen'), { code: 0, stdout: 'frozen\n', stderr: '' });
  engine.kill('SIGKILL');
  await new Promise((r) => engine.once('exit', r));
  await h.startProcess();
  t.match((await inspect(h, 'frozen')).State, { Status: 'paused', Paused: true, Running: true }, 'still paused: its processes are still frozen');
  t.same(await cli('unpause', 'frozen'), { code: 0, stdout: 'frozen\n', stderr: '' });
  t.same(await cli('exec', 'frozen', 'echo', 'thawed'), { code: 0, stdout: 'thawed\n', stderr: '' });
  t.same(await cli('pause', 'frozen'), { code: 0, stdout: 'frozen\n', stderr: '' });
  t.same(await cli('rm', '-f', 'frozen'), { code: 0, stdout: 'frozen\n', stderr: '' }, 'a paused container is thawed to be killed and removed');
  t.equal((await cli('ps', '-a', '-q')).stdout, '', 'nothing is left');
});

t.test('restart policies: on-failure:3 gives up after three restarts, with growing delays', { skip }, async (t) => {
  const h = await makeEngineHarness('restart');
  t.teardown(() => h.cleanup());
  const id = await create(h, 'crasher', { Cmd: ['sh', '-c', 'cut -d" " -f1 /proc/uptime; exit 3'], HostConfig: { RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 3 } } });
  const final = await until('the last exit', async () => {
    const c = await inspect(h, id);
    return c.RestartCount === 3 && c.State.Status === 'exited' ? c : undefined;
  });
  t.equal(final.State.ExitCode, 3);
  await sleep(500);
  t.equal((await inspect(h, id)).RestartCount, 3, 'no fourth restart');
  const logs = await runCli(['logs', 'crasher'], { cwd: h.paths.root, env: h.env });
  const starts = logs.stdout.trim().split('\n').map((l) => Math.round(Number(l) * 1000));
  t.equal(starts.length, 4, 'one run and three restarts, all in one log');
  const gaps = starts.slice(1).map((s, i) => s - starts[i]!);
  t.ok(gaps[0]! >= 90 && gaps[1]! >= 190 && gaps[2]! >= 390, `the backoff doubles: ${gaps.join(', ')} ms`);

  const always = await create(h, 'always', { Cmd: ['sh', '-c', 'exit 0'], HostConfig: { RestartPolicy: { Name: 'always' } } });
  await until('two restarts', async () => ((await inspect(h, always)).RestartCount >= 2 ? true : undefined));
  const stopped = await runCli(['stop', 'always'], { cwd: h.paths.root, env: h.env });
  t.equal(stopped.code, 0, stopped.stderr);
  const count = (await inspect(h, always)).RestartCount;
  await sleep(1000);
  const after = await inspect(h, always);
  t.equal(after.State.Status, 'exited', 'a user stop is not undone by the policy');
  t.equal(after.RestartCount, count);
});

t.test('health checks: a server that becomes healthy, one that never does', { skip }, async (t) => {
  const h = await makeEngineHarness('health');
  t.teardown(() => h.cleanup());
  const ms = 1_000_000;
  const healthy = await create(h, 'becomes-healthy', {
    Cmd: ['sh', '-c', 'sleep 1; touch /tmp/ready; exec sleep 60'],
    Healthcheck: { Test: ['CMD-SHELL', 'test -f /tmp/ready && echo ok'], Interval: 200 * ms, Retries: 3, Timeout: 1000 * ms },
  });
  const sick = await create(h, 'never-healthy', {
    Cmd: ['sleep', '60'],
    Healthcheck: { Test: ['CMD', 'sh', '-c', 'echo nope; exit 1'], Interval: 100 * ms, Retries: 2 },
  });
  t.equal((await inspect(h, healthy)).State.Health?.Status, 'starting');
  const good = await until('healthy', async () => {
    const c = await inspect(h, healthy);
    return c.State.Health?.Status === 'healthy' ? c : undefined;
  });
  t.equal(good.State.Health?.Log.at(-1)?.Output, 'ok\n');
  const bad = await until('unhealthy', async () => {
    const c = await inspect(h, sick);
    return c.State.Health?.Status === 'unhealthy' ? c : undefined;
  });
  t.ok(bad.State.Health!.FailingStreak >= 2);
  t.equal(bad.State.Health?.Log.at(-1)?.ExitCode, 1);
  const ps = await runCli(['ps'], { cwd: h.paths.root, env: h.env });
  t.match(ps.stdout, /Up .* \(healthy\)\s+becomes-healthy/);
  t.match(ps.stdout, /Up .* \(unhealthy\)\s+never-healthy/);
});

t.test('an engine killed while starting containers leaves consistent state', { skip }, async (t) => {
  const h = await makeEngineHarness('midstart', { inProcess: false });
  t.teardown(() => h.cleanup());
  const engine = await h.startProcess();
  let done = 0;
  const requests = Array.from({ length: 8 }, (_, i) => create(h, `c${i}`, { Cmd: ['sleep', '60'] }).then(() => done++, () => undefined));
  // Killed once the first container runs, while the others are being created and started.
  await until('a first container', async () => (done > 0 ? true : undefined));
  engine.kill('SIGKILL');
  await Promise.all(requests);
  await h.startProcess();
  const all = await h.client.call<Array<{ Id: string; State: string }>>('GET', '/containers/json', { query: { all: 1 } });
  t.ok(all.length >= 1 && all.some((c) => c.State === 'running'), `${all.length} containers survived, the first still running`);
  for (const c of all) t.ok(['created', 'running', 'exited'].includes(c.State), `${c.Id.slice(0, 12)} is ${c.State}`);
  const dirs = readdirSync(join(h.paths.root, 'containers'));
  t.same(dirs.sort(), all.map((c) => c.Id).sort(), 'every container directory has a record, and the reverse');
  for (const c of all) {
    const shimState = join(h.paths.runRoot, 'runtime', c.Id, 'state.json');
    if (c.State === 'running') t.ok(existsSync(shimState), 'a running container has its shim');
  }
  await h.cleanup();
  t.notOk(readFileSync('/proc/self/mounts', 'utf8').includes(h.paths.root), 'nothing left mounted');
});

t.test('a stop with no grace succeeds even when the container ends between the SIGTERM and the SIGKILL', { skip }, async (t) => {
  const h = await makeEngineHarness('stop-now');
  t.teardown(() => h.cleanup());
  // init as pid 1 ends at once on SIGTERM: the race between the grace running out (at once)
  // and the SIGKILL comes up within a few rounds when it is not handled.
  for (let i = 0; i < 12; i++) {
    const { Id } = await h.client.call<{ Id: string }>('POST', '/containers/create', { body: { Image: BUSYBOX_IMAGE, Cmd: ['sleep', '300'], HostConfig: { Init: true, NetworkMode: 'none' } } });
    await h.client.call('POST', `/containers/${Id}/start`);
    await h.client.call('POST', `/containers/${Id}/stop`, { query: { t: 0 } });
    const state = await h.client.call<{ State: { Status: string } }>('GET', `/containers/${Id}/json`);
    t.equal(state.State.Status, 'exited', `round ${i + 1}: stopped`);
    await h.client.call('DELETE', `/containers/${Id}`);
  }
});
