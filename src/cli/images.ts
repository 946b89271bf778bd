// `stack images`: the engine's images, as docker images lists them.

import type { Argv, CommandModule } from 'yargs';
import type { ImageSummary } from '../common/api-types.js';
import { engineClient } from './engine-client.js';
import type { GlobalArgs } from './global-options.js';
import type { CliIO } from './io.js';
import { printTable } from './table.js';

interface ImagesArgs extends GlobalArgs {
  quiet: boolean;
}

export function imagesCommand(io: CliIO): CommandModule<GlobalArgs, ImagesArgs> {
  return {
    command: 'images',
    describe: 'List images',
    builder: (y: Argv<GlobalArgs>) => y.option('quiet', { alias: 'q', type: 'boolean', default: false }) as unknown as Argv<ImagesArgs>,
    handler: async (args) => {
      const client = await engineClient(io);
      const images = await client.call<ImageSummary[]>('GET', '/images/json');
      if (args.quiet) {
        for (const i of images) io.stdout.write(`${i.Id.slice(7, 19)}\n`);
        return;
      }
      printTable(io, ['REPOSITORY', 'TAG', 'IMAGE ID', 'SIZE'], images.flatMap((i) => i.RepoTags.map((tag) => {
        const at = tag.lastIndexOf(':');
        return [tag.slice(0, at), tag.slice(at + 1), i.Id.slice(7, 19), `${(i.Size / 1e6).toFixed(1)}MB`];
      })));
    },
  };
}
