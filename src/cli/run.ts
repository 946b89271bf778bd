// `stack run --rm IMAGE [CMD...]`: runs one container from a stored image in this process,
// relays its output, and exits with its code. Thin: the work is in src/image/run-once.ts.

import type { Argv, CommandModule } from 'yargs';
import { ContainerExit } from '../common/errors.js';
import type { GlobalArgs } from './global-options.js';
import { engineRoot, openStore, type EngineRootArgs } from './image.js';
import type { CliIO } from './io.js';

interface RunArgs extends EngineRootArgs {
  image: string;
  cmd?: string[] | undefined;
  rm: boolean;
  env?: string | string[] | undefined;
  name?: string | undefined;
  runtime: 'shim' | 'runc';
}

export function runCommand(io: CliIO): CommandModule<GlobalArgs, RunArgs> {
  return {
    command: 'run <image> [cmd..]',
    describe: 'Run a command in a new container from an image',
    builder: (y: Argv<GlobalArgs>) =>
      y
        .parserConfiguration({ 'unknown-options-as-args': true })
        .positional('image', { type: 'string', demandOption: true })
        .positional('cmd', { type: 'string', array: true })
        .option('rm', { type: 'boolean', default: false, description: 'Remove the container when it exits (always, for now)' })
        .option('env', { alias: 'e', type: 'string', description: 'K=V (repeatable)' })
        .option('name', { type: 'string' })
        .option('runtime', { type: 'string', choices: ['shim', 'runc'], default: 'shim', description: 'Run under our shim, or under runc (the same OCI bundle)' })
        .option('root', { type: 'string', description: 'Engine root directory (env STACK_ROOT; default /var/lib/stack)' }) as unknown as Argv<RunArgs>,
    handler: async (args) => {
      const { runImageOnce } = await import('../image/run-once.js');
      const root = engineRoot(args, io);
      const store = await openStore(root);
      const abort = new AbortController();
      const onSigint = (): void => abort.abort();
      process.once('SIGINT', onSigint);
      try {
        const code = await runImageOnce(store, {
          image: args.image,
          command: (args.cmd ?? []).map(String),
          env: args.env === undefined ? [] : Array.isArray(args.env) ? args.env : [args.env],
          ...(args.name !== undefined ? { name: args.name } : {}),
          root,
          runtime: args.runtime,
          signal: abort.signal,
          onLog: (entry) => (entry.stream === 'stdout' ? io.stdout : io.stderr).write(entry.log),
        });
        if (code !== 0) throw new ContainerExit(code);
      } finally {
        process.off('SIGINT', onSigint);
      }
    },
  };
}
