import t from 'tap';
import type { HealthState, HealthStatus } from '../../src/common/api-types.js';
import { UsageError } from '../../src/common/errors.js';
import {
  HealthMonitor,
  healthOnContainerStart,
  mergeHealthConfig,
  parseHealthConfig,
  type Clock,
  type HealthCheckSettings,
  type HealthMonitorOptions,
  type ProbeOutcome,
} from '../../src/engine/health-monitor.js';

const SECOND = 1000;
const NANOS_PER_SECOND = 1e9;
const T0 = Date.UTC(2024, 0, 1, 12, 0, 0);

/** Timers that fire only when the test advances time; promise callbacks run between them. */
class FakeClock implements Clock {
  #now = T0;
  #nextId = 1;
  #timers = new Map<number, { at: number; fn: () => void }>();

  now(): number {
    return this.#now;
  }
  setTimeout(fn: () => void, ms: number): number {
    const id = this.#nextId++;
    this.#timers.set(id, { at: this.#now + ms, fn });
    return id;
  }
  clearTimeout(handle: unknown): void {
    if (typeof handle === 'number') this.#timers.delete(handle);
  }
  get pendingTimers(): number {
    return this.#timers.size;
  }
  /** Seconds since T0, for readable assertions. */
  get elapsedSeconds(): number {
    return (this.#now - T0) / SECOND;
  }
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    for (;;) {
      await flushPromises();
      const due = [...this.#timers.entries()].filter(([, timer]) => timer.at <= target).sort((a, b) => a[1].at - b[1].at || a[0] - b[0])[0];
      if (!due) break;
      this.#timers.delete(due[0]);
      this.#now = due[1].at;
      due[1].fn();
    }
    this.#now = target;
    await flushPromises();
  }
}

function flushPromises(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

interface ProbeCall {
  args: string[];
  timeoutMs: number;
  signal: AbortSignal;
  atSeconds: number;
}

type Behaviour = 'pass' | 'fail' | 'hang' | 'throw' | { exitCode: number; output: string } | { takesMs: number; exitCode: number };

/** An exec that follows a script, one behaviour per probe (the last one repeats), and records its calls. */
function scriptedExec(clock: FakeClock, script: Behaviour[]) {
  const calls: ProbeCall[] = [];
  let running = 0;
  let maxConcurrent = 0;
  const exec = async (args: string[], timeoutMs: number, signal: AbortSignal): Promise<ProbeOutcome> => {
    calls.push({ args, timeoutMs, signal, atSeconds: clock.elapsedSeconds });
    const behaviour = script[Math.min(calls.length, script.length) - 1] ?? 'pass';
    running += 1;
    maxConcurrent = Math.max(maxConcurrent, running);
    try {
      if (behaviour === 'pass') return { exitCode: 0, output: `ok ${calls.length}` };
      if (behaviour === 'fail') return { exitCode: 1, output: `failed ${calls.length}` };
      if (behaviour === 'throw') throw new Error('container is not running');
      if (behaviour === 'hang') {
        // Like a killed process: settles only once the monitor aborts it.
        return await new Promise<ProbeOutcome>((_resolve, reject) => {
          signal.addEventListener('abort', () => reject(new Error('The operation was aborted')), { once: true });
        });
      }
      if ('takesMs' in behaviour) {
        await new Promise<void>((resolve) => clock.setTimeout(resolve, behaviour.takesMs));
        return { exitCode: behaviour.exitCode, output: '' };
      }
      return behaviour;
    } finally {
      running -= 1;
    }
  };
  return { exec, calls, maxConcurrent: () => maxConcurrent };
}

function settings(overrides: Partial<HealthCheckSettings> = {}): HealthCheckSettings {
  return {
    command: ['pg_isready'],
    intervalMs: 30 * SECOND,
    timeoutMs: 30 * SECOND,
    retries: 3,
    startPeriodMs: 0,
    startIntervalMs: 5 * SECOND,
    ...overrides,
  };
}

function monitorWith(script: Behaviour[], config: Partial<HealthCheckSettings> = {}, extra: Partial<HealthMonitorOptions> = {}) {
  const clock = new FakeClock();
  const probe = scriptedExec(clock, script);
  const changes: Array<{ status: HealthStatus; previous: HealthStatus }> = [];
  const probes: number[] = [];
  const monitor = new HealthMonitor({
    config: settings(config),
    exec: probe.exec,
    clock,
    onChange: (health, previous) => changes.push({ status: health.Status, previous }),
    onProbe: (result) => probes.push(result.ExitCode),
    ...extra,
  });
  return { clock, probe, monitor, changes, probes };
}

t.test('parseHealthConfig: Docker API form to milliseconds with dockerd defaults', async (t) => {
  t.same(parseHealthConfig({ Test: ['CMD', 'pg_isready', '-U', 'postgres'] }), {
    command: ['pg_isready', '-U', 'postgres'],
    intervalMs: 30_000, timeoutMs: 30_000, retries: 3, startPeriodMs: 0, startIntervalMs: 5_000,
  }, 'zero or absent fields take the defaults');
  t.same(parseHealthConfig({
    Test: ['CMD-SHELL', 'curl -f http://localhost/ || exit 1'],
    Interval: 90 * NANOS_PER_SECOND, Timeout: 500e6, Retries: 5, StartPeriod: 60 * NANOS_PER_SECOND, StartInterval: 2 * NANOS_PER_SECOND,
  }), {
    command: ['/bin/sh', '-c', 'curl -f http://localhost/ || exit 1'],
    intervalMs: 90_000, timeoutMs: 500, retries: 5, startPeriodMs: 60_000, startIntervalMs: 2_000,
  }, 'CMD-SHELL runs under /bin/sh -c; nanoseconds become milliseconds');
  t.same(parseHealthConfig({ Test: ['CMD-SHELL', 'exit 0'] }, ['/bin/bash', '-o', 'pipefail', '-c'])?.command,
    ['/bin/bash', '-o', 'pipefail', '-c', 'exit 0'], 'the container\'s Config.Shell replaces /bin/sh -c');
});

t.test('parseHealthConfig: no check when absent, empty, NONE or of an unknown type', async (t) => {
  t.equal(parseHealthConfig(undefined), undefined);
  t.equal(parseHealthConfig(null), undefined);
  t.equal(parseHealthConfig({}), undefined);
  t.equal(parseHealthConfig({ Test: [] }), undefined);
  t.equal(parseHealthConfig({ Test: ['NONE'] }), undefined, 'NONE disables the image\'s check');
  t.equal(parseHealthConfig({ Test: ['NONE'], Interval: 5 * NANOS_PER_SECOND }), undefined);
  t.equal(parseHealthConfig({ Test: ['HTTP', 'http://localhost'] }), undefined, 'dockerd ignores unknown types');
});

t.test('parseHealthConfig: refuses what dockerd refuses, in its words', async (t) => {
  t.throws(() => parseHealthConfig({ Test: ['CMD', 'true'], Interval: 1000 }), new UsageError('Interval in Healthcheck cannot be less than 1ms'));
  t.throws(() => parseHealthConfig({ Test: ['CMD', 'true'], Timeout: -1 }), new UsageError('Timeout in Healthcheck cannot be less than 1ms'));
  t.throws(() => parseHealthConfig({ Test: ['CMD', 'true'], StartPeriod: 10 }), new UsageError('StartPeriod in Healthcheck cannot be less than 1ms'));
  t.throws(() => parseHealthConfig({ Test: ['CMD', 'true'], StartInterval: 10 }), new UsageError('StartInterval in Healthcheck cannot be less than 1ms'));
  t.throws(() => parseHealthConfig({ Test: ['CMD', 'true'], Retries: -1 }), new UsageError('Retries in Healthcheck cannot be negative'));
  t.throws(() => parseHealthConfig({ Test: ['CMD'] }), UsageError, 'a test with no command');
  t.throws(() => parseHealthConfig({ Test: ['CMD-SHELL'] }), UsageError);
});

t.test('mergeHealthConfig: the container\'s fields over the image\'s, as dockerd merges them', async (t) => {
  const image = { Test: ['CMD', 'probe'], Interval: 10 * NANOS_PER_SECOND, Retries: 2 };
  t.same(mergeHealthConfig(image, undefined), image);
  t.same(mergeHealthConfig(undefined, { Test: ['NONE'] }), { Test: ['NONE'] });
  t.equal(mergeHealthConfig(undefined, null), undefined);
  t.same(mergeHealthConfig(image, { Test: [], Interval: 0, Timeout: 3 * NANOS_PER_SECOND }), {
    Test: ['CMD', 'probe'], Interval: 10 * NANOS_PER_SECOND, Timeout: 3 * NANOS_PER_SECOND, Retries: 2, StartPeriod: undefined, StartInterval: undefined,
  });
  t.same(mergeHealthConfig(image, { Test: ['NONE'] })?.Test, ['NONE'], 'NONE in the container turns the image\'s check off');
});

t.test('healthOnContainerStart: status and streak reset, log kept', async (t) => {
  const log = [{ Start: 'a', End: 'b', ExitCode: 1, Output: 'down' }];
  t.same(healthOnContainerStart(), { Status: 'starting', FailingStreak: 0, Log: [] });
  t.same(healthOnContainerStart({ Status: 'unhealthy', FailingStreak: 7, Log: log }), { Status: 'starting', FailingStreak: 0, Log: log });
});

t.test('becomes healthy on the first passing probe, one interval after start', async (t) => {
  const { clock, probe, monitor, changes } = monitorWith(['pass']);
  monitor.start();
  t.same(monitor.health, { Status: 'starting', FailingStreak: 0, Log: [] });
  await clock.advance(30 * SECOND - 1);
  t.equal(probe.calls.length, 0, 'dockerd waits one interval before the first probe');
  await clock.advance(1);
  t.equal(probe.calls.length, 1);
  t.same(probe.calls[0]?.args, ['pg_isready']);
  t.equal(probe.calls[0]?.timeoutMs, 30 * SECOND);
  const health = monitor.health;
  t.equal(health.Status, 'healthy');
  t.equal(health.FailingStreak, 0);
  t.same(health.Log, [{ Start: '2024-01-01T12:00:30.000Z', End: '2024-01-01T12:00:30.000Z', ExitCode: 0, Output: 'ok 1' }]);
  t.same(changes, [{ status: 'healthy', previous: 'starting' }]);
  await monitor.stop();
});

t.test('becomes unhealthy after Retries consecutive failures, and healthy again on a pass', async (t) => {
  const { clock, monitor, changes, probes } = monitorWith(['fail', 'fail', 'fail', 'fail', 'pass'], { intervalMs: 10 * SECOND });
  monitor.start();
  await clock.advance(20 * SECOND);
  t.same([monitor.health.Status, monitor.health.FailingStreak], ['starting', 2], 'two failures of three allowed');
  await clock.advance(10 * SECOND);
  t.same([monitor.health.Status, monitor.health.FailingStreak], ['unhealthy', 3]);
  await clock.advance(10 * SECOND);
  t.same([monitor.health.Status, monitor.health.FailingStreak], ['unhealthy', 4], 'the streak keeps counting');
  await clock.advance(10 * SECOND);
  t.same([monitor.health.Status, monitor.health.FailingStreak], ['healthy', 0]);
  t.same(changes, [{ status: 'unhealthy', previous: 'starting' }, { status: 'healthy', previous: 'unhealthy' }]);
  t.same(probes, [1, 1, 1, 1, 0], 'onProbe sees every result');
  await monitor.stop();
});

t.test('failures inside the start period do not count while starting; a pass there makes it healthy', async (t) => {
  const { clock, probe, monitor, changes } = monitorWith(['fail', 'fail', 'fail', 'fail', 'pass', 'fail'],
    { startPeriodMs: 60 * SECOND, startIntervalMs: 5 * SECOND, retries: 1 });
  monitor.start();
  await clock.advance(20 * SECOND);
  t.equal(probe.calls.length, 4);
  t.same([monitor.health.Status, monitor.health.FailingStreak], ['starting', 0], 'four failures, none counted, even with Retries 1');
  t.equal(monitor.health.Log.length, 4, 'but every one is logged');
  await clock.advance(5 * SECOND);
  t.equal(monitor.health.Status, 'healthy');
  await clock.advance(30 * SECOND);
  t.same(probe.calls.map((c) => c.atSeconds), [5, 10, 15, 20, 25, 55], 'once healthy, the interval applies even inside the start period');
  t.same([monitor.health.Status, monitor.health.FailingStreak], ['unhealthy', 1], 'after being healthy, a failure in the start period counts');
  t.same(changes.map((c) => c.status), ['healthy', 'unhealthy']);
  await monitor.stop();
});

t.test('start interval inside the start period, interval after it; failures count from its end', async (t) => {
  const { clock, probe, monitor } = monitorWith(['fail'], { startPeriodMs: 12 * SECOND, startIntervalMs: 5 * SECOND, intervalMs: 30 * SECOND, retries: 10 });
  monitor.start();
  await clock.advance(80 * SECOND);
  t.same(probe.calls.map((c) => c.atSeconds), [5, 10, 15, 45, 75]);
  t.equal(monitor.health.FailingStreak, 3, 'the probes at 5s and 10s began inside the start period');
  t.equal(monitor.health.Status, 'starting');
  await monitor.stop();
});

t.test('the start period counts from the container\'s start, not the monitor\'s', async (t) => {
  const { clock, probe, monitor } = monitorWith(['fail'], { startPeriodMs: 60 * SECOND, retries: 1 }, { startedAt: T0 - 58 * SECOND });
  monitor.start();
  await clock.advance(5 * SECOND);
  t.same(probe.calls.map((c) => c.atSeconds), [5], 'still in the start period when scheduled, so the start interval');
  t.same([monitor.health.Status, monitor.health.FailingStreak], ['unhealthy', 1], 'the probe began after the period ended');
  await monitor.stop();
});

t.test('a probe that outlives its timeout is aborted and fails with dockerd\'s message', async (t) => {
  const { clock, probe, monitor } = monitorWith(['hang', 'pass'], { timeoutMs: 2 * SECOND, intervalMs: 10 * SECOND, retries: 1 });
  monitor.start();
  await clock.advance(10 * SECOND);
  const first = probe.calls[0];
  t.equal(first?.timeoutMs, 2 * SECOND, 'exec is told the timeout too');
  t.equal(first?.signal.aborted, false);
  await clock.advance(2 * SECOND - 1);
  t.equal(first?.signal.aborted, false, 'not before the timeout');
  await clock.advance(1);
  t.equal(first?.signal.aborted, true, 'aborted at the timeout');
  t.same(monitor.health.Log, [{ Start: '2024-01-01T12:00:10.000Z', End: '2024-01-01T12:00:12.000Z', ExitCode: -1, Output: 'Health check exceeded timeout (2s)' }]);
  t.equal(monitor.health.Status, 'unhealthy');
  await clock.advance(10 * SECOND);
  t.same(probe.calls.map((c) => c.atSeconds), [10, 22], 'the next probe is one interval after the timed-out one ended');
  t.equal(monitor.health.Status, 'healthy');
  await monitor.stop();
});

t.test('timeout message: Go-style duration, and what the killed probe printed', async (t) => {
  const clock = new FakeClock();
  const monitor = new HealthMonitor({
    config: settings({ timeoutMs: 90 * SECOND, intervalMs: SECOND }),
    clock,
    exec: (_args, _timeoutMs, signal) => new Promise((resolve) => {
      signal.addEventListener('abort', () => resolve({ exitCode: 137, output: 'still connecting' }), { once: true });
    }),
  });
  monitor.start();
  await clock.advance(91 * SECOND);
  t.same(monitor.health.Log.map((e) => [e.ExitCode, e.Output]), [[-1, 'Health check exceeded timeout (1m30s): still connecting']]);
  await monitor.stop();
});

t.test('an exec that throws is a failed probe with exit code -1', async (t) => {
  const { clock, monitor } = monitorWith(['throw'], { intervalMs: SECOND });
  monitor.start();
  await clock.advance(SECOND);
  t.same(monitor.health.Log.map((e) => [e.ExitCode, e.Output]), [[-1, 'container is not running']]);
  t.equal(monitor.health.FailingStreak, 1);
  await monitor.stop();
});

t.test('stop() aborts the probe in flight, drops its result and runs no more', async (t) => {
  const { clock, probe, monitor, changes } = monitorWith(['hang'], { intervalMs: SECOND, timeoutMs: 60 * SECOND, retries: 1 });
  monitor.start();
  await clock.advance(SECOND);
  t.equal(probe.calls.length, 1);
  let stopped = false;
  const stopping = monitor.stop().then(() => { stopped = true; });
  t.equal(probe.calls[0]?.signal.aborted, true);
  await stopping;
  t.ok(stopped, 'stop resolves once the aborted probe has settled');
  t.same(monitor.health, { Status: 'starting', FailingStreak: 0, Log: [] }, 'a cancelled probe says nothing about health');
  t.equal(clock.pendingTimers, 0, 'no timers left behind');
  await clock.advance(600 * SECOND);
  t.equal(probe.calls.length, 1);
  t.same(changes, []);
  t.throws(() => monitor.start(), /cannot be started again/);
});

t.test('stop() while waiting for the next probe cancels it', async (t) => {
  const { clock, probe, monitor } = monitorWith(['pass'], { intervalMs: SECOND });
  monitor.start();
  await clock.advance(SECOND);
  await monitor.stop();
  t.equal(clock.pendingTimers, 0);
  await clock.advance(60 * SECOND);
  t.equal(probe.calls.length, 1);
});

t.test('the log keeps the last five results; output is cut at 4096 bytes', async (t) => {
  const long = 'é'.repeat(3000); // 6000 bytes of two-byte characters
  const script: Behaviour[] = ['pass', 'fail', 'pass', 'fail', 'pass', 'fail', { exitCode: 0, output: long }];
  const { clock, monitor } = monitorWith(script, { intervalMs: SECOND });
  monitor.start();
  await clock.advance(7 * SECOND);
  const log = monitor.health.Log;
  t.equal(log.length, 5);
  t.same(log.slice(0, 4).map((e) => e.Output), ['ok 3', 'failed 4', 'ok 5', 'failed 6'], 'oldest first, the first two gone');
  const last = log[4]?.Output ?? '';
  t.equal(last, `${'é'.repeat(2048)}...`, 'cut on a character boundary, with dockerd\'s "..."');
  t.equal(Buffer.byteLength(last.slice(0, -3)), 4096);
  await monitor.stop();
});

t.test('probes never overlap when exec is slower than the interval', async (t) => {
  const { clock, probe, monitor } = monitorWith([{ takesMs: 50 * SECOND, exitCode: 0 }], { intervalMs: 30 * SECOND, timeoutMs: 120 * SECOND });
  monitor.start();
  await clock.advance(400 * SECOND);
  t.same(probe.calls.map((c) => c.atSeconds), [30, 110, 190, 270, 350], 'each starts one interval after the previous ended');
  t.equal(probe.maxConcurrent(), 1);
  t.same(monitor.health.Log.map((e) => [e.Start.slice(11, 19), e.End.slice(11, 19)]).slice(0, 2), [['12:00:30', '12:01:20'], ['12:01:50', '12:02:40']]);
  await monitor.stop();
});

t.test('onChange fires only when Status changes', async (t) => {
  const { clock, monitor, changes } = monitorWith(['pass', 'pass', 'fail', 'pass', 'fail', 'fail', 'fail', 'fail', 'pass', 'pass'], { intervalMs: SECOND, retries: 2 });
  monitor.start();
  await clock.advance(10 * SECOND);
  t.same(changes.map((c) => `${c.previous} -> ${c.status}`), ['starting -> healthy', 'healthy -> unhealthy', 'unhealthy -> healthy']);
  await monitor.stop();
});

t.test('a restored state carries on: status, streak and log', async (t) => {
  const restored: HealthState = {
    Status: 'unhealthy',
    FailingStreak: 4,
    Log: Array.from({ length: 7 }, (_, i) => ({ Start: `s${i}`, End: `e${i}`, ExitCode: 1, Output: `old ${i}` })),
  };
  const { clock, monitor, changes } = monitorWith(['fail', 'pass'], { intervalMs: SECOND }, { initial: restored, startedAt: T0 - 3600 * SECOND });
  t.equal(monitor.health.Status, 'unhealthy');
  t.same(monitor.health.Log.map((e) => e.Output), ['old 2', 'old 3', 'old 4', 'old 5', 'old 6'], 'trimmed to five');
  monitor.start();
  await clock.advance(SECOND);
  t.equal(monitor.health.FailingStreak, 5);
  await clock.advance(SECOND);
  t.same(changes, [{ status: 'healthy', previous: 'unhealthy' }]);
  t.equal(restored.FailingStreak, 4, 'the caller\'s object is not modified');
  await monitor.stop();
});

t.test('health returns a copy', async (t) => {
  const { clock, monitor } = monitorWith(['pass'], { intervalMs: SECOND });
  monitor.start();
  await clock.advance(SECOND);
  const copy = monitor.health;
  copy.Status = 'unhealthy';
  copy.Log.length = 0;
  t.equal(monitor.health.Status, 'healthy');
  t.equal(monitor.health.Log.length, 1);
  await monitor.stop();
});
