// `stack top CONTAINER`: the processes running in a container.

import type { Argv, CommandModule } from 'yargs';
import { engineClient } from './engine-client.js';
import type { GlobalArgs } from './global-options.js';
import type { CliIO } from './io.js';
import { printTable } from './table.js';

interface TopArgs extends GlobalArgs {
  container: string;
}

export function topCommand(io: CliIO): CommandModule<GlobalArgs, TopArgs> {
  return {
    command: 'top <container>',
    describe: 'Show the processes of a container',
    builder: (y: Argv<GlobalArgs>) => y.positional('container', { type: 'string', demandOption: true }) as unknown as Argv<TopArgs>,
    handler: async (args) => {
      const client = await engineClient(io);
      const top = await client.call<{ Titles: string[]; Processes: string[][] }>('GET', `/containers/${encodeURIComponent(args.container)}/top`);
      printTable(io, top.Titles, top.Processes);
    },
  };
}
