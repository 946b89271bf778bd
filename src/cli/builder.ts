// `stack builder prune [-a] [--keep-storage SIZE] [-f]`: the engine drops build cache
// (`POST /build/prune`, as `docker builder prune`); asks first on a terminal unless -f.

import type { Argv, CommandModule } from 'yargs';
import { UsageError } from '../common/errors.js';
import { parseBytes } from '../compose/short-syntax/units.js';
import { confirm } from './confirm.js';
import { engineClient } from './engine-client.js';
import type { GlobalArgs } from './global-options.js';
import { humanBytes } from './human-bytes.js';
import type { CliIO } from './io.js';

interface BuilderPruneArgs extends GlobalArgs {
  all: boolean;
  keepStorage?: string | undefined;
  force: boolean;
}

export function builderCommand(io: CliIO): CommandModule<GlobalArgs, BuilderPruneArgs> {
  const prune: CommandModule<GlobalArgs, BuilderPruneArgs> = {
    command: 'prune',
    describe: 'Remove build cache (-a: also the steps of named images)',
    builder: (y: Argv<GlobalArgs>) =>
      y
        .option('all', { alias: 'a', type: 'boolean', default: false, description: 'Remove all unused build cache, not just dangling' })
        .option('keep-storage', { type: 'string', description: 'Keep this much cache (e.g. 500m), the least recently used going first' })
        .option('force', { type: 'boolean', default: false, description: 'Do not ask (-f)' }) as unknown as Argv<BuilderPruneArgs>,
    handler: async (args) => {
      let keepStorage = 0;
      if (args.keepStorage !== undefined) {
        const size = parseBytes(args.keepStorage);
        if (!size.ok) throw new UsageError(`--keep-storage: ${size.error}`);
        keepStorage = size.value;
      }
      if (!args.force) {
        const what = args.all ? 'all build cache' : 'all dangling build cache';
        if (!(await confirm(io, `WARNING! This will remove ${what}. Are you sure you want to continue?`))) {
          throw new UsageError('builder prune deletes build cache: confirm on a terminal, or pass -f');
        }
      }
      const client = await engineClient(io);
      const result = await client.call<{ CachesDeleted: string[] | null; SpaceReclaimed: number }>('POST', '/build/prune', {
        query: { all: args.all ? '1' : '0', 'keep-storage': String(keepStorage) },
      });
      const deleted = result.CachesDeleted ?? [];
      if (deleted.length) io.stdout.write(`Deleted build cache objects:\n${deleted.map((id) => `${id}\n`).join('')}\n`);
      io.stdout.write(`Total reclaimed space: ${humanBytes(result.SpaceReclaimed)}\n`);
    },
  };
  return {
    command: 'builder <command>',
    describe: 'Manage the build cache (prune)',
    builder: (y: Argv<GlobalArgs>) => y.command(prune).demandCommand(1, 'say what to do: prune') as unknown as Argv<BuilderPruneArgs>,
    handler: () => undefined,
  };
}
