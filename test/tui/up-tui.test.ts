// `stack up`'s live display end to end: the real binary on a real terminal (tmux, a
// private server socket) against a private engine. Two services, one with a health check,
// one logging a line every 200 ms (the other every second): both show running (healthy) with their logs; j/k +
// enter focus one service's logs; / filters; r restarts (the count goes up, logs go on);
// s stops and starts; b recreates; e opens a shell and comes back; d detaches leaving the
// stack running. --exit-code-from ends with the job's code. Then q, and Ctrl-C, each stop
// everything; with --watch, a synced file is a `watch |` line of the log pane. The screen
// is read with capture-pane, polled up to a deadline.
import t, { type Test } from 'tap';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ContainerSummary } from '../../src/common/api-types.js';
import { engineSkipReason, makeEngineHarness, type EngineHarness } from '../api/engine-harness.js';
import { runCli } from '../cli/run-cli.js';

const STACK_BIN = resolve(import.meta.dirname, '../../../bin/stack.js');
const skip = engineSkipReason() ?? (!existsSync('/usr/bin/tmux') ? 'needs tmux (apt-get install tmux)' : !existsSync('/usr/sbin/iptables') ? 'needs iptables' : false);

const COMPOSE = `name: tuiduo
services:
  db:
    image: busybox:test
    command: ["sh", "-c", "touch /tmp/ready; while true; do echo db alive; sleep 1; done"]
    init: true
    healthcheck:
      test: ["CMD", "test", "-f", "/tmp/ready"]
      interval: 250ms
  ticker:
    image: busybox:test
    init: true
    command: ["sh", "-c", "n=$$(cat /n 2>/dev/null || echo 0); while true; do n=$$((n+1)); echo $$n > /n; echo tick $$n; sleep 0.2; done"]
`;

/** Where tmux keeps a -L socket; it may stay behind after kill-server. */
const tmuxSocketPath = (name: string): string => join(process.env.TMUX_TMPDIR ?? '/tmp', `tmux-${process.getuid?.() ?? 0}`, name);

const shellQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

class Terminal {
  constructor(private readonly socket: string, private readonly session: string) {}

  static start(t: Test, socket: string, session: string, cwd: string, env: Record<string, string>, upArgs: string[] = []): Terminal {
    const vars = Object.entries(env).map(([k, v]) => `${k}=${shellQuote(v)}`).join(' ');
    // The pane stays after stack ends, so its exit code can be read from the screen.
    const command = `env -u CI ${vars} ${shellQuote(process.execPath)} ${shellQuote(STACK_BIN)} up ${upArgs.map(shellQuote).join(' ')}; echo "EXIT=$?"; sleep 3600`;
    execFileSync('tmux', ['-L', socket, 'new-session', '-d', '-s', session, '-x', '160', '-y', '45', '-c', cwd, command]);
    t.comment(`tmux -L ${socket} attach -t ${session} to watch`);
    return new Terminal(socket, session);
  }

  screen(): string {
    return execFileSync('tmux', ['-L', this.socket, 'capture-pane', '-p', '-t', this.session], { encoding: 'utf8' });
  }

  keys(...keys: string[]): void {
    for (const k of keys) execFileSync('tmux', ['-L', this.socket, 'send-keys', '-t', this.session, k]);
  }

  resize(columns: number, rows: number): void {
    execFileSync('tmux', ['-L', this.socket, 'resize-window', '-t', this.session, '-x', String(columns), '-y', String(rows)]);
  }

  type(text: string): void {
    execFileSync('tmux', ['-L', this.socket, 'send-keys', '-t', this.session, '-l', text]);
  }

  /** Polls the screen until check passes or 30 s have gone; the last screen goes in the message when it fails. */
  async until(t: Test, what: string, check: (screen: string) => boolean): Promise<string> {
    let screen = this.screen();
    for (const deadline = Date.now() + 30_000; !check(screen) && Date.now() < deadline;) {
      await sleep(100);
      screen = this.screen();
    }
    t.ok(check(screen), what, check(screen) ? {} : { screen });
    return screen;
  }
}

/** The table row of a service, by column. */
function row(screen: string, service: string): Record<string, string> | undefined {
  const lines = screen.split('\n');
  const header = lines.find((l) => l.startsWith('SERVICE '));
  const line = lines.find((l) => l.startsWith(`${service} `));
  if (!header || !line) return undefined;
  const names = header.trim().split(/\s+/);
  const values = line.trim().split(/\s{2,}/);
  return Object.fromEntries(names.map((n, i) => [n, values[i] ?? '']));
}

const logLines = (screen: string): string[] => screen.split('\n').filter((l) => /^tuiduo-\w+-1 +\| /.test(l));
const ticks = (screen: string): number[] => logLines(screen).map((l) => /\| tick (\d+)$/.exec(l)?.[1]).filter((n): n is string => n !== undefined).map(Number);

async function projectContainers(h: EngineHarness): Promise<ContainerSummary[]> {
  const filters = JSON.stringify({ label: ['com.docker.compose.project=tuiduo'] });
  return h.client.call<ContainerSummary[]>('GET', '/containers/json', { query: { all: 1, filters } });
}

t.test('stack up on a terminal: the live display, its keys, detach, q and Ctrl-C', { skip, timeout: 240_000 }, async (t) => {
  const h = await makeEngineHarness('up-tui');
  const dir = mkdtempSync(join(tmpdir(), 'stack-up-tui-'));
  const socket = `stack-test-${process.pid}`;
  t.teardown(async () => {
    try {
      execFileSync('tmux', ['-L', socket, 'kill-server'], { stdio: 'ignore' });
    } catch {
      // No server left to kill.
    }
    rmSync(tmuxSocketPath(socket), { force: true });
    await runCli(['down', '-t', '1'], { cwd: dir, env: h.env }).catch(() => undefined);
    await h.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });
  writeFileSync(join(dir, 'compose.yaml'), COMPOSE);
  const running = async (): Promise<string[]> => (await projectContainers(h)).filter((c) => c.State === 'running').map((c) => c.Names[0]!.slice(1)).sort();

  await t.test('the display, focus, filter, restart, stop/start, detach', async (t) => {
    const term = Terminal.start(t, socket, 'one', dir, h.env);
    await term.until(t, 'both services running, db healthy, with their logs', (s) =>
      row(s, 'db')?.STATE === 'running' && row(s, 'db')?.HEALTH === 'healthy' && row(s, 'ticker')?.STATE === 'running'
      && /tuiduo-db-1 +\| db alive/.test(s) && ticks(s).length >= 3);
    await term.until(t, 'the header counts them', (s) => /stack · tuiduo\s+services 2\/2 running\s+health 1 healthy/.test(s));

    term.keys('j', 'k', 'j', 'Enter');
    let s = await term.until(t, 'j/k + enter: the logs of ticker only', (s) => s.includes('logs of ticker') && logLines(s).length > 0 && logLines(s).every((l) => l.startsWith('tuiduo-ticker-1 ')));
    t.notMatch(s, 'db alive');

    term.keys('/');
    term.type('7');
    await term.until(t, 'the filter prompt', (s) => s.includes('filter: 7'));
    term.keys('Enter');
    s = await term.until(t, '/ filters the lines', (s) => s.includes('filter "7"') && logLines(s).length > 0 && logLines(s).every((l) => l.includes('7')));
    term.keys('Escape');
    await term.until(t, 'esc clears the filter', (s) => !s.includes('filter "7"') && logLines(s).some((l) => !l.includes('7')));

    const before = Math.max(...ticks(term.screen()));
    term.keys('r');
    s = await term.until(t, 'r restarts ticker: its restart count goes up', (s) => row(s, 'ticker')?.RESTARTS === '1' && row(s, 'ticker')?.STATE === 'running');
    await term.until(t, 'and its logs go on after the restart', (s) => Math.max(...ticks(s)) > before + 5);
    const seen = ticks(term.screen());
    t.equal(new Set(seen).size, seen.length, 'no line shown twice');

    term.keys('s');
    await term.until(t, 's stops ticker', (s) => row(s, 'ticker')?.STATE === 'exited' && row(s, 'ticker')?.REPLICAS === '0/1');
    t.same(await running(), ['tuiduo-db-1']);
    term.keys('s');
    await term.until(t, 's starts it again', (s) => row(s, 'ticker')?.STATE === 'running' && row(s, 'ticker')?.REPLICAS === '1/1');

    const oldId = (await projectContainers(h)).find((c) => c.Names[0] === '/tuiduo-ticker-1')!.Id;
    term.keys('b');
    await term.until(t, 'b recreates ticker', (s) => s.includes('rebuilding ticker: done') && row(s, 'ticker')?.STATE === 'running');
    t.not((await projectContainers(h)).find((c) => c.Names[0] === '/tuiduo-ticker-1')?.Id, oldId, 'a new container');
    const lastTick = Math.max(...ticks(term.screen()));
    await term.until(t, 'and the new container\'s logs follow', (s) => ticks(s).some((n) => n < lastTick));

    term.keys('e');
    await term.until(t, 'e opens a shell in the container', (s) => s.includes('shell in tuiduo-ticker-1') && /^\/ # ?$/m.test(s));
    term.type('echo shell-$((6*7)); exit');
    term.keys('Enter');
    await term.until(t, 'and returns to the display when it ends', (s) => s.includes('logs of ticker') && row(s, 'ticker')?.STATE === 'running');

    term.keys('?');
    await term.until(t, '? shows the keys', (s) => s.includes('detach: leave the stack running and quit'));
    term.keys('Escape');
    await term.until(t, 'esc closes the help', (s) => s.includes('logs of ticker'));

    // A smaller terminal: the display is laid out again for it, once (no stale frame left above), the keys still at the bottom.
    term.resize(100, 30);
    await term.until(t, 'a resized terminal gets the whole display, laid out once for its size', (s) => {
      const lines = s.replace(/\s+$/, '').split('\n');
      return lines.length <= 30 && lines.every((l) => l.length <= 100)
        && lines.filter((l) => l.includes('stack · tuiduo')).length === 1 && lines.filter((l) => l.startsWith('SERVICE ')).length === 1
        && lines.at(-1)!.startsWith('↑↓/jk select') && row(s, 'ticker')?.STATE === 'running' && logLines(s).length > 0;
    });

    term.keys('d');
    await term.until(t, 'd detaches with code 0', (s) => s.includes('EXIT=0'));
    t.same(await running(), ['tuiduo-db-1', 'tuiduo-ticker-1'], 'the stack keeps running after a detach');
    const down = await runCli(['down', '-t', '1'], { cwd: dir, env: h.env });
    t.equal(down.code, 0, down.stderr);
    t.same(await projectContainers(h), [], 'down removes it');
  });

  await t.test('--exit-code-from: the display ends with that service\'s code when it exits, the rest stopped', async (t) => {
    const jobDir = mkdtempSync(join(tmpdir(), 'stack-up-tui-job-'));
    t.teardown(async () => {
      await runCli(['down', '-t', '1'], { cwd: jobDir, env: h.env }).catch(() => undefined);
      rmSync(jobDir, { recursive: true, force: true });
    });
    writeFileSync(join(jobDir, 'compose.yaml'), COMPOSE.replace('name: tuiduo', 'name: tuijob').replace('services:\n', 'services:\n  job:\n    image: busybox:test\n    command: ["sh", "-c", "sleep 2; echo job done; exit 3"]\n'));
    const term = Terminal.start(t, socket, 'job', jobDir, h.env, ['--exit-code-from', 'job']);
    await term.until(t, 'the job runs beside the others', (s) => row(s, 'job')?.STATE === 'running' || s.includes('job done'));
    await term.until(t, 'its exit code is the exit code of stack up', (s) => s.includes('EXIT=3'));
    const filters = JSON.stringify({ label: ['com.docker.compose.project=tuijob'] });
    t.same((await h.client.call<ContainerSummary[]>('GET', '/containers/json', { query: { filters } })).map((c) => c.Names[0]), [], 'nothing is left running');
  });

  for (const [how, key, code] of [['q', 'q', 0], ['Ctrl-C', 'C-c', 130]] as const) {
    await t.test(`${how} stops the stack and quits`, async (t) => {
      const term = Terminal.start(t, socket, how === 'q' ? 'two' : 'three', dir, h.env);
      await term.until(t, 'both services running', (s) => row(s, 'db')?.HEALTH === 'healthy' && row(s, 'ticker')?.STATE === 'running');
      term.keys(key);
      await term.until(t, `${how} quits with code ${code}`, (s) => s.includes(`EXIT=${code}`));
      t.same(await running(), [], 'nothing is left running');
      t.equal((await projectContainers(h)).length, 2, 'the containers stay (stopped), as with Compose');
      const down = await runCli(['down', '-t', '1'], { cwd: dir, env: h.env });
      t.equal(down.code, 0, down.stderr);
    });
  }

  await t.test('up --watch: what watching does is a line of the log pane; Ctrl-C stops watching and the stack', async (t) => {
    const watched = mkdtempSync(join(tmpdir(), 'stack-up-tui-watch-'));
    t.teardown(async () => {
      await runCli(['down', '-t', '1'], { cwd: watched, env: h.env }).catch(() => undefined);
      rmSync(watched, { recursive: true, force: true });
    });
    mkdirSync(join(watched, 'site'));
    writeFileSync(join(watched, 'compose.yaml'), `name: tuiwatch
services:
  site:
    image: busybox:test
    command: ["sleep", "3600"]
    init: true
    develop:
      watch:
        - { path: ./site, action: sync, target: /site }
`);
    const term = Terminal.start(t, socket, 'four', watched, h.env, ['--watch']);
    await term.until(t, 'watching starts once up is done', (s) => /watch +\| watching site for changes/.test(s));
    writeFileSync(join(watched, 'site', 'page.html'), 'edited\n');
    await term.until(t, 'the sync shows in the log pane', (s) => /watch +\| site: synced 1 file \(site\/page\.html\) in tuiwatch-site-1/.test(s));
    t.equal((await runCli(['exec', 'tuiwatch-site-1', 'cat', '/site/page.html'], { cwd: watched, env: h.env })).stdout, 'edited\n', 'the file is in the container');
    term.keys('C-c');
    await term.until(t, 'Ctrl-C quits with 130', (s) => s.includes('EXIT=130'));
    const filters = JSON.stringify({ label: ['com.docker.compose.project=tuiwatch'], status: ['running'] });
    t.same((await h.client.call<ContainerSummary[]>('GET', '/containers/json', { query: { filters } })).map((c) => c.Names[0]), [], 'nothing is left running');
  });
});
