// `stack logs [SERVICE|CONTAINER...]`: in a project (see project-scope.ts), its services'
// output as `docker compose logs` prints it (`name  | line`, one colour per container,
// all services by default; -f also picks up containers that start later); one container
// named outside a service, its output as `docker logs` prints it, followed across an
// engine restart.

import type { Argv, CommandModule } from 'yargs';
import type { ApiClient } from '../client/api-client.js';
import { batchedWrites } from '../common/batched-writes.js';
import type { LoggedContainer } from '../compose/project-logs.js';
import { engineClient } from './engine-client.js';
import type { GlobalArgs } from './global-options.js';
import { interruption, type CliIO } from './io.js';
import { containerNameOf, containersOfService, findProjectScope, noProject, type ProjectScope, replicaIndex, replicaOf, resolveContainer, serviceOf, splitNames } from './project-scope.js';
import { plainRenderer, useColour } from './render-plain.js';

export interface LogsArgs extends GlobalArgs {
  names?: string[] | undefined;
  follow: boolean;
  tail?: string | undefined;
  since?: string | undefined;
  until?: string | undefined;
  timestamps: boolean;
  /** --no-log-prefix */
  logPrefix: boolean;
  /** --no-color */
  color: boolean;
  index?: number | undefined;
}

export function logsCommand(io: CliIO): CommandModule<GlobalArgs, LogsArgs> {
  return {
    command: 'logs [names..]',
    describe: 'Show the output of the project\'s services (default: all) or of a container',
    builder: (y: Argv<GlobalArgs>) =>
      y
        .positional('names', { type: 'string', array: true, description: 'Services of the project, or containers' })
        .option('follow', { type: 'boolean', default: false, description: 'Keep printing new output (-f)' })
        .option('tail', { alias: 'n', type: 'string', description: 'Only the last N lines of each container ("all" by default)' })
        .option('since', { type: 'string', description: 'Only output since this time (unix seconds or RFC3339)' })
        .option('until', { type: 'string', description: 'Only output before this time' })
        .option('timestamps', { alias: 't', type: 'boolean', default: false, description: 'Prefix each line with its time' })
        .option('log-prefix', { type: 'boolean', default: true, description: '--no-log-prefix: print lines without the container name' })
        .option('color', { type: 'boolean', default: true, description: '--no-color: no colours in the prefixes' })
        .option('index', { type: 'number', description: 'Only this replica of the services' }) as unknown as Argv<LogsArgs>,
    handler: (args) => runLogs(args, io),
  };
}

/** What `logs` does once its command line is read (by yargs, or by plain-command-lines.ts). */
export async function runLogs(args: LogsArgs, io: CliIO): Promise<void> {
  const client = await engineClient(io);
  const scope = await findProjectScope(args, io, client);
  const names = args.names ?? [];
  const index = replicaIndex(args.index);
  if (!scope && names.length === 0) throw noProject('logs without a container name shows the project\'s services');
  const { services, containers: refs } = splitNames(scope, names);
  const stop = interruption(io);
  try {
    // One container named by its own name: its output as it is, stdout and stderr apart.
    if (services.length === 0 && refs.length === 1) {
      const target = await resolveContainer(client, scope, refs[0]!);
      const { streamLogs } = await import('../client/log-stream.js');
      const out = batchedWrites((chunk) => io.stdout.write(chunk));
      const err = batchedWrites((chunk) => io.stderr.write(chunk.toString('utf8')));
      let last: 'stdout' | 'stderr' = 'stdout';
      await streamLogs(client, target.id, {
        follow: args.follow,
        signal: stop.signal,
        ...(args.tail !== undefined ? { tail: args.tail } : {}),
        ...(args.since !== undefined ? { since: args.since } : {}),
        ...(args.until !== undefined ? { until: args.until } : {}),
      }, (line) => {
        // Lines keep their order across the two streams: a switch sends what the other holds first.
        if (line.stream !== last) (last === 'stdout' ? out : err).flush();
        last = line.stream;
        (line.stream === 'stderr' ? err : out).add(args.timestamps ? `${line.time} ${line.text}` : line.text);
      }).finally(() => {
        out.flush();
        err.flush();
      });
      return;
    }
    const { containers, services: followed } = await loggedContainers(client, scope, names, index);
    const renderer = plainRenderer(io, args.color && useColour(io), args.logPrefix);
    renderer.alignLogs(containers.map((c) => c.name));
    const { projectLogs } = await import('../compose/project-logs.js');
    await projectLogs(client, {
      project: scope?.name ?? '',
      containers,
      services: followed,
      follow: args.follow,
      timestamps: args.timestamps,
      signal: stop.signal,
      emit: renderer.emit,
      onNewContainer: (c) => renderer.alignLogs([c.name]),
      ...(args.tail !== undefined ? { tail: args.tail } : {}),
      ...(args.since !== undefined ? { since: args.since } : {}),
      ...(args.until !== undefined ? { until: args.until } : {}),
    });
  } finally {
    stop.dispose();
  }
}

/**
 * What a project's logs read: the containers of the services named (all without names; the
 * one replica with --index) and of the containers named; and, when following, the services
 * whose containers that start later are read too (none with --index, which names replicas).
 */
async function loggedContainers(client: ApiClient, scope: ProjectScope | undefined, names: readonly string[], index: number | undefined): Promise<{ containers: LoggedContainer[]; services: string[] }> {
  const { services, containers: refs } = splitNames(scope, names);
  const all = names.length === 0;
  const ofServices = !scope ? [] : all
    ? scope.containers.filter((c) => index === undefined || replicaOf(c) === index)
    : services.flatMap((s) => containersOfService(scope, s, index));
  const named = await Promise.all(refs.map((r) => resolveContainer(client, scope, r)));
  return {
    containers: [
      ...ofServices.map((c) => ({ id: c.Id, name: containerNameOf(c), service: serviceOf(c) })),
      ...named.map((c) => ({ ...c, service: '' })),
    ],
    services: scope && index === undefined ? (all ? scope.services : services) : [],
  };
}
