// Benchmark: `stack up -d` / `stack down` against Debian's docker-compose 1.29 on a private
// dockerd (bench/docker-peer.ts), in one run, both engines up and the sides taking turns
// round by round (so that load from elsewhere on the machine falls on both alike). First the example Postgres + Redis stack
// (examples/postgres-redis, images already present on both sides): after a warm-up round,
// BENCH_RUNS rounds (default 5) of `up -d` wall time, time from the start of `up` until
// Postgres answers (`pg_isready` on its published 127.0.0.1 port) and until Redis answers
// PONG (`redis-cli ping`), and `down` wall time (and until the project's bridge has left
// the kernel: our engine deletes it just after answering). Then a 50-service stack of busybox
// containers: `up -d` and `down` wall times. Prints medians and the ratios stack/docker.
//
// Our side is a private stackd (temp root, run dir and socket) driven by the real CLI as
// a child process, as a user runs it; the images come from the cached Debian base and the
// cached built example images (test/examples/example-images.ts). Docker's side imports the
// same Debian base tarball as stack/debian:bookworm and builds the example's Dockerfiles
// with the classic builder once (then kept as a docker-archive in /var/cache/stack-test).
// Docker-compose 1.29 does not know the top-level `name:`, so both sides run a copy of
// the example's stack file without it, named with -p. BENCH_SIDES=stack skips docker's
// side (for quick before/after runs); BENCH_STACK_REPO=/path runs that checkout's build. Needs root, busybox-static, pg_isready, redis-cli.
// Everything (engines, containers, networks, mounts, temp dirs) is cleaned up, also on
// failure or SIGINT.

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { firewallTag, sweepNetworkKernelObjects } from '../src/engine/network-service.js';
import { makeBusyboxImage } from '../src/image/bootstrap.js';
import { ImageStore } from '../src/image/store.js';
import { Firewall } from '../src/network/firewall.js';
import { DEFAULT_SHIM_PATH } from '../src/runtime/shim-runtime.js';
import { EXAMPLE, EXAMPLE_IMAGES, DEBIAN_BASE_IMAGE, debianBaseTarball, exampleArchive, importDebianBase } from '../test/examples/example-images.js';
import { DOCKER_CLI, ensureDocker, http, importBusyboxImage, startPrivateDockerd, stopDockerd, waitForPing } from './docker-peer.js';
import { alive, cleanUpOnInterrupt, killAll, processTree, stopChild, unmountUnder } from './processes.js';
import { freePort } from '../test/api/free-port.js';

const execFileAsync = promisify(execFile);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const SIDES = (process.env.BENCH_SIDES ?? 'stack,docker').split(',');
const SMALL_SERVICES = 50;
// BENCH_STACK_REPO runs another checkout's built CLI and engine: a before/after comparison.
const REPO = process.env.BENCH_STACK_REPO ?? resolve(import.meta.dirname, '../..');
const STACK_CLI = join(REPO, 'bin/stack.js');
const STACKD = join(REPO, 'bin/stackd.js');
const DOCKER_COMPOSE = '/usr/bin/docker-compose';
const STACK_BUSYBOX = 'busybox:test';
const DOCKER_BUSYBOX = 'stack-bench-busybox:latest';
const READY_TIMEOUT_MS = 60_000;

interface Figures {
  up: number[];
  postgresReady: number[];
  redisReady: number[];
  down: number[];
  /** From the start of `down` until the project's bridges have left the kernel (our engine deletes them just after it answers). */
  downKernel: number[];
  smallUp: number[];
  smallDown: number[];
}

/** What differs between the two sides: how to run compose, and the busybox image's name. */
interface Side {
  name: 'stack' | 'docker';
  compose: (args: string[]) => [string, string[]];
  env: NodeJS.ProcessEnv;
  busybox: string;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}

/** Runs a command to completion; its wall time in ms, or an error with its stderr. */
async function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv, what: string): Promise<number> {
  const started = performance.now();
  try {
    await execFileAsync(cmd, args, { env, timeout: 180_000, maxBuffer: 64 << 20 });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    const elapsed = performance.now() - started;
    const said = (e.stderr ?? '').trim().split('\n').slice(-4).join('\n');
    throw Object.assign(new Error(`${what} failed: ${said || e.message}`), { elapsed });
  }
  return performance.now() - started;
}

/** Probes until one succeeds (bounded); the moment it did. */
async function readyAt(probe: () => Promise<boolean>, what: string): Promise<number> {
  const deadline = performance.now() + READY_TIMEOUT_MS;
  while (performance.now() < deadline) {
    if (await probe().catch(() => false)) return performance.now();
    await sleep(10);
  }
  throw new Error(`${what} did not answer within ${READY_TIMEOUT_MS} ms`);
}

const postgresAnswers = (port: number) => async (): Promise<boolean> => {
  await execFileAsync('pg_isready', ['-h', '127.0.0.1', '-p', String(port), '-U', 'dev', '-d', 'app', '-t', '1'], { timeout: 5_000 });
  return true;
};

const redisAnswers = (port: number) => async (): Promise<boolean> => {
  const { stdout } = await execFileAsync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), 'ping'], { timeout: 5_000 });
  return stdout.trim() === 'PONG';
};

// --- the stack files ---------------------------------------------------------------------

/**
 * The example's stack file without `name:` (unknown to docker-compose 1.29), build contexts
 * and bind sources made absolute. Docker's copy also goes without the health checks'
 * `start_interval` (Compose spec 2023, Docker 25): docker-compose 1.29 refuses the key and
 * Docker 20.10 has no such setting, so its checks run every `interval` from the start.
 */
function writeExampleStackFile(dir: string, side: Side['name']): string {
  let text = readFileSync(join(EXAMPLE, 'compose.yaml'), 'utf8')
    .replace(/^name: .*\n/m, '')
    .replace(/^(\s+build: )\.\/(\S+)$/gm, (_m, lead: string, sub: string) => `${lead}${join(EXAMPLE, sub)}`)
    .replace(/^(\s+- )\.\/([^:\s]+):/gm, (_m, lead: string, sub: string) => `${lead}${join(EXAMPLE, sub)}:`);
  if (side === 'docker') text = text.replace(/^\s+start_interval: .*\n/gm, '');
  if (/^name:/m.test(text) || text.includes(' ./')) throw new Error('the example stack file changed shape: update writeExampleStackFile');
  const file = join(dir, `example-${side}.yaml`);
  writeFileSync(file, text);
  return file;
}

/** SMALL_SERVICES services of busybox waiting for SIGTERM (so `down` stops them at once). */
function writeSmallStackFile(dir: string, image: string): string {
  const lines = ['services:'];
  for (let i = 0; i < SMALL_SERVICES; i++) {
    lines.push(`  s${String(i).padStart(2, '0')}:`, `    image: ${image}`, `    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]`);
  }
  const file = join(dir, `small-${image.replace(/\W/g, '-')}.yaml`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

// --- the rounds (the same for both sides, interleaved so that load from elsewhere on the machine falls on both) ---

/** One side's compose command on one stack file, timed. */
function composer(side: Side, env: NodeJS.ProcessEnv, file: string, project: string) {
  return async (...args: string[]): Promise<number> => {
    const [cmd, argv] = side.compose(['-f', file, '-p', project, ...args]);
    const what = `${side.name} ${args.join(' ')} (${project})`;
    try {
      return await timed(cmd, argv, env, what);
    } catch (err) {
      // dockerd 20.10 sometimes keeps stale endpoints after removing many containers at once
      // and then refuses to remove their network ("has active endpoints"). Docker's own
      // remedy: disconnect them with force, then `down` again. The first attempt's time counts.
      const stale = /network (\S+) id \S+ has active endpoints/.exec((err as Error).message);
      if (args[0] !== 'down' || !stale || side.name !== 'docker') throw err;
      const started = performance.now();
      const inspect = await execFileAsync(DOCKER_CLI, ['network', 'inspect', stale[1]!, '--format', '{{range $id, $c := .Containers}}{{$c.Name}} {{end}}'], { env });
      for (const endpoint of inspect.stdout.trim().split(/\s+/).filter(Boolean)) {
        await execFileAsync(DOCKER_CLI, ['network', 'disconnect', '-f', stale[1]!, endpoint], { env }).catch(() => undefined);
      }
      const again = await timed(cmd, argv, env, `${what}, again`).then(() => 'removed by disconnect -f and a second down', (e: Error) => `left (the next up uses it again): ${e.message.split('\n').at(-1)}`);
      console.log(`note: ${what}: dockerd kept stale endpoints on ${stale[1]}; ${again} (${Math.round(performance.now() - started)} ms, not counted)`);
      return (err as { elapsed?: number }).elapsed ?? Number.NaN;
    }
  };
}

interface SideRounds {
  side: Side;
  figures: Figures;
  example: ReturnType<typeof composer>;
  small: ReturnType<typeof composer>;
  pgPort: number;
  redisPort: number;
}

async function prepareRounds(side: Side, dir: string): Promise<SideRounds> {
  const [pgPort, redisPort] = [await freePort(), await freePort()];
  const env = { ...side.env, POSTGRES_PORT: String(pgPort), REDIS_PORT: String(redisPort) };
  return {
    side,
    figures: { up: [], postgresReady: [], redisReady: [], down: [], downKernel: [], smallUp: [], smallDown: [] },
    example: composer(side, env, writeExampleStackFile(dir, side.name), 'benchdb'),
    small: composer(side, env, writeSmallStackFile(dir, side.busybox), 'benchsmall'),
    pgPort,
    redisPort,
  };
}

async function exampleRound(r: SideRounds, counted: boolean): Promise<void> {
  const started = performance.now();
  const up = await r.example('up', '-d');
  const [pg, redis] = await Promise.all([
    readyAt(postgresAnswers(r.pgPort), `${r.side.name}: Postgres on ${r.pgPort}`),
    readyAt(redisAnswers(r.redisPort), `${r.side.name}: Redis on ${r.redisPort}`),
  ]);
  const bridges = await projectBridges(r.side, 'benchdb');
  const downStarted = performance.now();
  const down = await r.example('down');
  const kernelClean = await bridgesGoneAt(bridges) - downStarted;
  if (!counted) return; // the warm-up also initialises the Postgres data volume
  r.figures.up.push(up);
  r.figures.postgresReady.push(pg - started);
  r.figures.redisReady.push(redis - started);
  r.figures.down.push(down);
  r.figures.downKernel.push(kernelClean);
}

/** The kernel names of a project's bridges, from its engine's API (the same call on both sides). */
async function projectBridges(side: Side, project: string): Promise<string[]> {
  const socket = side.name === 'stack' ? side.env.STACK_SOCKET! : side.env.DOCKER_HOST!.replace(/^unix:\/\//, '');
  const networks = JSON.parse((await http(socket, 'GET', '/networks')).body) as Array<{ Id: string; Labels: Record<string, string> | null; Options: Record<string, string> | null }>;
  return networks
    .filter((n) => n.Labels?.['com.docker.compose.project'] === project)
    .map((n) => n.Options?.['com.docker.network.bridge.name'] ?? `br-${n.Id.slice(0, 12)}`);
}

/** The moment none of these links is left in the host's namespace (polled every 2 ms, bounded). */
async function bridgesGoneAt(bridges: readonly string[]): Promise<number> {
  const deadline = performance.now() + READY_TIMEOUT_MS;
  while (performance.now() < deadline) {
    const links = readFileSync('/proc/net/dev', 'utf8');
    if (!bridges.some((b) => links.includes(`${b}:`))) return performance.now();
    await sleep(2);
  }
  throw new Error(`bridges ${bridges.join(', ')} still there ${READY_TIMEOUT_MS} ms after down`);
}

async function smallRound(r: SideRounds, counted: boolean): Promise<void> {
  const up = await r.small('up', '-d');
  const down = await r.small('down');
  if (!counted) return;
  r.figures.smallUp.push(up);
  r.figures.smallDown.push(down);
}

/** A warm-up and RUNS rounds of each stack, the sides taking turns; each side's stacks taken down after. */
async function runRounds(sides: SideRounds[]): Promise<void> {
  try {
    for (let round = -1; round < RUNS; round++) for (const r of sides) await exampleRound(r, round >= 0);
    for (let round = -1; round < RUNS; round++) for (const r of sides) await smallRound(r, round >= 0);
  } finally {
    for (const r of sides) {
      await r.example('down', '-v').catch((err: Error) => console.log(`note: ${err.message}`));
      await r.small('down').catch((err: Error) => console.log(`note: ${err.message}`));
    }
  }
}

// --- our side ----------------------------------------------------------------------------

interface Daemons {
  stackd?: ChildProcess;
  dockerd?: ChildProcess;
  stackRoot?: string;
  stackSocket?: string;
  dockerEnv?: NodeJS.ProcessEnv;
}

/** The same for dockerd: its containers, and its networks (their bridges live in the host's namespace). */
async function removeEverythingInDocker(env: NodeJS.ProcessEnv): Promise<void> {
  const ids = (await execFileAsync(DOCKER_CLI, ['ps', '-aq'], { env })).stdout.trim().split('\n').filter(Boolean);
  if (ids.length > 0) await execFileAsync(DOCKER_CLI, ['rm', '-f', '-v', ...ids], { env, timeout: 120_000 });
  await execFileAsync(DOCKER_CLI, ['network', 'prune', '-f'], { env, timeout: 60_000 }).catch(() => undefined);
  // A network dockerd would not remove (stale endpoints) keeps its bridge in the host's
  // namespace after dockerd stops: take the bridge away ourselves.
  const left = (await execFileAsync(DOCKER_CLI, ['network', 'ls', '-q', '--no-trunc', '--filter', 'type=custom'], { env })).stdout.trim().split('\n').filter(Boolean);
  for (const id of left) await execFileAsync('ip', ['link', 'del', `br-${id.slice(0, 12)}`]).catch(() => undefined);
}

/** Whatever a failed round left in our engine: its containers (their shims outlive the engine) and networks. */
async function removeEverything(socket: string): Promise<void> {
  const containers = JSON.parse((await http(socket, 'GET', '/containers/json?all=1')).body) as Array<{ Id: string }>;
  for (const c of containers) await http(socket, 'DELETE', `/containers/${c.Id}?force=1&v=1`);
  const networks = JSON.parse((await http(socket, 'GET', '/networks')).body) as Array<{ Id: string; Name: string }>;
  for (const n of networks) if (!['bridge', 'host', 'none'].includes(n.Name)) await http(socket, 'DELETE', `/networks/${n.Id}`);
}

async function prepareStack(base: string, daemons: Daemons): Promise<Side> {
  const root = join(base, 'root');
  const runRoot = join(base, 'run');
  const socket = join(runRoot, 'stack.sock');
  mkdirSync(runRoot, { recursive: true });
  daemons.stackRoot = root;
  daemons.stackSocket = socket;
  await makeBusyboxImage(await new ImageStore(join(root, 'image')).init(), STACK_BUSYBOX);
  await importDebianBase(root);

  const log = join(base, 'stackd.log');
  const logFd = openSync(log, 'a');
  const stackd = spawn(process.execPath, [STACKD, '--root', root, '--run-root', runRoot, '--socket', socket], { stdio: ['ignore', logFd, logFd] });
  closeSync(logFd);
  daemons.stackd = stackd;
  await waitForPing(socket, stackd, 'stackd', 15_000, log);

  const env: NodeJS.ProcessEnv = { ...process.env, STACK_ROOT: root, STACK_RUN_ROOT: runRoot, STACK_SOCKET: socket, STACK_NO_AUTOSTART: '1' };
  const cli = (args: string[]): [string, string[]] => [STACK_CLI, args];
  const archive = exampleArchive();
  if (existsSync(archive)) {
    await timed(...cli(['load', '-i', archive]), env, 'stack load');
  } else {
    console.log(`building the example images with stack (no ${archive} yet; slow once) ...`);
    await timed(...cli(['--project-directory', EXAMPLE, '-f', join(EXAMPLE, 'compose.yaml'), 'build']), env, 'stack build');
    await timed(...cli(['save', '-o', `${archive}.partial`, ...EXAMPLE_IMAGES]), env, 'stack save');
    renameSync(`${archive}.partial`, archive);
  }
  return { name: 'stack', compose: cli, env, busybox: STACK_BUSYBOX };
}

// --- docker's side -----------------------------------------------------------------------

function docker(env: NodeJS.ProcessEnv, args: string[], what: string): Promise<number> {
  return timed(DOCKER_CLI, args, env, what);
}

/** The example images in dockerd: loaded from the cached archive, or built (classic builder) and cached. */
async function dockerExampleImages(env: NodeJS.ProcessEnv, scratch: string): Promise<void> {
  const archive = exampleArchive('docker');
  if (existsSync(archive)) {
    await docker(env, ['load', '-i', archive], 'docker load');
    return;
  }
  console.log(`building the example images with docker's classic builder (no ${archive} yet; slow once) ...`);
  await docker(env, ['import', await debianBaseTarball(scratch), DEBIAN_BASE_IMAGE], 'docker import');
  const buildEnv = { ...env, DOCKER_BUILDKIT: '0' };
  const contexts: Record<string, string> = { 'stack-examples/postgres:15': 'postgres', 'stack-examples/redis:7': 'redis' };
  for (const image of EXAMPLE_IMAGES) {
    // The host's network: this dockerd has no default bridge, and apt needs the Debian mirror.
    await docker(buildEnv, ['build', '--network', 'host', '-t', image, join(EXAMPLE, contexts[image]!)], `docker build ${image}`);
  }
  await docker(env, ['save', '-o', `${archive}.partial`, ...EXAMPLE_IMAGES], 'docker save');
  renameSync(`${archive}.partial`, archive);
}

async function prepareDocker(base: string, daemons: Daemons): Promise<{ side: Side; version: string }> {
  const { dockerd, env, version } = await startPrivateDockerd(base);
  daemons.dockerd = dockerd;
  daemons.dockerEnv = env;
  importBusyboxImage(env, base, DOCKER_BUSYBOX);
  await dockerExampleImages(env, base);
  const composeVersion = (await execFileAsync(DOCKER_COMPOSE, ['version', '--short'], { env })).stdout.trim();
  return { side: { name: 'docker', compose: (args) => [DOCKER_COMPOSE, args], env, busybox: DOCKER_BUSYBOX }, version: `docker-compose ${composeVersion}, ${version}` };
}

// --- main --------------------------------------------------------------------------------

function skipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (namespaces, mounts, cgroups)';
  if (!existsSync('/bin/busybox')) return 'needs busybox-static (apt-get install busybox-static)';
  if (!existsSync(DEFAULT_SHIM_PATH)) return `the shim is not built (${DEFAULT_SHIM_PATH}): node scripts/build-shim.mjs`;
  if (!existsSync('/usr/bin/pg_isready') || !existsSync('/usr/bin/redis-cli')) return 'needs pg_isready and redis-cli (postgresql-client, redis-tools)';
  if (!existsSync('/usr/bin/mmdebstrap')) return 'needs mmdebstrap (the Debian base image)';
  return undefined;
}

function printTable(stack: Figures | undefined, docker: Figures | undefined, dockerNote: string): void {
  const rows: Array<[string, keyof Figures, string]> = [
    ['example up -d (wall)', 'up', '<= 0.333'],
    ['example: Postgres ready (from up)', 'postgresReady', '<= 0.333'],
    ['example: Redis PONG (from up)', 'redisReady', ''],
    ['example down (wall)', 'down', '<= 0.333'],
    ['example down, until bridge is gone', 'downKernel', ''],
    [`${SMALL_SERVICES} services up -d (wall)`, 'smallUp', 'stack < 3000 ms'],
    [`${SMALL_SERVICES} services down (wall)`, 'smallDown', ''],
  ];
  const cell = (f: Figures | undefined, key: keyof Figures) => (f ? median(f[key]).toFixed(0) : '-').padStart(9);
  console.log(`medians of ${RUNS} rounds after a warm-up, ms`);
  console.log(`${''.padEnd(36)}    stack    docker  stack/docker  target`);
  for (const [label, key, target] of rows) {
    const ratio = stack && docker ? (median(stack[key]) / median(docker[key])).toFixed(3) : '-';
    console.log(`${label.padEnd(36)}${cell(stack, key)} ${cell(docker, key)}  ${ratio.padStart(12)}  ${target}`);
  }
  if (stack) console.log(`stack rounds: ${JSON.stringify(Object.fromEntries(Object.entries(stack).map(([k, v]) => [k, (v as number[]).map((x) => Math.round(x))])))}`);
  if (docker) console.log(`docker rounds: ${JSON.stringify(Object.fromEntries(Object.entries(docker).map(([k, v]) => [k, (v as number[]).map((x) => Math.round(x))])))}`);
  console.log(dockerNote);
}

async function main(): Promise<void> {
  const skip = skipReason();
  if (skip) {
    console.log(`compose bench skipped: ${skip}`);
    return;
  }
  const base = mkdtempSync(join(tmpdir(), 'stack-bench-compose-'));
  const daemons: Daemons = {};
  let cleaned = false;
  const cleanup = async (): Promise<void> => {
    if (cleaned) return;
    cleaned = true;
    if (daemons.stackSocket && alive(daemons.stackd)) await removeEverything(daemons.stackSocket).catch(() => undefined);
    await stopChild(daemons.stackd, 10_000).catch(() => undefined);
    if (daemons.stackRoot) await sweepNetworkKernelObjects(daemons.stackRoot, new Firewall({ tag: firewallTag(daemons.stackRoot) })).catch(() => undefined);
    // dockerd stops its containerd on SIGTERM; kill what is left of its tree if it does not.
    if (daemons.dockerEnv && alive(daemons.dockerd)) await removeEverythingInDocker(daemons.dockerEnv).catch(() => undefined);
    const dockerTree = alive(daemons.dockerd) ? processTree(daemons.dockerd.pid!).slice(1) : [];
    if (daemons.dockerd) await stopDockerd(daemons.dockerd).catch(() => undefined);
    killAll(dockerTree);
    unmountUnder(base);
    rmSync(base, { recursive: true, force: true, maxRetries: 3 });
  };
  const stopListening = cleanUpOnInterrupt(cleanup);

  const sides: SideRounds[] = [];
  let dockerNote = '';
  try {
    if (SIDES.includes('stack')) {
      const stackBase = join(base, 'stack');
      mkdirSync(stackBase);
      sides.push(await prepareRounds(await prepareStack(stackBase, daemons), stackBase));
    }
    if (SIDES.includes('docker')) {
      const missing = ensureDocker() ?? (existsSync(DOCKER_COMPOSE) ? undefined : `${DOCKER_COMPOSE} is missing (apt-get install docker-compose)`);
      if (missing) dockerNote = `docker side skipped: ${missing}`;
      else {
        const dockerBase = join(base, 'docker');
        mkdirSync(dockerBase);
        const prepared = await prepareDocker(dockerBase, daemons);
        sides.push(await prepareRounds(prepared.side, dockerBase));
        dockerNote = `docker: ${prepared.version}`;
      }
    }
    await runRounds(sides).catch((err: Error) => {
      printTable(sides.find((r) => r.side.name === 'stack')?.figures, sides.find((r) => r.side.name === 'docker')?.figures, `the rounds stopped early: ${err.message}`);
      throw err;
    });
  } finally {
    await cleanup();
    stopListening();
  }
  const stack = sides.find((r) => r.side.name === 'stack')?.figures;
  const docker = sides.find((r) => r.side.name === 'docker')?.figures;
  printTable(stack, docker, dockerNote);
}

await main();
