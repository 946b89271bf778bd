// `stack stats [CONTAINER...]`: CPU, memory and pids of running containers, one sample
// (the engine answers with two samples' worth, so the CPU percentage is real).

import type { Argv, CommandModule } from 'yargs';
import type { ContainerSummary } from '../common/api-types.js';
import type { ContainerStats } from '../common/container-stats-shape.js';
import { engineClient } from './engine-client.js';
import type { GlobalArgs } from './global-options.js';
import type { CliIO } from './io.js';
import { printTable } from './table.js';

interface StatsArgs extends GlobalArgs {
  containers?: string[] | undefined;
}

export function statsCommand(io: CliIO): CommandModule<GlobalArgs, StatsArgs> {
  return {
    command: 'stats [containers..]',
    describe: 'Show CPU, memory and process counts of running containers',
    builder: (y: Argv<GlobalArgs>) => y.positional('containers', { type: 'string', array: true }) as unknown as Argv<StatsArgs>,
    handler: async (args) => {
      const { cpuPercent, memoryUsedBytes } = await import('../common/container-stats-shape.js');
      const client = await engineClient(io);
      const names = args.containers?.length
        ? args.containers
        : (await client.call<ContainerSummary[]>('GET', '/containers/json')).map((c) => c.Names[0]!.slice(1));
      const rows: string[][] = [];
      for (const name of names) {
        const s = await client.call<ContainerStats & { id: string; name: string }>('GET', `/containers/${encodeURIComponent(name)}/stats`, { query: { stream: 0 } });
        const used = memoryUsedBytes(s.memory_stats);
        const limit = s.memory_stats.limit ?? 0;
        rows.push([s.id.slice(0, 12), s.name.slice(1), `${cpuPercent(s).toFixed(2)}%`, `${mib(used)} / ${mib(limit)}`, `${limit ? ((used / limit) * 100).toFixed(2) : '0.00'}%`, String(s.pids_stats.current ?? 0)]);
      }
      printTable(io, ['CONTAINER ID', 'NAME', 'CPU %', 'MEM USAGE / LIMIT', 'MEM %', 'PIDS'], rows);
    },
  };
}

function mib(bytes: number): string {
  return bytes >= 1024 ** 3 ? `${(bytes / 1024 ** 3).toFixed(2)}GiB` : `${(bytes / 1024 ** 2).toFixed(2)}MiB`;
}
