// Shared by the runtime tests: a busybox-static rootfs in a temp dir, a ShimRuntime with
// private state, and cleanup that runs even when a test fails.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeBundle, type ContainerSpec } from '../../src/runtime/bundle.js';
import { DEFAULT_SHIM_PATH, ShimRuntime, type ContainerState, type LogEntry } from '../../src/runtime/shim-runtime.js';

export const BUSYBOX = '/bin/busybox';

/** Why these tests cannot run here, or undefined when they can. */
export function skipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'runtime tests need root (namespaces, mounts, cgroups)';
  if (!existsSync(BUSYBOX)) return `runtime tests need busybox-static at ${BUSYBOX} (apt-get install busybox-static)`;
  if (!existsSync(DEFAULT_SHIM_PATH)) return `the shim is not built: node scripts/build-shim.mjs (${DEFAULT_SHIM_PATH})`;
  return undefined;
}

/** A rootfs with a static busybox, its applets, and the few files images have. */
export function makeBusyboxRootfs(dir: string): string {
  for (const d of ['bin', 'etc', 'proc', 'sys', 'dev', 'tmp', 'root', 'home/app']) mkdirSync(join(dir, d), { recursive: true });
  copyFileSync(BUSYBOX, join(dir, 'bin/busybox'));
  execFileSync('chmod', ['0755', join(dir, 'bin/busybox')]);
  const applets = execFileSync(BUSYBOX, ['--list'], { encoding: 'utf8' }).split('\n').filter((a) => a && a !== 'busybox');
  for (const applet of applets) symlinkSync('busybox', join(dir, 'bin', applet));
  writeFileSync(join(dir, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n');
  writeFileSync(join(dir, 'etc/group'), 'root:x:0:\naudio:x:29:app\nvideo:x:44:app\napp:x:1000:\n');
  return dir;
}

export interface Harness {
  root: string;
  rootfs: string;
  runtime: ShimRuntime;
  /** A fresh id; every id handed out is deleted at teardown. */
  newId(): string;
  bundle(id: string, spec: Omit<ContainerSpec, 'rootfs'>): Promise<string>;
  /** Starts, waits for the exit, returns the state and the log. */
  runToExit(spec: Omit<ContainerSpec, 'rootfs'>, timeoutMs?: number): Promise<{ id: string; state: ContainerState; logs: LogEntry[]; stdout: string }>;
  /** Deletes every container handed out so far (forcefully). */
  deleteAll(): Promise<void>;
  cleanup(): Promise<void>;
}

let counter = 0;

export function makeHarness(name: string): Harness {
  const root = mkdtempSync(join(tmpdir(), `stack-rt-${name}-`));
  const rootfs = makeBusyboxRootfs(join(root, 'rootfs'));
  const runtime = new ShimRuntime({ stateRoot: join(root, 'state') });
  const ids: string[] = [];
  const harness: Harness = {
    root,
    rootfs,
    runtime,
    newId() {
      const id = `t${process.pid}-${name}-${++counter}`;
      ids.push(id);
      return id;
    },
    bundle(id, spec) {
      return writeBundle(join(root, 'bundles', id), { ...spec, rootfs });
    },
    async runToExit(spec, timeoutMs = 20_000) {
      const id = harness.newId();
      await runtime.start(id, await harness.bundle(id, spec));
      const state = await runtime.waitForExit(id, timeoutMs);
      const logs = await runtime.logs(id);
      const stdout = logs.filter((l) => l.stream === 'stdout').map((l) => l.log).join('');
      return { id, state, logs, stdout };
    },
    async deleteAll() {
      for (const id of ids.splice(0)) {
        await runtime.delete(id, { force: true }).catch(() => undefined);
      }
    },
    async cleanup() {
      await harness.deleteAll();
      rmSync(root, { recursive: true, force: true });
    },
  };
  return harness;
}

/** Polls until `predicate` holds, for waiting on what a running container writes. */
export async function waitUntil(predicate: () => Promise<boolean> | boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await predicate()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return predicate();
}

/** Our own cgroup subtree entries named like the tests' containers: what a leak would leave. */
export function leftoverCgroups(prefix: string): string[] {
  const found: string[] = [];
  for (const line of readFileSync('/proc/self/cgroup', 'utf8').split('\n')) {
    const [, controllers = '', path = ''] = line.split(':');
    for (const c of controllers.split(',')) {
      if (!['memory', 'cpu', 'pids', 'freezer'].includes(c)) continue;
      const dir = join('/sys/fs/cgroup', c, path);
      if (!existsSync(dir)) continue;
      for (const entry of readdirSync(dir)) if (entry.includes(prefix)) found.push(join(dir, entry));
    }
  }
  return found;
}
