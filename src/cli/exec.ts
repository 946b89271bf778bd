// `stack exec [-i] [-t] [-e K=V] [-u USER] [-w DIR] SERVICE|CONTAINER CMD...`: runs a command in a
// running container over a hijacked connection (stdin in, output back) and exits with its code.
// In a project (see project-scope.ts) a service name means its replica --index (default 1).

import type { Argv, CommandModule } from 'yargs';
import type { ApiClient } from '../client/api-client.js';
import { ConflictError, ContainerExit, UsageError } from '../common/errors.js';
import { engineClient, list } from './engine-client.js';
import type { GlobalArgs } from './global-options.js';
import type { CliIO } from './io.js';
import { containerNameOf, containersOfService, findProjectScope, replicaIndex, resolveContainer, splitNames } from './project-scope.js';

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
  index?: number | undefined;
}

export function execCommand(io: CliIO): CommandModule<GlobalArgs, ExecArgs> {
  return {
    command: 'exec <container> [cmd..]',
    describe: 'Run a command in a running service container or container',
    builder: (y: Argv<GlobalArgs>) =>
      y
        .positional('container', { type: 'string', demandOption: true })
        .positional('cmd', { type: 'string', array: true })
        .option('interactive', { alias: 'i', type: 'boolean', default: false, description: 'Keep stdin open' })
        .option('tty', { alias: 't', type: 'boolean', default: false, description: 'Allocate a terminal' })
        .option('detach', { alias: 'd', type: 'boolean', default: false, description: 'Run in the background' })
        .option('env', { alias: 'e', type: 'string', description: 'K=V (repeatable)' })
        .option('user', { alias: 'u', type: 'string' })
        .option('workdir', { alias: 'w', type: 'string' })
        .option('index', { type: 'number', description: 'Which replica of a service (default 1)' }) as unknown as Argv<ExecArgs>,
    handler: async (args) => {
      const client = await engineClient(io);
      const cmd = [...(args.cmd ?? []), ...args._.slice(1)].map(String);
      const tty = args.tty && Boolean(process.stdin.isTTY);
      const target = await execTarget(client, args, io);
      const { Id } = await client.call<{ Id: string }>('POST', `/containers/${encodeURIComponent(target)}/exec`, {
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

/** The container ID a service name stands for in a project, or the container named, checked. */
async function execTarget(client: ApiClient, args: ExecArgs, io: CliIO): Promise<string> {
  const scope = await findProjectScope(args, io, client);
  const index = replicaIndex(args.index);
  if (scope && splitNames(scope, [args.container]).services.length === 1) {
    const [container] = containersOfService(scope, args.container, index ?? 1);
    if (container!.State !== 'running') {
      const fix = container!.State === 'paused' ? `"stack unpause ${args.container}" resumes it` : `"stack start ${args.container}" starts it`;
      throw new ConflictError(`container ${containerNameOf(container!)} of service ${args.container} is not running (it is ${container!.State}): ${fix}`);
    }
    return container!.Id;
  }
  if (index !== undefined) throw new UsageError(`--index picks a replica of a service, and "${args.container}" is not a service${scope ? ` of project "${scope.name}"` : ' (no stack file was found here)'}`);
  return (await resolveContainer(client, scope, args.container)).id;
}
