// `stack image inspect IMAGE...`: the engine's JSON for images, as docker image inspect prints it.

import type { Argv, CommandModule } from 'yargs';
import type { GlobalArgs } from './global-options.js';
import type { CliIO } from './io.js';
import { printInspected, withInspectFormat } from './print-inspected.js';

interface ImageInspectArgs extends GlobalArgs {
  images: string[];
  format?: string | undefined;
}

export function imageInspectCommand(io: CliIO): CommandModule<GlobalArgs, ImageInspectArgs> {
  return {
    command: 'inspect <images..>',
    describe: 'Show the details of images as JSON',
    builder: (y: Argv<GlobalArgs>) => withInspectFormat(y.positional('images', { type: 'string', array: true, demandOption: true })) as unknown as Argv<ImageInspectArgs>,
    handler: (args) => printInspected(io, args.images, (image, get) => get(`/images/${image}/json`), args.format),
  };
}
