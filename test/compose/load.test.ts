import t from 'tap';
import { loadProject } from '../../src/compose/load.js';
import { memoryLoaderHost } from '../../src/compose/host.js';
import { discoverStackFiles, overrideFileOf } from '../../src/compose/discover.js';
import { InvalidStackFileError, NotFoundError, formatProblem } from '../../src/common/errors.js';

const problemsOf = (fn: () => unknown): string[] => {
  try {
    fn();
  } catch (err) {
    if (err instanceof InvalidStackFileError) return err.problems.map(formatProblem);
    throw err;
  }
  return [];
};

t.test('discovery: preference order, override files, a warning for several', async (t) => {
  const host = memoryLoaderHost({
    '/p/compose.yaml': 'services: {}',
    '/p/docker-compose.yml': 'services: {}',
    '/p/compose.override.yaml': 'services: {}',
  }, '/p/sub');
  const found = discoverStackFiles(host);
  t.same(found.files, ['/p/compose.yaml', '/p/compose.override.yaml']);
  t.same(found.warnings, ['found several stack files in /p: compose.yaml, docker-compose.yml; using compose.yaml']);
  t.equal(overrideFileOf('/x/docker-compose.yml'), '/x/docker-compose.override.yml');
  t.throws(() => discoverStackFiles(memoryLoaderHost({}, '/empty')), NotFoundError);
});

t.test('.env feeds interpolation; the shell environment wins over it', async (t) => {
  const host = memoryLoaderHost({
    '/p/compose.yaml': 'services:\n  web:\n    image: "app:${TAG}"\n    environment: { WHO: "${WHO}" }\n',
    '/p/.env': 'TAG=from-dotenv\nWHO=dotenv\n',
  }, '/p', { WHO: 'shell' });
  const { project } = loadProject({}, host);
  t.equal(project.services.web!.image, 'app:from-dotenv');
  t.equal(project.services.web!.environment.WHO, 'shell');
});

t.test('--env-file replaces .env, and a missing one is an error', async (t) => {
  const files = {
    '/p/compose.yaml': 'services:\n  web:\n    image: "app:${TAG:-none}"\n',
    '/p/.env': 'TAG=dotenv\n',
    '/p/prod.env': 'TAG=prod\n',
  };
  t.equal(loadProject({ envFiles: ['prod.env'] }, memoryLoaderHost(files, '/p')).project.services.web!.image, 'app:prod');
  t.throws(() => loadProject({ envFiles: ['nope.env'] }, memoryLoaderHost(files, '/p')), { message: 'env file nope.env not found: check the --env-file path' });
});

t.test('COMPOSE_FILE, COMPOSE_PROFILES and COMPOSE_PROJECT_NAME', async (t) => {
  const host = memoryLoaderHost({
    '/p/a.yaml': 'services:\n  web: { image: a }\n  debug: { image: d, profiles: [debug] }\n',
    '/p/b.yaml': 'services:\n  web: { environment: { B: "1" } }\n',
  }, '/p', { COMPOSE_FILE: 'a.yaml:b.yaml', COMPOSE_PROFILES: 'debug', COMPOSE_PROJECT_NAME: 'envname' });
  const { project } = loadProject({}, host);
  t.same(Object.keys(project.services).sort(), ['debug', 'web']);
  t.same(project.services.web!.environment, { B: '1' });
  t.equal(project.name, 'envname');
});

t.test('include: own directory and .env, resources added, conflicts reported', async (t) => {
  const host = memoryLoaderHost({
    '/p/compose.yaml': 'include:\n  - db/compose.yaml\nservices:\n  web:\n    image: web\n    depends_on: [db]\n',
    '/p/db/compose.yaml': 'services:\n  db:\n    image: "postgres:${PG}"\n    volumes: ["./init:/docker-entrypoint-initdb.d", "data:/var/lib/postgresql/data"]\nvolumes:\n  data: {}\n',
    '/p/db/.env': 'PG=16\n',
  }, '/p');
  const { project, graph } = loadProject({}, host);
  t.equal(project.services.db!.image, 'postgres:16');
  t.equal(project.services.db!.volumes[0]!.source, '/p/db/init', 'relative paths of the included file are its own');
  t.ok(project.volumes.data);
  t.same(graph.dependenciesOf('web'), ['db']);

  const clash = memoryLoaderHost({
    '/p/compose.yaml': 'include:\n  - other.yaml\nservices:\n  db:\n    image: mine\n',
    '/p/other.yaml': 'services:\n  db:\n    image: theirs\n',
  }, '/p');
  t.same(problemsOf(() => loadProject({}, clash)), [
    'compose.yaml:4:3: services.db: service "db" is defined here and also in the included file other.yaml: rename one of them',
  ]);
});

t.test('problems from several files and stages come in one report', async (t) => {
  const host = memoryLoaderHost({
    '/p/compose.yaml': 'services:\n  web:\n    image: web\n    depends_on: [api]\n',
    '/p/compose.override.yaml': 'services:\n  web:\n    restart: sometimes\n    ports: ["x:y:z:w:v"]\n',
  }, '/p');
  t.same(problemsOf(() => loadProject({}, host)), [
    'compose.override.yaml:3:14: services.web.restart: must be one of "no", always, on-failure[:N], unless-stopped, but is "sometimes"',
    'compose.override.yaml:4:13: services.web.ports[0]: "x:y:z:w:v" is not a valid port mapping: use "HOST:CONTAINER" like "8080:80"',
    'compose.yaml:4:18: services.web.depends_on: service "api" is not defined',
  ]);
});

t.test('warnings of a load that succeeds point at their places too', async (t) => {
  // A load first runs without recording positions (load.ts); one with something to say runs again with them.
  const host = memoryLoaderHost({
    '/p/compose.yaml': 'version: "3.8"\nservices:\n  web:\n    image: web:${TAG}\n',
  }, '/p');
  const loaded = loadProject({}, host);
  t.same(loaded.warnings, [
    'compose.yaml:4:12: services.web.image: the "TAG" variable is not set. Defaulting to a blank string.',
    'compose.yaml:1:1: version: the "version" key is obsolete and ignored: you can remove it',
  ]);
  t.equal(loaded.project.services.web?.image, 'web:');
  t.same(loadProject({}, memoryLoaderHost({ '/p/compose.yaml': 'services:\n  web:\n    image: web\n' }, '/p')).warnings, [], 'and one without has none');
});

t.test('a second pass, with positions, only when a file was read without them and there is something to say', async (t) => {
  const readsOf = (text: string): number => {
    const host = memoryLoaderHost({ '/p/compose.yaml': text }, '/p');
    let reads = 0;
    const counting = { ...host, readFile: (p: string) => (p === '/p/compose.yaml' && reads++, host.readFile(p)) };
    try {
      loadProject({}, counting);
    } catch (err) {
      if (!(err instanceof InvalidStackFileError)) throw err;
    }
    return reads;
  };
  t.equal(readsOf('services:\n  web:\n    image: web\n'), 1, 'nothing to say');
  t.equal(readsOf('services:\n  web:\n    image: web:${TAG}\n'), 2, 'a warning');
  t.equal(readsOf('services:\n  web:\n    restart: sometimes\n'), 2, 'a problem');
  t.equal(readsOf('services:\n  web: [\n'), 1, 'a syntax error: the full YAML path records positions');
});

t.test('a file that cannot be parsed stops the load with its own problems only', async (t) => {
  const host = memoryLoaderHost({ '/p/compose.yaml': 'services:\n  web: [\n' }, '/p');
  const problems = problemsOf(() => loadProject({}, host));
  t.equal(problems.length, 1);
  t.match(problems[0], /^compose\.yaml:3:1: YAML syntax error/);
});
