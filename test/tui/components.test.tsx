// The display's components rendered with ink-testing-library: header, service table, a
// log pane that renders only the lines that fit, the filter prompt, keys changing the
// state or calling the CLI's actions, and the help overlay.
import t, { type Test } from 'tap';
import { render } from 'ink-testing-library';
import { setImmediate as tick } from 'node:timers/promises';
import type { ComposeEvent } from '../../src/compose/events.js';
import type { TuiActions } from '../../src/tui/actions.js';
import { App, logHeight } from '../../src/tui/app.js';
import { initialState } from '../../src/tui/model.js';
import { TuiStore } from '../../src/tui/store.js';

const NOW = Date.parse('2026-01-01T00:02:00.000Z');
const SIZE = { rows: 20, columns: 120 };

function recordingActions(): TuiActions & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    restart: (s) => void calls.push(`restart ${s}`),
    toggleRunning: (s, running) => void calls.push(`${running ? 'stop' : 'start'} ${s}`),
    rebuild: (s) => void calls.push(`rebuild ${s}`),
    shell: (s) => void calls.push(`shell ${s}`),
    detach: () => void calls.push('detach'),
    quit: () => void calls.push('quit'),
    interrupt: () => void calls.push('interrupt'),
  };
}

function stack(): TuiStore {
  const store = new TuiStore(initialState('shop', [{ name: 'db', replicas: 1 }, { name: 'web', replicas: 1 }]));
  const events: ComposeEvent[] = [
    { type: 'container-state', id: 'a', service: 'db', container: 'shop-db-1', state: 'running', health: 'healthy', restarts: 1, ports: ['5432->5432/tcp'], startedAt: '2026-01-01T00:00:00.000Z' },
    { type: 'stats', id: 'a', service: 'db', container: 'shop-db-1', cpuPercent: 12.5, memoryBytes: 3 * 1024 * 1024 },
    { type: 'container-state', id: 'b', service: 'web', container: 'shop-web-1', state: 'exited', exitCode: 2, restarts: 0, ports: [] },
  ];
  store.dispatch({ kind: 'events', events });
  return store;
}

async function until(t: Test, what: string, check: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await tick();
  t.ok(check(), what);
}

function mount(store: TuiStore, actions = recordingActions()) {
  const app = render(<App store={store} actions={actions} size={SIZE} now={() => NOW} tickMs={0} />);
  t.teardown(() => app.unmount());
  return { ...app, actions, frame: () => app.lastFrame() ?? '' };
}

t.test('header and service table', async (t) => {
  const { frame } = mount(stack());
  const lines = frame().split('\n');
  t.match(lines[0], /stack · shop\s+services 1\/2 running\s+health 1 healthy\s+CPU 12\.5%\s+MEM 3\.0MiB/);
  t.match(lines[2], /^SERVICE\s+REPLICAS\s+STATE\s+HEALTH\s+PORTS\s+CPU\s+MEM\s+RESTARTS\s+EXIT\s+UPTIME/);
  t.match(lines[3], /^db\s+1\/1\s+running\s+healthy\s+5432->5432\/tcp\s+12\.5%\s+3\.0MiB\s+1\s+-\s+2m00s/);
  t.match(lines[4], /^web\s+0\/1\s+exited\s+-\s+-\s+-\s+-\s+0\s+2\s+-/);
  t.ok(lines.length < SIZE.rows, 'the frame is shorter than the screen');
});

t.test('the log pane renders only the lines that fit, newest last', async (t) => {
  const store = stack();
  store.dispatch({ kind: 'events', events: Array.from({ length: 5000 }, (_, i): ComposeEvent => ({ type: 'log', service: i % 2 ? 'web' : 'db', container: i % 2 ? 'shop-web-1' : 'shop-db-1', stream: 'stdout', text: `line ${i} ${'x'.repeat(i % 300)}\n` })) });
  const { frame } = mount(store);
  const height = logHeight(SIZE.rows, 2);
  const shown = frame().split('\n').filter((l) => / \| line \d+/.test(l));
  t.equal(shown.length, height, `${height} log lines rendered of 5000`);
  t.match(shown.at(-1), /^shop-web-1 \| line 4999 x+$/);
  t.match(shown[0], new RegExp(`line ${5000 - height} `));
  t.ok(frame().split('\n').every((l) => l.length <= SIZE.columns), 'long lines are cut to the width');
});

t.test('keys: select, focus, filter, follow, help; service keys call the actions', async (t) => {
  const store = stack();
  store.dispatch({ kind: 'events', events: [
    { type: 'log', service: 'db', container: 'shop-db-1', stream: 'stdout', text: 'db says hello\n' },
    { type: 'log', service: 'web', container: 'shop-web-1', stream: 'stdout', text: 'web says GET\n' },
    { type: 'log', service: 'web', container: 'shop-web-1', stream: 'stdout', text: 'web says POST\n' },
  ] });
  const { stdin, frame, actions } = mount(store);
  // Ink listens to keys from an effect that runs after the first render.
  for (let i = 0; i < 10; i++) await tick();
  const press = async (key: string): Promise<void> => {
    stdin.write(key);
    await tick();
  };
  await press('j');
  t.equal(store.getState().selected, 1, 'j selects the next row');
  await press('\r');
  await until(t, 'enter focuses the logs of web', () => frame().includes('logs of web') && !frame().includes('db says hello'));
  await press('/');
  for (const c of 'post') await press(c);
  await until(t, 'the filter prompt shows what is typed', () => /filter: post/.test(frame()));
  t.match(frame(), 'web says GET', 'not applied while typing');
  await press('\r');
  await until(t, 'enter applies the filter', () => frame().includes('filter "post"') && !frame().includes('web says GET') && frame().includes('web says POST'));
  await press('\x1b');
  await until(t, 'esc clears it', () => frame().includes('web says GET'));
  await press('a');
  await until(t, 'a shows all services', () => frame().includes('logs of all services') && frame().includes('db says hello'));
  await press('f');
  await until(t, 'f pauses following', () => frame().includes('paused'));
  await press('?');
  await until(t, '? shows the help', () => frame().includes('rebuild and recreate the selected service'));
  await press('r');
  t.same(actions.calls, [], 'keys under the help do nothing');
  await press('?');
  await until(t, '? closes it', () => !frame().includes('rebuild and recreate'));
  for (const key of ['r', 's', 'b', 'e', 'k', 's', 'd', 'q', '\x03']) await press(key);
  t.same(actions.calls, ['restart web', 'start web', 'rebuild web', 'shell web', 'stop db', 'detach', 'quit', 'interrupt']);
});
