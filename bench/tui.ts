// Benchmark: the CPU `stack up` itself spends following a service that prints ~10,000
// log lines a second (bursts of 1000 lines, 90 ms apart), with the live display on a real
// terminal (tmux, private socket, 160x45) and, for comparison, with --no-tui (plain lines
// to the same terminal). The client's CPU is read from /proc/<pid>/stat (utime+stime) over
// 10 s once the stack runs, and given as % of one core (target for the display: < 30%).
// Also: how long a key takes to show (`?` opens the help) under that load, and the rate
// the engine actually logged. A private engine; everything is cleaned up, also on failure.

import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiClient } from '../src/client/api-client.js';
import { streamLogs, unixSeconds } from '../src/client/log-stream.js';
import type { ContainerSummary } from '../src/common/api-types.js';
import { CLOCK_TICKS_PER_SECOND, readProcessStat } from '../src/engine/container-top.js';
import { startBenchEngine } from './private-engine.js';

const REPO = resolve(import.meta.dirname, '../..');
const STACK_CLI = join(REPO, 'bin/stack.js');
const MEASURE_MS = Number(process.env.BENCH_TUI_MS ?? 10_000);
const TARGET_PERCENT = 30;
const SOCKET = `stack-bench-tui-${process.pid}`;

const COMPOSE = `name: flood
services:
  flood:
    image: busybox:test
    init: true
    command: ["sh", "-c", "while true; do yes 'GET /api/items?page=2 200 1432 bytes in 3 ms: the quick brown fox' | head -n 1000; sleep 0.09; done"]
`;

const execFileAsync = promisify(execFile);
const tmux = (...args: string[]): string => execFileSync('tmux', ['-L', SOCKET, ...args], { encoding: 'utf8' });
const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 60_000): Promise<void> {
  for (const deadline = Date.now() + ms; !(await check());) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; screen:\n${tmux('capture-pane', '-p', '-t', 'bench')}`);
    await sleep(50);
  }
}

async function cpuTicks(pid: number): Promise<number> {
  const stat = await readProcessStat('/proc', pid);
  if (!stat) throw new Error(`process ${pid} is gone`);
  return stat.utime + stat.stime;
}

interface Run {
  cpuPercent: number;
  linesPerSecond: number;
  keyMs?: number;
}

/** One `stack up` under tmux: its CPU over the measuring window, then stopped and taken down. */
async function measure(dir: string, env: Record<string, string>, client: ApiClient, tui: boolean): Promise<Run> {
  const vars = Object.entries(env).map(([k, v]) => `${k}=${quote(v)}`).join(' ');
  tmux('new-session', '-d', '-s', 'bench', '-x', '160', '-y', '45', '-c', dir, `env -u CI ${vars} ${quote(STACK_CLI)} up${tui ? '' : ' --no-tui'}; echo EXIT=$?; sleep 600`);
  try {
    // The pane runs a shell (so the exit code shows on the screen); stack is its child.
    const shell = Number(tmux('display-message', '-p', '-t', 'bench', '#{pane_pid}').trim());
    let pid = 0;
    await until('stack up to start', () => (pid = Number(readFileSync(`/proc/${shell}/task/${shell}/children`, 'utf8').trim().split(' ')[0] || 0)) > 0);
    const running = async (): Promise<ContainerSummary | undefined> =>
      (await client.call<ContainerSummary[]>('GET', '/containers/json')).find((c) => c.Names[0] === '/flood-flood-1');
    await until('the flood service to run', async () => (await running()) !== undefined);
    if (tui) await until('the display to show it', () => /flood\s+1\/1\s+running/.test(tmux('capture-pane', '-p', '-t', 'bench')));
    await sleep(2000); // past the start-up, into the steady flow
    const id = (await running())!.Id;
    const from = new Date();
    const before = await cpuTicks(pid);
    await sleep(MEASURE_MS);
    const after = await cpuTicks(pid);
    const to = new Date();
    let lines = 0;
    await streamLogs(client, id, { follow: false, since: unixSeconds(from.toISOString().replace('Z', '000000Z')), until: unixSeconds(to.toISOString().replace('Z', '000000Z')) }, () => lines++);
    const run: Run = { cpuPercent: ((after - before) / CLOCK_TICKS_PER_SECOND / ((to.getTime() - from.getTime()) / 1000)) * 100, linesPerSecond: lines / ((to.getTime() - from.getTime()) / 1000) };
    if (tui) {
      const started = performance.now();
      tmux('send-keys', '-t', 'bench', '?');
      await until('the help to open', () => tmux('capture-pane', '-p', '-t', 'bench').includes('detach: leave the stack running'), 10_000);
      run.keyMs = performance.now() - started;
      tmux('send-keys', '-t', 'bench', 'Escape');
      // Esc and a key read together are Alt+key: wait for the help to close first.
      await until('the help to close', () => !tmux('capture-pane', '-p', '-t', 'bench').includes('detach: leave the stack running'), 10_000);
      tmux('send-keys', '-t', 'bench', 'q');
    } else {
      tmux('send-keys', '-t', 'bench', 'C-c');
    }
    await until('stack up to end', () => /EXIT=\d+/.test(tmux('capture-pane', '-p', '-t', 'bench')), 60_000);
    return run;
  } finally {
    try {
      tmux('kill-server');
    } catch {
      // Already gone with its last session.
    }
    rmSync(join(process.env.TMUX_TMPDIR ?? '/tmp', `tmux-${process.getuid?.() ?? 0}`, SOCKET), { force: true });
    // Not execFileSync: the engine serving `down` runs in this process.
    await execFileAsync(STACK_CLI, ['down', '-t', '1'], { cwd: dir, env: { ...process.env, ...env } });
  }
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.log('tui bench: skipped (needs root)');
    return;
  }
  if (!existsSync('/usr/bin/tmux')) {
    console.log('tui bench: skipped (needs tmux)');
    return;
  }
  const bench = await startBenchEngine('tui');
  const { base, paths } = bench;
  try {
    const dir = join(base, 'project');
    execFileSync('mkdir', ['-p', dir]);
    writeFileSync(join(dir, 'compose.yaml'), COMPOSE);
    const env = { STACK_ROOT: paths.root, STACK_RUN_ROOT: paths.runRoot, STACK_SOCKET: paths.socket, STACK_NO_AUTOSTART: '1' };
    const client = bench.client;
    const display = await measure(dir, env, client, true);
    console.log(`tui: stack up with the live display, ${display.linesPerSecond.toFixed(0)} lines/s logged: client CPU ${display.cpuPercent.toFixed(1)}% of one core over ${MEASURE_MS / 1000} s (target < ${TARGET_PERCENT}%: ${display.cpuPercent < TARGET_PERCENT ? 'met' : 'NOT met'}); a key shows in ${display.keyMs!.toFixed(0)} ms`);
    const plain = await measure(dir, env, client, false);
    console.log(`tui: stack up --no-tui (plain lines to the same terminal), ${plain.linesPerSecond.toFixed(0)} lines/s logged: client CPU ${plain.cpuPercent.toFixed(1)}% of one core`);
  } finally {
    await bench.cleanup();
  }
}

await main();
