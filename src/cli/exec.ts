// `stack exec [-i] [-t] [-e K=V] [-u USER] [-w DIR] CONTAINER CMD...`: runs a command in a
// running container over a hijacked connection (stdin in, output back) and exits with its code.

import type { Argv, CommandModule } from 'yargs';
import { ContainerExit } from '../common/errors.js';
import { engineClient, list } from './engine-client.js';
import type { GlobalArgs } from './global-options.js';
import type { CliIO } from './io.js';

interface ExecArgs extends GlobalArgs {
  _: Array<string | number>;
  container: string;
  cmd?: string[] | undefined;
  interactive: boolean;
  tty: boolean;
  env?: string | string[] | undefined;
  user?: string | undefined;
  workdir?: string | undefined;
  detach: boolean;
}

export function execCommand(io: CliIO): CommandModule<GlobalArgs, ExecArgs> {
  return {
    command: 'exec <container> [cmd..]',
    describe: 'Run a command in a running container',
    builder: (y: Argv<GlobalArgs>) =>
      y
        .positional('container', { type: 'string', demandOption: true })
        .positional('cmd', { type: 'string', array: true })
        .option('interactive', { alias: 'i', type: 'boolean', default: false, description: 'Keep stdin open' })
        .option('tty', { alias: 't', type: 'boolean', default: false, description: 'Allocate a terminal' })
        .option('detach', { alias: 'd', type: 'boolean', default: false, description: 'Run in the background' })
        .option('env', { alias: 'e', type: 'string', description: 'K=V (repeatable)' })
        .option('user', { alias: 'u', type: 'string' })
        .option('workdir', { alias: 'w', type: 'string' }) as unknown as Argv<ExecArgs>,
    handler: async (args) => {
      const client = await engineClient(io);
      const cmd = [...(args.cmd ?? []), ...args._.slice(1)].map(String);
      const tty = args.tty && Boolean(process.stdin.isTTY);
      const { Id } = await client.call<{ Id: string }>('POST', `/containers/${encodeURIComponent(args.container)}/exec`, {
        body: {
          AttachStdin: args.interactive, AttachStdout: true, AttachStderr: true, Tty: tty, Cmd: cmd,
          Env: list(args.env), ...(args.user ? { User: args.user } : {}), ...(args.workdir ? { WorkingDir: args.workdir } : {}),
          ...(tty ? { ConsoleSize: [process.stdout.rows ?? 24, process.stdout.columns ?? 80] } : {}),
        },
      });
      if (args.detach) {
        await client.call('POST', `/exec/${Id}/start`, { body: { Detach: true } });
        return;
      }
      const { attachExec } = await import('../client/exec-attach.js');
      const code = await attachExec(client, Id, { tty, stdin: args.interactive ? process.stdin : undefined, stdout: io.stdout, stderr: io.stderr });
      if (code !== 0) throw new ContainerExit(code);
    },
  };
}
