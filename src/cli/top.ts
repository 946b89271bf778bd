// `stack top CONTAINER`: the processes running in a container. In a project,
// `stack top [SERVICE...]` shows them for each running container of the services (all of
// them by default), each table under its container's name, as `docker compose top`.

import type { Argv, CommandModule } from 'yargs';
import type { ApiClient } from '../client/api-client.js';
import { UsageError } from '../common/errors.js';
import { engineClient } from './engine-client.js';
import type { GlobalArgs } from './global-options.js';
import type { CliIO } from './io.js';
import { containerNameOf, findProjectScope, noProject, requireServices, resolveContainer, serviceOf, splitNames } from './project-scope.js';
import { printTable } from './table.js';

interface TopArgs extends GlobalArgs {
  container?: string[] | undefined;
}

async function printTop(client: ApiClient, io: CliIO, id: string): Promise<void> {
  const top = await client.call<{ Titles: string[]; Processes: string[][] }>('GET', `/containers/${encodeURIComponent(id)}/top`);
  printTable(io, top.Titles, top.Processes);
}

export function topCommand(io: CliIO): CommandModule<GlobalArgs, TopArgs> {
  return {
    command: 'top [container..]',
    describe: 'Show the processes of a container (in a project: of the services\' containers)',
    builder: (y: Argv<GlobalArgs>) => y.positional('container', { type: 'string', array: true, description: 'A container; in a project, services (default: all)' }) as unknown as Argv<TopArgs>,
    handler: async (args) => {
      const client = await engineClient(io);
      const names = args.container ?? [];
      const scope = await findProjectScope(args, io, client);
      const { services, containers } = splitNames(scope, names);
      if (names.length === 1 && containers.length === 1) {
        await printTop(client, io, (await resolveContainer(client, scope, containers[0]!)).id);
        return;
      }
      if (!scope) throw names.length === 0 ? new UsageError('"stack top" needs a container, or a project (a stack file here, -f FILE or -p NAME) to show its services\' processes') : noProject(`stack top ${names.join(' ')}`);
      requireServices(scope, names);
      const running = scope.containers.filter((c) => c.State === 'running' && (services.length === 0 || services.includes(serviceOf(c))));
      for (const [i, c] of running.entries()) {
        io.stdout.write(`${i > 0 ? '\n' : ''}${containerNameOf(c)}\n`);
        await printTop(client, io, c.Id);
      }
    },
  };
}
