// `stack logout [REGISTRY]`: forgets the registry's login in ~/.docker/config.json.

import type { Argv, CommandModule } from 'yargs';
import { removeLogin } from '../common/docker-config.js';
import type { GlobalArgs } from './global-options.js';
import type { CliIO } from './io.js';

interface LogoutArgs extends GlobalArgs {
  registry?: string | undefined;
}

export function logoutCommand(io: CliIO): CommandModule<GlobalArgs, LogoutArgs> {
  return {
    command: 'logout [registry]',
    describe: 'Log out from a registry (Docker Hub by default)',
    builder: (y: Argv<GlobalArgs>) => y.positional('registry', { type: 'string' }) as unknown as Argv<LogoutArgs>,
    handler: async (args) => {
      const registry = args.registry ?? 'docker.io';
      const removed = await removeLogin(io.env, registry);
      io.stdout.write(removed ? `Removing login credentials for ${registry}\n` : `Not logged in to ${registry}\n`);
    },
  };
}
