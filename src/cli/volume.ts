// `stack volume create|ls|inspect|rm|prune`: thin clients of the engine's /volumes API,
// printing what `docker volume` prints.

import type { Argv, CommandModule } from 'yargs';
import { RuntimeFailure, UsageError } from '../common/errors.js';
import type { VolumeListResponse, VolumePruneResponse, VolumeView } from '../common/volume-api-types.js';
import { engineClient, list } from './engine-client.js';
import type { GlobalArgs } from './global-options.js';
import { confirm } from './confirm.js';
import type { CliIO } from './io.js';
import { printInspected, withInspectFormat } from './print-inspected.js';
import { filtersQuery, keyValues } from './key-values.js';
import { printTable } from './table.js';

interface VolumeArgs extends GlobalArgs {
  name?: string | undefined;
  names?: string[] | undefined;
  label?: string | string[] | undefined;
  opt?: string | string[] | undefined;
  driver?: string | undefined;
  quiet?: boolean;
  format?: string | undefined;
  filter?: string | string[] | undefined;
  force?: boolean;
  all?: boolean;
}

function bytes(n: number): string {
  if (n < 1000) return `${n}B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = -1;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v.toFixed(3).replace(/\.?0+$/, '')}${units[i]}`;
}

export function volumeCommand(io: CliIO): CommandModule<GlobalArgs, VolumeArgs> {
  return {
    command: 'volume <command>',
    describe: 'Create, list, inspect and remove volumes',
    builder: (y: Argv<GlobalArgs>) =>
      y
        .command({
          command: 'create [name]',
          describe: 'Create a volume (a random name when none is given)',
          builder: (b) =>
            b
              .positional('name', { type: 'string' })
              .option('label', { type: 'string', description: 'K=V (repeatable)' })
              .option('opt', { alias: 'o', type: 'string', description: 'Driver option (repeatable): type=none,o=bind,device=/path or type=tmpfs,o=size=64m' })
              .option('driver', { alias: 'd', type: 'string', default: 'local' }),
          handler: async (args) => {
            const a = args as unknown as VolumeArgs;
            const client = await engineClient(io);
            const volume = await client.call<VolumeView>('POST', '/volumes/create', {
              body: { Name: a.name ?? '', Driver: a.driver ?? 'local', Labels: keyValues(list(a.label), '--label'), DriverOpts: keyValues(list(a.opt), '--opt') },
            });
            io.stdout.write(`${volume.Name}\n`);
          },
        })
        .command({
          command: 'ls',
          aliases: ['list'],
          describe: 'List volumes',
          builder: (b) =>
            b
              .option('quiet', { alias: 'q', type: 'boolean', default: false, description: 'Only names' })
              .option('format', { type: 'string', choices: ['table', 'json'], description: 'Output format' })
              .option('filter', { type: 'string', description: 'name=, label=K[=V], dangling=true|false, driver= (repeatable)' }),
          handler: async (args) => {
            const a = args as unknown as VolumeArgs;
            const client = await engineClient(io);
            const filters = filtersQuery(list(a.filter));
            const { Volumes } = await client.call<VolumeListResponse>('GET', '/volumes', { query: { filters } });
            if (a.quiet) for (const v of Volumes) io.stdout.write(`${v.Name}\n`);
            else if (a.format === 'json') for (const v of Volumes) io.stdout.write(`${JSON.stringify(v)}\n`);
            else printTable(io, ['DRIVER', 'VOLUME NAME'], Volumes.map((v) => [v.Driver, v.Name]));
          },
        })
        .command({
          command: 'inspect <names..>',
          describe: 'Show volumes as JSON',
          builder: (c) => withInspectFormat(c),
          handler: (args) => printInspected(io, (args as unknown as VolumeArgs).names ?? [], (name, get) => get(`/volumes/${encodeURIComponent(name)}`), (args as unknown as VolumeArgs).format),
        })
        .command({
          command: 'rm <names..>',
          aliases: ['remove'],
          describe: 'Remove volumes no container uses',
          builder: (b) => b.option('force', { type: 'boolean', default: false, description: 'No error for a volume that does not exist (-f)' }),
          handler: async (args) => {
            const a = args as unknown as VolumeArgs;
            const client = await engineClient(io);
            const failures: string[] = [];
            for (const name of a.names ?? []) {
              try {
                await client.call('DELETE', `/volumes/${encodeURIComponent(name)}`, { query: { force: a.force ? 1 : undefined } });
                io.stdout.write(`${name}\n`);
              } catch (err) {
                failures.push((err as Error).message);
              }
            }
            if (failures.length) throw new RuntimeFailure(failures.join('\n'));
          },
        })
        .command({
          command: 'prune',
          describe: 'Remove the anonymous volumes no container uses (-a: named ones too)',
          builder: (b) =>
            b
              .option('all', { alias: 'a', type: 'boolean', default: false, description: 'Named volumes too' })
              .option('force', { type: 'boolean', default: false, description: 'Do not ask (-f)' })
              .option('filter', { type: 'string', description: 'label=K[=V], label!=K[=V] (repeatable)' }),
          handler: async (args) => {
            const a = args as unknown as VolumeArgs;
            if (!a.force) {
              const what = a.all ? 'all volumes' : 'all anonymous volumes';
              if (!(await confirm(io, `WARNING! This will remove ${what} not used by at least one container. Are you sure you want to continue?`))) {
                throw new UsageError('volume prune removes data: confirm on a terminal, or pass -f');
              }
            }
            const client = await engineClient(io);
            const filters: Record<string, string[]> = JSON.parse(filtersQuery(list(a.filter)) ?? '{}') as Record<string, string[]>;
            if (a.all) filters.all = ['true'];
            const result = await client.call<VolumePruneResponse>('POST', '/volumes/prune', { query: { filters: JSON.stringify(filters) } });
            if (result.VolumesDeleted.length) io.stdout.write(`Deleted Volumes:\n${result.VolumesDeleted.map((n) => `${n}\n`).join('')}\n`);
            io.stdout.write(`Total reclaimed space: ${bytes(result.SpaceReclaimed)}\n`);
          },
        })
        .demandCommand(1, 'name a volume command: create, ls, inspect, rm, prune') as unknown as Argv<VolumeArgs>,
    handler: () => undefined,
  };
}
