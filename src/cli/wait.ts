// `stack wait SERVICE...`: blocks until the services' containers have stopped, prints each
// one's exit code (in the order of the services named), and exits with the first that is
// not zero; --down-project takes the project down afterwards, as `docker compose wait` does.

import type { Argv, CommandModule } from 'yargs';
import { ContainerExit } from '../common/errors.js';
import { engineClient } from './engine-client.js';
import type { GlobalArgs } from './global-options.js';
import { interruption, type CliIO } from './io.js';
import { containerNameOf, containersOfService, findProjectScope, noProject, requireServices } from './project-scope.js';

interface WaitArgs extends GlobalArgs {
  services: string[];
  downProject: boolean;
}

export function waitCommand(io: CliIO): CommandModule<GlobalArgs, WaitArgs> {
  return {
    command: 'wait <services..>',
    describe: 'Wait for the services\' containers to stop; exit with the first non-zero exit code',
    builder: (y: Argv<GlobalArgs>) =>
      y
        .positional('services', { type: 'string', array: true, demandOption: true })
        .option('down-project', { type: 'boolean', default: false, description: 'Take the project down once they have stopped' }) as unknown as Argv<WaitArgs>,
    handler: async (args) => {
      const client = await engineClient(io);
      const scope = await findProjectScope(args, io, client);
      if (!scope) throw noProject('wait acts on the project\'s services');
      requireServices(scope, args.services);
      const containers = args.services.flatMap((s) => containersOfService(scope, s));
      const stop = interruption(io);
      let codes: number[];
      try {
        const waits = containers.map((c) => client.call<{ StatusCode: number }>('POST', `/containers/${c.Id}/wait`, { query: { condition: 'not-running' }, signal: stop.signal }));
        codes = [];
        for (const [i, waiting] of waits.entries()) {
          const { StatusCode } = await waiting;
          io.stdout.write(`${containerNameOf(containers[i]!)} exited with code ${StatusCode}\n`);
          codes.push(StatusCode);
        }
      } catch (err) {
        if (stop.signal.aborted) throw new ContainerExit(130);
        throw err;
      } finally {
        stop.dispose();
      }
      if (args.downProject) {
        const { downProject } = await import('../compose/down.js');
        const { plainRenderer } = await import('./render-plain.js');
        await downProject(client, scope.name, scope.loaded?.project, scope.loaded?.graph, { emit: plainRenderer(io).emit });
      }
      const failed = codes.find((c) => c !== 0);
      if (failed !== undefined) throw new ContainerExit(failed);
    },
  };
}
