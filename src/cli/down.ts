// `stack down`: stop and remove the project's containers (dependents first), then its
// networks; its named volumes too with -v. Works from the engine's labels, so `-p NAME`
// alone takes a project down when its stack file is gone.

import type { Argv, CommandModule } from 'yargs';
import { NotFoundError } from '../common/errors.js';
import type { GlobalArgs } from './global-options.js';
import type { CliIO } from './io.js';

export interface DownArgs extends GlobalArgs {
  volumes: boolean;
  removeOrphans: boolean;
  timeout?: number | undefined;
  format: 'plain' | 'json';
}

export function downCommand(io: CliIO): CommandModule<GlobalArgs, DownArgs> {
  return {
    command: 'down',
    describe: 'Stop and remove the project\'s containers and networks (and volumes with -v)',
    builder: (y: Argv<GlobalArgs>) =>
      y
        .option('volumes', { alias: 'v', type: 'boolean', default: false, description: 'Remove the named volumes of the stack file and anonymous volumes too' })
        .option('remove-orphans', { type: 'boolean', default: false, description: 'Remove containers of services not in the stack file' })
        .option('timeout', { alias: 't', type: 'number', description: 'Seconds each container gets to stop (default: its stop_grace_period)' })
        .option('format', { type: 'string', choices: ['plain', 'json'], default: 'plain', description: 'Progress as plain lines or JSON lines' }) as unknown as Argv<DownArgs>,
    handler: (args) => runDown(args, io),
  };
}

/** What `down` does once its command line is read (by yargs, or by plain-command-lines.ts). */
export async function runDown(args: DownArgs, io: CliIO): Promise<void> {
  const { loadComposeProject, rendererFor } = await import('./compose-project.js');
  const { downProject } = await import('../compose/down.js');
  const { engineClient } = await import('./engine-client.js');
  let loaded;
  try {
    loaded = loadComposeProject(args, io);
  } catch (err) {
    // No stack file, but a project name: take down what carries its label.
    if (!(err instanceof NotFoundError) || args.projectName === undefined) throw err;
  }
  const renderer = rendererFor(args.format, io);
  const client = await engineClient(io);
  await downProject(client, loaded?.project.name ?? args.projectName!, loaded?.project, loaded?.graph, {
    removeOrphans: args.removeOrphans,
    volumes: args.volumes,
    ...(args.timeout !== undefined ? { timeout: args.timeout } : {}),
    emit: renderer.emit,
  });
}
