// The shape of Docker's `GET /containers/{id}/stats` answer, which the engine writes
// (src/engine/container-stats.ts) and the CLI reads, and the Docker CLI's arithmetic on it
// (CPU % and memory used) for `stack stats`.

export interface CpuUsage {
  /** Nanoseconds of CPU the container used since it started. */
  total_usage: number;
  /** Per CPU, when the cgroup says (v1 cpuacct only, as with Docker). */
  percpu_usage?: number[];
  usage_in_kernelmode: number;
  usage_in_usermode: number;
}

export interface CpuStats {
  cpu_usage: CpuUsage;
  /** Nanoseconds of host CPU time (all CPUs) since boot, as Docker counts it from /proc/stat. */
  system_cpu_usage?: number;
  online_cpus?: number;
  throttling_data: { periods: number; throttled_periods: number; throttled_time: number };
}

export interface MemoryStats {
  usage?: number;
  max_usage?: number;
  failcnt?: number;
  /** The limit, or the host's memory when there is none. */
  limit?: number;
  /** memory.stat as it is: v1 keys (with total_*) or v2 keys. */
  stats?: Record<string, number>;
}

export interface BlkioEntry {
  major: number;
  minor: number;
  op: string;
  value: number;
}

/** Docker's stats JSON without `name`, `id` and `networks`, which the API adds. */
export interface ContainerStats {
  read: string;
  preread: string;
  pids_stats: { current?: number; limit?: number };
  blkio_stats: {
    io_service_bytes_recursive: BlkioEntry[];
    io_serviced_recursive: BlkioEntry[];
    io_queue_recursive: BlkioEntry[];
    io_service_time_recursive: BlkioEntry[];
    io_wait_time_recursive: BlkioEntry[];
    io_merged_recursive: BlkioEntry[];
    io_time_recursive: BlkioEntry[];
    sectors_recursive: BlkioEntry[];
  };
  num_procs: number;
  storage_stats: Record<string, never>;
  cpu_stats: CpuStats;
  precpu_stats: CpuStats;
  memory_stats: MemoryStats;
}

/** The Docker CLI's CPU %: the container's share of host CPU time between the two samples, times the CPUs. */
export function cpuPercent(stats: Pick<ContainerStats, 'cpu_stats' | 'precpu_stats'>): number {
  const cpuDelta = stats.cpu_stats.cpu_usage.total_usage - stats.precpu_stats.cpu_usage.total_usage;
  const systemDelta = (stats.cpu_stats.system_cpu_usage ?? 0) - (stats.precpu_stats.system_cpu_usage ?? 0);
  const cpus = stats.cpu_stats.online_cpus ?? stats.cpu_stats.cpu_usage.percpu_usage?.length ?? 0;
  return systemDelta > 0 && cpuDelta > 0 ? (cpuDelta / systemDelta) * cpus * 100 : 0;
}

/** The Docker CLI's memory "usage": without the page cache the kernel can drop (inactive file pages). */
export function memoryUsedBytes(memory: MemoryStats): number {
  const usage = memory.usage ?? 0;
  const inactiveFile = memory.stats?.total_inactive_file ?? memory.stats?.inactive_file;
  return inactiveFile !== undefined && inactiveFile < usage ? usage - inactiveFile : usage;
}

