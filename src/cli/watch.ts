// `stack watch [SERVICE...]`: as `docker compose watch` does, bring the services up (as
// `up -d` would, unless --no-up), then act on file changes by the services' develop.watch
// rules until Ctrl-C, which stops watching and leaves the services running (exit 130).

import type { Argv, CommandModule } from 'yargs';
import { ContainerExit } from '../common/errors.js';
import type { EmitEvent } from '../compose/events.js';
import type { GlobalArgs } from './global-options.js';
import { interruption, type CliIO } from './io.js';

export interface WatchArgs extends GlobalArgs {
  service?: string[] | undefined;
  /** --no-up */
  up: boolean;
  quiet: boolean;
  prune: boolean;
  format: 'plain' | 'json';
}

const EXIT_INTERRUPTED = 130;

export function watchCommand(io: CliIO): CommandModule<GlobalArgs, WatchArgs> {
  return {
    command: 'watch [service..]',
    describe: 'Start the services, then sync, restart or rebuild them as their develop.watch files change',
    builder: (y: Argv<GlobalArgs>) =>
      y
        .positional('service', { type: 'string', array: true, description: 'Only these services (each needs develop.watch rules)' })
        .option('up', { type: 'boolean', default: true, description: '--no-up: do not build and start the services before watching' })
        .option('quiet', { type: 'boolean', default: false, description: 'Hide build output and the files of each sync' })
        .option('prune', { type: 'boolean', default: true, description: 'After a rebuild, remove the image it replaced (--no-prune keeps it)' })
        .option('format', { type: 'string', choices: ['plain', 'json'], default: 'plain', description: 'Progress as plain lines or JSON lines' }) as unknown as Argv<WatchArgs>,
    handler: (args) => runWatch(args, io),
  };
}

export async function runWatch(args: WatchArgs, io: CliIO): Promise<void> {
  const { loadComposeProject, rendererFor } = await import('./compose-project.js');
  const { planWatch } = await import('../watch/watch-plan.js');
  const { WatchSession } = await import('../watch/watch-session.js');
  const { upProject } = await import('../compose/up.js');
  const { engineClient } = await import('./engine-client.js');
  const { registryLogins } = await import('./registry-auth.js');
  const loaded = loadComposeProject(args, io);
  // Refused before anything starts: a named service without rules, no rules at all.
  const plan = planWatch(loaded.project, args.service ?? []);
  const client = await engineClient(io);
  const renderer = rendererFor(args.format, io);
  const emit = args.quiet ? withoutDetail(renderer.emit) : renderer.emit;
  const logins = registryLogins(io);
  const stop = interruption(io);
  try {
    if (args.up) {
      await upProject(client, loaded, { services: args.service ?? [], emit, logins, signal: stop.signal }).catch((err: unknown) => {
        throw stop.signal.aborted ? new ContainerExit(EXIT_INTERRUPTED) : err;
      });
    }
    if (stop.signal.aborted) throw new ContainerExit(EXIT_INTERRUPTED);
    const session = await WatchSession.start(client, loaded, plan, { emit, upRequest: { logins }, prune: args.prune });
    await new Promise<void>((resolve) => (stop.signal.aborted ? resolve() : stop.signal.addEventListener('abort', () => resolve(), { once: true })));
    await session.stop();
    io.stderr.write('stack watch: stopped watching; the services keep running ("stack down" stops them)\n');
    throw new ContainerExit(EXIT_INTERRUPTED);
  } finally {
    stop.dispose();
  }
}

/** --quiet: no build or pull output lines and no per-sync file lists; errors and the rest still show. */
export function withoutDetail(emit: EmitEvent): EmitEvent {
  return (e) => {
    if (e.type === 'watch-synced') return;
    if ((e.type === 'image-building' || e.type === 'image-pulling') && e.detail !== undefined) return;
    emit(e);
  };
}
