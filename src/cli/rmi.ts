// `stack rmi [-f] IMAGE...`: the engine untags each name and deletes an image nothing else
// names or uses, as docker rmi does; prints `Untagged:` and `Deleted:` lines. Every image is
// tried; the failures are reported together at the end.

import type { Argv, CommandModule } from 'yargs';
import { RuntimeFailure } from '../common/errors.js';
import { engineClient } from './engine-client.js';
import type { GlobalArgs } from './global-options.js';
import type { CliIO } from './io.js';

interface RmiArgs extends GlobalArgs {
  images: string[];
  force: boolean;
}

export function rmiCommand(io: CliIO, command = 'rmi'): CommandModule<GlobalArgs, RmiArgs> {
  return {
    command: `${command} <images..>`,
    describe: 'Remove images (untag; delete when no other name and no container uses it)',
    builder: (y: Argv<GlobalArgs>) =>
      y
        .positional('images', { type: 'string', array: true, demandOption: true })
        .option('force', { type: 'boolean', default: false, description: 'Also when several names or a stopped container use it (-f)' }) as unknown as Argv<RmiArgs>,
    handler: async (args) => {
      const client = await engineClient(io);
      const failures: string[] = [];
      for (const image of args.images) {
        try {
          const removed = await client.call<Array<{ Untagged?: string; Deleted?: string }>>('DELETE', `/images/${image}`, { query: { force: args.force ? 1 : undefined } });
          for (const r of removed) io.stdout.write(r.Untagged !== undefined ? `Untagged: ${r.Untagged}\n` : `Deleted: ${r.Deleted}\n`);
        } catch (err) {
          failures.push((err as Error).message);
        }
      }
      if (failures.length) throw new RuntimeFailure(failures.join('\n'));
    },
  };
}
