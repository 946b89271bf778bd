// `stack logs [-f] [--tail N] [--since T] [-t] CONTAINER`: the container's output,
// followed across an engine restart.

import type { Argv, CommandModule } from 'yargs';
import { engineClient } from './engine-client.js';
import type { GlobalArgs } from './global-options.js';
import type { CliIO } from './io.js';

interface LogsArgs extends GlobalArgs {
  container: string;
  follow: boolean;
  tail?: string | undefined;
  since?: string | undefined;
  until?: string | undefined;
  timestamps: boolean;
}

export function logsCommand(io: CliIO): CommandModule<GlobalArgs, LogsArgs> {
  return {
    command: 'logs <container>',
    describe: 'Show a container\'s output',
    builder: (y: Argv<GlobalArgs>) =>
      y
        .positional('container', { type: 'string', demandOption: true })
        .option('follow', { type: 'boolean', default: false, description: 'Keep printing new output' })
        .option('tail', { alias: 'n', type: 'string', description: 'Only the last N lines ("all" by default)' })
        .option('since', { type: 'string', description: 'Only output since this time (unix seconds or RFC3339)' })
        .option('until', { type: 'string', description: 'Only output before this time' })
        .option('timestamps', { alias: 't', type: 'boolean', default: false, description: 'Prefix each line with its time' }) as unknown as Argv<LogsArgs>,
    handler: async (args) => {
      const client = await engineClient(io);
      const { streamLogs } = await import('../client/log-stream.js');
      const abort = new AbortController();
      const onSigint = (): void => abort.abort();
      process.once('SIGINT', onSigint);
      try {
        await streamLogs(client, args.container, {
          follow: args.follow,
          signal: abort.signal,
          ...(args.tail !== undefined ? { tail: args.tail } : {}),
          ...(args.since !== undefined ? { since: args.since } : {}),
          ...(args.until !== undefined ? { until: args.until } : {}),
        }, (line) => (line.stream === 'stderr' ? io.stderr : io.stdout).write(args.timestamps ? `${line.time} ${line.text}` : line.text));
      } finally {
        process.off('SIGINT', onSigint);
      }
    },
  };
}
