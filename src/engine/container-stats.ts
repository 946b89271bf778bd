// Resource usage of a container for `GET /containers/{id}/stats`, in the JSON shape the
// Docker CLI's `docker stats` reads, from the cgroup directories the shim recorded (one
// absolute directory per controller, v1 or v2; a hybrid host mixes them).
//
// Where a figure has no cgroup file, it comes from elsewhere or is left out: on a v1 host
// whose cpuacct hierarchy is mounted apart from cpu (this one), the shim makes no cpuacct
// cgroup, so CPU time is summed from the member processes' /proc/<pid>/stat. Nothing here
// throws for a container that is gone: its stats are whatever could still be read.
// The JSON shape and the CLI's arithmetic live in src/common/container-stats-shape.ts.

import { totalmem } from 'node:os';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type ContainerStats, type CpuStats, type CpuUsage, type MemoryStats } from '../common/container-stats-shape.js';
import { CLOCK_TICKS_PER_SECOND, listContainerPids, readProcessStat, type ContainerCgroup } from './container-top.js';

export interface StatsOptions {
  /** Where /proc is; tests point it at a fake tree. */
  procRoot?: string;
  /** Bytes of host memory, the limit shown for an unlimited container. */
  hostMemoryBytes?: number;
  now?: () => Date;
}

/** What Go's zero time.Time marshals to: Docker's `preread` before there is a previous sample. */
const ZERO_TIME = '0001-01-01T00:00:00Z';
const NS_PER_TICK = 1e9 / CLOCK_TICKS_PER_SECOND;

/**
 * One sample. Pass the previous sample to fill `precpu_stats` and `preread`, which the CPU
 * percentage needs (Docker's stream=false waits for a second sample for the same reason).
 */
export async function readContainerStats(cgroups: readonly ContainerCgroup[], previous?: ContainerStats, options: StatsOptions = {}): Promise<ContainerStats> {
  const procRoot = options.procRoot ?? '/proc';
  const read = (options.now ?? (() => new Date()))().toISOString();
  const cgroupOf = (controller: string): ContainerCgroup | undefined => cgroups.find((c) => c.controller === controller);
  const host = await readHostCpu(procRoot);
  const pids = await listContainerPids(cgroups);

  return {
    read,
    preread: previous?.read ?? ZERO_TIME,
    pids_stats: await readPids(cgroupOf('pids'), procRoot, pids),
    blkio_stats: {
      io_service_bytes_recursive: [],
      io_serviced_recursive: [],
      io_queue_recursive: [],
      io_service_time_recursive: [],
      io_wait_time_recursive: [],
      io_merged_recursive: [],
      io_time_recursive: [],
      sectors_recursive: [],
    },
    num_procs: 0, // Windows only, as in Docker
    storage_stats: {},
    cpu_stats: {
      cpu_usage: await readCpuUsage(cgroupOf('cpu'), cgroups.find((c) => c.version === 2), procRoot, pids),
      ...(host.systemCpuUsage !== undefined ? { system_cpu_usage: host.systemCpuUsage } : {}),
      ...(host.onlineCpus > 0 ? { online_cpus: host.onlineCpus } : {}),
      throttling_data: await readThrottling(cgroupOf('cpu')),
    },
    precpu_stats: previous?.cpu_stats ?? emptyCpuStats(),
    memory_stats: await readMemory(cgroupOf('memory'), options.hostMemoryBytes ?? totalmem()),
  };
}

function emptyCpuStats(): CpuStats {
  return {
    cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 },
    throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
  };
}

interface HostCpu {
  systemCpuUsage?: number;
  onlineCpus: number;
}

/** Like Docker: the first seven fields of /proc/stat's `cpu` line (user..softirq), in ns. */
async function readHostCpu(procRoot: string): Promise<HostCpu> {
  const text = await readOptional(join(procRoot, 'stat'));
  if (text === undefined) return { onlineCpus: 0 };
  const total = /^cpu\s+(.*)$/m.exec(text)?.[1]?.trim().split(/\s+/).slice(0, 7).map(Number);
  const onlineCpus = text.split('\n').filter((line) => /^cpu\d+\s/.test(line)).length;
  if (!total || total.length < 7 || total.some((n) => !Number.isFinite(n))) return { onlineCpus };
  return { systemCpuUsage: total.reduce((sum, ticks) => sum + ticks, 0) * NS_PER_TICK, onlineCpus };
}

async function readCpuUsage(cpu: ContainerCgroup | undefined, anyV2: ContainerCgroup | undefined, procRoot: string, pids: number[]): Promise<CpuUsage> {
  // Every v2 cgroup has cpu.stat's usage lines, cpu controller delegated or not.
  const v2 = cpu?.version === 2 ? cpu : anyV2;
  if (v2) {
    const stat = parseFlatKeyed(await readOptional(join(v2.path, 'cpu.stat')));
    if (stat.usage_usec !== undefined) {
      return { total_usage: stat.usage_usec * 1000, usage_in_kernelmode: (stat.system_usec ?? 0) * 1000, usage_in_usermode: (stat.user_usec ?? 0) * 1000 };
    }
  }
  if (cpu?.version === 1) {
    // cpuacct's files are in the cpu directory only when the two are mounted together (cpu,cpuacct).
    const usage = await readNumber(join(cpu.path, 'cpuacct.usage'));
    if (usage !== undefined) {
      const modes = parseFlatKeyed(await readOptional(join(cpu.path, 'cpuacct.stat')));
      const percpu = (await readOptional(join(cpu.path, 'cpuacct.usage_percpu')))?.trim().split(/\s+/).filter((s) => s !== '').map(Number);
      return {
        total_usage: usage,
        ...(percpu && percpu.length > 0 ? { percpu_usage: percpu } : {}),
        usage_in_kernelmode: (modes.system ?? 0) * NS_PER_TICK,
        usage_in_usermode: (modes.user ?? 0) * NS_PER_TICK,
      };
    }
  }
  return sumProcessCpu(procRoot, pids);
}

/**
 * Without a CPU-accounting cgroup: the members' own CPU time plus that of children they
 * reaped. Every process in a container descends from its pid 1, so what an exited
 * process used is counted by whoever waited for it, except for processes `exec` started
 * (the exec shim, outside, reaps them), whose time drops out when they end.
 */
async function sumProcessCpu(procRoot: string, pids: number[]): Promise<CpuUsage> {
  let user = 0;
  let system = 0;
  for (const pid of pids) {
    const stat = await readProcessStat(procRoot, pid);
    if (!stat) continue;
    user += stat.utime + stat.cutime;
    system += stat.stime + stat.cstime;
  }
  return { total_usage: (user + system) * NS_PER_TICK, usage_in_kernelmode: system * NS_PER_TICK, usage_in_usermode: user * NS_PER_TICK };
}

async function readThrottling(cpu: ContainerCgroup | undefined): Promise<CpuStats['throttling_data']> {
  const stat = cpu ? parseFlatKeyed(await readOptional(join(cpu.path, 'cpu.stat'))) : {};
  return {
    periods: stat.nr_periods ?? 0,
    throttled_periods: stat.nr_throttled ?? 0,
    // v1 counts nanoseconds, v2 microseconds.
    throttled_time: stat.throttled_time ?? (stat.throttled_usec ?? 0) * 1000,
  };
}

async function readMemory(memory: ContainerCgroup | undefined, hostMemoryBytes: number): Promise<MemoryStats> {
  if (!memory) return {};
  const capped = (limit: number | undefined): number => (limit === undefined || limit > hostMemoryBytes ? hostMemoryBytes : limit);
  const stats = parseFlatKeyed(await readOptional(join(memory.path, 'memory.stat')));
  const withStats = Object.keys(stats).length > 0 ? { stats } : {};
  if (memory.version === 1) {
    const usage = await readNumber(join(memory.path, 'memory.usage_in_bytes'));
    const maxUsage = await readNumber(join(memory.path, 'memory.max_usage_in_bytes'));
    const failcnt = await readNumber(join(memory.path, 'memory.failcnt'));
    // v1 shows "no limit" as a huge page-aligned number; Docker shows the host's memory instead.
    const limit = capped(await readNumber(join(memory.path, 'memory.limit_in_bytes')));
    return {
      ...(usage !== undefined ? { usage } : {}),
      ...(maxUsage !== undefined ? { max_usage: maxUsage } : {}),
      ...(failcnt !== undefined ? { failcnt } : {}),
      limit,
      ...withStats,
    };
  }
  const usage = await readNumber(join(memory.path, 'memory.current'));
  const limit = capped(await readNumber(join(memory.path, 'memory.max')));
  return { ...(usage !== undefined ? { usage } : {}), limit, ...withStats };
}

async function readPids(pidsCgroup: ContainerCgroup | undefined, procRoot: string, pids: number[]): Promise<ContainerStats['pids_stats']> {
  if (pidsCgroup) {
    const current = await readNumber(join(pidsCgroup.path, 'pids.current'));
    const limit = await readNumber(join(pidsCgroup.path, 'pids.max'));
    if (current !== undefined) return { current, ...(limit !== undefined ? { limit } : {}) };
  }
  // pids.current counts tasks, threads included; so does this.
  if (pids.length === 0) return {};
  let tasks = 0;
  for (const pid of pids) tasks += (await readProcessStat(procRoot, pid))?.numThreads ?? 0;
  return { current: tasks };
}

/** `key value` lines (memory.stat, cpu.stat, cpuacct.stat) as numbers. */
function parseFlatKeyed(text: string | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of (text ?? '').split('\n')) {
    const [key, value] = line.trim().split(/\s+/);
    if (key && value !== undefined && /^\d+$/.test(value)) out[key] = Number(value);
  }
  return out;
}

/** A one-number file; "max" (v2's no limit) and a missing file are both undefined. */
async function readNumber(path: string): Promise<number | undefined> {
  const text = (await readOptional(path))?.trim();
  return text !== undefined && /^\d+$/.test(text) ? Number(text) : undefined;
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined; // a vanished cgroup or process reads as nothing
  }
}

