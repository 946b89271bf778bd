// `stack inspect NAME...`: the engine's JSON for containers (or images), as docker inspect prints it.

import type { Argv, CommandModule } from 'yargs';
import { NotFoundError } from '../common/errors.js';
import type { GlobalArgs } from './global-options.js';
import type { CliIO } from './io.js';
import { printInspected, withInspectFormat } from './print-inspected.js';

interface InspectArgs extends GlobalArgs {
  names: string[];
  format?: string | undefined;
}

export function inspectCommand(io: CliIO): CommandModule<GlobalArgs, InspectArgs> {
  return {
    command: 'inspect <names..>',
    describe: 'Show the details of containers or images as JSON',
    builder: (y: Argv<GlobalArgs>) => withInspectFormat(y.positional('names', { type: 'string', array: true, demandOption: true })) as unknown as Argv<InspectArgs>,
    handler: (args) => printInspected(io, args.names, async (name, get) => {
      try {
        return await get(`/containers/${encodeURIComponent(name)}/json`);
      } catch (err) {
        if (!(err instanceof NotFoundError)) throw err;
        return get(`/images/${name}/json`).catch(() => {
          throw new NotFoundError(`no container or image named "${name}": see "stack ps -a" and "stack images"`);
        });
      }
    }, args.format),
  };
}
