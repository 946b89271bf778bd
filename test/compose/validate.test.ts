import t from 'tap';
import { validateStackDocument } from '../../src/compose/validate.js';
import { parseStackFile } from '../../src/compose/parse.js';
import { formatProblem } from '../../src/common/errors.js';

const check = (yaml: string) => {
  const parsed = parseStackFile(new TextEncoder().encode(yaml), 'compose.yaml');
  if (parsed.problems.length) throw new Error(parsed.problems.map(formatProblem).join('\n'));
  const r = validateStackDocument(parsed.value);
  return { problems: r.problems.map(formatProblem), warnings: r.warnings.map(formatProblem) };
};

t.test('valid documents, short and long forms, extensions', async (t) => {
  t.same(check('services:\n  web:\n    image: nginx\n').problems, []);
  t.same(check([
    'name: shop',
    'x-shared: &shared { restart: always }',
    'services:',
    '  web:',
    '    <<: *shared',
    '    x-team: core',
    '    build: { context: ., dockerfile: Dockerfile, args: [A=1], target: dev }',
    '    command: ["npm", "start"]',
    '    entrypoint: /bin/sh -c',
    '    environment: [A=1, B]',
    '    env_file: [.env, { path: .env.local, required: false }]',
    '    ports: [80, "8080:80", { target: 443, published: "8443", protocol: tcp }]',
    '    expose: [3000, "3001"]',
    '    volumes: ["data:/data", { type: bind, source: ., target: /app, read_only: true, bind: { create_host_path: true } }]',
    '    tmpfs: /run',
    '    networks: { front: { aliases: [www], ipv4_address: 10.5.0.5 }, back: null }',
    '    depends_on: { db: { condition: service_healthy, restart: true } }',
    '    healthcheck: { test: ["CMD", "true"], interval: 5s, timeout: 2s, retries: 3, start_period: 1s, start_interval: 1s }',
    '    deploy: { replicas: 2, resources: { limits: { cpus: "0.5", memory: 512M, pids: 100 } } }',
    '    profiles: [dev]',
    '    labels: { a: b }',
    '    user: "1000:1000"',
    '    working_dir: /app',
    '    init: true',
    '    stop_signal: SIGINT',
    '    stop_grace_period: 30s',
    '    develop: { watch: [{ path: ./src, action: sync, target: /app/src }, { path: package.json, action: rebuild }] }',
    '    secrets: [token, { source: cert, target: /etc/cert, mode: 0400 }]',
    '    extra_hosts: ["host.internal:host-gateway"]',
    '    cap_add: [NET_ADMIN]',
    '    cap_drop: [ALL]',
    '    read_only: true',
    '    ulimits: { nofile: { soft: 1024, hard: 2048 }, nproc: 512 }',
    '    logging: { driver: json-file, options: { max-size: 10m } }',
    '  db: { image: postgres, restart: "on-failure:3" }',
    'networks: { front: {}, back: { internal: true, ipam: { config: [{ subnet: 10.5.0.0/24 }] } } }',
    'volumes: { data: null }',
    'secrets: { token: { environment: TOKEN }, cert: { file: ./cert.pem } }',
    'x-anything: [1, 2]',
  ].join('\n')).problems, []);
});

t.test('unknown keys: key position, did-you-mean, obsolete and newer-spec hints', async (t) => {
  t.same(check('services:\n  web:\n    image: a\n    enviroment: {}\n').problems, [
    'compose.yaml:4:5: services.web: unknown key "enviroment" (did you mean "environment"?)',
  ]);
  t.same(check('services:\n  web:\n    image: a\n    depnds_on: [db]\n').problems, [
    'compose.yaml:4:5: services.web: unknown key "depnds_on" (did you mean "depends_on"?)',
  ]);
  t.same(check('services:\n  web:\n    image: a\n    net: host\n').problems, [
    'compose.yaml:4:5: services.web: unknown key "net" (the "net" key is from the version 1 file format: use "network_mode")',
  ]);
  t.same(check('services:\n  web:\n    image: a\n    quantum_flux: 1\n').problems, [
    'compose.yaml:4:5: services.web: unknown key "quantum_flux" (it is not in the Compose Specification stack supports; if a newer Compose release added it, stack does not know it yet)',
  ]);
  t.same(check('service:\n  web: {}\n').problems, ['compose.yaml:1:1: unknown key "service" (did you mean "services"?)']);
});

t.test('wrong shapes in words, one problem per place', async (t) => {
  t.same(check('services:\n  web:\n    image: a\n    ports:\n      a: 1\n').problems, [
    'compose.yaml:5:7: services.web.ports: must be a list of port mappings like "8080:80"',
  ]);
  t.same(check('services:\n  web:\n    image: a\n    ports: [true]\n').problems, [
    'compose.yaml:4:13: services.web.ports[0]: must be a port mapping like "8080:80" or a mapping with "target"',
  ]);
  t.same(check('services:\n  web:\n    image: a\n    ports: [{ published: 80 }]\n').problems, [
    'compose.yaml:4:13: services.web.ports[0]: is missing the required key "target"',
  ]);
  t.same(check('services:\n  web:\n    image: 5\n').problems, ['compose.yaml:3:12: services.web.image: must be a string, but is 5']);
  t.same(check('services:\n  web:\n    image: a\n    healthcheck: { retries: x }\n').problems, [
    'compose.yaml:4:29: services.web.healthcheck.retries: must be a whole number, but is "x"',
  ]);
  t.same(check('services:\n  web:\n    image: a\n    depends_on: { db: { condition: service_ready } }\n').problems, [
    'compose.yaml:4:36: services.web.depends_on.db.condition: must be one of service_started, service_healthy, service_completed_successfully, but is "service_ready"',
  ]);
  t.same(check('services:\n  web:\n    image: a\n    restart: sometimes\n').problems, [
    'compose.yaml:4:14: services.web.restart: must be one of "no", always, on-failure[:N], unless-stopped, but is "sometimes"',
  ]);
  t.same(check('services:\n  web:\n    image: a\n    environment: 5\n').problems, [
    'compose.yaml:4:18: services.web.environment: must be a mapping of KEY: value or a list of "KEY=value" strings',
  ]);
  t.same(check('services:\n  web:\n    image: a\n    volumes: [{ type: bind, source: ., target: /x, bind: { propagaton: rprivate } }]\n').problems, [
    'compose.yaml:4:60: services.web.volumes[0].bind: unknown key "propagaton" (did you mean "propagation"?)',
  ]);
  t.same(check('services:\n  - web\n').problems, ['compose.yaml:2:3: services: must be a mapping of service names to their settings']);
});

t.test('every problem at once, in a stable order', async (t) => {
  const yaml = 'services:\n  web:\n    image: 1\n    enviroment: {}\n    ports: {}\n  db:\n    restart: 5\nnetworks: []\n';
  const a = check(yaml).problems;
  t.same([...a].sort(), [
    'compose.yaml:3:12: services.web.image: must be a string, but is 1',
    'compose.yaml:4:5: services.web: unknown key "enviroment" (did you mean "environment"?)',
    'compose.yaml:5:12: services.web.ports: must be a list of port mappings like "8080:80"',
    'compose.yaml:7:14: services.db.restart: must be one of "no", always, on-failure[:N], unless-stopped, but is 5',
    'compose.yaml:8:11: networks: must be a mapping of network names to their settings',
  ].sort());
  t.same(check(yaml).problems, a, 'same input, same report');
});

t.test('the obsolete version key is a warning, not an error', async (t) => {
  const r = check('version: "3.8"\nservices:\n  web:\n    image: a\n');
  t.same(r.problems, []);
  t.same(r.warnings, ['compose.yaml:1:1: version: the "version" key is obsolete and ignored: you can remove it']);
});
