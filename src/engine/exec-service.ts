// Exec instances (`POST /containers/{id}/exec`, `/exec/{id}/start`, `/exec/{id}/json`,
// `/exec/{id}/resize`): a process started in a running container through the shim, with
// its streams handed to whoever started it and its exit code kept for inspection.

import { randomBytes } from 'node:crypto';
import type { ExecCreateBody, ExecInspect } from '../common/api-types.js';
import { ConflictError, NotFoundError, UsageError } from '../common/errors.js';
import { resolveUser, rootfsReader } from '../runtime/bundle.js';
import type { ShimRuntime } from '../runtime/shim-runtime.js';
import type { ContainerService } from './container-service.js';

interface ExecSession {
  id: string;
  containerId: string;
  body: ExecCreateBody;
  running: boolean;
  started: boolean;
  exitCode: number | null;
  pid: number;
  resize?: (rows: number, cols: number) => Promise<void>;
}

export interface ExecStreams {
  stdin?: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

/** Exec instances are forgotten this long after they end (Docker keeps them until the container goes). */
const KEEP_ENDED_MS = 10 * 60_000;

export class ExecService {
  private readonly sessions = new Map<string, ExecSession>();

  constructor(private readonly containers: ContainerService, private readonly runtime: ShimRuntime) {}

  create(containerRef: string, body: ExecCreateBody): { Id: string } {
    const record = this.containers.find(containerRef);
    if (record.State.Status === 'paused') throw new ConflictError(`container ${record.Name.slice(1)} is paused: unpause it first`);
    if (record.State.Status !== 'running') throw new ConflictError(`container ${record.Name.slice(1)} is not running`);
    if (!Array.isArray(body.Cmd) || body.Cmd.length === 0 || body.Cmd.some((a) => typeof a !== 'string')) {
      throw new UsageError('exec needs a command: "Cmd" must be a non-empty list of strings');
    }
    const id = randomBytes(32).toString('hex');
    this.sessions.set(id, { id, containerId: record.Id, body, running: false, started: false, exitCode: null, pid: 0 });
    return { Id: id };
  }

  private get(id: string): ExecSession {
    const session = this.sessions.get(id);
    if (!session) throw new NotFoundError(`No such exec instance: ${id}`);
    return session;
  }

  /** Checks the instance can start; call before answering the client, so errors still get a status code. */
  prepare(id: string): { tty: boolean } {
    const session = this.get(id);
    if (session.started) throw new ConflictError(`exec ${id} has already been started`);
    if (!this.containers.isRunning(session.containerId)) throw new ConflictError(`container ${session.containerId} is not running`);
    return { tty: session.body.Tty ?? false };
  }

  /** Runs the process to its end; resolves with the exit code. */
  async start(id: string, streams: ExecStreams, options: { rows?: number; cols?: number } = {}): Promise<number> {
    const session = this.get(id);
    if (session.started) throw new ConflictError(`exec ${id} has already been started`);
    session.started = true;
    session.running = true;
    const { body } = session;
    try {
      const user = body.User
        ? await resolveUser(body.User, rootfsReader(await this.containers.rootfs(session.containerId))).catch((err: Error) => {
          throw new UsageError(`exec user "${body.User}": ${err.message}`);
        })
        : undefined;
      const [rows, cols] = body.ConsoleSize ?? [options.rows, options.cols];
      const r = await this.runtime.exec(session.containerId, {
        args: body.Cmd ?? [],
        ...(body.Env ? { env: body.Env } : {}),
        ...(body.WorkingDir ? { cwd: body.WorkingDir } : {}),
        ...(user ? { user } : {}),
        tty: body.Tty ?? false,
        ...(rows && cols ? { rows, cols } : {}),
        ...(body.AttachStdin && streams.stdin ? { stdin: streams.stdin } : {}),
        stdout: streams.stdout,
        stderr: streams.stderr,
        onStart: (pid) => (session.pid = pid),
        onResizable: (resize) => (session.resize = resize),
      });
      session.exitCode = r.exitCode;
      return r.exitCode;
    } catch (err) {
      session.exitCode = 126;
      throw err;
    } finally {
      session.running = false;
      setTimeout(() => this.sessions.delete(id), KEEP_ENDED_MS).unref();
    }
  }

  async resize(id: string, rows: number, cols: number): Promise<void> {
    const session = this.get(id);
    if (!session.body.Tty) return;
    if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows <= 0 || cols <= 0) throw new UsageError('resize needs positive integers h and w');
    await session.resize?.(rows, cols);
  }

  inspect(id: string): ExecInspect {
    const s = this.get(id);
    const [entrypoint = '', ...args] = s.body.Cmd ?? [];
    return {
      ID: s.id,
      ContainerID: s.containerId,
      Running: s.running,
      ExitCode: s.exitCode,
      Pid: s.pid,
      OpenStdin: s.body.AttachStdin ?? false,
      OpenStdout: s.body.AttachStdout ?? true,
      OpenStderr: s.body.AttachStderr ?? true,
      CanRemove: !s.running,
      DetachKeys: '',
      ProcessConfig: { tty: s.body.Tty ?? false, entrypoint, arguments: args, privileged: s.body.Privileged ?? false, user: s.body.User ?? '' },
    };
  }
}
