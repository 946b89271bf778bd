// Runs one container from a stored image in the calling process, start to finish: the
// rootfs overlay, the bundle, the shim, the log relayed as it grows, then cleanup. It
// serves `stack run --runtime runc`, the escape hatch that needs no engine; everything
// else runs through the engine (src/engine).

import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { writeBundle } from '../runtime/bundle.js';
import { RuncRuntime, ShimRuntime, type LogEntry } from '../runtime/shim-runtime.js';
import { containerRootfsDirs, mountImageRootfs, unmountRootfs } from './rootfs.js';
import type { ImageStore } from './store.js';

export interface RunOnceOptions {
  image: string;
  /** Overrides the image's Cmd (the Entrypoint is kept). */
  command?: string[];
  env?: string[];
  name?: string;
  /** Engine root holding containers/ and the runtime state. */
  root: string;
  onLog: (entry: LogEntry) => void;
  /** Aborting stops the container (Ctrl-C). */
  signal?: AbortSignal;
  pollMs?: number;
  /** `runc` runs the same bundle under Debian's runc instead of our shim (an escape hatch). */
  runtime?: 'shim' | 'runc';
}

/** Resolves with the container's exit code (128+signal when a signal ended it). */
export async function runImageOnce(store: ImageStore, options: RunOnceOptions): Promise<number> {
  const image = await store.resolve(options.image);
  const cfg = image.config.config;
  const args = [...(cfg.Entrypoint ?? []), ...(options.command && options.command.length > 0 ? options.command : cfg.Cmd ?? [])];
  if (args.length === 0) throw new Error(`image ${image.reference} has no Cmd or Entrypoint: give a command`);
  const id = options.name ?? `run-${randomBytes(6).toString('hex')}`;
  const dirs = containerRootfsDirs(options.root, id);
  const base = join(options.root, 'containers', id);
  const runtime = new ShimRuntime({ stateRoot: join(options.root, 'runtime') });
  let started = false;
  try {
    await mountImageRootfs(store, image, dirs);
    const env = [...(cfg.Env ?? []), ...(options.env ?? [])];
    const bundle = await writeBundle(join(base, 'bundle'), { rootfs: dirs.target, args, env, cwd: cfg.WorkingDir || '/', hostname: id.slice(0, 63) });
    if (options.runtime === 'runc') return await runUnderRunc(options, id, bundle);
    const onAbort = (): void => { void runtime.stop(id).catch(() => undefined); };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await runtime.start(id, bundle);
      started = true;
      let shown = 0;
      const relay = async (): Promise<void> => {
        const logs = await runtime.logs(id);
        for (const entry of logs.slice(shown)) options.onLog(entry);
        shown = logs.length;
      };
      for (;;) {
        const state = await runtime.state(id);
        await relay();
        if (state.status === 'stopped') {
          await relay();
          return state.exitCode ?? (state.signal !== null ? 128 + state.signal : 1);
        }
        await sleep(options.pollMs ?? 50);
      }
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
    }
  } finally {
    if (started) await runtime.delete(id, { force: true }).catch(() => undefined);
    await unmountRootfs(dirs.target);
    await rm(base, { recursive: true, force: true });
  }
}

/**
 * runc in the foreground: its output is relayed when it exits, not as it comes, since
 * runc writes to our pipes rather than to a log file. Ctrl-C reaches runc's process
 * group through the terminal, and runc passes it on.
 */
async function runUnderRunc(options: RunOnceOptions, id: string, bundle: string): Promise<number> {
  const runc = new RuncRuntime({ root: join(options.root, 'runc') });
  try {
    const r = await runc.run(id, bundle);
    const time = new Date().toISOString();
    if (r.stdout) options.onLog({ log: r.stdout, stream: 'stdout', time });
    if (r.stderr) options.onLog({ log: r.stderr, stream: 'stderr', time });
    return r.exitCode;
  } finally {
    await runc.delete(id).catch(() => undefined);
  }
}
