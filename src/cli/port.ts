// `stack port`: where a container's ports are published on the host.
//   docker style: `stack port CONTAINER [PORT[/PROTO]]`: every mapping ("80/tcp -> 0.0.0.0:8080"),
//                 or the host addresses of one port;
//   in a project: `stack port [--protocol P] [--index N] SERVICE PORT`: the host address of
//                 that port of the service's container (replica 1 by default), as Compose.

import type { Argv, CommandModule } from 'yargs';
import type { ContainerInspect, PortBinding } from '../common/api-types.js';
import { NotFoundError, UsageError } from '../common/errors.js';
import { engineClient } from './engine-client.js';
import type { GlobalArgs } from './global-options.js';
import type { CliIO } from './io.js';
import { containerNameOf, containersOfService, findProjectScope, replicaIndex, resolveContainer, splitNames } from './project-scope.js';

interface PortArgs extends GlobalArgs {
  container: string;
  port?: string | undefined;
  protocol?: string | undefined;
  index?: number | undefined;
}

/** `80`, `80/tcp` or `53/udp` as the key Docker uses (`80/tcp`). */
function portKey(port: string, protocol: string | undefined): string {
  const m = /^(\d+)(?:\/(tcp|udp|sctp))?$/.exec(port);
  if (!m) throw new UsageError(`"${port}" is not a port like 80 or 53/udp`);
  if (m[2] && protocol && m[2] !== protocol) throw new UsageError(`"${port}" says ${m[2]} but --protocol says ${protocol}`);
  return `${m[1]}/${m[2] ?? protocol ?? 'tcp'}`;
}

function hostAddress(b: PortBinding): string {
  return `${b.HostIp || '0.0.0.0'}:${b.HostPort ?? ''}`;
}

export function portCommand(io: CliIO): CommandModule<GlobalArgs, PortArgs> {
  return {
    command: 'port <container> [port]',
    describe: 'Show where a container\'s (or, in a project, a service\'s) ports are published',
    builder: (y: Argv<GlobalArgs>) =>
      y
        .positional('container', { type: 'string', demandOption: true, description: 'A container, or a service of the project' })
        .positional('port', { type: 'string', description: 'A port inside, e.g. 80 or 53/udp (a service needs one)' })
        .option('protocol', { type: 'string', choices: ['tcp', 'udp', 'sctp'], description: 'The port\'s protocol (default tcp)' })
        .option('index', { type: 'number', description: 'Which replica of the service (default 1)' }) as unknown as Argv<PortArgs>,
    handler: async (args) => {
      const client = await engineClient(io);
      const scope = await findProjectScope(args, io, client);
      const index = replicaIndex(args.index);
      let id: string;
      let name: string;
      if (scope && splitNames(scope, [args.container]).services.length === 1) {
        if (args.port === undefined) throw new UsageError(`stack port ${args.container}: name the port inside, e.g. "stack port ${args.container} 80"`);
        const [container] = containersOfService(scope, args.container, index ?? 1);
        [id, name] = [container!.Id, containerNameOf(container!)];
      } else {
        if (index !== undefined) throw new UsageError(`--index picks a replica of a service, and "${args.container}" is not a service${scope ? ` of project "${scope.name}"` : ''}`);
        ({ id, name } = await resolveContainer(client, scope, args.container));
      }
      const inspect = await client.call<ContainerInspect>('GET', `/containers/${id}/json`);
      const ports = inspect.NetworkSettings.Ports ?? {};
      if (args.port === undefined) {
        for (const [key, bindings] of Object.entries(ports).sort()) for (const b of bindings ?? []) io.stdout.write(`${key} -> ${hostAddress(b)}\n`);
        return;
      }
      const key = portKey(args.port, args.protocol);
      const bindings = ports[key] ?? [];
      if (bindings.length === 0) throw new NotFoundError(`no public port ${key} published for ${name}`);
      for (const b of bindings) io.stdout.write(`${hostAddress(b)}\n`);
    },
  };
}
