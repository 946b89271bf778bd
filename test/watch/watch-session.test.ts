// Watching for real: a private engine, busybox containers, real chokidar on a temp project
// directory. Files written, edited and deleted on the host show up (or go) in the
// container with their modes, a new nested directory too, ignored files never; initial_sync
// fills a path at start; sync+restart and restart restart (StartedAt changes); sync+exec
// runs its hook; rebuild builds a new image and recreates the container from it (the old
// image pruned); a batch that fails (the container stopped) is reported and watching goes
// on. Effects are polled for, never timed.
import t from 'tap';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execInContainer } from '../../src/client/exec-attach.js';
import type { ContainerInspect, ContainerSummary } from '../../src/common/api-types.js';
import type { ComposeEvent } from '../../src/compose/events.js';
import { machineLoaderHost } from '../../src/compose/host.js';
import { loadProject } from '../../src/compose/load.js';
import { planWatch } from '../../src/watch/watch-plan.js';
import { WatchSession } from '../../src/watch/watch-session.js';
import { engineSkipReason, makeEngineHarness } from '../api/engine-harness.js';
import { runCli } from '../cli/run-cli.js';

const skip = engineSkipReason() ?? (existsSync('/usr/sbin/iptables') ? false : 'needs iptables');

const STACK = `name: watchit
services:
  app:
    image: busybox:test
    command: ["sleep", "3600"]
    init: true
    develop:
      watch:
        - path: ./src
          action: sync
          target: /app/src
          ignore: ["*.secret", "tmp/"]
        - path: ./conf
          action: sync+restart
          target: /etc/app
        - path: ./hooks
          action: sync+exec
          target: /hooks
          exec:
            command: ["sh", "-c", "cat /hooks/* > /tmp/hook-ran; echo hook says $$GREETING"]
            environment: { GREETING: hi }
        - path: ./trigger
          action: restart
        - path: ./seed
          action: sync
          target: /seed
          initial_sync: true
  built:
    build: ./built
    image: watchit-built:dev
    command: ["sleep", "3600"]
    init: true
    develop:
      watch:
        - path: ./built
          action: rebuild
`;

/** Polls until `check` holds: up to 10 s, every 50 ms. */
async function eventually(check: () => Promise<boolean> | boolean): Promise<boolean> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return true;
    await sleep(50);
  }
  return false;
}

t.test('watching a running project: sync, initial sync, ignores, sync+restart, sync+exec, restart, rebuild, failures', { skip, timeout: 180_000 }, async (t) => {
  const h = await makeEngineHarness('watch-session');
  const dir = mkdtempSync(join(tmpdir(), 'stack-watch-'));
  const stack = (...args: string[]) => runCli(args, { cwd: dir, env: h.env });
  let session: WatchSession | undefined;
  t.teardown(async () => {
    await session?.stop();
    await stack('down', '-v', '-t', '2').catch(() => undefined);
    await h.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });
  const write = (rel: string, text: string, mode?: number): void => {
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    writeFileSync(join(dir, rel), text);
    if (mode !== undefined) chmodSync(join(dir, rel), mode);
  };
  writeFileSync(join(dir, 'compose.yaml'), STACK);
  for (const d of ['src', 'conf', 'hooks', 'trigger']) mkdirSync(join(dir, d));
  write('seed/a.txt', 'seeded\n');
  write('seed/deep/b.txt', 'seeded deep\n');
  write('seed/Dockerfile', 'FROM scratch\n');
  write('seed/x.txt~', 'an editor backup\n');
  write('built/Dockerfile', 'FROM busybox:test\nCOPY version /version\n');
  write('built/version', '1\n');

  const up = await stack('up', '-d');
  t.equal(up.code, 0, `up -d: ${up.stderr}`);
  const containerOf = async (service: string): Promise<ContainerSummary> => {
    const filters = JSON.stringify({ label: ['com.docker.compose.project=watchit', `com.docker.compose.service=${service}`] });
    return (await h.client.call<ContainerSummary[]>('GET', '/containers/json', { query: { all: 1, filters } }))[0]!;
  };
  const run = async (service: string, ...cmd: string[]): Promise<{ code: number; out: string }> => {
    let out = '';
    const sink = { write: (d: string | Buffer) => (out += d.toString()) };
    const code = await execInContainer(h.client, (await containerOf(service)).Id, { cmd }, { stdout: sink, stderr: sink });
    return { code, out };
  };
  const cat = async (path: string, service = 'app'): Promise<string | undefined> => {
    const r = await run(service, 'cat', path);
    return r.code === 0 ? r.out : undefined;
  };
  const startedAt = async (service: string): Promise<string> => (await h.client.call<ContainerInspect>('GET', `/containers/${(await containerOf(service)).Id}/json`)).State.StartedAt;

  const events: ComposeEvent[] = [];
  const loaded = loadProject({}, machineLoaderHost(dir, h.env));
  session = await WatchSession.start(h.client, loaded, planWatch(loaded.project, []), { emit: (e) => events.push(e) });
  t.same(events.at(-1), { type: 'watch-started', services: ['app', 'built'] });

  // initial_sync: the rule's files were copied once at start, less the Dockerfile and editor files.
  t.equal(await cat('/seed/a.txt'), 'seeded\n', 'initial_sync copied the files there at start');
  t.equal(await cat('/seed/deep/b.txt'), 'seeded deep\n', 'nested ones too');
  t.equal(await cat('/seed/Dockerfile'), undefined, 'but not the Dockerfile');
  t.equal(await cat('/seed/x.txt~'), undefined, 'nor editor backups');
  t.match(events.find((e) => e.type === 'watch-synced'), { service: 'app', container: 'watchit-app-1', files: ['seed/a.txt', 'seed/deep/b.txt'] });

  // sync: a new file, with its mode.
  write('src/index.html', '<h1>one</h1>\n');
  write('src/run.sh', '#!/bin/sh\necho ran\n', 0o750);
  t.ok(await eventually(async () => (await cat('/app/src/index.html')) === '<h1>one</h1>\n'), 'a new file appears in the container');
  t.ok(await eventually(async () => (await run('app', 'stat', '-c', '%a', '/app/src/run.sh')).out === '750\n'), 'with its mode');
  t.ok(events.some((e) => e.type === 'watch-synced' && e.files.includes('src/index.html')), 'and the sync was told');

  // edit
  write('src/index.html', '<h1>two</h1>\n');
  t.ok(await eventually(async () => (await cat('/app/src/index.html')) === '<h1>two</h1>\n'), 'an edit changes it');

  // a nested new directory, with the directory's mode
  mkdirSync(join(dir, 'src/a/b'), { recursive: true });
  chmodSync(join(dir, 'src/a'), 0o710);
  write('src/a/b/deep.txt', 'deep\n');
  t.ok(await eventually(async () => (await cat('/app/src/a/b/deep.txt')) === 'deep\n'), 'a file in a new nested directory is synced');
  t.equal((await run('app', 'stat', '-c', '%a', '/app/src/a')).out, '710\n', 'its new directory keeps its mode');

  // ignored files never go: written before a file that does, so their batch is over when that one arrives
  write('src/key.secret', 'hush\n');
  write('src/tmp/scratch.txt', 'scratch\n');
  write('src/.index.html.swp', 'vim\n');
  write('src/after-ignored.txt', 'after\n');
  t.ok(await eventually(async () => (await cat('/app/src/after-ignored.txt')) === 'after\n'));
  t.equal(await cat('/app/src/key.secret'), undefined, 'a file the rule ignores is not synced');
  t.equal(await cat('/app/src/tmp/scratch.txt'), undefined, 'nor one in an ignored directory');
  t.equal(await cat('/app/src/.index.html.swp'), undefined, 'nor an editor\'s swap file');

  // delete: a file, then a directory
  rmSync(join(dir, 'src/index.html'));
  t.ok(await eventually(async () => (await cat('/app/src/index.html')) === undefined), 'a deleted file is removed in the container');
  t.ok(events.some((e) => e.type === 'watch-synced' && e.deleted.includes('src/index.html')));
  rmSync(join(dir, 'src/a'), { recursive: true });
  t.ok(await eventually(async () => (await run('app', 'test', '-e', '/app/src/a')).code !== 0), 'a deleted directory is removed');
  t.equal(await cat('/app/src/run.sh'), '#!/bin/sh\necho ran\n', 'what was not deleted stays');

  // sync+restart
  let before = await startedAt('app');
  write('conf/app.conf', 'level=debug\n');
  t.ok(await eventually(async () => (await startedAt('app')) !== before), 'sync+restart restarts the container');
  t.ok(await eventually(async () => (await cat('/etc/app/app.conf')) === 'level=debug\n'), 'after syncing the file');
  t.ok(events.some((e) => e.type === 'watch-restarted' && e.service === 'app'));

  // sync+exec
  write('hooks/one', 'first\n');
  write('hooks/two', 'second\n');
  t.ok(await eventually(async () => (await cat('/tmp/hook-ran')) === 'first\nsecond\n'), 'sync+exec ran its hook after the files were there');
  t.ok(await eventually(() => events.some((e) => e.type === 'watch-exec' && e.exitCode === 0)), 'its exit code is told');
  t.ok(events.some((e) => e.type === 'log' && e.container === 'watchit-app-1' && e.text === 'hook says hi'), 'its output shows as the container\'s, with the hook\'s environment');
  t.equal(events.filter((e) => e.type === 'watch-exec').length, 1, 'once for the two files of the batch');

  // restart
  before = await startedAt('app');
  write('trigger/now', 'x\n');
  t.ok(await eventually(async () => (await startedAt('app')) !== before), 'restart restarts the container');

  // rebuild
  const old = await containerOf('built');
  const oldImage = (await h.client.call<{ Id: string }>('GET', '/images/watchit-built:dev/json')).Id;
  t.equal(await cat('/version', 'built'), '1\n');
  write('built/version', '2\n');
  t.ok(await eventually(async () => (await containerOf('built'))?.Id !== old.Id && (await containerOf('built'))?.State === 'running'), 'rebuild recreates the container');
  t.equal(await cat('/version', 'built'), '2\n', 'from the new image');
  t.ok(await eventually(() => events.some((e) => e.type === 'watch-rebuilt' && e.service === 'built')));
  t.match(events.find((e) => e.type === 'watch-rebuilding'), { service: 'built', files: ['built/version'] });
  t.ok(await eventually(async () => !(await h.client.call('GET', `/images/${oldImage}/json`).then(() => true, () => false))), 'the image it replaced was pruned');

  // a failing batch is told, and watching goes on
  await h.client.call('POST', `/containers/${(await containerOf('app')).Id}/stop`, { query: { t: 2 } });
  write('src/while-stopped.txt', 'x\n');
  t.ok(await eventually(() => events.some((e) => e.type === 'watch-error' && e.service === 'app' && /no running container to sync/.test(e.message))), 'a sync into a stopped service is reported');
  await h.client.call('POST', `/containers/${(await containerOf('app')).Id}/start`);
  write('src/back.txt', 'back\n');
  t.ok(await eventually(async () => (await cat('/app/src/back.txt')) === 'back\n'), 'and watching went on');

  await session.stop();
  session = undefined;
  t.same(events.at(-1), { type: 'watch-stopped' });
  const down = await stack('down', '-v', '-t', '2');
  t.equal(down.code, 0, down.stderr);
  t.same((await h.client.call<ContainerSummary[]>('GET', '/containers/json', { query: { all: 1 } })).map((c) => c.Names[0]), [], 'no containers left');
});
