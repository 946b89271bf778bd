// `stack watch` and `stack up --watch` as a user runs them: the real binary in a child
// process on a private engine, a file changed on the host, the plain `watch |` line and the
// file in the container, then Ctrl-C. As Compose: `watch` stops watching and leaves the
// services running (exit 130); `up --watch` stops them, as an attached up does. And the
// bad requests: a named service without rules, no rules at all, --watch with -d, a sync
// rule without target; each refused with its reason and nothing started.
import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ContainerSummary } from '../../src/common/api-types.js';
import { engineSkipReason, makeEngineHarness, type EngineHarness } from '../api/engine-harness.js';
import { runCli } from './run-cli.js';

const skip = engineSkipReason() ?? (existsSync('/usr/sbin/iptables') ? false : 'needs iptables');
const STACK_BIN = resolve(import.meta.dirname, '../../../bin/stack.js');

const STACK = (name: string) => `name: ${name}
services:
  app:
    image: busybox:test
    command: ["sleep", "3600"]
    init: true
    develop:
      watch:
        - path: ./src
          action: sync
          target: /app
  db:
    image: busybox:test
    command: ["sleep", "3600"]
    init: true
`;

/** The real binary, its output gathered, so the test can send it Ctrl-C. */
function spawnStack(h: EngineHarness, dir: string, args: string[]) {
  const child = spawn(process.execPath, [STACK_BIN, ...args], { cwd: dir, env: h.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exit = new Promise<number | null>((r) => child.once('exit', (code, signal) => r(code ?? (signal ? 128 : null))));
  return {
    stdout: () => stdout,
    stderr: () => stderr,
    exit,
    interrupt: () => void child.kill('SIGINT'),
    /** Polls the output for `text`: up to 20 s, every 50 ms. */
    async waitFor(text: RegExp): Promise<boolean> {
      for (let i = 0; i < 400; i++) {
        if (text.test(stdout)) return true;
        if (child.exitCode !== null) return text.test(stdout);
        await sleep(50);
      }
      return false;
    },
    kill: () => void child.kill('SIGKILL'),
  };
}

async function setUp(t: Test, name: string) {
  const h = await makeEngineHarness(name);
  const dir = mkdtempSync(join(tmpdir(), `stack-${name}-`));
  mkdirSync(join(dir, 'src'));
  writeFileSync(join(dir, 'compose.yaml'), STACK(name));
  const stack = (...args: string[]) => runCli(args, { cwd: dir, env: h.env });
  const running = async (): Promise<string[]> => {
    const filters = JSON.stringify({ label: [`com.docker.compose.project=${name}`], status: ['running'] });
    return (await h.client.call<ContainerSummary[]>('GET', '/containers/json', { query: { filters } })).map((c) => c.Names[0]!.slice(1)).sort();
  };
  const cat = async (container: string, path: string) => (await stack('exec', container, 'cat', path)).stdout;
  t.teardown(async () => {
    await stack('down', '-v', '-t', '2').catch(() => undefined);
    await h.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });
  return { h, dir, stack, running, cat };
}

t.test('stack watch: up, a changed file synced and said, Ctrl-C stops watching and leaves the services running (exit 130)', { skip, timeout: 120_000 }, async (t) => {
  const { h, dir, stack, running, cat } = await setUp(t, 'watchcli');
  const watch = spawnStack(h, dir, ['watch']);
  t.teardown(() => watch.kill());
  t.ok(await watch.waitFor(/watch \| watching app for changes/), `watching starts after up: ${watch.stdout()}${watch.stderr()}`);
  t.match(watch.stdout(), /Container watchcli-app-1 +Started/, 'the services were brought up first');
  t.same(await running(), ['watchcli-app-1', 'watchcli-db-1'], 'all of them, as up -d does');

  writeFileSync(join(dir, 'src', 'hello.txt'), 'hello from the host\n');
  t.ok(await watch.waitFor(/watch \| app: synced 1 file \(src\/hello\.txt\) in watchcli-app-1\n/), `the sync is said: ${watch.stdout()}`);
  t.equal(await cat('watchcli-app-1', '/app/hello.txt'), 'hello from the host\n', 'and the file is in the container');

  watch.interrupt();
  t.equal(await watch.exit, 130, 'Ctrl-C exits 130, as Compose does');
  t.match(watch.stdout(), /watch \| watching stopped/);
  t.match(watch.stderr(), /the services keep running \("stack down" stops them\)/);
  t.same(await running(), ['watchcli-app-1', 'watchcli-db-1'], 'the services keep running');

  // --no-up watches what runs; --quiet leaves the file lists out.
  const quiet = spawnStack(h, dir, ['watch', '--no-up', '--quiet', 'app']);
  t.teardown(() => quiet.kill());
  t.ok(await quiet.waitFor(/watch \| watching app for changes/), quiet.stderr());
  t.notMatch(quiet.stdout(), /Container/, '--no-up starts nothing');
  writeFileSync(join(dir, 'src', 'quiet.txt'), 'shh\n');
  let synced = false;
  for (let i = 0; i < 200 && !synced; i++) {
    synced = (await stack('exec', 'watchcli-app-1', 'cat', '/app/quiet.txt')).stdout === 'shh\n';
    if (!synced) await sleep(50);
  }
  t.ok(synced, 'the file is synced');
  quiet.interrupt();
  t.equal(await quiet.exit, 130);
  t.notMatch(quiet.stdout(), /synced/, '--quiet says no file list');
});

t.test('stack up --watch: logs and watching together; Ctrl-C stops watching, then the services', { skip, timeout: 120_000 }, async (t) => {
  const { h, dir, running, cat } = await setUp(t, 'upwatch');
  const up = spawnStack(h, dir, ['up', '--watch', 'app']);
  t.teardown(() => up.kill());
  t.ok(await up.waitFor(/watch \| watching app for changes/), `${up.stdout()}${up.stderr()}`);
  writeFileSync(join(dir, 'src', 'page.html'), '<p>v1</p>\n');
  t.ok(await up.waitFor(/watch \| app: synced 1 file \(src\/page\.html\) in upwatch-app-1\n/), up.stdout());
  t.equal(await cat('upwatch-app-1', '/app/page.html'), '<p>v1</p>\n');
  t.same(await running(), ['upwatch-app-1'], 'only the named service (it has no dependencies)');

  up.interrupt();
  t.equal(await up.exit, 130, 'Ctrl-C exits 130, as an attached up does');
  t.match(up.stderr(), /Gracefully stopping/);
  t.same(await running(), [], 'the services were stopped');
});

t.test('bad requests are refused with their reason, and nothing is started', { skip, timeout: 60_000 }, async (t) => {
  const { dir, stack, running } = await setUp(t, 'watchbad');

  const noRules = await stack('watch', 'db');
  t.equal(noRules.code, 2);
  t.equal(noRules.stderr, 'error: service db has no develop.watch section; add one or drop it from the command\n');

  const unknown = await stack('watch', 'nope');
  t.equal(unknown.code, 2);
  t.match(unknown.stderr, /cannot watch service nope: the stack file has no such service/);

  const detached = await stack('up', '--watch', '-d');
  t.equal(detached.code, 2);
  t.match(detached.stderr, /--watch follows the services until Ctrl-C: it cannot be used with -d \(stack watch watches a stack started with up -d\)/);

  const upNoRules = await stack('up', '-w', 'db');
  t.equal(upNoRules.code, 2);
  t.match(upNoRules.stderr, /service db has no develop.watch section/);

  writeFileSync(join(dir, 'compose.yaml'), 'name: watchbad\nservices:\n  db:\n    image: busybox:test\n');
  const nothing = await stack('watch');
  t.equal(nothing.code, 2);
  t.match(nothing.stderr, /none of the services has a develop.watch section, so there is nothing to watch/);

  writeFileSync(join(dir, 'compose.yaml'), 'name: watchbad\nservices:\n  app:\n    image: busybox:test\n    develop:\n      watch:\n        - path: ./src\n          action: sync\n');
  const noTarget = await stack('watch');
  t.equal(noTarget.code, 15, 'an invalid stack file');
  t.match(noTarget.stderr, /compose\.yaml:8:19: services\.app\.develop\.watch\[0\]\.action: action sync needs a "target"/);

  t.same(await running(), [], 'nothing was started');
});
