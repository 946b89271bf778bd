// `stack pull IMAGE`: the engine pulls (it owns the store); this shows its progress.

import type { Argv, CommandModule } from 'yargs';
import { engineClient } from './engine-client.js';
import type { GlobalArgs } from './global-options.js';
import type { CliIO } from './io.js';
import { registryAuthHeaders } from './registry-auth.js';
import { showTransferProgress } from './transfer-progress.js';

interface PullArgs extends GlobalArgs {
  image: string;
  platform?: string | undefined;
  quiet: boolean;
}

/** Asks the engine to pull `image`, showing progress; shared with `stack run` of a missing image. */
export async function pullThroughEngine(io: CliIO, image: string, options: { platform?: string | undefined; quiet?: boolean } = {}): Promise<void> {
  const client = await engineClient(io);
  const res = await client.open('POST', '/images/create', {
    query: { fromImage: image, ...(options.platform ? { platform: options.platform } : {}) },
    headers: await registryAuthHeaders(io, image),
  });
  await showTransferProgress(res, io, options.quiet ?? false);
}

export function pullCommand(io: CliIO): CommandModule<GlobalArgs, PullArgs> {
  return {
    command: 'pull <image>',
    describe: 'Pull an image from a registry',
    builder: (y: Argv<GlobalArgs>) =>
      y
        .positional('image', { type: 'string', demandOption: true })
        .option('platform', { type: 'string', description: 'OS/ARCH[/VARIANT] to pull from a multi-platform image (default: this host\'s)' })
        .option('quiet', { alias: 'q', type: 'boolean', default: false, description: 'Print nothing but errors' }) as unknown as Argv<PullArgs>,
    handler: async (args) => {
      await pullThroughEngine(io, args.image, { platform: args.platform, quiet: args.quiet });
      if (args.quiet) io.stdout.write(`${args.image}\n`);
    },
  };
}
