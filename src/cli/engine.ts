// `stack engine`: run the engine in the foreground; `stack engine status` and
// `stack engine stop` for one running in the background.

import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Argv, CommandModule } from 'yargs';
import { enginePaths, enginePidFile } from '../common/engine-paths.js';
import { RuntimeFailure } from '../common/errors.js';
import { parseInsecureRegistry } from '../image/registry/endpoint.js';
import { list } from './engine-client.js';
import { parseBuildCacheMax } from './engine-main.js';
import type { GlobalArgs } from './global-options.js';
import type { CliIO } from './io.js';
import { stackVersion } from './main.js';

interface EngineArgs extends GlobalArgs {
  action?: string | undefined;
  root?: string | undefined;
  runRoot?: string | undefined;
  socket?: string | undefined;
  insecureRegistry?: string | string[] | undefined;
  buildCacheMax?: string | undefined;
}

export function engineCommand(io: CliIO): CommandModule<GlobalArgs, EngineArgs> {
  return {
    command: 'engine [action]',
    describe: 'Run the engine in the foreground, or: status, stop',
    builder: (y: Argv<GlobalArgs>) =>
      y
        .positional('action', { type: 'string', choices: ['run', 'status', 'stop'], default: 'run' })
        .option('root', { type: 'string', description: 'State directory (env STACK_ROOT; default /var/lib/stack)' })
        .option('run-root', { type: 'string', description: 'Runtime directory (env STACK_RUN_ROOT; default /run/stack)' })
        .option('socket', { type: 'string', description: 'API socket (env STACK_SOCKET; default <run-root>/stack.sock)' })
        .option('insecure-registry', { type: 'string', description: 'Reach this registry HOST[:PORT] over plain HTTP (repeatable; env STACK_INSECURE_REGISTRIES)' })
        .option('build-cache-max', { type: 'string', description: 'Keep the build cache under SIZE (e.g. 2g), evicting the least recently used after builds (default 10g)' }) as unknown as Argv<EngineArgs>,
    handler: async (args) => {
      const paths = enginePaths(io.env, { root: args.root, runRoot: args.runRoot, socket: args.socket });
      if (args.action === 'run' || args.action === undefined) {
        const { runEngineForeground } = await import('../api/stackd.js');
        const insecureRegistries = list(args.insecureRegistry).map((r) => parseInsecureRegistry(r));
        const buildCacheMax = args.buildCacheMax === undefined ? undefined : parseBuildCacheMax(args.buildCacheMax);
        await runEngineForeground(process.env, { ...paths, insecureRegistries, ...(buildCacheMax !== undefined ? { buildCacheMax } : {}) }, stackVersion(), (line) => io.stderr.write(`${line}\n`));
        return;
      }
      const { ApiClient } = await import('../client/api-client.js');
      const client = new ApiClient(paths.socket);
      const pid = Number((await readFile(enginePidFile(paths), 'utf8').catch(() => '')).trim()) || undefined;
      if (args.action === 'status') {
        if (!(await client.ping())) throw new RuntimeFailure(`no engine answers on ${paths.socket}`);
        const version = await client.call<{ Version: string; ApiVersion: string }>('GET', '/version');
        io.stdout.write(`engine ${version.Version} (API ${version.ApiVersion}) running${pid ? `, pid ${pid}` : ''}, socket ${paths.socket}, root ${paths.root}\n`);
        return;
      }
      if (!pid || !(await client.ping())) {
        io.stdout.write(`no engine is running on ${paths.socket}\n`);
        return;
      }
      process.kill(pid, 'SIGTERM');
      for (let i = 0; i < 200 && (await client.ping()); i++) await sleep(50);
      io.stdout.write(`stopped the engine (pid ${pid}); containers keep running\n`);
    },
  };
}
