// `stack start|stop|restart|kill|rm CONTAINER...`: one engine call per container, named in
// the output as docker does; the commands differ only in the call, so one table serves them.

import type { Argv, CommandModule } from 'yargs';
import { RuntimeFailure } from '../common/errors.js';
import type { ApiClient } from '../client/api-client.js';
import { engineClient } from './engine-client.js';
import type { GlobalArgs } from './global-options.js';
import type { CliIO } from './io.js';

interface LifecycleArgs extends GlobalArgs {
  containers: string[];
  time?: number | undefined;
  signal?: string | undefined;
  force: boolean;
  volumes: boolean;
}

interface Action {
  describe: string;
  options: Array<'time' | 'signal' | 'force' | 'volumes'>;
  call(client: ApiClient, id: string, args: LifecycleArgs): Promise<unknown>;
}

const path = (id: string, what: string): string => `/containers/${encodeURIComponent(id)}${what}`;

const ACTIONS: Record<string, Action> = {
  start: { describe: 'Start stopped containers', options: [], call: (c, id) => c.call('POST', path(id, '/start')) },
  stop: { describe: 'Stop running containers (stop signal, then SIGKILL after the grace time)', options: ['time', 'signal'], call: (c, id, a) => c.call('POST', path(id, '/stop'), { query: { t: a.time, signal: a.signal } }) },
  restart: { describe: 'Restart containers', options: ['time', 'signal'], call: (c, id, a) => c.call('POST', path(id, '/restart'), { query: { t: a.time, signal: a.signal } }) },
  kill: { describe: 'Send a signal (SIGKILL by default) to containers', options: ['signal'], call: (c, id, a) => c.call('POST', path(id, '/kill'), { query: { signal: a.signal } }) },
  rm: { describe: 'Remove containers', options: ['force', 'volumes'], call: (c, id, a) => c.call('DELETE', path(id, ''), { query: { force: a.force ? 1 : 0, v: a.volumes ? 1 : undefined } }) },
};

export function lifecycleCommands(io: CliIO): Array<CommandModule<GlobalArgs, LifecycleArgs>> {
  return Object.entries(ACTIONS).map(([name, action]) => ({
    command: `${name} <containers..>`,
    describe: action.describe,
    builder: (y: Argv<GlobalArgs>) => {
      let b = y.positional('containers', { type: 'string', array: true, demandOption: true }) as Argv<GlobalArgs>;
      if (action.options.includes('time')) b = b.option('time', { alias: 't', type: 'number', description: 'Seconds to wait before SIGKILL (default: the container\'s stop timeout, 10)' });
      if (action.options.includes('signal')) b = b.option('signal', { alias: 's', type: 'string', description: 'Signal to send' });
      if (action.options.includes('force')) b = b.option('force', { type: 'boolean', default: false, description: 'Kill a running container first' });
      if (action.options.includes('volumes')) b = b.option('volumes', { alias: 'v', type: 'boolean', default: false, description: 'Also remove the container\'s anonymous volumes' });
      return b as unknown as Argv<LifecycleArgs>;
    },
    handler: async (args) => {
      const client = await engineClient(io);
      const failures: string[] = [];
      for (const id of args.containers) {
        try {
          await action.call(client, id, args);
          io.stdout.write(`${id}\n`);
        } catch (err) {
          failures.push(`${id}: ${(err as Error).message}`);
        }
      }
      if (failures.length) throw new RuntimeFailure(failures.join('\n'));
    },
  }));
}
