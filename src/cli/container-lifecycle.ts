// `stack start|stop|restart|pause|unpause|kill|rm [SERVICE|CONTAINER...]`. In a project
// (see project-scope.ts) a service name means its containers, acted on in dependency order
// with Compose's progress lines, and no name means every service; any other name is a
// container, acted on with one engine call and named in the output, as docker does. The
// commands differ only in the call, so one table serves them.

import type { Argv, CommandModule } from 'yargs';
import { NotFoundError, RuntimeFailure } from '../common/errors.js';
import type { ApiClient } from '../client/api-client.js';
import type { ServiceAction } from '../compose/service-actions.js';
import { engineClient } from './engine-client.js';
import type { GlobalArgs } from './global-options.js';
import type { CliIO } from './io.js';
import { containerNameOf, containersOfService, findProjectScope, noProject, type ProjectScope, serviceOf, splitNames, unknownName } from './project-scope.js';
import { plainRenderer } from './render-plain.js';

interface LifecycleArgs extends GlobalArgs {
  names?: string[] | undefined;
  time?: number | undefined;
  signal?: string | undefined;
  force: boolean;
  volumes: boolean;
  stop: boolean;
}

interface Action {
  describe: string;
  options: Array<'time' | 'signal' | 'force' | 'volumes' | 'stop'>;
  call(client: ApiClient, id: string, args: LifecycleArgs): Promise<unknown>;
}

const path = (id: string, what: string): string => `/containers/${encodeURIComponent(id)}${what}`;

const ACTIONS: Record<ServiceAction, Action> = {
  start: { describe: 'Start stopped services or containers', options: [], call: (c, id) => c.call('POST', path(id, '/start')) },
  stop: { describe: 'Stop running services or containers (stop signal, then SIGKILL after the grace time)', options: ['time', 'signal'], call: (c, id, a) => c.call('POST', path(id, '/stop'), { query: { t: a.time, signal: a.signal } }) },
  restart: { describe: 'Restart services or containers', options: ['time', 'signal'], call: (c, id, a) => c.call('POST', path(id, '/restart'), { query: { t: a.time, signal: a.signal } }) },
  pause: { describe: 'Pause (freeze) the processes of services or containers', options: [], call: (c, id) => c.call('POST', path(id, '/pause')) },
  unpause: { describe: 'Unpause paused services or containers', options: [], call: (c, id) => c.call('POST', path(id, '/unpause')) },
  kill: { describe: 'Send a signal (SIGKILL by default) to services or containers', options: ['signal'], call: (c, id, a) => c.call('POST', path(id, '/kill'), { query: { signal: a.signal } }) },
  rm: { describe: 'Remove stopped service containers, or containers', options: ['force', 'volumes', 'stop', 'time'], call: (c, id, a) => c.call('DELETE', path(id, ''), { query: { force: a.force ? 1 : 0, v: a.volumes ? 1 : undefined } }) },
};

export function lifecycleCommands(io: CliIO): Array<CommandModule<GlobalArgs, LifecycleArgs>> {
  return (Object.entries(ACTIONS) as Array<[ServiceAction, Action]>).map(([name, action]) => ({
    command: `${name} [names..]`,
    describe: action.describe,
    builder: (y: Argv<GlobalArgs>) => {
      let b = y.positional('names', { type: 'string', array: true, description: 'Services of the project (default: all), or containers' }) as Argv<GlobalArgs>;
      if (action.options.includes('time')) b = b.option('time', { alias: ['t', 'timeout'], type: 'number', description: 'Seconds to wait before SIGKILL (default: the container\'s stop timeout, 10)' });
      if (action.options.includes('signal')) b = b.option('signal', { alias: 's', type: 'string', description: 'Signal to send' });
      if (action.options.includes('force')) b = b.option('force', { type: 'boolean', default: false, description: 'Containers: kill a running one first; services: do not ask (-f)' });
      if (action.options.includes('volumes')) b = b.option('volumes', { alias: 'v', type: 'boolean', default: false, description: 'Also remove the containers\' anonymous volumes' });
      if (action.options.includes('stop')) b = b.option('stop', { alias: 's', type: 'boolean', default: false, description: 'Services: stop their running containers first' });
      return b as unknown as Argv<LifecycleArgs>;
    },
    handler: async (args) => {
      const client = await engineClient(io);
      const scope = await findProjectScope(args, io, client);
      const names = args.names ?? [];
      if (!scope && names.length === 0) throw noProject(`${name} without container names acts on the project's services`);
      const { services, containers } = splitNames(scope, names);
      if (scope && (names.length === 0 || services.length > 0)) await actOnServices(client, io, scope, name, services, args);
      const failures: string[] = [];
      for (const id of containers) {
        try {
          await action.call(client, id, args);
          io.stdout.write(`${id}\n`);
        } catch (err) {
          failures.push(err instanceof NotFoundError && scope ? unknownName(scope, id).message : `${id}: ${(err as Error).message}`);
        }
      }
      if (failures.length) throw new RuntimeFailure(failures.join('\n'));
    },
  }));
}

/** `named` empty means every service that has containers; a named one must have some. */
async function actOnServices(client: ApiClient, io: CliIO, scope: ProjectScope, action: ServiceAction, named: readonly string[], args: LifecycleArgs): Promise<void> {
  if (scope.containers.length === 0) {
    throw new NotFoundError(`project "${scope.name}" has no containers${scope.loaded ? '' : ' (and no stack file names it here)'}: "stack up" creates them; "stack ls -a" lists the projects the engine has`);
  }
  const chosen = named.length > 0 ? [...named] : scope.services.filter((s) => scope.containers.some((c) => serviceOf(c) === s));
  for (const s of chosen) containersOfService(scope, s);
  const { runServiceAction, servicesActedOn } = await import('../compose/service-actions.js');
  const renderer = plainRenderer(io);
  const options = {
    emit: renderer.emit,
    ...(args.time !== undefined ? { timeout: args.time } : {}),
    ...(args.signal !== undefined ? { signal: args.signal } : {}),
    ...(args.volumes ? { removeVolumes: true } : {}),
  };
  if (action === 'rm') {
    if (args.stop) await runServiceAction(client, scope.name, scope.graph, 'stop', chosen, options);
    const candidates = chosen.flatMap((s) => containersOfService(scope, s));
    // After -s every one of them is stopped; otherwise the running ones stay.
    const stopped = args.stop ? candidates : candidates.filter((c) => !['running', 'restarting', 'paused'].includes(c.State));
    if (stopped.length === 0) {
      io.stderr.write('No stopped containers\n');
      return;
    }
    if (!args.force) {
      const { confirm } = await import('./confirm.js');
      if (!(await confirm(io, `Going to remove ${stopped.map(containerNameOf).join(', ')}\n? Are you sure?`))) {
        io.stderr.write('Nothing removed (on no terminal the answer is no: -f removes without asking)\n');
        return;
      }
    }
  }
  const done = await runServiceAction(client, scope.name, scope.graph, action, chosen, options);
  if (done.length === 0) {
    const acted = new Set(servicesActedOn(action, scope.graph, chosen));
    const states = scope.containers.filter((c) => acted.has(serviceOf(c))).map((c) => `${containerNameOf(c)} is ${c.State}`);
    io.stderr.write(`nothing to ${action}: ${states.join(', ') || `services ${[...acted].join(', ')} have no containers`}\n`);
  }
}
