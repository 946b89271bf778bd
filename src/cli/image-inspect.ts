// `stack image inspect IMAGE...`: the engine's JSON for images, as docker image inspect prints it.

import type { Argv, CommandModule } from 'yargs';
import { engineClient } from './engine-client.js';
import type { GlobalArgs } from './global-options.js';
import type { CliIO } from './io.js';

interface ImageInspectArgs extends GlobalArgs {
  images: string[];
}

export function imageInspectCommand(io: CliIO): CommandModule<GlobalArgs, ImageInspectArgs> {
  return {
    command: 'inspect <images..>',
    describe: 'Show the details of images as JSON',
    builder: (y: Argv<GlobalArgs>) => y.positional('images', { type: 'string', array: true, demandOption: true }) as unknown as Argv<ImageInspectArgs>,
    handler: async (args) => {
      const client = await engineClient(io);
      const out: unknown[] = [];
      for (const image of args.images) out.push(await client.call('GET', `/images/${image}/json`));
      io.stdout.write(`${JSON.stringify(out, null, 4)}\n`);
    },
  };
}
