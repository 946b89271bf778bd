// Benchmark: `stack run --rm --network none busybox:test true` through CLI -> engine -> shim against
// `docker run --rm --network none IMG true` under Debian's docker.io, in one run, plus the
// idle RSS of each engine. Our engine is a private stackd started once before timing; the
// same container lifecycle is also timed through the API alone (create, wait, start,
// delete from this process) to show what the CLI process costs. dockerd is started here
// with private data/exec roots and a private socket, no bridge and no iptables, so it
// touches no host networking; if it cannot run, the docker column is skipped with the
// reason. Needs root and busybox-static. Prints medians, p90 and ratios; asserts nothing.
// Everything (engines, mounts, temp dirs) is cleaned up, also on failure or SIGINT.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, openSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { makeBusyboxImage } from '../src/image/bootstrap.js';
import { ImageStore } from '../src/image/store.js';
import { DEFAULT_SHIM_PATH } from '../src/runtime/shim-runtime.js';
import { ENGINE_NODE_FLAGS } from '../src/client/engine-connection.js';
import { holdCaCertificates } from '../src/common/held-ca-certificates.js';
import { alive, cleanUpOnInterrupt, killAll, processTree, stopChild, unmountUnder } from './processes.js';
import { DOCKER_CLI, ensureDocker, http, importBusyboxImage, startPrivateDockerd, waitForPing, type HttpReply } from './docker-peer.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const WARMUP = 2;
const IMAGE = 'busybox:test';
const DOCKER_IMAGE = 'stack-bench-busybox:latest';
const REPO = resolve(import.meta.dirname, '../..');
const STACK_CLI = join(REPO, 'bin/stack.js');
const STACKD = join(REPO, 'bin/stackd.js');

interface Stats {
  median: number;
  p90: number;
  min: number;
}

function stats(xs: number[]): Stats {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
  return { median: at(0.5), p90: at(0.9), min: s[0]! };
}







function expectStatus(r: HttpReply, ok: number[], what: string): void {
  if (!ok.includes(r.status)) throw new Error(`${what}: HTTP ${r.status} ${r.body.trim()}`);
}

/** One container through the API alone: create, wait (armed before start), start, delete. */
async function apiRunOnce(socket: string): Promise<void> {
  const created = await http(socket, 'POST', '/v1.41/containers/create', { Image: IMAGE, Cmd: ['true'], HostConfig: { NetworkMode: 'none' } });
  expectStatus(created, [201], 'create');
  const id = (JSON.parse(created.body) as { Id: string }).Id;
  try {
    const waiting = http(socket, 'POST', `/v1.41/containers/${id}/wait?condition=next-exit`);
    const started = await http(socket, 'POST', `/v1.41/containers/${id}/start`);
    expectStatus(started, [204], 'start');
    const waited = await waiting;
    expectStatus(waited, [200], 'wait');
    const code = (JSON.parse(waited.body) as { StatusCode: number }).StatusCode;
    if (code !== 0) throw new Error(`API run exited ${code}`);
  } finally {
    expectStatus(await http(socket, 'DELETE', `/v1.41/containers/${id}?force=1`), [204], 'delete');
  }
}

// --- processes and memory --------------------------------------------------------------

function rssKb(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

function processName(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '?';
  }
}

function treeRss(root: number): { total: number; parts: Array<{ pid: number; name: string; kb: number }> } {
  const parts = processTree(root).map((pid) => ({ pid, name: processName(pid), kb: rssKb(pid) }));
  return { total: parts.reduce((a, p) => a + p.kb, 0), parts };
}

function timeCommand(cmd: string, args: string[], env: NodeJS.ProcessEnv, what: string): number {
  const started = performance.now();
  const r = spawnSync(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
  const elapsed = performance.now() - started;
  if (r.status !== 0) throw new Error(`${what} failed (exit ${r.status ?? r.signal}): ${String(r.stderr).trim() || r.error?.message}`);
  return elapsed;
}

// --- the stack column --------------------------------------------------------------------

interface StackResult {
  cli: Stats;
  api: Stats;
  version: Stats;
  startRssKb: number;
  rssKb: number;
  rssParts: string;
}

async function benchStack(base: string, state: { stackd?: ChildProcess; dockerd?: ChildProcess }): Promise<StackResult> {
  const root = join(base, 'root');
  const runRoot = join(base, 'run');
  const socket = join(runRoot, 'stack.sock');
  mkdirSync(runRoot, { recursive: true });
  await makeBusyboxImage(await new ImageStore(join(root, 'image')).init(), IMAGE);

  const log = join(base, 'stackd.log');
  const logFd = openSync(log, 'a');
  // Started as the CLI starts it (engine-connection.ts): its flags, NODE_EXTRA_CA_CERTS held back.
  const stackd = spawn(process.execPath, [...ENGINE_NODE_FLAGS, STACKD, '--root', root, '--run-root', runRoot, '--socket', socket], { stdio: ['ignore', logFd, logFd], env: holdCaCertificates(process.env) });
  closeSync(logFd);
  state.stackd = stackd;
  await waitForPing(socket, stackd, 'stackd', 15_000, log);
  // Idle right after start, as an engine waits for its first command.
  await sleep(2_000);
  const startRssKb = treeRss(stackd.pid!).total;

  const env: NodeJS.ProcessEnv = { ...process.env, STACK_ROOT: root, STACK_RUN_ROOT: runRoot, STACK_SOCKET: socket, STACK_NO_AUTOSTART: '1' };
  // --network none on both sides, as docker's column: what a bridge attachment adds is bench/network's.
  const cliArgs = ['run', '--rm', '--network', 'none', IMAGE, 'true'];
  for (let i = 0; i < WARMUP; i++) {
    timeCommand(STACK_CLI, cliArgs, env, 'stack run (warm-up)');
    await apiRunOnce(socket);
  }
  const cli: number[] = [];
  const api: number[] = [];
  const version: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    version.push(timeCommand(STACK_CLI, ['--version'], env, 'stack --version'));
    cli.push(timeCommand(STACK_CLI, cliArgs, env, `stack run ${i}`));
    const started = performance.now();
    await apiRunOnce(socket);
    api.push(performance.now() - started);
  }
  // Idle: give the engine a moment after the last run before reading its RSS.
  await sleep(2_000);
  const left = JSON.parse((await http(socket, 'GET', '/v1.41/containers/json?all=1')).body) as unknown[];
  if (left.length > 0) console.log(`note: ${left.length} container(s) left in the stack engine after --rm runs`);
  const rss = treeRss(stackd.pid!);
  return { cli: stats(cli), api: stats(api), version: stats(version), startRssKb, rssKb: rss.total, rssParts: rss.parts.map((p) => `${p.name}[${p.pid}] ${(p.kb / 1024).toFixed(1)}`).join(', ') };
}

// --- the docker column -------------------------------------------------------------------

interface DockerResult {
  run: Stats;
  rssKb: number;
  rssParts: string;
  version: string;
}

async function benchDocker(base: string, state: { stackd?: ChildProcess; dockerd?: ChildProcess }): Promise<DockerResult> {
  const { dockerd, env, version } = await startPrivateDockerd(base);
  state.dockerd = dockerd;
  importBusyboxImage(env, base, DOCKER_IMAGE);

  const args = ['run', '--rm', '--network', 'none', DOCKER_IMAGE, 'true'];
  for (let i = 0; i < WARMUP; i++) timeCommand(DOCKER_CLI, args, env, 'docker run (warm-up)');
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) times.push(timeCommand(DOCKER_CLI, args, env, `docker run ${i}`));
  await sleep(2_000);
  const rss = treeRss(dockerd.pid!);
  return {
    run: stats(times),
    rssKb: rss.total,
    rssParts: rss.parts.map((p) => `${p.name}[${p.pid}] ${(p.kb / 1024).toFixed(1)}`).join(', '),
    version,
  };
}

// --- main --------------------------------------------------------------------------------

function skipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (namespaces, mounts, cgroups)';
  if (!existsSync('/bin/busybox')) return 'needs busybox-static (apt-get install busybox-static)';
  if (!existsSync(DEFAULT_SHIM_PATH)) return `the shim is not built (${DEFAULT_SHIM_PATH}): node scripts/build-shim.mjs`;
  return undefined;
}

async function main(): Promise<void> {
  const skip = skipReason();
  if (skip) {
    console.log(`engine bench skipped: ${skip}`);
    return;
  }
  const base = mkdtempSync(join(tmpdir(), 'stack-bench-engine-'));
  const state: { stackd?: ChildProcess; dockerd?: ChildProcess } = {};
  let cleaned = false;
  const cleanup = async (): Promise<void> => {
    if (cleaned) return;
    cleaned = true;
    await stopChild(state.stackd, 5_000).catch(() => undefined);
    // dockerd stops its own containerd on SIGTERM; kill leftovers of its tree if it does not.
    const dockerTree = alive(state.dockerd) ? processTree(state.dockerd.pid!).slice(1) : [];
    await stopChild(state.dockerd, 15_000).catch(() => undefined);
    killAll(dockerTree);
    unmountUnder(base);
    rmSync(base, { recursive: true, force: true, maxRetries: 3 });
  };
  const stopListening = cleanUpOnInterrupt(cleanup);

  let stack: StackResult | undefined;
  let docker: DockerResult | undefined;
  let dockerSkip: string | undefined;
  try {
    const stackBase = join(base, 'stack');
    mkdirSync(stackBase);
    stack = await benchStack(stackBase, state);
    // Stop our engine before docker runs, so the two never compete; its RSS is already read.
    await stopChild(state.stackd, 5_000);

    dockerSkip = ensureDocker();
    if (!dockerSkip) {
      const dockerBase = join(base, 'docker');
      mkdirSync(dockerBase);
      try {
        docker = await benchDocker(dockerBase, state);
      } catch (err) {
        dockerSkip = (err as Error).message;
      }
    }
  } finally {
    await cleanup();
    stopListening();
  }

  const ms = (x: number) => x.toFixed(1).padStart(8);
  const mb = (kb: number) => `${(kb / 1024).toFixed(1)} MB`;
  console.log(`run --rm IMAGE true, wall time, ${RUNS} runs each after ${WARMUP} warm-up, ms`);
  console.log(`${'path'.padEnd(42)}   median      p90      min`);
  const row = (name: string, s: Stats) => console.log(`${name.padEnd(42)} ${ms(s.median)} ${ms(s.p90)} ${ms(s.min)}`);
  row('stack run --rm (CLI -> stackd -> shim)', stack.cli);
  row('stack API only (create/start/wait/delete)', stack.api);
  row('stack --version (CLI process floor)', stack.version);
  if (docker) row('docker run --rm --network none', docker.run);
  else console.log(`${'docker run --rm --network none'.padEnd(42)} skipped: ${dockerSkip}`);
  console.log(`CLI process cost (stack CLI - API, median): ${(stack.cli.median - stack.api.median).toFixed(1)} ms`);
  console.log('');
  console.log('engine idle RSS (after the runs)');
  console.log(`  stackd:            ${mb(stack.rssKb).padStart(9)}  (${stack.rssParts}; ${mb(stack.startRssKb)} right after start)`);
  if (docker) console.log(`  dockerd+containerd: ${mb(docker.rssKb).padStart(8)}  (${docker.rssParts})`);
  console.log('');
  if (docker) {
    console.log(`docker: ${docker.version}`);
    console.log(`stack/docker run time (median): ${(stack.cli.median / docker.run.median).toFixed(3)}  (target <= 0.25)`);
    console.log(`stack API/docker run time (median): ${(stack.api.median / docker.run.median).toFixed(3)}`);
    console.log(`stackd/docker idle RSS: ${(stack.rssKb / docker.rssKb).toFixed(3)}`);
  }
  console.log(`stackd idle RSS ${mb(stack.rssKb)} (target < 60 MB)`);
}

await main();
