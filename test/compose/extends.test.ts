// The extends stage: service inheritance within a file and across files.
import t from 'tap';
import type { Problem } from '../../src/common/errors.js';
import { rebaseRelativePaths, resolveExtends } from '../../src/compose/extends.js';
import { mergeDocuments } from '../../src/compose/merge.js';
import { locate } from '../../src/compose/positions.js';
import { RESET, isOverride, markOverride } from '../../src/compose/tags.js';
import { positionedYaml } from './support/positioned-yaml.js';

type Doc = Record<string, unknown>;

const PROJECT = '/proj';

/** Resolve `compose.yaml` (in /proj) against other in-memory files, named relative to /proj. */
function resolveIn(main: string | Doc, others: Record<string, string> = {}) {
  const loads: string[] = [];
  const doc = typeof main === 'string' ? positionedYaml(main, 'compose.yaml') : main;
  const result = resolveExtends(doc, {
    file: `${PROJECT}/compose.yaml`,
    loadDocument: (abs) => {
      loads.push(abs);
      const name = abs.slice(PROJECT.length + 1);
      const text = others[name];
      if (text === undefined) return { doc: undefined, problems: [{ path: '', message: `stack file ${name} not found` }] };
      return { doc: positionedYaml(text, name), problems: [] };
    },
  });
  return { ...result, loads, services: result.value.services as Record<string, Doc> };
}

t.test('a service extends another in the same file, in either form', async (t) => {
  const r = resolveIn(`services:
  common:
    image: busybox
    environment:
      TZ: utc
      PORT: 80
  cli:
    extends:
      service: common
    environment:
      PORT: 8080
  short:
    extends: common
    user: root
`);
  t.strictSame(r.problems, []);
  t.strictSame(r.services, {
    common: { image: 'busybox', environment: { TZ: 'utc', PORT: 80 } },
    cli: { image: 'busybox', environment: { TZ: 'utc', PORT: 8080 } },
    short: { image: 'busybox', environment: { TZ: 'utc', PORT: 80 }, user: 'root' },
  });
  t.strictSame(r.loads, [], 'no other file is read');
});

t.test('the spec examples: list-form environment, volumes by target, sequences', async (t) => {
  const r = resolveIn(`services:
  common:
    image: busybox
    environment: [TZ=utc, PORT=80]
    volumes:
      - common-volume:/var/lib/backup/data:rw
    security_opt:
      - label:role:ROLE
    depends_on: [db]
  cli:
    extends:
      service: common
    environment: [PORT=8080]
    volumes:
      - cli-volume:/var/lib/backup/data:ro
    security_opt:
      - label:user:USER
  db:
    image: postgres
`);
  t.strictSame(r.services.cli, {
    image: 'busybox',
    environment: ['TZ=utc', 'PORT=8080'],
    volumes: ['cli-volume:/var/lib/backup/data:ro'],
    security_opt: ['label:role:ROLE', 'label:user:USER'],
    depends_on: ['db'],
  }, 'depends_on is inherited, as the current spec has it');
});

t.test('chains resolve until no extends is left', async (t) => {
  const r = resolveIn(`services:
  cli:
    extends:
      service: common
  common:
    image: busybox
    extends:
      service: base
  base:
    image: alpine
    user: root
`);
  t.strictSame(r.services, {
    cli: { image: 'busybox', user: 'root' },
    common: { image: 'busybox', user: 'root' },
    base: { image: 'alpine', user: 'root' },
  });
  t.notMatch(JSON.stringify(r.value), /extends/);
});

t.test('!reset and !override in the extending service act on what it inherits, and stay for the file merge', async (t) => {
  const doc = positionedYaml(`services:
  worker:
    image: jobs
    environment:
      LOG_LEVEL: info
      CONCURRENCY: "2"
    ports: ["9000:9000"]
  thumbnails:
    extends: worker
    environment:
      CONCURRENCY: x
    ports: ["9100:9000"]
`);
  const local = (doc.services as Doc).thumbnails as Doc;
  (local.environment as Doc).CONCURRENCY = RESET;
  markOverride(local.ports as object);
  const r = resolveIn(doc);
  const thumbnails = r.services.thumbnails!;
  t.equal((thumbnails.environment as Doc).CONCURRENCY, RESET, 'the reset is kept for merging over earlier files');
  t.ok(isOverride(thumbnails.ports), 'so is the override mark');
  t.strictSame(mergeDocuments([r.value]).value.services, {
    worker: { image: 'jobs', environment: { LOG_LEVEL: 'info', CONCURRENCY: '2' }, ports: ['9000:9000'] },
    thumbnails: { image: 'jobs', environment: { LOG_LEVEL: 'info' }, ports: ['9100:9000'] },
  });
});

const COMMON = `# templates
services:
  python-app:
    build:
      context: ./backend
      args:
        PYTHON_VERSION: "3.12"
    env_file: ./env/app.env
    volumes:
      - ./backend:/srv/app
      - cache:/cache
      - /var/log:/logs
      - type: bind
        source: ../shared
        target: /shared
    develop:
      watch:
        - action: sync
          path: ./backend/src
          target: /srv/app/src
  postgres:
    extends:
      file: ../db/base.yaml
      service: pg
    env_file:
      - path: ./env/db.env
        required: true
`;

t.test('extends across files rebases the other file\'s relative paths', async (t) => {
  const r = resolveIn(
    `services:
  api:
    extends:
      file: common/services.yml
      service: python-app
    ports: ["8000:8000"]
    volumes:
      - ./local:/srv/app
  db:
    extends:
      file: ./common/services.yml
      service: postgres
`,
    { 'common/services.yml': COMMON, 'db/base.yaml': 'services:\n  pg:\n    image: postgres:16\n    volumes: [./init:/docker-entrypoint-initdb.d]\n' },
  );
  t.strictSame(r.problems, []);
  t.strictSame(r.services.api, {
    build: { context: '/proj/common/backend', args: { PYTHON_VERSION: '3.12' } },
    env_file: '/proj/common/env/app.env',
    volumes: ['./local:/srv/app', 'cache:/cache', '/var/log:/logs', { type: 'bind', source: '/proj/shared', target: '/shared' }],
    develop: { watch: [{ action: 'sync', path: '/proj/common/backend/src', target: '/srv/app/src' }] },
    ports: ['8000:8000'],
  });
  t.strictSame(r.services.db, {
    image: 'postgres:16',
    volumes: ['/proj/db/init:/docker-entrypoint-initdb.d'],
    env_file: [{ path: '/proj/common/env/db.env', required: true }],
  }, 'a chain through a third file resolves against each file\'s own directory');
  t.strictSame(r.loads, ['/proj/common/services.yml', '/proj/db/base.yaml'], 'each file is read once');
  t.strictSame(locate(r.value, ['services', 'api', 'build', 'args', 'PYTHON_VERSION']), { file: 'common/services.yml', line: 7, col: 25 }, 'inherited entries point into the other file');
  t.strictSame(locate(r.value, ['services', 'api', 'ports', 0]), { file: 'compose.yaml', line: 6, col: 13 });
});

t.test('a missing service is reported where it is named, with a suggestion', async (t) => {
  const r = resolveIn(`services:
  base:
    image: app
  web:
    extends: bse
    ports: ["80:80"]
  api:
    extends:
      file: common.yaml
      service: python-base
`, { 'common.yaml': 'services:\n  python:\n    image: python:3.12-slim\n' });
  t.strictSame(r.problems, [
    {
      path: 'services.web.extends',
      message: 'service "bse" not found in compose.yaml',
      position: { file: 'compose.yaml', line: 5, col: 14 },
      hint: 'did you mean "base"?',
    },
    {
      path: 'services.api.extends',
      message: 'service "python-base" not found in common.yaml',
      position: { file: 'compose.yaml', line: 10, col: 16 },
      hint: 'common.yaml defines "python"',
    },
  ] satisfies Problem[]);
  t.strictSame(r.services.web, { ports: ['80:80'] }, 'the service keeps its own definition');
});

t.test('a missing file is reported at the extends file value', async (t) => {
  const r = resolveIn(`services:
  web:
    extends:
      file: ./templates/web.yaml
      service: web
    ports:
      - "8080:80"
`);
  t.strictSame(r.problems, [
    { path: 'services.web.extends.file', message: 'stack file templates/web.yaml not found', position: { file: 'compose.yaml', line: 4, col: 13 } },
  ]);
  t.strictSame(r.services.web, { ports: ['8080:80'] });
});

t.test('cycles are reported once, from the first service in the file', async (t) => {
  const r = resolveIn(`services:
  base:
    extends:
      service: app
    image: example/app:1.0
  app:
    extends:
      service: worker
  worker:
    extends: base
  self:
    extends: self
`);
  t.strictSame(r.problems, [
    {
      path: 'services.base.extends',
      message: 'extends cycle: services.base -> services.app -> services.worker -> services.base',
      position: { file: 'compose.yaml', line: 4, col: 16 },
    },
    { path: 'services.self.extends', message: 'extends cycle: services.self -> services.self', position: { file: 'compose.yaml', line: 12, col: 14 } },
  ]);
  t.notMatch(JSON.stringify(r.value), /extends/, 'no extends key is left even so');
});

t.test('a cycle through another file names that file', async (t) => {
  const r = resolveIn('services:\n  a:\n    extends:\n      file: other.yaml\n      service: b\n', {
    'other.yaml': 'services:\n  b:\n    extends:\n      file: compose.yaml\n      service: a\n',
  });
  t.strictSame(r.problems.map((p) => p.message), ['extends cycle: services.a -> services.b (other.yaml) -> services.a']);
});

t.test('a malformed extends is reported', async (t) => {
  const r = resolveIn('services:\n  web:\n    extends:\n      file: x.yaml\n    image: nginx\n');
  t.strictSame(r.problems, [
    {
      path: 'services.web.extends',
      message: 'must be the name of a service, or a mapping with "service" and an optional "file"',
      position: { file: 'compose.yaml', line: 4, col: 7 },
    },
  ]);
  t.strictSame(r.services.web, { image: 'nginx' });
});

t.test('a document without extends is returned as it is', async (t) => {
  const doc = positionedYaml('services:\n  web:\n    image: nginx\n');
  t.equal(resolveIn(doc).value, doc);
});

t.test('rebaseRelativePaths makes an included file\'s paths absolute', async (t) => {
  const doc = positionedYaml(`services:
  cache:
    build: ./cache
    label_file: [./labels]
    volumes: [./conf:/etc/redis, data:/data]
secrets:
  token:
    file: ./secrets/token
configs:
  remote:
    external: true
volumes:
  data:
    driver: local
    driver_opts: {type: none, o: bind, device: ./data}
`, 'infra/compose.yaml');
  const out = rebaseRelativePaths(doc, '/proj/infra');
  t.strictSame(out, {
    services: { cache: { build: '/proj/infra/cache', label_file: ['/proj/infra/labels'], volumes: ['/proj/infra/conf:/etc/redis', 'data:/data'] } },
    secrets: { token: { file: '/proj/infra/secrets/token' } },
    configs: { remote: { external: true } },
    volumes: { data: { driver: 'local', driver_opts: { type: 'none', o: 'bind', device: '/proj/infra/data' } } },
  });
  t.strictSame(locate(out, ['secrets', 'token', 'file']), { file: 'infra/compose.yaml', line: 8, col: 11 });
  t.equal(((doc.services as Doc).cache as Doc).build, './cache', 'the input is left alone');
});
