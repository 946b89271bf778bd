// `stack run --rm IMAGE [CMD...]`: runs one container from a stored image in this process,
// relays its output, and exits with its code. Thin: the work is in src/image/run-once.ts.

import type { Argv, CommandModule } from 'yargs';
import { ContainerExit } from '../common/errors.js';
import type { GlobalArgs } from './global-options.js';
import { engineRoot, openStore, type EngineRootArgs } from './image.js';
import type { CliIO } from './io.js';

interface RunArgs extends EngineRootArgs {
  _: Array<string | number>;
  image: string;
  cmd?: string[] | undefined;
  rm: boolean;
  env?: string | string[] | undefined;
  name?: string | undefined;
  runtime: 'shim' | 'runc';
}

/** Options of `run` (and global ones) that take a value, so the image can be told apart. */
const OPTIONS_WITH_VALUE = new Set(['-e', '--env', '--name', '--root', '--runtime', '-f', '--file', '-p', '--project-name', '--project-directory', '--env-file', '--profile']);

/**
 * Everything after the image is the container's command, options included, as in
 * `docker run IMAGE sh -c ... -e`: mark the end of our options with `--` before yargs
 * parses the line.
 */
export function separateRunCommand(argv: readonly string[]): string[] {
  const run = argv.indexOf('run');
  if (run === -1 || argv.slice(0, run).some((a) => !a.startsWith('-') && !OPTIONS_WITH_VALUE.has(argv[argv.indexOf(a) - 1] ?? ''))) return [...argv];
  for (let i = run + 1; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') return [...argv];
    if (a.startsWith('-')) {
      if (OPTIONS_WITH_VALUE.has(a)) i++;
      continue;
    }
    return [...argv.slice(0, i + 1), '--', ...argv.slice(i + 1)];
  }
  return [...argv];
}

export function runCommand(io: CliIO): CommandModule<GlobalArgs, RunArgs> {
  return {
    command: 'run <image> [cmd..]',
    describe: 'Run a command in a new container from an image',
    builder: (y: Argv<GlobalArgs>) =>
      y
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
          // After `--` (see separateRunCommand) yargs leaves the command in `_`, after "run".
          command: [...(args.cmd ?? []), ...args._.slice(1)].map(String),
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
