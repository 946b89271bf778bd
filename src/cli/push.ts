// `stack push IMAGE`: the engine pushes from its store to the registry the name points at.

import type { Argv, CommandModule } from 'yargs';
import { engineClient } from './engine-client.js';
import type { GlobalArgs } from './global-options.js';
import type { CliIO } from './io.js';
import { registryAuthHeaders } from './registry-auth.js';
import { showTransferProgress } from './transfer-progress.js';

interface PushArgs extends GlobalArgs {
  image: string;
  quiet: boolean;
}

export function pushCommand(io: CliIO): CommandModule<GlobalArgs, PushArgs> {
  return {
    command: 'push <image>',
    describe: 'Push an image to a registry',
    builder: (y: Argv<GlobalArgs>) =>
      y
        .positional('image', { type: 'string', demandOption: true })
        .option('quiet', { alias: 'q', type: 'boolean', default: false }) as unknown as Argv<PushArgs>,
    handler: async (args) => {
      const client = await engineClient(io);
      const res = await client.open('POST', `/images/${args.image}/push`, { headers: await registryAuthHeaders(io, args.image) });
      await showTransferProgress(res, io, args.quiet);
    },
  };
}
