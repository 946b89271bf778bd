// `stack image prune [-a] [-f]`: the engine deletes dangling images (unnamed and unused,
// old build steps among them) or, with -a, every image no container uses; asks first on a
// terminal unless -f.

import type { Argv, CommandModule } from 'yargs';
import { UsageError } from '../common/errors.js';
import { confirm } from './confirm.js';
import { engineClient } from './engine-client.js';
import { humanBytes } from './human-bytes.js';
import type { GlobalArgs } from './global-options.js';
import type { CliIO } from './io.js';

interface PruneArgs extends GlobalArgs {
  all: boolean;
  force: boolean;
}

export function imagePruneCommand(io: CliIO): CommandModule<GlobalArgs, PruneArgs> {
  return {
    command: 'prune',
    describe: 'Remove dangling images (-a: every image no container uses)',
    builder: (y: Argv<GlobalArgs>) =>
      y
        .option('all', { alias: 'a', type: 'boolean', default: false, description: 'Also named images no container uses' })
        .option('force', { type: 'boolean', default: false, description: 'Do not ask (-f)' }) as unknown as Argv<PruneArgs>,
    handler: async (args) => {
      if (!args.force) {
        const what = args.all ? 'all images without at least one container associated to them' : 'all dangling images';
        if (!(await confirm(io, `WARNING! This will remove ${what}. Are you sure you want to continue?`))) {
          throw new UsageError('image prune deletes images: confirm on a terminal, or pass -f');
        }
      }
      const client = await engineClient(io);
      const result = await client.call<{ ImagesDeleted: Array<{ Untagged?: string; Deleted?: string }> | null; SpaceReclaimed: number }>('POST', '/images/prune', {
        query: { filters: JSON.stringify({ dangling: [args.all ? 'false' : 'true'] }) },
      });
      const deleted = result.ImagesDeleted ?? [];
      if (deleted.length) io.stdout.write(`Deleted Images:\n${deleted.map((r) => (r.Untagged !== undefined ? `untagged: ${r.Untagged}\n` : `deleted: ${r.Deleted}\n`)).join('')}\n`);
      io.stdout.write(`Total reclaimed space: ${humanBytes(result.SpaceReclaimed)}\n`);
    },
  };
}
