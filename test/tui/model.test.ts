// The live display's state without a terminal: compose events into rows, header and
// logs; the bounded ring; the virtual view (focus, filter, follow, scroll); the key map;
// the event batcher; and when `stack up` chooses the display at all.
import t from 'tap';
import type { ComposeEvent } from '../../src/compose/events.js';
import { wantsTui } from '../../src/cli/up.js';
import { commandForKey, splitKeys } from '../../src/tui/keys.js';
import { LogRing } from '../../src/tui/log-ring.js';
import { formatBytes, formatDuration, headerSummary, initialState, reduce, serviceRows, visibleLines, type TuiAction, type TuiState } from '../../src/tui/model.js';
import { EventBatcher, TuiStore, type Timers } from '../../src/tui/store.js';

const SERVICES = [{ name: 'db', replicas: 1 }, { name: 'web', replicas: 2 }];

function state(...events: ComposeEvent[]): TuiState {
  return reduce(initialState('shop', SERVICES), { kind: 'events', events });
}

const apply = (s: TuiState, ...actions: TuiAction[]): TuiState => actions.reduce(reduce, s);

function log(service: string, text: string, n = 1): ComposeEvent {
  return { type: 'log', service, container: `shop-${service}-${n}`, stream: 'stdout', text: `${text}\n` };
}

function running(service: string, id: string, extra: Partial<Extract<ComposeEvent, { type: 'container-state' }>> = {}): ComposeEvent {
  return { type: 'container-state', id, service, container: `shop-${service}-${id}`, state: 'running', restarts: 0, ports: [], startedAt: '2026-01-01T00:00:00.000Z', ...extra };
}

const texts = (s: TuiState, height: number): string[] => visibleLines(s, height).map((l) => l.text);

t.test('the ring keeps the newest lines, numbered in arrival order', async (t) => {
  const ring = new LogRing(3);
  for (const text of ['a', 'b', 'c', 'd', 'e']) ring.push('s', 'c', 'stdout', text);
  t.equal(ring.length, 3);
  t.equal(ring.firstSeq, 2);
  t.equal(ring.nextSeq, 5);
  t.same([2, 3, 4].map((s) => ring.bySeq(s)?.text), ['c', 'd', 'e']);
  t.equal(ring.bySeq(1), undefined, 'pushed out');
  t.equal(ring.bySeq(5), undefined, 'not yet there');
});

t.test('logs: split into lines, control sequences removed, bounded by the capacity', async (t) => {
  let s = reduce(initialState('shop', SERVICES, 100), { kind: 'events', events: [{ type: 'log', service: 'db', container: 'shop-db-1', stream: 'stdout', text: 'one\n\x1b[31mtwo\x1b[0m\tend\x07\n' }] });
  t.same(texts(s, 10), ['one', 'two    end']);
  t.equal(s.logVersion, 1);
  s = reduce(s, { kind: 'events', events: Array.from({ length: 250 }, (_, i) => log('web', `w${i}`)) });
  t.equal(s.logs.length, 100, 'the ring holds the capacity');
  t.same(texts(s, 3), ['w247', 'w248', 'w249'], 'the newest lines, oldest first');
});

t.test('watching: its actions are watch lines of their service in the log pane, failures also in the status line, a rebuild an activity', async (t) => {
  let s = state(
    { type: 'watch-started', services: ['web'] },
    { type: 'watch-synced', service: 'web', container: 'shop-web-1', files: ['public/index.html'], deleted: [] },
    { type: 'watch-rebuilding', service: 'web', files: ['Dockerfile'] },
  );
  t.same(visibleLines(s, 10).map((l) => `${l.container}|${l.service}|${l.text}`), [
    'watch||watching web for changes',
    'watch|web|web: synced 1 file (public/index.html) in shop-web-1',
    'watch|web|web: rebuilding after changes to Dockerfile',
  ]);
  t.equal(serviceRows(s, 0).find((r) => r.name === 'web')?.state, 'Rebuilding');
  s = reduce(s, { kind: 'events', events: [{ type: 'watch-error', service: 'web', message: 'build failed: step 2/3' }] });
  t.same(s.status, { level: 'error', text: 'watch: web: build failed: step 2/3' });
  t.equal(visibleLines(s, 1)[0]!.stream, 'stderr');
  t.not(serviceRows(s, 0).find((r) => r.name === 'web')?.state, 'Rebuilding', 'a failed rebuild is no longer under way');
  s = apply(s, { kind: 'select', delta: 1 }, { kind: 'focus-selected' });
  t.same(texts(s, 10).length, 3, 'a focus on the service keeps its watch lines');
});

t.test('the view shows only what fits: height lines of the focused service matching the filter', async (t) => {
  let s = state(log('db', 'db ready'), log('web', 'GET /a'), log('web', 'GET /b'), log('db', 'db checkpoint'), log('web', 'POST /c'));
  t.same(texts(s, 2), ['db checkpoint', 'POST /c']);
  s = apply(s, { kind: 'select', delta: 1 }, { kind: 'focus-selected' });
  t.equal(s.focus, 'web');
  t.same(texts(s, 10), ['GET /a', 'GET /b', 'POST /c']);
  s = apply(s, { kind: 'filter-start' }, { kind: 'filter-type', text: 'g' }, { kind: 'filter-type', text: 'x' }, { kind: 'filter-erase' }, { kind: 'filter-type', text: 'ET' });
  t.equal(s.draft, 'gET');
  t.same(texts(s, 10), ['GET /a', 'GET /b', 'POST /c'], 'a filter being typed does not apply yet');
  s = reduce(s, { kind: 'filter-apply' });
  t.same(texts(s, 10), ['GET /a', 'GET /b'], 'case-insensitive substring, within the focus');
  s = reduce(s, { kind: 'focus-all' });
  t.same(texts(s, 10), ['GET /a', 'GET /b'], 'the filter stays when the focus goes');
  s = reduce(s, { kind: 'filter-clear' });
  t.same(texts(s, 10).length, 5);
});

t.test('follow off holds the view in place while lines arrive; PgUp/PgDn move it', async (t) => {
  let s = state(...Array.from({ length: 20 }, (_, i) => log('web', `l${i}`)));
  s = reduce(s, { kind: 'toggle-follow' });
  t.equal(s.follow, false);
  s = reduce(s, { kind: 'events', events: [log('web', 'new1'), log('web', 'new2')] });
  t.same(texts(s, 3), ['l17', 'l18', 'l19'], 'new lines do not move a paused view');
  s = reduce(s, { kind: 'scroll', pages: -1, pageSize: 3 });
  t.same(texts(s, 3), ['l14', 'l15', 'l16']);
  s = reduce(s, { kind: 'scroll', pages: -10, pageSize: 3 });
  t.same(texts(s, 3), ['l0'], 'stops at the oldest line');
  s = reduce(s, { kind: 'scroll', pages: 10, pageSize: 3 });
  t.same(texts(s, 3), ['l19', 'new1', 'new2'], 'down to the newest');
  t.equal(s.follow, false, 'still paused until f');
  s = reduce(s, { kind: 'events', events: [log('web', 'new3')] });
  t.same(texts(s, 1), ['new2']);
  s = reduce(s, { kind: 'toggle-follow' });
  t.same(texts(s, 1), ['new3']);
  let small = reduce(initialState('shop', SERVICES, 5), { kind: 'events', events: [log('web', 'p0'), log('web', 'p1')] });
  small = reduce(small, { kind: 'toggle-follow' });
  small = reduce(small, { kind: 'events', events: ['p2', 'p3', 'p4', 'p5', 'p6', 'p7'].map((x) => log('web', x)) });
  t.same(texts(small, 2), ['p3', 'p4'], 'a paused view whose lines left the ring shows the oldest page kept');
  s = apply(state(log('db', 'a'), log('web', 'b'), log('db', 'c')), { kind: 'focus-selected' }, { kind: 'scroll', pages: -1, pageSize: 1 });
  t.same(texts(s, 5), ['a'], 'scrolling counts the lines of the view only');
});

t.test('rows and header: replicas, state, health, ports, usage, restarts, exit code, uptime', async (t) => {
  let s = state(
    { type: 'image-building', image: 'shop-web', service: 'web', detail: 'Step 1/3' },
    running('db', 'a', { health: 'healthy', ports: ['5432->5432/tcp'] }),
    { type: 'stats', id: 'a', service: 'db', container: 'shop-db-a', cpuPercent: 1.5, memoryBytes: 2 * 1024 * 1024 },
  );
  const now = Date.parse('2026-01-01T00:01:05.000Z');
  let [db, web] = serviceRows(s, now);
  t.match(db, { name: 'db', replicas: '1/1', state: 'running', health: 'healthy', ports: '5432->5432/tcp', cpuPercent: 1.5, memoryBytes: 2097152, restarts: 0, uptimeMs: 65_000 });
  t.notOk('exitCode' in db!);
  t.match(web, { name: 'web', replicas: '0/2', state: 'Building Step 1/3', health: '' });
  s = reduce(s, { kind: 'events', events: [
    { type: 'image-built', image: 'shop-web', service: 'web' },
    { type: 'waiting', service: 'web', container: 'shop-web-1', dependency: 'db', condition: 'service_healthy' },
  ] });
  t.equal(serviceRows(s, now)[1]!.state, 'Waiting for db');
  s = reduce(s, { kind: 'events', events: [
    { type: 'container-started', service: 'web', container: 'shop-web-1' },
    running('web', 'b', { health: 'starting', restarts: 2 }),
    { type: 'container-state', id: 'c', service: 'web', container: 'shop-web-2', state: 'exited', exitCode: 3, restarts: 1, ports: [] },
  ] });
  [db, web] = serviceRows(s, now);
  t.match(web, { replicas: '1/2', state: 'running', health: 'starting', restarts: 3, exitCode: 3 });
  t.same(headerSummary(s), { project: 'shop', servicesRunning: 2, servicesTotal: 2, health: { healthy: 1, starting: 1, unhealthy: 0 }, cpuPercent: 1.5, memoryBytes: 2097152 });
  s = reduce(s, { kind: 'events', events: [{ type: 'container-state', id: 'a', service: 'db', container: 'shop-db-a', state: 'exited', exitCode: 0, restarts: 0, ports: [] }] });
  t.notOk('cpuPercent' in serviceRows(s, now)[0]!, 'a stopped container has no usage');
  s = reduce(s, { kind: 'events', events: [{ type: 'container-state', id: 'a', service: 'db', container: 'shop-db-a', state: 'removed', restarts: 0, ports: [] }] });
  t.equal(serviceRows(s, now)[0]!.state, '-', 'a removed container leaves the row');
  s = reduce(s, { kind: 'events', events: [{ type: 'error', service: 'db', message: 'port 5432 is taken\nmore' }] });
  t.equal(serviceRows(s, now)[0]!.state, 'Failed');
  t.same(s.status, { level: 'error', text: 'port 5432 is taken\nmore' });
});

t.test('selection stays within the rows', async (t) => {
  const s = initialState('shop', SERVICES);
  t.equal(apply(s, { kind: 'select', delta: -1 }).selected, 0);
  t.equal(apply(s, { kind: 'select', delta: 1 }, { kind: 'select', delta: 1 }).selected, 1);
  t.equal(apply(s, { kind: 'select', delta: 1 }, { kind: 'services', services: [SERVICES[0]!] }).selected, 0);
});

t.test('keys: view changes become actions, service keys name the selected service', async (t) => {
  const s = reduce(initialState('shop', SERVICES), { kind: 'select', delta: 1 });
  const key = (input: string, k = {}) => commandForKey(s, input, k, 10);
  t.same(key('j'), { kind: 'model', action: { kind: 'select', delta: 1 } });
  t.same(key('', { upArrow: true }), { kind: 'model', action: { kind: 'select', delta: -1 } });
  t.same(key('', { return: true }), { kind: 'model', action: { kind: 'focus-selected' } });
  t.same(key('', { pageUp: true }), { kind: 'model', action: { kind: 'scroll', pages: -1, pageSize: 10 } });
  t.same(key('r'), { kind: 'restart', service: 'web' });
  t.same(key('s'), { kind: 'toggle-running', service: 'web' });
  t.same(key('b'), { kind: 'rebuild', service: 'web' });
  t.same(key('e'), { kind: 'shell', service: 'web' });
  t.same(key('d'), { kind: 'detach' });
  t.same(key('q'), { kind: 'quit' });
  t.same(key('c', { ctrl: true }), { kind: 'interrupt' });
  t.equal(key('x'), undefined);
  const typing = reduce(s, { kind: 'filter-start' });
  t.same(commandForKey(typing, 'q', {}, 10), { kind: 'model', action: { kind: 'filter-type', text: 'q' } }, 'while typing a filter, letters are text');
  t.same(commandForKey(typing, '', { delete: true }, 10), { kind: 'model', action: { kind: 'filter-erase' } });
  t.same(commandForKey(typing, '', { escape: true }, 10), { kind: 'model', action: { kind: 'filter-clear' } });
  t.same(commandForKey(typing, 'c', { ctrl: true }, 10), { kind: 'interrupt' }, 'Ctrl-C always interrupts');
  const help = reduce(s, { kind: 'toggle-help' });
  t.equal(commandForKey(help, 'r', {}, 10), undefined, 'help swallows keys');
  t.same(commandForKey(help, '', { escape: true }, 10), { kind: 'model', action: { kind: 'toggle-help' } });
  t.same(splitKeys('/ab\r', {}), [['/', {}], ['a', {}], ['b', {}], ['', { return: true }]], 'keys read in one chunk are split');
  t.same(splitKeys('\x1b[A', { upArrow: true }), [['\x1b[A', { upArrow: true }]]);
});

t.test('the batcher delivers at most once an interval, in order, nothing lost', async (t) => {
  const pending: Array<() => void> = [];
  const timers: Timers = { setTimeout: (cb) => pending.push(cb), clearTimeout: () => undefined };
  const batches: number[][] = [];
  const b = new EventBatcher((events) => batches.push(events.map((e) => Number((e as { text: string }).text))), 66, timers);
  for (let i = 0; i < 1000; i++) b.push({ type: 'log', service: 's', container: 'c', stream: 'stdout', text: String(i) });
  t.equal(pending.length, 1, 'one timer for the burst');
  pending.shift()!();
  b.push({ type: 'log', service: 's', container: 'c', stream: 'stdout', text: '1000' });
  b.flush();
  t.same(batches.map((x) => x.length), [1000, 1]);
  t.same(batches.flat(), Array.from({ length: 1001 }, (_, i) => i));
  const store = new TuiStore(initialState('shop', SERVICES));
  let renders = 0;
  store.subscribe(() => renders++);
  store.dispatch({ kind: 'events', events: Array.from({ length: 500 }, (_, i) => log('db', `x${i}`)) });
  t.equal(renders, 1, 'one batch, one render');
});

t.test('stack up uses the display only for a person at a terminal', async (t) => {
  const args = { detach: false, wait: false, dryRun: false, tui: true, format: 'plain' as const };
  const tty = { stdout: { write: () => true, isTTY: true }, env: {} };
  t.equal(wantsTui(args, tty, true), true);
  t.equal(wantsTui(args, tty, false), false, 'stdin not a terminal');
  t.equal(wantsTui(args, { ...tty, stdout: { write: () => true } }, true), false, 'stdout not a terminal');
  t.equal(wantsTui(args, { ...tty, env: { CI: 'true' } }, true), false, 'CI');
  t.equal(wantsTui({ ...args, tui: false }, tty, true), false, '--no-tui');
  t.equal(wantsTui({ ...args, detach: true }, tty, true), false, '-d');
  t.equal(wantsTui({ ...args, wait: true }, tty, true), false, '--wait');
  t.equal(wantsTui({ ...args, format: 'json' }, tty, true), false, '--format json');
});

t.test('sizes and durations', async (t) => {
  t.same([formatBytes(512), formatBytes(1536), formatBytes(300 * 1024 * 1024)], ['512B', '1.5KiB', '300MiB']);
  t.same([formatDuration(5_000), formatDuration(65_000), formatDuration(3_700_000), formatDuration(90_000_000)], ['5s', '1m05s', '1h01m', '1d01h']);
});
