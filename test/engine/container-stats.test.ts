// Container stats in Docker's shape: a real container's cgroups (as root), fake v1 and v2
// cgroup trees for the files this host does not have, a vanished container, and the
// Docker CLI's CPU and memory arithmetic.
import t from 'tap';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpuPercent, memoryUsedBytes, type ContainerStats } from '../../src/common/container-stats-shape.js';
import { readContainerStats } from '../../src/engine/container-stats.js';
import { makeHarness, skipReason, waitUntil, type Harness } from '../runtime/fixtures.js';

const MiB = 1024 * 1024;

const fakeTrees: string[] = [];
t.teardown(() => { for (const dir of fakeTrees) rmSync(dir, { recursive: true, force: true }); });

function fakeTree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'stack-stats-'));
  fakeTrees.push(dir);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

const PROC_STAT = 'cpu  100 0 50 800 10 0 40 5 0 0\ncpu0 50 0 25 400 5 0 20 0 0 0\ncpu1 50 0 25 400 5 0 20 0 0 0\nbtime 1700000000\n';

t.test('pure cgroup v2: memory.current/max, cpu.stat, pids, "max" meaning unlimited', async (t) => {
  const root = fakeTree({
    'cg/cgroup.procs': '',
    'cg/memory.current': '8388608\n',
    'cg/memory.max': 'max\n',
    'cg/memory.stat': 'anon 4096\nfile 8192\ninactive_file 4194304\n',
    'cg/cpu.stat': 'usage_usec 2500000\nuser_usec 2000000\nsystem_usec 500000\nnr_periods 4\nnr_throttled 1\nthrottled_usec 300\n',
    'cg/pids.current': '3\n',
    'cg/pids.max': 'max\n',
    'proc/stat': PROC_STAT,
  });
  const cg = join(root, 'cg');
  const cgroups = ['memory', 'cpu', 'pids'].map((controller) => ({ controller, version: 2 as const, path: cg }));
  const now = new Date('2025-01-02T03:04:05.678Z');
  const stats = await readContainerStats(cgroups, undefined, { procRoot: join(root, 'proc'), hostMemoryBytes: 4096 * MiB, now: () => now });
  t.equal(stats.read, '2025-01-02T03:04:05.678Z');
  t.equal(stats.preread, '0001-01-01T00:00:00Z', 'no previous sample: Go zero time');
  t.same(stats.memory_stats, { usage: 8 * MiB, limit: 4096 * MiB, stats: { anon: 4096, file: 8192, inactive_file: 4194304 } });
  t.equal(memoryUsedBytes(stats.memory_stats), 4 * MiB, 'the CLI subtracts inactive_file');
  t.same(stats.cpu_stats.cpu_usage, { total_usage: 2_500_000_000, usage_in_kernelmode: 500_000_000, usage_in_usermode: 2_000_000_000 });
  t.same(stats.cpu_stats.throttling_data, { periods: 4, throttled_periods: 1, throttled_time: 300_000 });
  t.equal(stats.cpu_stats.system_cpu_usage, (100 + 50 + 800 + 10 + 40) * 1e7, 'user..softirq ticks in ns, steal left out as Docker does');
  t.equal(stats.cpu_stats.online_cpus, 2);
  t.same(stats.pids_stats, { current: 3 }, 'no limit shown for "max"');
  t.same(stats.precpu_stats.cpu_usage.total_usage, 0);
  t.same(stats.blkio_stats.io_service_bytes_recursive, []);
});

t.test('v2 CPU time comes from any v2 cgroup when the cpu controller is not delegated', async (t) => {
  const root = fakeTree({ 'cg/cgroup.procs': '', 'cg/memory.current': '4096\n', 'cg/cpu.stat': 'usage_usec 7\nuser_usec 4\nsystem_usec 3\n', 'proc/stat': PROC_STAT });
  const stats = await readContainerStats([{ controller: 'memory', version: 2, path: join(root, 'cg') }], undefined, { procRoot: join(root, 'proc') });
  t.same(stats.cpu_stats.cpu_usage, { total_usage: 7000, usage_in_kernelmode: 3000, usage_in_usermode: 4000 });
});

t.test('cgroup v1 with cpuacct mounted together with cpu: per-CPU usage, v1 memory names, limit capped at the host', async (t) => {
  const root = fakeTree({
    'memory/c/cgroup.procs': '',
    'memory/c/memory.usage_in_bytes': '10485760\n',
    'memory/c/memory.max_usage_in_bytes': '20971520\n',
    'memory/c/memory.failcnt': '2\n',
    'memory/c/memory.limit_in_bytes': '9223372036854771712\n',
    'memory/c/memory.stat': 'cache 100\nrss 200\ntotal_inactive_file 2097152\ninactive_file 1\n',
    'cpu/c/cgroup.procs': '',
    'cpu/c/cpuacct.usage': '3000000000\n',
    'cpu/c/cpuacct.usage_percpu': '1000000000 2000000000 \n',
    'cpu/c/cpuacct.stat': 'user 200\nsystem 100\n',
    'cpu/c/cpu.stat': 'nr_periods 0\nnr_throttled 0\nthrottled_time 0\n',
    'pids/c/cgroup.procs': '',
    'pids/c/pids.current': '5\n',
    'pids/c/pids.max': '64\n',
    'proc/stat': PROC_STAT,
  });
  const cgroups = ['memory', 'cpu', 'pids'].map((controller) => ({ controller, version: 1 as const, path: join(root, controller, 'c') }));
  const stats = await readContainerStats(cgroups, undefined, { procRoot: join(root, 'proc'), hostMemoryBytes: 2048 * MiB });
  t.equal(stats.memory_stats.limit, 2048 * MiB, 'v1 "unlimited" shows the host memory');
  t.equal(stats.memory_stats.usage, 10 * MiB);
  t.equal(stats.memory_stats.max_usage, 20 * MiB);
  t.equal(stats.memory_stats.failcnt, 2);
  t.equal(memoryUsedBytes(stats.memory_stats), 8 * MiB, 'the CLI subtracts total_inactive_file on v1');
  t.same(stats.cpu_stats.cpu_usage, { total_usage: 3e9, percpu_usage: [1e9, 2e9], usage_in_kernelmode: 1e9, usage_in_usermode: 2e9 });
  t.same(stats.pids_stats, { current: 5, limit: 64 });
});

t.test('a vanished container: no throw, only what could be read', async (t) => {
  const gone = '/sys/fs/cgroup/memory/stack-test-no-such-cgroup-' + String(process.pid);
  const stats = await readContainerStats([
    { controller: 'memory', version: 1, path: gone },
    { controller: 'cpu', version: 1, path: gone },
    { controller: 'pids', version: 1, path: gone },
  ]);
  t.equal(stats.memory_stats.usage, undefined);
  t.same(stats.pids_stats, {});
  t.equal(stats.cpu_stats.cpu_usage.total_usage, 0);
  t.ok((stats.cpu_stats.system_cpu_usage ?? 0) > 0, 'the host figures are still there');
  const none = await readContainerStats([]);
  t.same(none.memory_stats, {});
});

t.test("Docker CLI's CPU percentage", async (t) => {
  const sample = (total: number, system: number, cpus?: number, percpu?: number[]): ContainerStats['cpu_stats'] => ({
    cpu_usage: { total_usage: total, usage_in_kernelmode: 0, usage_in_usermode: 0, ...(percpu ? { percpu_usage: percpu } : {}) },
    system_cpu_usage: system,
    ...(cpus !== undefined ? { online_cpus: cpus } : {}),
    throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
  });
  t.equal(cpuPercent({ precpu_stats: sample(1e9, 10e9, 2), cpu_stats: sample(2e9, 14e9, 2) }), 50, '1s of 4s host time on 2 CPUs is half a CPU');
  t.equal(cpuPercent({ precpu_stats: sample(0, 10e9, undefined, [0, 0, 0, 0]), cpu_stats: sample(1e9, 14e9, undefined, [0, 0, 0, 0]) }), 100, 'CPUs counted from percpu_usage when online_cpus is absent');
  t.equal(cpuPercent({ precpu_stats: sample(2e9, 10e9, 2), cpu_stats: sample(1e9, 14e9, 2) }), 0, 'a counter going back gives 0, not a negative');
  t.equal(cpuPercent({ precpu_stats: sample(1e9, 10e9, 2), cpu_stats: sample(2e9, 10e9, 2) }), 0, 'no host time passed');
});

const reason = skipReason();
t.test('a running container with a memory limit', { skip: reason ?? false }, async (t) => {
  const h: Harness = makeHarness('stats');
  t.teardown(() => h.cleanup());
  const id = h.newId();
  const limit = 64 * MiB;
  // Bounded busy work, then idle: some CPU time to see, and it stops by itself.
  const script = 'i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; echo busy-done; sleep 30 & wait';
  await h.runtime.start(id, await h.bundle(id, { args: ['sh', '-c', script], resources: { memoryBytes: limit, pidsLimit: 40 } }));
  t.ok(await waitUntil(async () => (await h.runtime.logs(id)).some((l) => l.log.includes('busy-done')), 10_000), 'the busy loop finished');
  const state = await h.runtime.state(id);

  const first = await readContainerStats(state.cgroups);
  t.equal(first.memory_stats.limit, limit, 'the limit is the container\'s, not the host\'s');
  const usage = first.memory_stats.usage ?? 0;
  t.ok(usage > 0 && usage < limit, `memory usage is sane (${usage} bytes)`);
  const stats = first.memory_stats.stats ?? {};
  t.ok('total_inactive_file' in stats || 'inactive_file' in stats, 'memory.stat has the key the CLI subtracts');
  t.ok(memoryUsedBytes(first.memory_stats) <= usage);
  t.ok((first.pids_stats.current ?? 0) >= 2, `pids: sh and sleep (${first.pids_stats.current})`);
  t.equal(first.pids_stats.limit, 40);
  t.ok(first.cpu_stats.cpu_usage.total_usage > 0, `the busy loop used CPU (${first.cpu_stats.cpu_usage.total_usage} ns)`);
  t.ok((first.cpu_stats.system_cpu_usage ?? 0) > first.cpu_stats.cpu_usage.total_usage, 'host CPU time exceeds the container\'s');
  t.ok((first.cpu_stats.online_cpus ?? 0) >= 1);

  await new Promise((r) => setTimeout(r, 100));
  const second = await readContainerStats(state.cgroups, first);
  t.equal(second.preread, first.read);
  t.same(second.precpu_stats, first.cpu_stats, 'precpu is the previous sample');
  t.ok(second.cpu_stats.cpu_usage.total_usage >= first.cpu_stats.cpu_usage.total_usage, 'CPU time does not go back');
  t.ok((second.cpu_stats.system_cpu_usage ?? 0) > (first.cpu_stats.system_cpu_usage ?? 0), 'host time went on');
  const percent = cpuPercent(second);
  t.ok(percent >= 0 && percent <= 100 * (second.cpu_stats.online_cpus ?? 1), `CPU % is sane (${percent})`);

  await h.runtime.delete(id, { force: true });
  const after = await readContainerStats(state.cgroups, second);
  t.equal(after.memory_stats.usage, undefined, 'after delete: nothing to read, and no throw');
});
