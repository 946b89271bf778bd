// `stack config`: load, validate and print the normalized stack file, or list parts
// of it. The first thing to run on a new or broken file.

import type { Argv, CommandModule } from 'yargs';
import type { GlobalArgs } from './global-options.js';
import type { CliIO } from './io.js';

export interface ConfigArgs extends GlobalArgs {
  service?: string[] | undefined;
  format: string;
  services: boolean;
  volumes: boolean;
  profiles: boolean;
  quiet: boolean;
}

export function configCommand(io: CliIO): CommandModule<GlobalArgs, ConfigArgs> {
  return {
    command: 'config [service..]',
    describe: 'Validate the stack file and print it in canonical form',
    builder: (y: Argv<GlobalArgs>) =>
      y
        .positional('service', { type: 'string', array: true, description: 'Only these services' })
        .option('format', { type: 'string', choices: ['yaml', 'json'], default: 'yaml', description: 'Output format' })
        .option('services', { type: 'boolean', default: false, description: 'Print the service names, one per line' })
        .option('volumes', { type: 'boolean', default: false, description: 'Print the volume names, one per line' })
        .option('profiles', { type: 'boolean', default: false, description: 'Print the profile names, one per line' })
        .option('quiet', { alias: 'q', type: 'boolean', default: false, description: 'Only validate; print nothing' }) as unknown as Argv<ConfigArgs>,
    handler: async (args) => {
      // The loading pipeline is loaded with the command that needs it, not for --help.
      const { runConfig } = await import('./config-run.js');
      runConfig(args, io);
    },
  };
}
