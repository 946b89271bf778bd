// The pure parts of watching, without an engine or a file system watcher: the batcher on a
// fake clock, which paths a rule acts on (its ignore and include patterns, the build
// context's .dockerignore, .git, editors' temporary files), what a directory watcher may
// skip, the plan's refusals, a batch sorted into each service's work, and a session on a
// fake change source and clock.
import t from 'tap';
import { UsageError } from '../../src/common/errors.js';
import { memoryLoaderHost } from '../../src/compose/host.js';
import { loadProject } from '../../src/compose/load.js';
import type { Timers } from '../../src/common/timers.js';
import { sortBatch } from '../../src/watch/batch-work.js';
import { ChangeBatcher } from '../../src/watch/change-batcher.js';
import type { ChangeSource, ChangeSourceOptions } from '../../src/watch/change-source.js';
import { isEditorTemporaryFile, makePathFilter } from '../../src/watch/path-filter.js';
import { planWatch } from '../../src/watch/watch-plan.js';
import { WatchSession } from '../../src/watch/watch-session.js';
import { ApiClient } from '../../src/client/api-client.js';
import type { ComposeEvent } from '../../src/compose/events.js';

/** Timers that fire only when the test says, and a clock it moves. */
class FakeClock implements Timers {
  now = 0;
  private timers = new Map<number, { at: number; callback: () => void }>();
  private next = 1;
  setTimeout(callback: () => void, ms: number): unknown {
    const id = this.next++;
    this.timers.set(id, { at: this.now + ms, callback });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }
  advance(ms: number): void {
    const until = this.now + ms;
    for (;;) {
      const due = [...this.timers.entries()].filter(([, t]) => t.at <= until).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.timers.delete(due[0]);
      this.now = due[1].at;
      due[1].callback();
    }
    this.now = until;
  }
  get pending(): number {
    return this.timers.size;
  }
}

function batcherOn(clock: FakeClock, options: { quietMs?: number; maxWaitMs?: number } = {}) {
  const batches: string[][] = [];
  const batcher = new ChangeBatcher((paths) => batches.push(paths), { ...options, timers: clock, now: () => clock.now });
  return { batcher, batches };
}

t.test('batcher: changes wait for a quiet period, then go once, each path once, in the order of their last change', async (t) => {
  const clock = new FakeClock();
  const { batcher, batches } = batcherOn(clock, { quietMs: 500 });
  batcher.push('/p/a');
  clock.advance(300);
  batcher.push('/p/b');
  batcher.push('/p/a');
  clock.advance(499);
  t.same(batches, [], 'each change restarts the quiet period');
  clock.advance(1);
  t.same(batches, [['/p/b', '/p/a']]);
  clock.advance(5000);
  t.same(batches.length, 1, 'nothing more without changes');
  t.equal(clock.pending, 0, 'no timer left');
});

t.test('batcher: a tree that never goes quiet is still handed over after the longest wait', async (t) => {
  const clock = new FakeClock();
  const { batcher, batches } = batcherOn(clock, { quietMs: 100, maxWaitMs: 1000 });
  for (let i = 0; i < 30; i++) {
    batcher.push(`/p/f${i % 3}`);
    clock.advance(50);
  }
  t.ok(batches.length >= 1, 'handed over while changes kept coming');
  t.same([...batches[0]!].sort(), ['/p/f0', '/p/f1', '/p/f2'], 'each path once');
});

t.test('batcher: flush hands over at once; close drops what waits', async (t) => {
  const clock = new FakeClock();
  const { batcher, batches } = batcherOn(clock);
  batcher.push('/p/a');
  batcher.flush();
  t.same(batches, [['/p/a']]);
  batcher.push('/p/b');
  batcher.close();
  clock.advance(10_000);
  t.same(batches, [['/p/a']], 'nothing after close');
  t.equal(clock.pending, 0);
});

t.test('path filter: under the rule, less .git, editor files, ignore patterns and the context\'s .dockerignore; include when given', async (t) => {
  const filter = makePathFilter({
    path: '/app/src',
    ignore: ['node_modules/', '*.tmp', 'cache', '!cache/keep.txt'],
    buildContext: { dir: '/app', dockerignore: '# comment\n**/*.log\nsrc/secret.txt\n' },
  });
  const cases: Array<[string, boolean]> = [
    ['/app/src/index.js', true],
    ['/app/src', true],
    ['/app/src/lib/deep/util.js', true],
    ['/app/other/file.js', false],
    ['/app/srcx/file.js', false],
    ['/app/src/.git/HEAD', false],
    ['/app/src/lib/.git/config', false],
    ['/app/src/.idea/workspace.xml', false],
    ['/app/src/index.js~', false],
    ['/app/src/.index.js.swp', false],
    ['/app/src/.index.js.swx', false],
    ['/app/src/4913', false],
    ['/app/src/#index.js#', false],
    ['/app/src/.#index.js', false],
    ['/app/src/index.js___jb_tmp___', false],
    ['/app/src/node_modules/x/index.js', false],
    ['/app/src/lib/node_modules/x.js', true],
    ['/app/src/a.tmp', false],
    ['/app/src/cache/data', false],
    ['/app/src/cache/keep.txt', true],
    ['/app/src/debug.log', false],
    ['/app/src/secret.txt', false],
  ];
  for (const [path, expected] of cases) t.equal(filter.matches(path), expected, `${path}: ${expected ? 'acted on' : 'left alone'}`);
  t.equal(filter.relativePath('/app/src/lib/a.js'), 'lib/a.js');
  t.equal(filter.relativePath('/app/src'), '');
  t.equal(filter.relativePath('/app'), undefined);

  t.ok(filter.skipsDirectory('/app/src/.git'), '.git is not looked into');
  t.ok(filter.skipsDirectory('/app/src/node_modules'), 'an ignored directory is not looked into');
  t.notOk(filter.skipsDirectory('/app/src/cache'), 'unless an exception may take something under it back');
  t.notOk(filter.skipsDirectory('/app/src/lib'));
  t.notOk(filter.skipsDirectory('/app/src'), 'the rule\'s own directory is always looked into');

  const onlyHtml = makePathFilter({ path: '/site', include: ['*.html', 'assets'] });
  t.ok(onlyHtml.matches('/site/index.html'));
  t.ok(onlyHtml.matches('/site/assets/logo.png'), 'an included directory brings what is under it');
  t.notOk(onlyHtml.matches('/site/notes.md'));
  t.ok(makePathFilter({ path: '/etc/app.conf', include: ['*.html'] }).matches('/etc/app.conf'), 'a rule on a single file acts on that file');

  const keepsDockerfile = makePathFilter({ path: '/app', buildContext: { dir: '/app', dockerignore: 'Dockerfile*\n.dockerignore\n', dockerfile: 'Dockerfile.dev' } });
  t.ok(keepsDockerfile.matches('/app/Dockerfile.dev'), 'the Dockerfile is watched whatever .dockerignore says, as a build sends it');
  t.ok(keepsDockerfile.matches('/app/.dockerignore'), 'and .dockerignore');
  t.notOk(keepsDockerfile.matches('/app/Dockerfile.prod'), 'other matches stay ignored');

  t.ok(isEditorTemporaryFile('.main.go.swp'));
  t.notOk(isEditorTemporaryFile('main.go'));
  t.notOk(isEditorTemporaryFile('swap.sw'));
});

const STACK = `services:
  web:
    image: busybox:test
    build: ./web
    volumes: ["./shared:/shared"]
    develop:
      watch:
        - { path: ./web/public, action: sync, target: /srv/www, ignore: ["*.bak"] }
        - { path: ./web/httpd.conf, action: sync+restart, target: /etc/httpd.conf }
        - { path: ./web/hooks, action: sync+exec, target: /hooks, exec: { command: ["sh", "-c", "echo hi"] } }
        - { path: ./web/Dockerfile, action: rebuild }
        - { path: ./web/more-hooks, action: sync+exec, target: /hooks, exec: { command: ["true"] } }
        - { path: ./shared, action: sync, target: /shared }
  worker:
    image: busybox:test
    develop:
      watch:
        - { path: ./worker, action: restart }
        - { path: ./web/public, action: sync, target: /www }
  db:
    image: busybox:test
`;

function load(files: Record<string, string>) {
  return loadProject({}, memoryLoaderHost(files, '/p')).project;
}

t.test('plan: every service with rules, or those named; bind-mounted sync paths left out with a warning', async (t) => {
  const project = load({ '/p/compose.yaml': STACK });
  const all = planWatch(project, [], (path) => (path === '/p/web/.dockerignore' ? '*.bak\n' : undefined));
  t.same(all.services, ['web', 'worker']);
  t.same(all.targets.map((x) => `${x.service}[${x.index}]`), ['web[0]', 'web[1]', 'web[2]', 'web[3]', 'web[4]', 'worker[0]', 'worker[1]']);
  t.same(all.warnings, ['service web: develop.watch[5] path /p/shared is already bind-mounted from /p/shared: it is not watched (the container sees its changes anyway)']);
  t.same(planWatch(project, ['worker']).services, ['worker']);
});

t.test('plan: a named service without rules, no rules at all, rebuild without build, an unknown service: refused', async (t) => {
  const project = load({ '/p/compose.yaml': STACK });
  t.throws(() => planWatch(project, ['db']), new UsageError('service db has no develop.watch section; add one or drop it from the command'));
  t.throws(() => planWatch(project, ['nope']), /cannot watch service nope: the stack file has no such service/);
  const none = load({ '/p/compose.yaml': 'services:\n  db:\n    image: busybox:test\n' });
  t.throws(() => planWatch(none, []), /none of the services has a develop.watch section/);
  const noBuild = load({ '/p/compose.yaml': 'services:\n  app:\n    image: busybox:test\n    develop:\n      watch:\n        - { path: ./src, action: rebuild }\n' });
  t.throws(() => planWatch(noBuild, []), /service app: develop.watch\[0\] has action rebuild, but the service has no build section/);
});

t.test('a batch sorted into work: each service once, rebuild files, syncs with their paths, a restart, each hook once', async (t) => {
  const project = load({ '/p/compose.yaml': STACK });
  const plan = planWatch(project, [], () => undefined);
  const display = (p: string) => p.replace('/p/', '');
  const work = sortBatch(plan, [
    '/p/web/public/index.html', '/p/web/public/old.bak', '/p/web/httpd.conf', '/p/web/hooks/a.sh', '/p/web/hooks/b.sh', '/p/web/Dockerfile', '/p/db/ignored', '/p/web/public/img/logo.png',
  ], display);
  t.same([...work.keys()], ['web', 'worker'], 'only the services the batch touches');
  const web = work.get('web')!;
  t.same(web.rebuildFiles, ['web/Dockerfile']);
  t.same(web.syncs.map((m) => `${m.rulePath}|${m.rel} -> ${m.target}`), [
    '/p/web/public|index.html -> /srv/www',
    '/p/web/public|img/logo.png -> /srv/www',
    '/p/web/httpd.conf| -> /etc/httpd.conf',
    '/p/web/hooks|a.sh -> /hooks',
    '/p/web/hooks|b.sh -> /hooks',
  ], 'the ignored backup is not synced');
  t.equal(web.restart, true, 'sync+restart restarts');
  t.same(web.hooks.map((h) => h.command), [['sh', '-c', 'echo hi']], 'the hook runs once for two files');
  const worker = work.get('worker')!;
  t.same(worker.syncs.map((m) => `${m.rel} -> ${m.target}`), ['index.html -> /www', 'old.bak -> /www', 'img/logo.png -> /www'], 'another service\'s rule on the same path acts too, by its own patterns');
  t.equal(worker.restart, false);
  t.same(sortBatch(plan, ['/p/worker/main.sh'], display).get('worker'), { rebuildFiles: [], syncs: [], restart: true, hooks: [] });
});

t.test('a session on a fake change source and clock: a burst of changes is one batch, acted on once per service; a failure is reported and watching goes on', async (t) => {
  const clock = new FakeClock();
  let fed: ChangeSourceOptions | undefined;
  let closed = false;
  const source: ChangeSource = (options) => {
    fed = options;
    return { ready: Promise.resolve(), close: async () => void (closed = true) };
  };
  const loaded = loadProject({}, memoryLoaderHost({ '/p/compose.yaml': STACK }, '/p'));
  const plan = planWatch(loaded.project, [], () => undefined);
  const events: ComposeEvent[] = [];
  // No engine answers here: every action fails, which is what this test looks at.
  const client = new ApiClient('/nonexistent/stack.sock');
  const session = await WatchSession.start(client, loaded, plan, { emit: (e) => events.push(e), source, batching: { timers: clock, now: () => clock.now } });
  t.same(fed!.paths, ['/p/web/public', '/p/web/httpd.conf', '/p/web/hooks', '/p/web/Dockerfile', '/p/web/more-hooks', '/p/worker'], 'each rule path watched once');
  t.ok(fed!.skipsDirectory('/p/web/public/.git'));
  t.notOk(fed!.skipsDirectory('/p/web/public/img'));
  t.same(events.map((e) => e.type), [...Array(8).fill('warning'), 'watch-started'], 'the bind-mount warning, then one for each rule path not there');
  t.same(events[1], { type: 'warning', message: 'service web: develop.watch[0] path /p/web/public does not exist: create it, then start watching again' });

  const settle = async (): Promise<void> => {
    for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
  };
  // Each failing action is a connection to a socket that is not there: on a busy machine the
  // refusal can take longer than settle() waits. Until `count` events have come (at most 5 s), then settle.
  const eventsCome = async (count: number): Promise<void> => {
    for (const deadline = Date.now() + 5000; events.length < count && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 5));
    await settle();
  };
  events.length = 0;
  for (const path of ['/p/web/public/a.html', '/p/web/public/.a.html.swp', '/p/web/public/a.html', '/p/elsewhere/x', '/p/worker/run.sh']) fed!.onChange({ kind: 'change', path });
  clock.advance(499);
  await settle();
  t.same(events, [], 'nothing before the quiet period is over');
  clock.advance(1);
  await eventsCome(2);
  t.same(events.map((e) => (e.type === 'watch-error' ? `${e.service}: ${e.message}` : e.type)), [
    'web: no engine answers on /nonexistent/stack.sock',
    'worker: no engine answers on /nonexistent/stack.sock',
  ], 'one attempt per service for the whole batch, each failure reported');

  events.length = 0;
  fed!.onChange({ kind: 'unlink', path: '/p/worker/run.sh' });
  clock.advance(500);
  await eventsCome(1);
  t.same(events.map((e) => e.type === 'watch-error' && e.service), ['worker'], 'watching went on after the failures');

  fed!.onChange({ kind: 'change', path: '/p/worker/run.sh' });
  await session.stop();
  t.ok(closed, 'the change source is closed');
  t.equal(clock.pending, 0, 'what waited is dropped');
  t.same(events.at(-1), { type: 'watch-stopped' });
});
