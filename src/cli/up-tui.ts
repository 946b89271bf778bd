// `stack up` on a terminal: the live display (src/tui/) fed by the same compose events as
// the plain renderer, from `up` itself and then from the project monitor; and the actions
// its keys call for (restart, stop/start, rebuild, a shell, detach, quit); with --watch,
// file watching too, its lines in the log pane. Quitting stops the stack (Ctrl-C: 130; a
// second Ctrl-C kills); detaching leaves it running; --abort-on-container-exit and
// --exit-code-from end it as in attached mode.

import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import type { ApiClient } from '../client/api-client.js';
import type { ContainerInspect } from '../common/api-types.js';
import { serviceContainers } from '../compose/apply.js';
import { stopServices } from '../compose/down.js';
import type { ComposeEvent, EmitEvent } from '../compose/events.js';
import type { LoadedProject } from '../compose/load.js';
import { ProjectMonitor } from '../compose/monitor.js';
import { replicasOf } from '../compose/plan.js';
import { rebuildServiceRequest, upProject, type UpRequest } from '../compose/up.js';
import type { TuiActions } from '../tui/actions.js';
import { initialState, LOG_CAPACITY, type ServiceSpec } from '../tui/model.js';
import { mountTui, type TuiHandle } from '../tui/run-tui.js';
import { EventBatcher, TuiStore } from '../tui/store.js';
import type { CliIO } from './io.js';
import { parseScale, type UpArgs } from './up.js';
import type { WatchPlan } from '../watch/watch-plan.js';
import { WatchSession } from '../watch/watch-session.js';

const STACK_BIN = resolve(import.meta.dirname, '../../../bin/stack.js');
const EXIT_INTERRUPTED = 130;

type MakeRequest = (emit: EmitEvent, signal?: AbortSignal) => UpRequest;

/** With a watch plan (up --watch), file changes are acted on from when `up` is done until the session ends. */
export async function runUpInTui(client: ApiClient, loaded: LoadedProject, args: UpArgs, io: CliIO, makeRequest: MakeRequest, watchPlan?: WatchPlan): Promise<number> {
  return new UpSession(client, loaded, args, io, makeRequest, watchPlan).run();
}

class UpSession {
  private readonly project: string;
  private readonly store: TuiStore;
  private readonly batcher: EventBatcher;
  private readonly monitorAbort = new AbortController();
  private readonly upAbort = new AbortController();
  private handle: TuiHandle | undefined;
  /** The services `up` acts on; all of the project's until its plan says. */
  private services: string[];
  private upSettled: Promise<unknown> = Promise.resolve();
  /** Container ids `up` left running: their exits end the session with --abort-on-container-exit. */
  private attached: Set<string> | undefined;
  /** Services the user stopped or restarted: their exits are not the stack's. */
  private readonly touched = new Set<string>();
  private firstExit: number | undefined;
  private interrupts = 0;
  /** While a shell has the terminal, its Ctrl-C (a SIGINT to this process too) is the shell's. */
  private inShell = false;
  private stopping: Promise<void> | undefined;
  private watching: Promise<WatchSession | undefined> = Promise.resolve(undefined);
  private finish!: (code: number) => void;
  private readonly finished = new Promise<number>((r) => (this.finish = r));

  constructor(
    private readonly client: ApiClient,
    private readonly loaded: LoadedProject,
    private readonly args: UpArgs,
    private readonly io: CliIO,
    private readonly makeRequest: MakeRequest,
    private readonly watchPlan: WatchPlan | undefined,
  ) {
    this.project = loaded.project.name;
    const asked = args.service ?? [];
    this.services = asked.length === 0 ? loaded.graph.topologicalOrder() : args.deps ? loaded.graph.topologicalOrder().filter((s) => loaded.graph.withDependencies(asked).includes(s)) : asked;
    this.store = new TuiStore(initialState(this.project, this.specs(this.services)));
    this.batcher = new EventBatcher((events) => this.store.dispatch({ kind: 'events', events }));
  }

  private specs(services: readonly string[]): ServiceSpec[] {
    const scale = parseScale(this.args.scale);
    return services.filter((s) => this.loaded.project.services[s]).map((s) => ({ name: s, replicas: replicasOf(this.loaded.project.services[s]!, scale) }));
  }

  private readonly emit = (e: ComposeEvent): void => {
    this.watchExit(e);
    this.batcher.push(e);
  };

  async run(): Promise<number> {
    const terminal = { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr };
    this.handle = mountTui(this.store, this.actions(), terminal);
    const onSigint = (): void => this.interrupt();
    process.on('SIGINT', onSigint);
    // Older lines than the display keeps would only be read to be dropped.
    const monitor = new ProjectMonitor(this.client, { project: this.project, services: this.services, emit: this.emit, signal: this.monitorAbort.signal, initialTail: LOG_CAPACITY }).run();
    try {
      const up = upProject(this.client, this.loaded, this.makeRequest(this.emit, this.upAbort.signal));
      this.upSettled = up.catch(() => undefined);
      let failure: unknown;
      try {
        const plan = await up;
        this.services = plan.services;
        this.store.dispatch({ kind: 'services', services: this.specs(plan.services) });
        this.status('info', `up: ${plan.services.join(', ')} started; ? shows the keys`);
        this.startWatching();
        await this.attach();
      } catch (err) {
        // Stopped by the user while starting: the stop under way says how it ends.
        if (!this.upAbort.signal.aborted) failure = err;
      }
      if (failure !== undefined) throw failure;
      return await this.finished;
    } finally {
      process.off('SIGINT', onSigint);
      await this.stopWatching();
      this.monitorAbort.abort();
      await monitor.catch(() => undefined);
      this.batcher.flush();
      this.handle.close();
    }
  }

  /** What is running once `up` is done; containers already exited count at once. */
  private async attach(): Promise<void> {
    if (!this.abortsOnExit()) return;
    const ids = new Set<string>();
    for (const service of this.services) {
      for (const c of await serviceContainers(this.client, this.project, service)) {
        ids.add(c.Id);
        if (c.State === 'exited' || c.State === 'dead') {
          const info = await this.client.call<ContainerInspect>('GET', `/containers/${c.Id}/json`);
          this.onAttachedExit(service, info.State.ExitCode);
        }
      }
    }
    this.attached = ids;
  }

  private abortsOnExit(): boolean {
    return this.args.abortOnContainerExit || this.args.exitCodeFrom !== undefined;
  }

  private watchExit(e: ComposeEvent): void {
    if (e.type !== 'container-state' || (e.state !== 'exited' && e.state !== 'dead')) return;
    if (!this.attached?.has(e.id) || this.touched.has(e.service)) return;
    this.onAttachedExit(e.service, e.exitCode ?? 0);
  }

  private onAttachedExit(service: string, exitCode: number): void {
    if (this.firstExit !== undefined || this.stopping) return;
    this.firstExit = exitCode;
    this.status('warning', `${service} exited with code ${exitCode}: stopping the other containers (--abort-on-container-exit)`);
    void this.stopThenFinish(false, async () => (this.args.exitCodeFrom !== undefined ? this.exitCodeOf(this.args.exitCodeFrom) : exitCode));
  }

  private async exitCodeOf(service: string): Promise<number> {
    const c = (await serviceContainers(this.client, this.project, service).catch(() => []))[0];
    if (!c) return 0;
    const info = await this.client.call<ContainerInspect>('GET', `/containers/${c.Id}/json`).catch(() => undefined);
    return info && !info.State.Running ? info.State.ExitCode : 0;
  }

  /** Stops (or kills) the stack's services once `up` has stopped starting things, then ends with the code. */
  private stopThenFinish(kill: boolean, code: () => Promise<number>): Promise<void> {
    this.store.dispatch({ kind: 'stopping', how: kill ? 'kill' : 'graceful' });
    this.upAbort.abort();
    const stop = this.upSettled.then(() => this.stopWatching()).then(() => stopServices(this.client, this.project, this.loaded.graph, this.services, {
      emit: this.emit,
      kill,
      ...(this.args.timeout !== undefined ? { timeout: this.args.timeout } : {}),
    }));
    this.stopping = stop;
    return stop.then(
      async () => this.finish(await code()),
      (err: unknown) => {
        this.status('error', `stopping failed: ${(err as Error).message}`);
        this.finish(1);
      },
    );
  }

  private startWatching(): void {
    if (!this.watchPlan || this.stopping) return;
    const request = this.makeRequest(this.emit);
    this.watching = WatchSession.start(this.client, this.loaded, this.watchPlan, {
      emit: this.emit,
      upRequest: { ...(request.logins ? { logins: request.logins } : {}), ...(request.timeout !== undefined ? { timeout: request.timeout } : {}) },
      // Compose's up --watch keeps the images a rebuild replaces (only `watch` prunes them).
      prune: false,
    }).catch((err: unknown) => {
      this.status('error', `watching could not start: ${(err as Error).message}`);
      return undefined;
    });
  }

  /** Watching ends before the services stop, so no change acts on a stack going away. */
  private stopWatching(): Promise<void> {
    return this.watching.then((session) => session?.stop());
  }

  private interrupt(): void {
    if (this.inShell) return;
    this.interrupts++;
    if (this.interrupts === 1 && !this.stopping) void this.stopThenFinish(false, async () => EXIT_INTERRUPTED);
    else void this.stopThenFinish(true, async () => EXIT_INTERRUPTED);
  }

  private status(level: 'info' | 'warning' | 'error', text: string): void {
    this.batcher.flush();
    this.store.dispatch({ kind: 'status', status: { level, text } });
  }

  /** Runs a key's work; its failure is shown, never thrown (the display stays). */
  private act(what: string, work: () => Promise<void>): void {
    if (this.stopping) return;
    this.status('info', `${what}…`);
    work().then(
      () => this.status('info', `${what}: done`),
      (err: unknown) => this.status('error', `${what}: ${(err as Error).message}`),
    );
  }

  private actions(): TuiActions {
    const containersOf = (service: string) => serviceContainers(this.client, this.project, service);
    return {
      restart: (service) => this.act(`restarting ${service}`, async () => {
        this.touched.add(service);
        await Promise.all((await containersOf(service)).map((c) => this.client.call('POST', `/containers/${c.Id}/restart`, { query: { t: this.args.timeout } })));
      }),
      toggleRunning: (service, running) => this.act(`${running ? 'stopping' : 'starting'} ${service}`, async () => {
        this.touched.add(service);
        if (running) {
          await stopServices(this.client, this.project, this.loaded.graph, [service], { emit: this.emit, ...(this.args.timeout !== undefined ? { timeout: this.args.timeout } : {}) });
          return;
        }
        for (const c of await containersOf(service)) {
          const name = (c.Names[0] ?? c.Id).replace(/^\//, '');
          this.emit({ type: 'container-starting', service, container: name });
          await this.client.call('POST', `/containers/${c.Id}/start`);
          this.emit({ type: 'container-started', service, container: name });
        }
      }),
      rebuild: (service) => this.act(`rebuilding ${service}`, async () => {
        this.touched.add(service);
        await upProject(this.client, this.loaded, rebuildServiceRequest(this.makeRequest(this.emit), service));
      }),
      shell: (service) => void this.shell(service).catch((err: unknown) => this.status('error', `shell in ${service}: ${(err as Error).message}`)),
      detach: () => this.finish(0),
      quit: () => {
        if (!this.stopping) void this.stopThenFinish(false, async () => 0);
      },
      interrupt: () => this.interrupt(),
    };
  }

  /** `stack exec -it CONTAINER sh` on the terminal, the display put aside until it ends. */
  private async shell(service: string): Promise<void> {
    const running = (await serviceContainers(this.client, this.project, service)).find((c) => c.State === 'running');
    if (!running) {
      this.status('error', `${service} has no running container to open a shell in: start it with s`);
      return;
    }
    const name = (running.Names[0] ?? running.Id).replace(/^\//, '');
    this.handle?.suspend();
    process.stdout.write(`stack: shell in ${name}; exit it to return\n`);
    this.inShell = true;
    try {
      await new Promise<void>((done, fail) => {
        const child = spawn(process.execPath, [STACK_BIN, 'exec', '-it', name, 'sh'], { stdio: 'inherit', cwd: this.io.cwd, env: { ...this.io.env } });
        child.once('error', fail);
        child.once('exit', () => done());
      });
    } finally {
      this.inShell = false;
      this.handle?.resume();
    }
  }
}
