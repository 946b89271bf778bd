import t from 'tap';
import { buildServiceGraph, type GraphInput, type ServiceReference } from '../../src/compose/graph.js';
import { formatProblem } from '../../src/common/errors.js';

const dep = (service: string, line = 1, required = true): ServiceReference => ({
  service, kind: 'depends_on', path: 'services.x.depends_on', required, position: { file: 'compose.yaml', line, col: 7 },
});
const graphOf = (spec: Record<string, string[]>) => {
  const input: GraphInput = {};
  for (const [name, deps] of Object.entries(spec)) input[name] = deps.map((d) => dep(d));
  return buildServiceGraph(input);
};

t.test('dependencies, dependents and a stable topological order', async (t) => {
  const { graph, problems } = graphOf({ web: ['api', 'cache'], api: ['db'], cache: [], db: [], worker: ['db'] });
  t.same(problems, []);
  t.same(graph.dependenciesOf('web'), ['api', 'cache']);
  t.same(graph.dependentsOf('db'), ['api', 'worker']);
  t.same(graph.topologicalOrder(), ['cache', 'db', 'api', 'web', 'worker']);
  t.same(graph.withDependencies(['web']), ['api', 'cache', 'db', 'web']);
});

t.test('missing services: reported with position and did-you-mean; optional ones dropped', async (t) => {
  const { graph, problems } = buildServiceGraph({
    web: [dep('databse', 4), dep('metrics', 5, false)],
    database: [],
  });
  t.same(problems.map(formatProblem), ['compose.yaml:4:7: services.x.depends_on: service "databse" is not defined (did you mean "database"?)']);
  t.same(graph.dependenciesOf('web'), []);
  const links = buildServiceGraph({ web: [{ service: 'nope', kind: 'links', path: 'services.web.links', required: true }] });
  t.same(links.problems.map(formatProblem), ['services.web.links: service "nope" is not defined (used by links)']);
});

t.test('cycles are reported once each, from the alphabetically first service', async (t) => {
  const { problems } = graphOf({ web: ['api'], api: ['worker'], worker: ['web'], x: ['y'], y: ['x'], solo: [] });
  t.same(problems.map((p) => p.message), ['dependency cycle: api -> worker -> web -> api', 'dependency cycle: x -> y -> x']);
  const again = graphOf({ worker: ['web'], web: ['api'], api: ['worker'] });
  t.same(again.problems.map((p) => p.message), ['dependency cycle: api -> worker -> web -> api'], 'same text whatever the input order');
  const self = graphOf({ app: ['app'] });
  t.same(self.problems.map((p) => p.message), ['service "app" depends on itself: remove that reference']);
});

/** A visitor whose calls finish only when the test says so. */
function controlledVisitor() {
  const pending = new Map<string, () => void>();
  const started: string[] = [];
  let running = 0;
  let maxRunning = 0;
  const visit = (name: string) => new Promise<void>((resolve) => {
    started.push(name);
    running++;
    maxRunning = Math.max(maxRunning, running);
    pending.set(name, () => { running--; resolve(); });
  });
  const finish = async (name: string) => {
    pending.get(name)!();
    pending.delete(name);
    for (let i = 0; i < 5; i++) await Promise.resolve();
  };
  return { visit, finish, started, get maxRunning() { return maxRunning; }, get running() { return [...pending.keys()].sort(); } };
}

t.test('forward visit waits for dependencies and runs independents together', async (t) => {
  const { graph } = graphOf({ web: ['api', 'cache'], api: ['db'], cache: [], db: [] });
  const c = controlledVisitor();
  const done = graph.visit('forward', c.visit);
  await Promise.resolve();
  t.same(c.running, ['cache', 'db'], 'roots start together');
  await c.finish('db');
  t.same(c.running, ['api', 'cache']);
  await c.finish('api');
  t.same(c.running, ['cache'], 'web waits for cache too');
  await c.finish('cache');
  t.same(c.running, ['web']);
  await c.finish('web');
  await done;
  t.same(c.started, ['cache', 'db', 'api', 'web']);
});

t.test('reverse visit stops dependents first', async (t) => {
  const { graph } = graphOf({ web: ['api'], api: ['db'], db: [] });
  const c = controlledVisitor();
  const done = graph.visit('reverse', c.visit);
  await Promise.resolve();
  t.same(c.running, ['web']);
  await c.finish('web');
  t.same(c.running, ['api']);
  await c.finish('api');
  await c.finish('db');
  await done;
  t.same(c.started, ['web', 'api', 'db']);
});

t.test('concurrency is bounded', async (t) => {
  const spec: Record<string, string[]> = {};
  for (let i = 0; i < 10; i++) spec[`s${i}`] = [];
  const { graph } = graphOf(spec);
  const c = controlledVisitor();
  const done = graph.visit('forward', c.visit, { concurrency: 3 });
  await Promise.resolve();
  t.equal(c.running.length, 3);
  while (c.running.length > 0) await c.finish(c.running[0]!);
  await done;
  t.equal(c.maxRunning, 3);
  t.equal(c.started.length, 10);
});

t.test('only: a subset with its dependencies (forward) or alone (reverse)', async (t) => {
  const { graph } = graphOf({ web: ['api'], api: ['db'], db: [], other: [] });
  const seen: string[] = [];
  await graph.visit('forward', async (n) => { seen.push(n); }, { only: ['api'] });
  t.same(seen, ['db', 'api']);
  const down: string[] = [];
  await graph.visit('reverse', async (n) => { down.push(n); }, { only: ['api', 'db'] });
  t.same(down, ['api', 'db']);
});

t.test('a failure stops new visits and rejects after in-flight ones settle', async (t) => {
  const { graph } = graphOf({ a: [], b: [], c: ['a'] });
  const seen: string[] = [];
  let bSettled = false;
  const result = graph.visit('forward', async (n) => {
    seen.push(n);
    if (n === 'a') throw new Error('a failed');
    if (n === 'b') { await new Promise((r) => setImmediate(r)); bSettled = true; }
  });
  await t.rejects(result, { message: 'a failed' });
  t.ok(bSettled, 'b finished before the rejection');
  t.notOk(seen.includes('c'), 'c never started');
});

t.test('bounded parallelism holds along a dependency fan-out', async (t) => {
  const { graph } = graphOf({ db: [], a: ['db'], b: ['db'], c: ['db'], d: ['db'], e: ['db'] });
  const c = controlledVisitor();
  const done = graph.visit('forward', c.visit, { concurrency: 2 });
  await Promise.resolve();
  t.same(c.running, ['db'], 'dependents wait for db');
  await c.finish('db');
  t.same(c.running, ['a', 'b'], 'only two of the five ready services start');
  await c.finish('b');
  t.same(c.running, ['a', 'c'], 'a finished slot is refilled in alphabetical order');
  while (c.running.length > 0) await c.finish(c.running[0]!);
  await done;
  t.equal(c.maxRunning, 2);
  t.same(c.started, ['db', 'a', 'b', 'c', 'd', 'e']);
});

t.test('a visitor that throws synchronously rejects the visit', async (t) => {
  const { graph } = graphOf({ a: [] });
  await t.rejects(graph.visit('forward', () => { throw new Error('boom'); }), { message: 'boom' });
});

t.test('unknown names have no dependencies or dependents', async (t) => {
  const { graph } = graphOf({ a: [] });
  t.same(graph.dependenciesOf('zzz'), []);
  t.same(graph.dependentsOf('zzz'), []);
});
