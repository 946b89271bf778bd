// `stack up [SERVICE...]`: create and start the project's services, then (without -d)
// follow their logs until they stop or Ctrl-C (first: stop gracefully; second: kill);
// with --watch, also act on develop.watch file changes, until Ctrl-C.

import type { Argv, CommandModule } from 'yargs';
import { ContainerExit, UsageError } from '../common/errors.js';
import type { GlobalArgs } from './global-options.js';
import type { EmitEvent } from '../compose/events.js';
import type { UpRequest } from '../compose/up.js';
import type { CliIO } from './io.js';

export interface UpArgs extends GlobalArgs {
  service?: string[] | undefined;
  detach: boolean;
  dryRun: boolean;
  wait: boolean;
  forceRecreate: boolean;
  /** --no-recreate */
  recreate: boolean;
  /** --no-deps */
  deps: boolean;
  scale?: string | string[] | undefined;
  removeOrphans: boolean;
  renewAnonVolumes: boolean;
  timeout?: number | undefined;
  pull?: 'always' | 'missing' | 'never' | undefined;
  /** --build is true, --no-build false, neither undefined. */
  build?: boolean | undefined;
  abortOnContainerExit: boolean;
  exitCodeFrom?: string | undefined;
  format: 'plain' | 'json';
  /** --no-tui: plain lines even on a terminal. */
  tui: boolean;
  /** -w: act on develop.watch file changes while following. */
  watch: boolean;
}

export function upCommand(io: CliIO): CommandModule<GlobalArgs, UpArgs> {
  return {
    command: 'up [service..]',
    describe: 'Create and start the project\'s services (and follow their logs unless -d)',
    builder: (y: Argv<GlobalArgs>) =>
      y
        .positional('service', { type: 'string', array: true, description: 'Only these services (and what they depend on)' })
        .option('detach', { alias: 'd', type: 'boolean', default: false, description: 'Start and return; do not follow logs' })
        .option('dry-run', { type: 'boolean', default: false, description: 'Print the plan; change nothing' })
        .option('wait', { type: 'boolean', default: false, description: 'Return when every service is running and healthy (implies -d)' })
        .option('force-recreate', { type: 'boolean', default: false, description: 'Recreate containers even if their configuration did not change' })
        .option('recreate', { type: 'boolean', default: true, description: '--no-recreate: leave existing containers as they are' })
        .option('deps', { type: 'boolean', default: true, description: '--no-deps: do not start the services named services depend on' })
        .option('scale', { type: 'string', description: 'SERVICE=N replicas (repeatable); overrides deploy.replicas' })
        .option('remove-orphans', { type: 'boolean', default: false, description: 'Remove containers of services not in the stack file' })
        .option('renew-anon-volumes', { type: 'boolean', default: false, description: '-V: recreated containers get new anonymous volumes instead of their predecessors\' data' })
        .option('timeout', { alias: 't', type: 'number', description: 'Seconds a container gets to stop when recreated' })
        .option('pull', { type: 'string', choices: ['always', 'missing', 'never'], description: 'Pull images: always, when missing (default), never' })
        .option('build', { type: 'boolean', description: 'Build images before starting (--no-build: never build)' })
        .option('abort-on-container-exit', { type: 'boolean', default: false, description: 'Stop everything when any container exits' })
        .option('exit-code-from', { type: 'string', description: 'Exit with this service\'s exit code (implies --abort-on-container-exit)' })
        .option('format', { type: 'string', choices: ['plain', 'json'], default: 'plain', description: 'Progress as plain lines or JSON lines' })
        .option('tui', { type: 'boolean', default: true, description: '--no-tui: plain lines and logs even on a terminal' })
        .option('watch', { alias: 'w', type: 'boolean', default: false, description: 'Watch the services\' develop.watch paths: sync, restart or rebuild them as files change' }) as unknown as Argv<UpArgs>,
    handler: (args) => runUp(args, io),
  };
}

export function parseScale(values: string | string[] | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of [values ?? []].flat()) {
    const m = /^([^=]+)=(\d+)$/.exec(v);
    if (!m) throw new UsageError(`--scale "${v}" is not SERVICE=N, like web=3`);
    out[m[1]!] = Number(m[2]);
  }
  return out;
}

/** What `up` does once its command line is read (by yargs, or by plain-command-lines.ts). */
export async function runUp(args: UpArgs, io: CliIO): Promise<void> {
  const { loadComposeProject, rendererFor } = await import('./compose-project.js');
  const { upProject } = await import('../compose/up.js');
  const { formatPlan } = await import('../compose/plan.js');
  const { engineClient } = await import('./engine-client.js');
  const { registryLogins } = await import('./registry-auth.js');
  if (args.exitCodeFrom !== undefined && args.detach) throw new UsageError('--exit-code-from follows the services: it cannot be used with -d');
  if (args.abortOnContainerExit && args.detach) throw new UsageError('--abort-on-container-exit follows the services: it cannot be used with -d');
  refuseWatchWith(args);
  const loaded = loadComposeProject(args, io);
  if (args.exitCodeFrom !== undefined && !loaded.project.services[args.exitCodeFrom]) throw new UsageError(`--exit-code-from ${args.exitCodeFrom}: no such service`);
  // Refused before anything starts, as `stack watch` refuses it.
  const watchPlan = args.watch ? (await import('../watch/watch-plan.js')).planWatch(loaded.project, args.service ?? []) : undefined;
  const client = await engineClient(io);
  const request = (emit: EmitEvent, signal?: AbortSignal): UpRequest => ({
    services: args.service ?? [],
    noDeps: !args.deps,
    forceRecreate: args.forceRecreate,
    noRecreate: !args.recreate,
    scale: parseScale(args.scale),
    removeOrphans: args.removeOrphans,
    renewAnonymousVolumes: args.renewAnonVolumes,
    ...(args.pull ? { pull: args.pull } : {}),
    ...(args.build === true ? { build: true } : args.build === false ? { noBuild: true } : {}),
    dryRun: args.dryRun,
    wait: args.wait,
    ...(args.timeout !== undefined ? { timeout: args.timeout } : {}),
    emit,
    ...(signal ? { signal } : {}),
    logins: registryLogins(io),
  });
  if (wantsTui(args, io)) {
    // Loaded only here, so that no other command (nor up without a terminal) loads React and Ink.
    // React picks its build when loaded: the development one costs several times the CPU per render.
    process.env.NODE_ENV ??= 'production';
    const { runUpInTui } = await import('./up-tui.js');
    const code = await runUpInTui(client, loaded, args, io, request, watchPlan);
    if (code !== 0) throw new ContainerExit(code);
    return;
  }
  const renderer = rendererFor(args.format, io);
  const plan = await upProject(client, loaded, request(renderer.emit));
  if (args.dryRun) {
    io.stdout.write(args.format === 'json' ? `${JSON.stringify(plan)}\n` : formatPlan(plan));
    return;
  }
  if (args.detach || args.wait) return;
  const code = watchPlan
    ? await (await import('./up-watch.js')).followAndWatch(client, loaded, plan.services, watchPlan, args, renderer, io)
    : await followUntilStopped(client, loaded, plan.services, args, renderer, io);
  if (code !== 0) throw new ContainerExit(code);
}

/** --watch follows the services and acts on changes until Ctrl-C: what ends or leaves them otherwise does not go with it. */
function refuseWatchWith(args: UpArgs): void {
  if (!args.watch) return;
  const clash = args.detach ? '-d' : args.wait ? '--wait' : args.dryRun ? '--dry-run' : args.abortOnContainerExit ? '--abort-on-container-exit' : args.exitCodeFrom !== undefined ? '--exit-code-from' : undefined;
  if (clash) throw new UsageError(`--watch follows the services until Ctrl-C: it cannot be used with ${clash}${args.detach ? ' (stack watch watches a stack started with up -d)' : ''}`);
}

/** The live display is for a person at a terminal following the stack, not for scripts, CI or JSON. */
export function wantsTui(args: Pick<UpArgs, 'detach' | 'wait' | 'dryRun' | 'tui' | 'format'>, io: Pick<CliIO, 'stdout' | 'env'>, stdinIsTty = process.stdin.isTTY === true): boolean {
  return !args.detach && !args.wait && !args.dryRun && args.tui && args.format !== 'json'
    && io.stdout.isTTY === true && stdinIsTty && io.env.CI !== 'true';
}

/** Attached mode: logs until every container stopped; the exit code Compose would give. */
async function followUntilStopped(
  client: import('../client/api-client.js').ApiClient,
  loaded: import('../compose/load.js').LoadedProject,
  services: string[],
  args: UpArgs,
  renderer: import('./render-plain.js').Renderer,
  io: CliIO,
): Promise<number> {
  const { serviceContainers } = await import('../compose/apply.js');
  const { followContainers } = await import('../compose/attach.js');
  const { stopServices } = await import('../compose/down.js');
  const project = loaded.project.name;
  const containers = (await Promise.all(services.map(async (s) => (await serviceContainers(client, project, s)).map((c) => ({ id: c.Id, name: (c.Names[0] ?? c.Id).replace(/^\//, ''), service: s }))))).flat();
  renderer.alignLogs(containers.map((c) => c.name));
  const abort = new AbortController();
  const abortOnExit = args.abortOnContainerExit || args.exitCodeFrom !== undefined;
  let firstExit: number | undefined;
  let fromExit: number | undefined;
  let interrupted = 0;
  let stopping: Promise<void> | undefined;
  const stopAll = (kill: boolean): Promise<void> =>
    stopServices(client, project, loaded.graph, services, { emit: renderer.emit, kill, ...(args.timeout !== undefined ? { timeout: args.timeout } : {}) });
  const onSigint = (): void => {
    interrupted++;
    if (interrupted === 1) {
      renderer.emit({ type: 'warning', message: 'Gracefully stopping... (press Ctrl+C again to force)' });
      stopping = stopAll(false);
    } else {
      void stopAll(true);
      abort.abort();
    }
  };
  process.on('SIGINT', onSigint);
  try {
    await followContainers(client, containers, {
      emit: renderer.emit,
      signal: abort.signal,
      onExit: (exit) => {
        if (exit.service === args.exitCodeFrom && fromExit === undefined) fromExit = exit.exitCode;
        if (firstExit !== undefined) return;
        firstExit = exit.exitCode;
        if (abortOnExit && !stopping) {
          renderer.emit({ type: 'warning', message: `${exit.name} exited with code ${exit.exitCode}: stopping the other containers (--abort-on-container-exit)` });
          stopping = stopAll(false);
        }
      },
    });
    await stopping;
  } finally {
    process.off('SIGINT', onSigint);
  }
  void io;
  if (interrupted > 0) return 130;
  if (args.exitCodeFrom !== undefined) return fromExit ?? 0;
  if (abortOnExit) return firstExit ?? 0;
  return 0;
}
