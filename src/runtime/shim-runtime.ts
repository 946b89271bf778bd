// Drives containers from OCI bundles: with our native shim (dist/runtime/stack-shim),
// which stays as each container's parent and records its life in a state file, or with
// runc for parity checks and as an escape hatch (`--runtime runc`).

import { spawn } from 'node:child_process';
import { Readable } from 'node:stream';
import { existsSync, watch } from 'node:fs';
import { mkdir, readFile, rm, rmdir, unlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { RuntimeFailure } from '../common/errors.js';
import type { ContainerUser, NetworkInterface, OciSpec } from './bundle.js';
import { processAlive } from '../common/process-alive.js';
import { setFrozen } from './cgroup-freezer.js';

/** The shim built by scripts/build-shim.mjs, found from this module in dist/src/runtime. */
export const DEFAULT_SHIM_PATH = resolve(import.meta.dirname, '../../runtime/stack-shim');

export type ContainerStatus = 'creating' | 'created' | 'running' | 'stopped';

/** What the shim's state file says (written atomically, so always whole). */
export interface ContainerState {
  id: string;
  status: ContainerStatus;
  /** The container's pid 1 as the host sees it. */
  pid: number;
  shimPid: number;
  bundle: string;
  log: string;
  exitCode: number | null;
  /** The signal that ended pid 1, if one did (exitCode is then 128 + signal). */
  signal: number | null;
  oomKilled: boolean;
  createdAt: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  /** Why the container failed to start: the step and the path or value it failed on. */
  error: string | null;
  cgroups: Array<{ controller: string; version: 1 | 2; path: string }>;
}

export interface LogEntry {
  log: string;
  stream: 'stdout' | 'stderr';
  time: string;
}

export interface ExecRequest {
  args: string[];
  /** `NAME=value`, replacing or adding to the container's environment. */
  env?: string[];
  cwd?: string;
  user?: ContainerUser;
  /** A pty pair: the process gets /dev/pts/N as its controlling terminal and stdio. */
  tty?: boolean;
  /** The terminal's initial size (tty only). */
  rows?: number;
  cols?: number;
  /** Fed to the process's stdin (with tty: typed into the terminal). */
  stdin?: NodeJS.ReadableStream;
  /** Receives the output as it comes instead of collecting it in the result. */
  stdout?: NodeJS.WritableStream;
  /** Likewise for stderr (without a tty; with one, everything comes on stdout). */
  stderr?: NodeJS.WritableStream;
  /** Called once the shim runs, with its pid (the engine shows it in exec inspect). */
  onStart?: (shimPid: number) => void;
  /** Aborting ends the process: SIGTERM (the shim relays it), SIGKILL a second later (a health check's timeout). */
  signal?: AbortSignal;
  /** With tty: called once the shim runs, with a way to change the terminal size. */
  onResizable?: (resize: (rows: number, cols: number) => Promise<void>) => void;
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface StopOptions {
  signal?: NodeJS.Signals;
  /** Milliseconds to wait after `signal` before SIGKILL. */
  graceMs?: number;
}

/** Signals the shim relays to pid 1; others go straight to the container's pid. */
const FORWARDED: ReadonlySet<string> = new Set(['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGUSR1', 'SIGUSR2', 'SIGQUIT', 'SIGWINCH']);

interface ProcessResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function runProcess(
  command: string,
  args: string[],
  streams: { stdin?: NodeJS.ReadableStream; stdout?: NodeJS.WritableStream; stderr?: NodeJS.WritableStream; onSpawn?: (pid: number) => void } = {},
): Promise<ProcessResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { stdio: [streams.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    if (!child.stdout || !child.stderr) throw new Error('spawn gave no stdout/stderr pipes');
    if (streams.onSpawn && child.pid !== undefined) streams.onSpawn(child.pid);
    if (streams.stdin && child.stdin) {
      // The process may exit before its input ends: a write after that is no error of ours.
      child.stdin.on('error', () => undefined);
      streams.stdin.pipe(child.stdin);
    }
    if (streams.stdout) child.stdout.pipe(streams.stdout, { end: false });
    else child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    if (streams.stderr) {
      // The shim's own failure message comes on stderr too: keep its tail to report it.
      child.stderr.on('data', (d: Buffer) => {
        stderr = (stderr + d.toString('utf8')).slice(-4096);
        streams.stderr?.write(d);
      });
    } else child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => resolvePromise({ code, signal, stdout, stderr }));
  });
}


/** Containers run by stack-shim; their state and logs live under stateRoot/<id>/. */
export class ShimRuntime {
  readonly shimPath: string;
  readonly stateRoot: string;
  private readonly logPathOf: ((id: string) => string) | undefined;
  private execCounter = 0;

  /**
   * `logPath` puts a container's log elsewhere than its state dir, so that it survives
   * delete and a restart of the same container appends to it (the engine's choice).
   */
  constructor(options: { stateRoot: string; shimPath?: string; logPath?: (id: string) => string }) {
    this.stateRoot = options.stateRoot;
    this.shimPath = options.shimPath ?? DEFAULT_SHIM_PATH;
    this.logPathOf = options.logPath;
  }

  stateDir(id: string): string {
    return join(this.stateRoot, id);
  }

  statePath(id: string): string {
    return join(this.stateDir(id), 'state.json');
  }

  logPath(id: string): string {
    return this.logPathOf?.(id) ?? join(this.stateDir(id), 'log.json');
  }

  /** Where {@link resize} writes the size the shim gives the main process's terminal. */
  private consoleSizePath(id: string): string {
    return join(this.stateDir(id), 'console-size');
  }

  /**
   * Adds interfaces to the network namespace bound at `netns` (made there when `create`),
   * over rtnetlink in one shim process; all or nothing.
   */
  async netAttach(netns: string, interfaces: readonly NetworkInterface[], options: { create: boolean }): Promise<void> {
    await this.netCommand('net-attach', { netns, create: options.create, interfaces });
  }

  /** Deletes the host veths and unbinds the namespace's file; pieces already gone are fine. */
  async netDetach(netns: string, hostVeths: readonly string[]): Promise<void> {
    await this.netCommand('net-detach', { netns, interfaces: hostVeths.map((hostVeth) => ({ hostVeth })) });
  }

  private async netCommand(command: string, config: unknown): Promise<void> {
    const r = await runProcess(this.shimPath, [command], { stdin: Readable.from([JSON.stringify(config)]) });
    if (r.code !== 0) throw new RuntimeFailure(`network ${command.slice(4)}: ${r.stderr.trim().replace(/^stack-shim: /, '') || `stack-shim exited with ${r.code ?? r.signal}`}`);
  }

  /**
   * Starts the bundle's process; resolves once it runs (after exec) with the state,
   * or throws RuntimeFailure naming the step that failed (the shim's own message).
   */
  async start(id: string, bundleDir: string): Promise<ContainerState> {
    if (!existsSync(this.shimPath)) {
      throw new RuntimeFailure(`the runtime shim is not built (${this.shimPath} is missing); run: node scripts/build-shim.mjs`);
    }
    await mkdir(this.stateDir(id), { recursive: true });
    const r = await runProcess(this.shimPath, [
      'run', '--bundle', bundleDir, '--id', id, '--state', this.statePath(id), '--log', this.logPath(id),
      '--console-size', this.consoleSizePath(id),
    ]);
    if (r.code !== 0) {
      const message = r.stderr.trim().replace(/^stack-shim: /, '') || `stack-shim exited with ${r.code ?? r.signal}`;
      throw new RuntimeFailure(`container ${id} failed to start: ${message}`);
    }
    return this.state(id);
  }

  async state(id: string): Promise<ContainerState> {
    const text = await readFile(this.statePath(id), 'utf8');
    return JSON.parse(text) as ContainerState;
  }

  /**
   * Resolves with the final state once the container has stopped. When the shim died
   * without recording the exit (killed with SIGKILL) and the container is gone as well,
   * resolves as stopped with an error.
   */
  waitForExit(id: string, timeoutMs = 30_000, signal?: AbortSignal): Promise<ContainerState> {
    return new Promise((resolvePromise, reject) => {
      let finished = false;
      let checking = false;
      let recheck = false;
      const finish = (err: Error | null, state?: ContainerState): void => {
        if (finished) return;
        finished = true;
        watcher.close();
        clearInterval(poll);
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (err) reject(err);
        else resolvePromise(state as ContainerState);
      };
      const settle = (): void => {
        checking = false;
        // An event that came in while reading may be the one that says stopped.
        if (recheck) {
          recheck = false;
          check();
        }
      };
      const check = (): void => {
        if (finished) return;
        if (checking) {
          recheck = true;
          return;
        }
        checking = true;
        this.state(id).then(
          (s) => {
            if (s.status === 'stopped') finish(null, s);
            else if (!processAlive(s.shimPid) && !processAlive(s.pid)) {
              // The shim was killed outright; the container is gone too, its exit unknown.
              finish(null, { ...s, status: 'stopped', error: s.error ?? `the shim (pid ${s.shimPid}) exited without recording the container's exit` });
            }
            settle();
          },
          (err: NodeJS.ErrnoException) => {
            // Before the first state is written there is no file yet; anything else is real.
            if (err.code !== 'ENOENT') finish(err);
            settle();
          },
        );
      };
      // inotify on the directory sees the rename that publishes each new state at once.
      const watcher = watch(this.stateDir(id), () => check());
      // The poll is only the safety net for a shim that dies without writing.
      const poll = setInterval(check, 250);
      const timer = setTimeout(() => finish(new RuntimeFailure(`container ${id} did not stop within ${timeoutMs} ms`)), timeoutMs);
      // Whoever waits may stop waiting (an engine shutting down leaves its containers running).
      const onAbort = (): void => finish(new RuntimeFailure(`stopped waiting for container ${id}`));
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      check();
    });
  }

  /** Sends a signal to the container's pid 1 (through the shim when it relays that signal). */
  async kill(id: string, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const s = await this.state(id);
    if (s.status !== 'running' && s.status !== 'created') {
      throw new RuntimeFailure(`container ${id} is ${s.status}; cannot send ${signal}`);
    }
    const target = FORWARDED.has(signal) && processAlive(s.shimPid) ? s.shimPid : s.pid;
    try {
      process.kill(target, signal);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
    }
  }

  /**
   * Resizes the terminal of a container started with one (process.terminal): the shim
   * reads the file on SIGWINCH, and the kernel tells the terminal's foreground processes.
   */
  async resize(id: string, rows: number, cols: number): Promise<void> {
    await writeFile(this.consoleSizePath(id), `${rows} ${cols}\n`);
    await this.kill(id, 'SIGWINCH');
  }

  /** Freezes (pause) or thaws (unpause) every process of a running container. */
  async freeze(id: string, frozen: boolean): Promise<void> {
    await setFrozen((await this.state(id)).cgroups, frozen);
  }

  /** stop_signal, then SIGKILL once the grace period is over; resolves with the final state. */
  async stop(id: string, options: StopOptions = {}): Promise<ContainerState> {
    const { signal = 'SIGTERM', graceMs = 10_000 } = options;
    const s = await this.state(id);
    if (s.status === 'stopped') return s;
    await this.kill(id, signal);
    try {
      return await this.waitForExit(id, graceMs);
    } catch (err) {
      if (!(err instanceof RuntimeFailure)) throw err;
    }
    try {
      await this.kill(id, 'SIGKILL');
    } catch (err) {
      // It ended between the grace running out and the SIGKILL (a grace of 0 makes that likely).
      const now = await this.state(id);
      if (now.status === 'stopped') return now;
      throw err;
    }
    return this.waitForExit(id, 10_000);
  }

  /**
   * Removes the container's cgroups, state and logs, and the bundle's config.json (and
   * the bundle directory when that leaves it empty: a rootfs inside belongs to the caller).
   * With `unmount`, the shim also unmounts that directory (the rootfs) after the container
   * is gone, saving the caller a process; without a state there is no shim to ask.
   */
  async delete(id: string, options: { force?: boolean; unmount?: string } = {}): Promise<void> {
    let bundle: string | undefined;
    if (existsSync(this.statePath(id))) {
      bundle = (await this.state(id)).bundle;
      const args = ['delete', '--state', this.statePath(id)];
      if (options.force) args.push('--force');
      if (options.unmount) args.push('--unmount', options.unmount);
      const r = await runProcess(this.shimPath, args);
      if (r.code !== 0) {
        throw new RuntimeFailure(`cannot delete container ${id}: ${r.stderr.trim().replace(/^stack-shim: /, '')}`);
      }
    }
    await rm(this.stateDir(id), { recursive: true, force: true });
    if (bundle) {
      await unlink(join(bundle, 'config.json')).catch(ignoreMissing);
      await rmdir(bundle).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOTEMPTY' && err.code !== 'ENOENT') throw err;
      });
    }
  }

  /**
   * Runs another process in a running container (its namespaces, cgroups, capabilities
   * and user unless overridden), with env added to the container's own. Resolves with
   * the exit code and output; throws RuntimeFailure when the process could not start.
   */
  async exec(id: string, request: ExecRequest): Promise<ExecResult> {
    const s = await this.state(id);
    if (s.status !== 'running') throw new RuntimeFailure(`cannot exec in container ${id}: it is ${s.status}`);
    const config = JSON.parse(await readFile(join(s.bundle, 'config.json'), 'utf8')) as OciSpec;
    const env = [...config.process.env];
    for (const entry of request.env ?? []) {
      const name = entry.split('=', 1)[0];
      const at = env.findIndex((e) => e.split('=', 1)[0] === name);
      if (at >= 0) env[at] = entry;
      else env.push(entry);
    }
    const { consoleSize: _mainTerminalSize, ...mainProcess } = config.process;
    const processSpec: OciSpec['process'] = {
      ...mainProcess,
      // The terminal of an exec is the -t of exec (the shim's flag), not the main process's.
      terminal: false,
      args: [...request.args],
      env,
      cwd: request.cwd ?? config.process.cwd,
      user: request.user ?? config.process.user,
    };
    const processFile = join(this.stateDir(id), `exec-${process.pid}-${++this.execCounter}.json`);
    await writeFile(processFile, JSON.stringify(processSpec), { mode: 0o600 });
    try {
      const args = ['exec', '--state', this.statePath(id), '--process', processFile];
      const sizeFile = `${processFile}.size`;
      if (request.tty) {
        args.push('-t');
        if (request.rows && request.cols) args.push('--rows', String(request.rows), '--cols', String(request.cols));
        // The shim re-reads this file on SIGWINCH: how a caller without a terminal resizes.
        await writeFile(sizeFile, `${request.rows ?? 24} ${request.cols ?? 80}\n`);
        args.push('--size-file', sizeFile);
      }
      const r = await runProcess(this.shimPath, args, {
        stdin: request.stdin,
        stdout: request.stdout,
        stderr: request.stderr,
        onSpawn: (pid) => {
          request.onStart?.(pid);
          request.signal?.addEventListener('abort', () => {
            if (processAlive(pid)) process.kill(pid, 'SIGTERM');
            setTimeout(() => { if (processAlive(pid)) process.kill(pid, 'SIGKILL'); }, 1000).unref();
          }, { once: true });
          if (request.tty && request.onResizable) {
            request.onResizable(async (rows, cols) => {
              await writeFile(sizeFile, `${rows} ${cols}\n`);
              if (processAlive(pid)) process.kill(pid, 'SIGWINCH');
            });
          }
        },
      }).finally(() => unlink(sizeFile).catch(ignoreMissing));
      const failure = /(?:^|\n)stack-shim: (.*)\n?$/.exec(r.stderr);
      if ((r.code === 125 || r.code === 126) && failure) {
        throw new RuntimeFailure(`cannot exec in container ${id}: ${failure[1]}`);
      }
      return { exitCode: r.code ?? 128, stdout: r.stdout, stderr: r.stderr };
    } finally {
      await unlink(processFile).catch(ignoreMissing);
    }
  }

  /** The json-file log so far. */
  async logs(id: string): Promise<LogEntry[]> {
    let text: string;
    try {
      text = await readFile(this.logPath(id), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    return text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as LogEntry);
  }
}

function ignoreMissing(err: NodeJS.ErrnoException): void {
  if (err.code !== 'ENOENT') throw err;
}

export interface RuncResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** The same bundles under runc, in the foreground; `root` keeps runc's state out of /run/runc. */
export class RuncRuntime {
  constructor(readonly options: { root: string; runcPath?: string }) {}

  private get runc(): string {
    return this.options.runcPath ?? 'runc';
  }

  /** Runs the bundle to completion (runc removes the container afterwards). */
  async run(id: string, bundleDir: string): Promise<RuncResult> {
    const r = await runProcess(this.runc, ['--root', this.options.root, 'run', '--bundle', bundleDir, id]);
    if (r.code === null) throw new RuntimeFailure(`runc run ${id} ended by ${r.signal}`);
    return { exitCode: r.code, stdout: r.stdout, stderr: r.stderr };
  }

  /** Removes whatever a failed run left (a container stuck in `created`, its cgroups). */
  async delete(id: string): Promise<void> {
    await runProcess(this.runc, ['--root', this.options.root, 'delete', '--force', id]);
  }
}
