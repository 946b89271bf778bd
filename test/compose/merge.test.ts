// The merge stage: Compose's rules for combining a base stack file with override files.
import t from 'tap';
import { mergeDocuments } from '../../src/compose/merge.js';
import { containerPosition, entryPosition, locate } from '../../src/compose/positions.js';
import { RESET, isOverride, markOverride } from '../../src/compose/tags.js';
import { positionedYaml } from './support/positioned-yaml.js';

type Doc = Record<string, unknown>;

function merge(...files: Array<[string, string] | Doc>) {
  return mergeDocuments(files.map((f) => (Array.isArray(f) ? positionedYaml(f[0], f[1]) : f)));
}

/** The merged service `name` of two inline files. */
function service(base: string, override: string, name = 'app'): Doc {
  const r = merge([base, 'compose.yaml'], [override, 'compose.override.yaml']);
  if (r.problems.length > 0) throw new Error(JSON.stringify(r.problems));
  return (r.value.services as Doc)[name] as Doc;
}

const svc = (body: string): string => `services:\n  app:\n${body.replace(/^/gm, '    ')}\n`;

t.test('mappings merge by key and scalars are replaced (the spec example)', async (t) => {
  const r = merge(['services:\n  foo:\n    key1: value1\n    key2: value2\n', 'a.yaml'], ['services:\n  foo:\n    key2: VALUE\n    key3: value3\n', 'b.yaml']);
  t.strictSame(r.value, { services: { foo: { key1: 'value1', key2: 'VALUE', key3: 'value3' } } });
  t.strictSame(r.problems, []);
});

t.test('plain sequences append what is not there yet', async (t) => {
  t.strictSame(service(svc('dns:\n  - 1.1.1.1'), svc('dns:\n  - 8.8.8.8')).dns, ['1.1.1.1', '8.8.8.8']);
  t.strictSame(service(svc('cap_add: [NET_ADMIN, SYS_TIME]'), svc('cap_add: [SYS_TIME, SYS_PTRACE]')).cap_add, ['NET_ADMIN', 'SYS_TIME', 'SYS_PTRACE']);
  const s = service(
    svc('cap_drop: [ALL]\nprofiles: [debug]\nsecurity_opt: [no-new-privileges:true]\nexternal_links: [redis]\ngroup_add: [mail]'),
    svc('cap_drop: [ALL, NET_RAW]\nprofiles: [debug, test]\nsecurity_opt: [no-new-privileges:true, "label:user:USER"]\nexternal_links: [redis, db:mysql]\ngroup_add: [mail, "1001"]'),
  );
  t.strictSame(
    [s.cap_drop, s.profiles, s.security_opt, s.external_links, s.group_add],
    [['ALL', 'NET_RAW'], ['debug', 'test'], ['no-new-privileges:true', 'label:user:USER'], ['redis', 'db:mysql'], ['mail', '1001']],
  );
  t.strictSame(service(svc('expose: [3000, "8000"]'), svc('expose: ["3000", 9000]')).expose, ['3000', '8000', 9000], 'expose compares port text; the later spelling wins');
  t.strictSame(service(svc('dns: 1.1.1.1\ndns_search: a.example'), svc('dns: 8.8.8.8\ndns_search: [a.example, b.example]')), {
    dns: ['1.1.1.1', '8.8.8.8'],
    dns_search: ['a.example', 'b.example'],
  });
});

t.test('command, entrypoint and healthcheck.test are replaced, not appended', async (t) => {
  const s = service(
    svc('command: ["echo", "foo"]\nentrypoint: [/bin/sh, -c]\nhealthcheck:\n  test: [CMD, curl, -f, http://localhost]\n  interval: 10s'),
    svc('command: ["echo", "bar"]\nentrypoint: /entry.sh\nhealthcheck:\n  test: [CMD-SHELL, "pg_isready"]\n  retries: 3'),
  );
  t.strictSame(s, { command: ['echo', 'bar'], entrypoint: '/entry.sh', healthcheck: { test: ['CMD-SHELL', 'pg_isready'], interval: '10s', retries: 3 } });
  t.strictSame(service(svc('command: run --all'), svc('command: [serve]')).command, ['serve'], 'a list may replace a string');
});

t.test('ports merge by ip, published port, target and protocol', async (t) => {
  t.strictSame(service(svc('ports: ["8080:80", "443:443"]'), svc('ports: ["8080:80", "127.0.0.1:5432:5432", "8080:80/udp"]')).ports, [
    '8080:80',
    '443:443',
    '127.0.0.1:5432:5432',
    '8080:80/udp',
  ]);
  t.strictSame(
    service(svc('ports: ["8080:80"]'), svc('ports:\n  - target: 80\n    published: "8080"\n    protocol: tcp\n    mode: host')).ports,
    [{ target: 80, published: '8080', protocol: 'tcp', mode: 'host' }],
    'the long form of the same port replaces the short one in place',
  );
});

t.test('volumes, tmpfs, devices, secrets and configs merge by their unique key', async (t) => {
  t.strictSame(service(svc('volumes:\n  - foo:/work'), svc('volumes:\n  - bar:/work')).volumes, ['bar:/work'], 'the spec example');
  t.strictSame(
    service(svc('volumes:\n  - ./src:/app\n  - cache:/cache\n  - /logs'), svc('volumes:\n  - type: bind\n    source: ./other\n    target: /app\n  - data:/data:ro')).volumes,
    [{ type: 'bind', source: './other', target: '/app' }, 'cache:/cache', '/logs', 'data:/data:ro'],
  );
  t.strictSame(service(svc('tmpfs: /run'), svc('tmpfs: [/run, "/tmp:size=64m"]')).tmpfs, ['/run', '/tmp:size=64m']);
  t.strictSame(service(svc('devices: ["/dev/fuse:/dev/fuse"]'), svc('devices: ["/dev/fuse1:/dev/fuse", "/dev/kvm"]')).devices, ['/dev/fuse1:/dev/fuse', '/dev/kvm']);
  const s = service(
    svc('secrets: [db_password, api_key]\nconfigs: [app_config]'),
    svc('secrets:\n  - source: db_password\n    mode: 0o400\n  - source: other\n    target: api_key\nconfigs:\n  - source: app_config\n    target: /etc/app.toml'),
  );
  t.strictSame(s.secrets, [{ source: 'db_password', mode: 0o400 }, { source: 'other', target: 'api_key' }], 'secrets by target under /run/secrets');
  t.strictSame(s.configs, ['app_config', { source: 'app_config', target: '/etc/app.toml' }], 'a config with a new target is another mount');
  t.strictSame(
    service(
      svc('develop:\n  watch:\n    - {action: sync, path: ./src, target: /app/src}\n    - {action: rebuild, path: package.json}'),
      svc('develop:\n  watch:\n    - {action: sync, path: ./src, target: /srv/src}\n    - {action: restart, path: ./config}'),
    ).develop,
    {
      watch: [
        { action: 'sync', path: './src', target: '/srv/src' },
        { action: 'rebuild', path: 'package.json' },
        { action: 'restart', path: './config' },
      ],
    },
  );
  t.strictSame(
    service(svc('env_file: .env'), svc('env_file:\n  - path: .env\n    required: false\n  - local.env')).env_file,
    [{ path: '.env', required: false }, 'local.env'],
    'env_file by path',
  );
});

t.test('environment and other key-value fields merge by key in either form', async (t) => {
  t.strictSame(service(svc('environment:\n  A: "1"\n  B: "2"'), svc('environment:\n  B: "3"\n  C:')).environment, { A: '1', B: '3', C: null });
  t.strictSame(service(svc('environment:\n  - A=1\n  - B=2'), svc('environment:\n  - B=3\n  - C')).environment, ['A=1', 'B=3', 'C'], 'two lists stay a list');
  t.strictSame(service(svc('environment:\n  - A=1\n  - B=2\n  - D'), svc('environment:\n  B: "3"\n  E: x=y')).environment, { A: '1', B: '3', D: null, E: 'x=y' });
  t.strictSame(service(svc('labels:\n  com.example.tier: web'), svc('labels:\n  - com.example.tier=api\n  - com.example.team=core')).labels, {
    'com.example.tier': 'api',
    'com.example.team': 'core',
  });
  const s = service(
    svc('build:\n  context: .\n  args: [NODE=20, MODE=dev]\nsysctls: [net.core.somaxconn=1024]\nannotations:\n  a.b: one'),
    svc('build:\n  args:\n    MODE: prod\nsysctls:\n  net.core.somaxconn: 2048\nannotations: [a.c=two]'),
  );
  t.strictSame(s, { build: { context: '.', args: { NODE: '20', MODE: 'prod' } }, sysctls: { 'net.core.somaxconn': 2048 }, annotations: { 'a.b': 'one', 'a.c': 'two' } });
  t.strictSame(service(svc('extra_hosts: ["db:10.0.0.1", "db=fd00::1", "cache=10.0.0.9"]'), svc('extra_hosts:\n  db: 10.0.0.2')).extra_hosts, {
    db: '10.0.0.2',
    cache: '10.0.0.9',
  });
  t.strictSame(
    service(svc('extra_hosts: ["db=10.0.0.1", "cache=10.0.0.9"]'), svc('extra_hosts: ["db=10.0.0.2", "db=fd00::2"]')).extra_hosts,
    ['db=10.0.0.2', 'db=fd00::2', 'cache=10.0.0.9'],
    "a host's addresses in the later file replace all earlier ones",
  );
});

t.test('depends_on and networks merge as mappings by name', async (t) => {
  t.strictSame(service(svc('depends_on: [db]'), svc('depends_on: [db, cache]')).depends_on, ['db', 'cache']);
  t.strictSame(service(svc('depends_on: [db]'), svc('depends_on:\n  cache:\n    condition: service_healthy')).depends_on, {
    db: { condition: 'service_started', required: true },
    cache: { condition: 'service_healthy' },
  });
  t.strictSame(
    service(svc('depends_on:\n  db:\n    condition: service_healthy'), svc('depends_on: [db, cache]')).depends_on,
    { db: { condition: 'service_healthy' }, cache: { condition: 'service_started', required: true } },
    'naming a dependency again in a list keeps its condition',
  );
  t.strictSame(service(svc('networks: [front, back]'), svc('networks:\n  back:\n    aliases: [api]')).networks, { front: null, back: { aliases: ['api'] } });
});

t.test('build, ulimits and logging', async (t) => {
  t.strictSame(service(svc('build: ./app'), svc('build:\n  dockerfile: Dockerfile.dev')).build, { context: './app', dockerfile: 'Dockerfile.dev' });
  t.strictSame(service(svc('build:\n  context: .\n  target: dev'), svc('build: ./other')).build, { context: './other', target: 'dev' });
  t.strictSame(service(svc('ulimits:\n  nofile:\n    soft: 1024\n    hard: 2048\n  nproc: 512'), svc('ulimits:\n  nofile: 65535')).ulimits, {
    nofile: 65535,
    nproc: 512,
  });
  t.strictSame(
    service(svc('logging:\n  driver: json-file\n  options:\n    max-size: 10m'), svc('logging:\n  options:\n    max-file: "3"')).logging,
    { driver: 'json-file', options: { 'max-size': '10m', 'max-file': '3' } },
  );
  t.strictSame(service(svc('logging:\n  driver: json-file\n  options:\n    max-size: 10m'), svc('logging:\n  driver: syslog')).logging, { driver: 'syslog' }, 'a new driver drops the old options');
});

t.test('top-level resources merge too', async (t) => {
  const r = merge(
    ['volumes:\n  data:\nnetworks:\n  front:\n    labels: [tier=front]\n    ipam:\n      config:\n        - subnet: 10.1.0.0/24\n          gateway: 10.1.0.1\n', 'a.yaml'],
    ['volumes:\n  data:\n    driver: local\nnetworks:\n  front:\n    labels:\n      team: web\n    ipam:\n      config:\n        - subnet: 10.1.0.0/24\n          gateway: 10.1.0.254\n        - subnet: 10.2.0.0/24\n', 'b.yaml'],
  );
  t.strictSame(r.value, {
    volumes: { data: { driver: 'local' } },
    networks: { front: { labels: { tier: 'front', team: 'web' }, ipam: { config: [{ subnet: '10.1.0.0/24', gateway: '10.1.0.254' }, { subnet: '10.2.0.0/24' }] } } },
  });
});

t.test('!reset removes what earlier files set', async (t) => {
  const base = positionedYaml(svc('image: app:1\nports: ["80:80"]\nenvironment:\n  FOO: bar\n  KEEP: "1"\ncommand: [serve]\ndeploy:\n  replicas: 2'));
  const over = positionedYaml(svc('image: app:2\nports: []\nenvironment:\n  FOO: x\ncommand: []\ndeploy: {}\nuser: x'), 'compose.override.yaml');
  const app = (over.services as Doc).app as Doc;
  app.ports = RESET;
  (app.environment as Doc).FOO = RESET;
  app.command = RESET;
  app.deploy = RESET;
  app.user = RESET;
  const r = mergeDocuments([base, over]);
  t.strictSame(r.value, { services: { app: { image: 'app:2', environment: { KEEP: '1' } } } }, 'reset keys are gone, unset ones never appear');
});

t.test('!override replaces instead of merging', async (t) => {
  const over = positionedYaml(svc('ports: ["8443:443"]\nenvironment:\n  ONLY: "1"'), 'compose.override.yaml');
  const app = (over.services as Doc).app as Doc;
  markOverride(app.ports as object);
  markOverride(app.environment as object);
  const r = mergeDocuments([positionedYaml(svc('ports: ["8080:80"]\nenvironment:\n  A: "1"')), over]);
  const merged = (r.value.services as Doc).app as Doc;
  t.strictSame(merged, { ports: ['8443:443'], environment: { ONLY: '1' } });
  t.notOk(isOverride(merged.ports), 'the output carries no override mark');
  t.not(merged.ports, app.ports, 'the output is a copy');
});

t.test('one document still has its marks consumed', async (t) => {
  const doc = positionedYaml(svc('image: app\nenvironment:\n  A: "1"\n  B: "2"\nports: ["80:80"]\nvolumes: [a:/a, b:/b]'));
  const app = (doc.services as Doc).app as Doc;
  (app.environment as Doc).B = RESET;
  (app.volumes as unknown[])[0] = RESET;
  markOverride(app.ports as object);
  const r = mergeDocuments([doc]);
  const merged = (r.value.services as Doc).app as Doc;
  t.strictSame(merged, { image: 'app', environment: { A: '1' }, ports: ['80:80'], volumes: ['b:/b'] });
  t.notOk(isOverride(merged.ports));
  t.equal(entryPosition(merged.volumes as object, 0)?.value.line, 8, 'the kept volume keeps its own line');
  t.equal((app.environment as Doc).B, RESET, 'the input is left alone');
});

t.test('positions point into the file that supplied each entry', async (t) => {
  const r = merge(
    ['services:\n  app:\n    image: app:1\n    ports:\n      - "80:80"\n    environment:\n      A: "1"\n', 'compose.yaml'],
    ['services:\n  app:\n    ports:\n      - "443:443"\n    environment:\n      B: "2"\n  db:\n    image: postgres\n', 'compose.override.yaml'],
  );
  const v = r.value;
  t.strictSame(locate(v, ['services', 'app', 'image']), { file: 'compose.yaml', line: 3, col: 12 });
  t.strictSame(locate(v, ['services', 'app', 'ports', 0]), { file: 'compose.yaml', line: 5, col: 9 });
  t.strictSame(locate(v, ['services', 'app', 'ports', 1]), { file: 'compose.override.yaml', line: 4, col: 9 });
  t.strictSame(locate(v, ['services', 'app', 'environment', 'A'], 'key'), { file: 'compose.yaml', line: 7, col: 7 });
  t.strictSame(locate(v, ['services', 'app', 'environment', 'B'], 'key'), { file: 'compose.override.yaml', line: 6, col: 7 });
  t.strictSame(locate(v, ['services', 'db', 'image']), { file: 'compose.override.yaml', line: 8, col: 12 });
  t.strictSame(containerPosition((v.services as Doc).app as object), { file: 'compose.yaml', line: 3, col: 5 });

  const listed = merge(['services:\n  app:\n    environment: [A=1]\n', 'compose.yaml'], ['services:\n  app:\n    environment:\n      B: "2"\n', 'compose.override.yaml']);
  const env = ((listed.value.services as Doc).app as Doc).environment as Doc;
  t.strictSame(env, { A: '1', B: '2' });
  t.strictSame(entryPosition(env, 'A')?.value, { file: 'compose.yaml', line: 3, col: 19 }, 'a list entry turned into a key keeps its place');
});

t.test('problems: documents that are not mappings and values that cannot merge', async (t) => {
  const r = merge(['services:\n  app:\n    ports: ["80:80"]\n    environment: {A: "1"}\n', 'compose.yaml'], ['services:\n  app:\n    ports: "443:443"\n    environment: A=2\n', 'compose.override.yaml']);
  t.strictSame(r.problems, [
    {
      path: 'services.app.ports',
      message: 'is a string here but a list in compose.yaml, so the two cannot be merged: write a list',
      position: { file: 'compose.override.yaml', line: 3, col: 12 },
    },
    {
      path: 'services.app.environment',
      message: 'is a string here but a mapping in compose.yaml, so the two cannot be merged: write a mapping',
      position: { file: 'compose.override.yaml', line: 4, col: 18 },
    },
  ]);
  t.strictSame((r.value.services as Doc).app, { ports: ['80:80'], environment: { A: '1' } }, 'the earlier value stays');

  const list = mergeDocuments([positionedYaml('services: {}\n'), ['a', 'b']]);
  t.strictSame(list.problems, [{ path: '', message: 'a stack file must be a mapping with keys like "services:", but file 2 of 2 holds a list' }]);
  t.strictSame(list.value, { services: {} });
  t.strictSame(mergeDocuments([]).value, {});
});

t.test('extensions may change shape without a problem', async (t) => {
  const r = merge(['x-common:\n  env: [A]\n', 'a.yaml'], ['x-common:\n  env: none\n', 'b.yaml']);
  t.strictSame(r, { value: { 'x-common': { env: 'none' } }, problems: [] });
});

t.test('the inputs are never changed', async (t) => {
  const base = positionedYaml(svc('ports: ["80:80"]\nenvironment: [A=1]'));
  const over = positionedYaml(svc('ports: ["81:81"]\nenvironment: [A=2]'), 'compose.override.yaml');
  const before = JSON.stringify([base, over]);
  mergeDocuments([base, over]);
  t.equal(JSON.stringify([base, over]), before);
});

t.test('three files, empty values and a reset dependency', async (t) => {
  const third = positionedYaml('services:\n  app:\n    depends_on:\n      cache: x\n    environment:\n      C: "3"\n', 'compose.local.yaml');
  ((third.services as Doc).app as Doc).depends_on = { cache: RESET };
  const r = mergeDocuments([
    positionedYaml('services:\n  app:\n    image: app\n    depends_on: [db, cache]\n    environment:\n      A: "1"\nvolumes:\n  data:\n'),
    positionedYaml('services:\n  app:\n  db:\n    image: postgres\nvolumes:\n  data:\n    name: shared-data\n', 'compose.override.yaml'),
    third,
  ]);
  t.strictSame(r, {
    value: {
      services: { app: { image: 'app', depends_on: { db: { condition: 'service_started', required: true } }, environment: { A: '1', C: '3' } }, db: { image: 'postgres' } },
      volumes: { data: { name: 'shared-data' } },
    },
    problems: [],
  });
  t.strictSame(locate(r.value, ['services', 'app', 'depends_on', 'db']), { file: 'compose.yaml', line: 4, col: 18 }, 'a converted entry points at its list item');
});
