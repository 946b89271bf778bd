// `stack network create|ls|inspect|rm|prune|connect|disconnect`: the engine's networks, as
// `docker network` manages them; thin clients of the /networks API.

import type { Argv, CommandModule } from 'yargs';
import type { NetworkCreateBody, NetworkInspect } from '../common/api-types.js';
import { engineClient, list } from './engine-client.js';
import type { GlobalArgs } from './global-options.js';
import type { CliIO } from './io.js';
import { printInspected, withInspectFormat } from './print-inspected.js';
import { filtersQuery, keyValues } from './key-values.js';
import { printTable } from './table.js';

interface NetworkArgs extends GlobalArgs {
  names?: string[];
  name?: string;
  container?: string;
  subnet?: string;
  gateway?: string;
  internal?: boolean;
  attachable?: boolean;
  label?: string | string[];
  opt?: string | string[];
  driver?: string;
  quiet?: boolean;
  format?: string;
  filter?: string | string[];
  force?: boolean;
  alias?: string | string[];
  ip?: string;
}

export function networkCommand(io: CliIO): CommandModule<GlobalArgs, NetworkArgs> {
  const sub = (command: string, describe: string, builder: (y: Argv<GlobalArgs>) => Argv<GlobalArgs>, handler: (args: NetworkArgs) => Promise<void>): CommandModule<GlobalArgs, NetworkArgs> => ({
    command,
    describe,
    builder: (y: Argv<GlobalArgs>) => builder(y) as unknown as Argv<NetworkArgs>,
    handler,
  });
  return {
    command: 'network <command>',
    describe: 'Manage networks (create, ls, inspect, rm, prune, connect, disconnect)',
    builder: (y: Argv<GlobalArgs>) =>
      y
        .command(sub('create <name>', 'Create a bridge network', (c) => c
          .positional('name', { type: 'string', demandOption: true })
          .option('driver', { alias: 'd', type: 'string', default: 'bridge' })
          .option('subnet', { type: 'string', description: 'CIDR, e.g. 10.90.1.0/24 (default: a free /24 of the engine\'s pool)' })
          .option('gateway', { type: 'string' })
          .option('internal', { type: 'boolean', default: false, description: 'No traffic to or from outside the network' })
          .option('attachable', { type: 'boolean', default: false })
          .option('label', { type: 'string', description: 'K=V (repeatable)' })
          .option('opt', { alias: 'o', type: 'string', description: 'Driver option K=V (repeatable)' }), async (args) => {
          const body: NetworkCreateBody = {
            Name: args.name!,
            Driver: args.driver ?? 'bridge',
            Internal: args.internal ?? false,
            Attachable: args.attachable ?? false,
            Labels: keyValues(list(args.label), '--label'),
            Options: keyValues(list(args.opt), '--opt'),
            ...(args.subnet || args.gateway ? { IPAM: { Config: [{ ...(args.subnet ? { Subnet: args.subnet } : {}), ...(args.gateway ? { Gateway: args.gateway } : {}) }] } } : {}),
          };
          const client = await engineClient(io);
          const { Id } = await client.call<{ Id: string }>('POST', '/networks/create', { body });
          io.stdout.write(`${Id}\n`);
        }))
        .command(sub('ls', 'List networks', (c) => c
          .option('quiet', { alias: 'q', type: 'boolean', default: false })
          .option('format', { type: 'string', description: 'json: one JSON object per line' })
          .option('filter', { type: 'string', description: 'NAME=VALUE: driver, id, label, name, type, dangling (repeatable)' }), async (args) => {
          const client = await engineClient(io);
          const filters = filtersQuery(list(args.filter));
          const networks = await client.call<NetworkInspect[]>('GET', '/networks', { query: filters ? { filters } : {} });
          if (args.quiet) return void networks.forEach((n) => io.stdout.write(`${n.Id.slice(0, 12)}\n`));
          if (args.format === 'json') return void networks.forEach((n) => io.stdout.write(`${JSON.stringify(n)}\n`));
          printTable(io, ['NETWORK ID', 'NAME', 'DRIVER', 'SUBNET', 'SCOPE'], networks.map((n) => [n.Id.slice(0, 12), n.Name, n.Driver, n.IPAM.Config[0]?.Subnet ?? '', n.Scope]));
        }))
        .command(sub('inspect <names..>', 'Show networks as JSON', (c) => withInspectFormat(c.positional('names', { type: 'string', array: true })), (args) => printInspected(io, args.names ?? [], (name, get) => get(`/networks/${encodeURIComponent(name)}`), args.format)))
        .command(sub('rm <names..>', 'Remove networks', (c) => c.positional('names', { type: 'string', array: true }), async (args) => {
          const client = await engineClient(io);
          for (const name of args.names ?? []) {
            await client.call('DELETE', `/networks/${encodeURIComponent(name)}`);
            io.stdout.write(`${name}\n`);
          }
        }))
        .command(sub('prune', 'Remove networks no container uses', (c) => c.option('force', { type: 'boolean', default: false }), async () => {
          const client = await engineClient(io);
          const { NetworksDeleted } = await client.call<{ NetworksDeleted: string[] }>('POST', '/networks/prune');
          if (NetworksDeleted.length) io.stdout.write(`Deleted Networks:\n${NetworksDeleted.join('\n')}\n`);
        }))
        .command(sub('connect <name> <container>', 'Connect a container to a network', (c) => c
          .positional('name', { type: 'string', demandOption: true })
          .positional('container', { type: 'string', demandOption: true })
          .option('alias', { type: 'string', description: 'Another DNS name on this network (repeatable)' })
          .option('ip', { type: 'string' }), async (args) => {
          const client = await engineClient(io);
          const aliases = list(args.alias);
          await client.call('POST', `/networks/${encodeURIComponent(args.name!)}/connect`, {
            body: { Container: args.container, EndpointConfig: { ...(aliases.length ? { Aliases: aliases } : {}), ...(args.ip ? { IPAMConfig: { IPv4Address: args.ip } } : {}) } },
          });
        }))
        .command(sub('disconnect <name> <container>', 'Disconnect a container from a network', (c) => c
          .positional('name', { type: 'string', demandOption: true })
          .positional('container', { type: 'string', demandOption: true }), async (args) => {
          const client = await engineClient(io);
          await client.call('POST', `/networks/${encodeURIComponent(args.name!)}/disconnect`, { body: { Container: args.container } });
        }))
        .demandCommand(1, 'name a network command: create, ls, inspect, rm, prune, connect, disconnect') as unknown as Argv<NetworkArgs>,
    handler: () => undefined,
  };
}
