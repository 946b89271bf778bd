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
  t.same(a, [
    'compose.yaml:3:12: services.web.image: must be a string, but is 1',
    'compose.yaml:4:5: services.web: unknown key "enviroment" (did you mean "environment"?)',
    'compose.yaml:5:12: services.web.ports: must be a list of port mappings like "8080:80"',
    'compose.yaml:7:14: services.db.restart: must be one of "no", always, on-failure[:N], unless-stopped, but is 5',
    'compose.yaml:8:11: networks: must be a mapping of network names to their settings',
  ], 'in the order of the file');
  t.same(check(yaml).problems, a, 'same input, same report');
});

t.test('the obsolete version key is a warning, not an error', async (t) => {
  const r = check('version: "3.8"\nservices:\n  web:\n    image: a\n');
  t.same(r.problems, []);
  t.same(r.warnings, ['compose.yaml:1:1: version: the "version" key is obsolete and ignored: you can remove it']);
  t.same(check('version: 3.8\nservices: {}\n').problems, [], 'an unquoted version number is accepted too');
});

t.test('the rest of the service keys, long and short forms', async (t) => {
  const service = (body: string) => check(`services:\n  web:\n    image: a\n${body.split('\n').map((l) => `    ${l}`).join('\n')}\n`).problems;
  t.same(service('build: .'), [], 'build as a path');
  t.same(service('build: { context: ., dockerfile_inline: "FROM x", args: { A: 1, B: null }, cache_from: [a], cache_to: [b], no_cache: true, pull: true, network: host, shm_size: 2g, extra_hosts: { h: 1.2.3.4 }, platforms: [linux/amd64], secrets: [s], ssh: [default], tags: [t], additional_contexts: { a: . } }'), [], 'build in full');
  t.same(service('command: null\nentrypoint: [sh, -c]'), [], 'command null, entrypoint list');
  t.same(service('environment: { A: 1, B: true, C: null, D: s }'), [], 'environment values of every scalar kind');
  t.same(service('ports: ["127.0.0.1:8080:80/udp", "3000-3005", { name: web, target: 80, published: 8080, host_ip: 0.0.0.0, app_protocol: http, mode: host }]'), [], 'ports in every form');
  t.same(service('volumes: [{ type: volume, source: a, target: /b, volume: { nocopy: true, subpath: x } }, { type: tmpfs, target: /t, tmpfs: { size: 10m, mode: 1777 } }]'), [], 'volume and tmpfs mounts');
  t.same(service('networks: [front, back]\ndepends_on: [db]\nlabels: [a=b]\nextra_hosts: { h: 1.2.3.4 }'), [], 'list forms');
  t.same(service('deploy: { mode: replicated, resources: { reservations: { devices: [{ driver: nvidia, count: all, capabilities: [gpu] }] } }, restart_policy: { condition: on-failure, max_attempts: 3 }, placement: { constraints: [a==b] }, update_config: { parallelism: 1, order: start-first }, endpoint_mode: vip }'), [], 'deploy in full');
  t.same(service('configs: [c, { source: c, target: /c, uid: "1", gid: "1", mode: 0440 }]\nmem_limit: 512m\ncpus: "0.5"\ncpu_shares: 512\npids_limit: 100\nsysctls: { net.core.somaxconn: 1024 }\ndevices: [/dev/a:/dev/a]\npost_start: [{ command: [a], user: root }]\ngpus: all\nuse_api_socket: true\nblkio_config: { weight: 300 }'), [], 'configs and runtime limits');
  t.same(service('develop: { watch: [{ path: ., action: sync+exec, target: /a, initial_sync: true, exec: { command: [a] } }] }'), [], 'watch with exec');
  t.same(check('include: [a.yaml, { path: [b.yaml, c.yaml], env_file: .env, project_directory: . }]\nservices: {}\n').problems, [], 'include in both forms');
});

t.test('more wrong shapes', async (t) => {
  t.same(check('services:\n  web:\n    image: a\n    develop: { watch: [{ path: ., action: synk }] }\n').problems, [
    'compose.yaml:4:43: services.web.develop.watch[0].action: must be one of sync, rebuild, sync+restart, restart, sync+exec, but is "synk"',
  ]);
  t.same(check('services:\n  web:\n    image: a\n    ulimits: { nofile: { soft: 1 } }\n').problems, [
    'compose.yaml:4:24: services.web.ulimits.nofile: is missing the required key "hard"',
  ]);
  t.same(check('include: [{ paht: a.yaml }]\n').problems, [
    'compose.yaml:1:13: include[0]: unknown key "paht" (did you mean "path"?)',
  ], 'a misspelled required key is one problem, not two');
  t.same(check('services:\n  web:\n    image: a\n    environment: { A: [1] }\n').problems, [
    'compose.yaml:4:23: services.web.environment.A: must be a string, a number, true or false or empty',
  ]);
});

t.test('documents built in code, without positions', async (t) => {
  const r = validateStackDocument({ services: { web: { image: 'a', 'x-note': 1, enviroment: {} } }, 'x-top': 1 });
  t.same(r.problems, [{ path: 'services.web', message: 'unknown key "enviroment"', hint: 'did you mean "environment"?' }]);
  t.same(r.warnings, []);
});
