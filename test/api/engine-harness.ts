// A private engine for a test: temp root, temp run dir and socket, the busybox image in
// its store, the engine served in this process (or as its own stackd process when a test
// must kill it), and cleanup that removes every container, mount and file even when the
// test fails.

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { engineSettings, startEngine, type RunningEngine } from '../../src/api/stackd.js';
import { ApiClient } from '../../src/client/api-client.js';
import type { EnginePaths } from '../../src/common/engine-paths.js';
import { makeBusyboxImage } from '../../src/image/bootstrap.js';
import { ImageStore } from '../../src/image/store.js';
import { DEFAULT_SHIM_PATH } from '../../src/runtime/shim-runtime.js';
import { firewallTag, sweepNetworkKernelObjects } from '../../src/engine/network-service.js';
import { Firewall } from '../../src/network/firewall.js';

export const BUSYBOX_IMAGE = 'busybox:test';
const STACKD = resolve(import.meta.dirname, '../../../bin/stackd.js');

/**
 * What `read` gives once `done` holds, or after `ms` its last value (for the test to fail on).
 * For the kernel after a network removal: the engine answers as soon as the network has left
 * its API, and takes the bridge and rules away just after.
 */
export async function settled<T>(read: () => T | Promise<T>, done: (value: T) => boolean, ms = 3000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() >= deadline) return value;
    await sleep(25);
  }
}

/** Why engine tests cannot run here, or undefined when they can. */
export function engineSkipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'engine tests need root (namespaces, mounts, cgroups)';
  if (!existsSync('/bin/busybox')) return 'engine tests need busybox-static (apt-get install busybox-static)';
  if (!existsSync(DEFAULT_SHIM_PATH)) return `the shim is not built (${DEFAULT_SHIM_PATH}): node scripts/build-shim.mjs`;
  return undefined;
}

export interface EngineHarness {
  paths: EnginePaths;
  client: ApiClient;
  /** The environment a CLI run needs to reach this engine (and never start another). */
  env: Record<string, string>;
  /** Serves the engine in this process (the default) ... */
  startInProcess(): Promise<void>;
  /** ... or as a separate stackd process, which a test may SIGKILL (`args`: more stackd options). */
  startProcess(args?: string[]): Promise<ChildProcess>;
  stopEngine(): Promise<void>;
  cleanup(): Promise<void>;
}

/**
 * A private engine in temp dirs. Its default bridge leaves the kernel as soon as its last
 * container does (no lingering), so tests can check the kernel is as it was; `bridgeLingerMs`
 * sets the engine's usual lingering instead.
 */
export async function makeEngineHarness(name: string, options: { inProcess?: boolean; bridgeLingerMs?: number } = { inProcess: true }): Promise<EngineHarness> {
  const linger = String(options.bridgeLingerMs ?? 0);
  const base = mkdtempSync(join(tmpdir(), `stack-eng-${name}-`));
  const paths: EnginePaths = { root: join(base, 'root'), runRoot: join(base, 'run'), socket: join(base, 'run', 'stack.sock') };
  const store = await new ImageStore(join(paths.root, 'image')).init();
  await makeBusyboxImage(store, BUSYBOX_IMAGE);
  const client = new ApiClient(paths.socket);
  let inProcess: RunningEngine | undefined;
  let child: ChildProcess | undefined;
  const harness: EngineHarness = {
    paths,
    client,
    env: { STACK_ROOT: paths.root, STACK_RUN_ROOT: paths.runRoot, STACK_SOCKET: paths.socket, STACK_NO_AUTOSTART: '1', PATH: process.env.PATH ?? '/usr/bin:/bin' },
    async startInProcess() {
      inProcess = await startEngine(paths, 'test', engineSettings({ ...process.env, STACK_DEFAULT_BRIDGE_LINGER_MS: linger }));
    },
    async startProcess(args = []) {
      child = spawn(process.execPath, [STACKD, '--root', paths.root, '--run-root', paths.runRoot, '--socket', paths.socket, ...args], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, STACK_DEFAULT_BRIDGE_LINGER_MS: linger } });
      for (let i = 0; i < 200 && !(await client.ping()); i++) await sleep(25);
      if (!(await client.ping())) throw new Error('the test engine did not start');
      return child;
    },
    async stopEngine() {
      if (inProcess) await inProcess.stop();
      inProcess = undefined;
      if (child && child.exitCode === null && child.signalCode === null) {
        const gone = new Promise((r) => child!.once('exit', r));
        child.kill('SIGTERM');
        await gone;
      }
      child = undefined;
    },
    async cleanup() {
      if (!(await client.ping().catch(() => false))) await harness.startInProcess().catch(() => undefined);
      try {
        const all = await client.call<Array<{ Id: string }>>('GET', '/containers/json', { query: { all: 1 } });
        for (const c of all) await client.call('DELETE', `/containers/${c.Id}`, { query: { force: 1 } }).catch(() => undefined);
        const networks = await client.call<Array<{ Id: string; Name: string }>>('GET', '/networks');
        for (const n of networks) if (!['bridge', 'host', 'none'].includes(n.Name)) await client.call('DELETE', `/networks/${n.Id}`).catch(() => undefined);
      } catch {
        // The engine is gone: the sweep below still unmounts and removes everything.
      }
      await harness.stopEngine();
      await sweepNetworkKernelObjects(paths.root, new Firewall({ tag: firewallTag(paths.root) }));
      const mounts = readFileSync('/proc/self/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1] ?? '').filter((m) => m.startsWith(base));
      for (const m of mounts.reverse()) execFileSync('umount', ['-l', m]);
      rmSync(base, { recursive: true, force: true });
    },
  };
  if (options.inProcess !== false) await harness.startInProcess();
  return harness;
}

