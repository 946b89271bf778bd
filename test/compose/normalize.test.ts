import t from 'tap';
import { formatProblem } from '../../src/common/errors.js';
import { normalizeProject, type NormalizeOptions } from '../../src/compose/normalize.js';
import { locate } from '../../src/compose/positions.js';
import { positionedYaml } from './support/positioned-yaml.js';

const DIR = '/home/ann/shop';

function normalize(yaml: string, options: Partial<NormalizeOptions> & { files?: Record<string, string> } = {}) {
  const { files = {}, ...rest } = options;
  const doc = positionedYaml(yaml);
  const result = normalizeProject(doc, {
    projectDirectory: DIR,
    env: { HOME: '/home/ann' },
    composeFiles: [`${DIR}/compose.yaml`],
    profiles: [],
    readFile: (p) => files[p],
    ...rest,
  });
  return { ...result, messages: result.problems.map(formatProblem), doc };
}

/** The collections every normalized service has, for exact comparisons. */
const EMPTY = {
  environment: {},
  ports: [],
  expose: [],
  volumes: [],
  networks: { default: null },
  depends_on: {},
  profiles: [],
  labels: {},
  secrets: [],
  configs: [],
  extra_hosts: {},
  cap_add: [],
  cap_drop: [],
};

t.test('a minimal file: name from the directory, the implicit default network', async (t) => {
  const r = normalize('services:\n  web:\n    image: nginx:1.27\n');
  t.strictSame(r.problems, []);
  t.strictSame(r.project, {
    name: 'shop',
    workingDir: DIR,
    composeFiles: [`${DIR}/compose.yaml`],
    services: { web: { name: 'web', ...EMPTY, image: 'nginx:1.27' } },
    disabledServices: {},
    networks: { default: { name: 'shop_default' } },
    volumes: {},
    secrets: {},
    configs: {},
    extensions: {},
  });
});

t.test('ports: every short form to long syntax, ranges expanded', async (t) => {
  const r = normalize(`
services:
  web:
    image: nginx
    ports:
      - "3000"
      - "3000-3002"
      - "8000:8000"
      - "9090-9091:8080-8081"
      - "127.0.0.1:8001:8001"
      - "127.0.0.1::80"
      - "6060:6060/udp"
      - "[::1]:6001:6001"
      - 5432
      - target: 443
        published: 8443
`);
  t.strictSame(r.messages, []);
  const ports = r.project.services.web!.ports;
  t.strictSame(ports, [
    { target: 3000, protocol: 'tcp', mode: 'ingress' },
    { target: 3000, protocol: 'tcp', mode: 'ingress' },
    { target: 3001, protocol: 'tcp', mode: 'ingress' },
    { target: 3002, protocol: 'tcp', mode: 'ingress' },
    { target: 8000, protocol: 'tcp', mode: 'ingress', published: '8000' },
    { target: 8080, protocol: 'tcp', mode: 'ingress', published: '9090' },
    { target: 8081, protocol: 'tcp', mode: 'ingress', published: '9091' },
    { target: 8001, protocol: 'tcp', mode: 'ingress', host_ip: '127.0.0.1', published: '8001' },
    { target: 80, protocol: 'tcp', mode: 'ingress', host_ip: '127.0.0.1' },
    { target: 6060, protocol: 'udp', mode: 'ingress', published: '6060' },
    { target: 6001, protocol: 'tcp', mode: 'ingress', host_ip: '::1', published: '6001' },
    { target: 5432, protocol: 'tcp', mode: 'ingress' },
    { target: 443, protocol: 'tcp', mode: 'ingress', published: '8443' },
  ]);
  // Each expanded port still points at the line of the range it came from.
  t.strictSame(locate(r.project, ['services', 'web', 'ports', 3]), { file: 'compose.yaml', line: 7, col: 9 });
  t.strictSame(locate(r.project, ['services', 'web', 'ports', 12]), { file: 'compose.yaml', line: 15, col: 9 });
});

t.test('malformed ports are problems at their position, and the others are kept', async (t) => {
  const r = normalize(`services:
  web:
    image: nginx
    ports:
      - "8080:80"
      - "80:80:80:80"
      - 9090-9092:8080-8081
      - target: 80
        protocol: http
`);
  t.strictSame(r.messages, [
    'compose.yaml:6:9: services.web.ports[1]: "80:80:80:80" is not a valid port mapping: use "HOST:CONTAINER" like "8080:80"',
    'compose.yaml:7:9: services.web.ports[2]: "9090-9092:8080-8081" maps 3 host ports to 2 container ports: the two ranges must be the same length',
    'compose.yaml:8:9: services.web.ports[3]: unknown protocol "http": use tcp, udp or sctp',
  ]);
  t.strictSame(r.project.services.web!.ports, [{ target: 80, protocol: 'tcp', mode: 'ingress', published: '8080' }]);
});

t.test('volumes: short syntax, paths resolved, named volumes declared', async (t) => {
  const r = normalize(`services:
  db:
    image: mysql
    volumes:
      - /data
      - ./cache:/tmp/cache
      - ~/x:/y:ro
      - name:/var/lib/mysql:rw
      - .:/app:cached
      - type: bind
        source: ../shared
        target: /shared
volumes:
  name:
`);
  t.strictSame(r.messages, []);
  t.strictSame(r.project.services.db!.volumes, [
    { type: 'volume', target: '/data' },
    { type: 'bind', source: '/home/ann/shop/cache', target: '/tmp/cache', bind: { create_host_path: true } },
    { type: 'bind', source: '/home/ann/x', target: '/y', bind: { create_host_path: true }, read_only: true },
    { type: 'volume', source: 'name', target: '/var/lib/mysql', volume: {} },
    { type: 'bind', source: '/home/ann/shop', target: '/app', bind: { create_host_path: true }, consistency: 'cached' },
    { type: 'bind', source: '/home/ann/shared', target: '/shared' },
  ]);
  t.strictSame(r.project.volumes, { name: { name: 'shop_name' } });
});

t.test('an undeclared named volume and a malformed volume are problems', async (t) => {
  const r = normalize(`services:
  db:
    image: postgres
    volumes:
      - dbdata:/var/lib/postgresql/data
      - type: volume
        source: logs
        target: /logs
      - ./a:/b:c:d
`);
  t.strictSame(r.messages, [
    'compose.yaml:5:9: services.db.volumes[0]: named volume "dbdata" is not declared: add it under the top-level "volumes" key',
    'compose.yaml:6:9: services.db.volumes[1]: named volume "logs" is not declared: add it under the top-level "volumes" key',
    'compose.yaml:9:9: services.db.volumes[2]: "./a:/b:c:d" is not a valid volume: use "SOURCE:TARGET[:MODE]" like "./data:/data:ro"',
  ]);
});

t.test('environment: list and map, bare keys from the environment, scalars as strings', async (t) => {
  const r = normalize(
    `services:
  api:
    image: api
    environment:
      - PORT=8080
      - EMPTY=
      - FROM_SHELL
      - NOT_SET
      - EQUALS=a=b
  worker:
    image: api
    environment:
      DEBUG: true
      WORKERS: 4
      TOKEN:
      NAME: worker
`,
    { env: { HOME: '/home/ann', FROM_SHELL: 'yes', TOKEN: 's3cret' } },
  );
  t.strictSame(r.messages, []);
  t.strictSame(r.project.services.api!.environment, { PORT: '8080', EMPTY: '', FROM_SHELL: 'yes', NOT_SET: null, EQUALS: 'a=b' });
  t.strictSame(r.project.services.worker!.environment, { DEBUG: 'true', WORKERS: '4', TOKEN: 's3cret', NAME: 'worker' });
  t.strictSame(locate(r.project, ['services', 'api', 'environment', 'FROM_SHELL']), { file: 'compose.yaml', line: 7, col: 9 });
});

t.test('env_file: read in order, optional ones may be missing, environment wins', async (t) => {
  const files = {
    [`${DIR}/.env.common`]: 'LEVEL=info\nREGION=eu\n',
    [`${DIR}/config/app.env`]: 'LEVEL=debug\nNAME=from-file\n',
  };
  const r = normalize(
    `services:
  api:
    image: api
    env_file:
      - .env.common
      - path: ./config/app.env
      - path: ./local.env
        required: false
    environment:
      NAME: api
  cron:
    image: api
    env_file: .env.missing
`,
    { files },
  );
  t.strictSame(r.messages, [`compose.yaml:13:15: services.cron.env_file: env file .env.missing not found: create it or mark it "required: false"`]);
  t.strictSame(r.project.services.api!.environment, { LEVEL: 'debug', REGION: 'eu', NAME: 'api' });
  t.strictSame(r.project.services.api!.env_file, [
    { path: `${DIR}/.env.common`, required: true },
    { path: `${DIR}/config/app.env`, required: true },
    { path: `${DIR}/local.env`, required: false },
  ]);
});

t.test('depends_on: list to map with defaults, long form filled in', async (t) => {
  const r = normalize(`services:
  web:
    image: web
    depends_on: [db, cache]
  worker:
    image: web
    depends_on:
      db:
        condition: service_healthy
        restart: true
      cache:
        condition: service_started
        required: false
  db:
    image: postgres
  cache:
    image: redis
`);
  t.strictSame(r.messages, []);
  t.strictSame(r.project.services.web!.depends_on, {
    db: { condition: 'service_started', required: true, restart: false },
    cache: { condition: 'service_started', required: true, restart: false },
  });
  t.strictSame(r.project.services.worker!.depends_on, {
    db: { condition: 'service_healthy', required: true, restart: true },
    cache: { condition: 'service_started', required: false, restart: false },
  });
});

t.test('healthcheck: durations in milliseconds, string tests, disable', async (t) => {
  const r = normalize(`services:
  db:
    image: postgres
    healthcheck:
      test: pg_isready -U app
      interval: 1m30s
      timeout: 500ms
      start_period: 1h2m
      start_interval: 10s
      retries: 5
  cache:
    image: redis
    healthcheck:
      disable: true
  web:
    image: web
    healthcheck:
      test: ["CMD", "curl", "-f", "http://localhost"]
      interval: soon
    stop_grace_period: 1m
`);
  t.strictSame(r.messages, [
    'compose.yaml:19:17: services.web.healthcheck.interval: "soon" is not a valid duration: use a number with a unit, like "10s", "1m30s" or "500ms"',
  ]);
  t.strictSame(r.project.services.db!.healthcheck, {
    test: ['CMD-SHELL', 'pg_isready -U app'],
    interval: 90_000,
    timeout: 500,
    start_period: 3_720_000,
    start_interval: 10_000,
    retries: 5,
  });
  t.strictSame(r.project.services.cache!.healthcheck, { test: ['NONE'] });
  t.strictSame(r.project.services.web!.healthcheck, { test: ['CMD', 'curl', '-f', 'http://localhost'] });
  t.equal(r.project.services.web!.stop_grace_period, 60_000);
});

t.test('sizes to bytes and cpus to numbers, in the service and under deploy', async (t) => {
  const r = normalize(`services:
  db:
    image: postgres
    mem_limit: 512m
    memswap_limit: -1
    shm_size: 1.5GB
    cpus: "0.5"
    deploy:
      resources:
        limits:
          cpus: "2"
          memory: 1g
        reservations:
          memory: 268435456
      restart_policy:
        delay: 5s
  bad:
    image: x
    mem_limit: 12 parsecs
`);
  t.strictSame(r.messages, [
    'compose.yaml:19:16: services.bad.mem_limit: "12 parsecs" is not a valid size: use a number of bytes or a number with a unit b, k, m or g, like "512m" or "1.5g"',
  ]);
  const db = r.project.services.db!;
  t.equal(db.mem_limit, 536_870_912);
  t.equal(db.memswap_limit, -1);
  t.equal(db.shm_size, 1_610_612_736);
  t.equal(db.cpus, 0.5);
  t.strictSame(db.deploy, {
    resources: { limits: { cpus: 2, memory: 1_073_741_824 }, reservations: { memory: 268_435_456 } },
    restart_policy: { delay: 5000 },
  });
});

t.test('build: string and mapping forms, contexts made absolute, remote contexts kept', async (t) => {
  const r = normalize(
    `services:
  a:
    build: ./app
  b:
    build:
      context: ../other
      dockerfile: docker/Dockerfile.dev
      args:
        - VERSION=1.2
        - TOKEN
      shm_size: 256m
  c:
    build:
      context: https://github.com/example/app.git#main
  d:
    build:
      dockerfile_inline: FROM alpine
`,
    { env: { HOME: '/home/ann', TOKEN: 't0k' } },
  );
  t.strictSame(r.messages, []);
  t.strictSame(r.project.services.a!.build, { context: `${DIR}/app`, dockerfile: 'Dockerfile' });
  t.strictSame(r.project.services.b!.build, {
    context: '/home/ann/other',
    dockerfile: 'docker/Dockerfile.dev',
    args: { VERSION: '1.2', TOKEN: 't0k' },
    shm_size: 268_435_456,
  });
  t.strictSame(r.project.services.c!.build, { context: 'https://github.com/example/app.git#main', dockerfile: 'Dockerfile' });
  t.strictSame(r.project.services.d!.build, { context: DIR, dockerfile_inline: 'FROM alpine' });
});

t.test('labels, extra_hosts and sysctls lists to maps', async (t) => {
  const r = normalize(`services:
  web:
    image: web
    labels:
      - traefik.enable=true
      - com.example.flag
    extra_hosts:
      - "somehost=162.242.195.82"
      - "otherhost:50.31.209.229"
      - "myhostv6=[::1]"
      - "myhostv6:::2"
      - "broken"
    sysctls:
      - net.core.somaxconn=1024
  api:
    image: api
    labels:
      version: 2
    extra_hosts:
      db: 10.0.0.5
    sysctls:
      net.ipv4.tcp_syncookies: 0
`);
  t.strictSame(r.messages, ['compose.yaml:12:9: services.web.extra_hosts[4]: "broken" is not a valid extra host: use "HOST=IP" like "db=10.0.0.5"']);
  const web = r.project.services.web!;
  t.strictSame(web.labels, { 'traefik.enable': 'true', 'com.example.flag': '' });
  t.strictSame(web.extra_hosts, { somehost: ['162.242.195.82'], otherhost: ['50.31.209.229'], myhostv6: ['::1', '::2'] });
  t.strictSame(web.sysctls, { 'net.core.somaxconn': '1024' });
  const api = r.project.services.api!;
  t.strictSame([api.labels, api.extra_hosts, api.sysctls], [{ version: '2' }, { db: ['10.0.0.5'] }, { 'net.ipv4.tcp_syncookies': '0' }]);
});

t.test('networks: list to map, undeclared ones are problems, network_mode leaves none', async (t) => {
  const r = normalize(`services:
  proxy:
    image: caddy
    networks: [front, back]
  api:
    image: api
    networks:
      back:
        aliases: [api.internal]
        ipv4_address: 172.20.0.10
      default:
  host:
    image: x
    network_mode: host
  lost:
    image: x
    networks:
      - nowhere
networks:
  front:
  back:
    internal: true
`);
  t.strictSame(r.messages, ['compose.yaml:18:9: services.lost.networks[0]: network "nowhere" is not declared: add it under the top-level "networks" key']);
  t.strictSame(r.project.services.proxy!.networks, { front: null, back: null });
  t.strictSame(r.project.services.api!.networks, { back: { aliases: ['api.internal'], ipv4_address: '172.20.0.10' }, default: null });
  t.strictSame(r.project.services.host!.networks, {});
  t.strictSame(r.project.networks, {
    front: { name: 'shop_front' },
    back: { name: 'shop_back', internal: true },
    default: { name: 'shop_default' },
  });
});

t.test('secrets and configs: short to long, undeclared ones are problems, files absolute', async (t) => {
  const r = normalize(`services:
  api:
    image: api
    secrets:
      - db_password
      - source: api_key
        target: /run/keys/api
        mode: "0440"
    configs:
      - nginx_conf
      - missing_conf
secrets:
  db_password:
    file: ./secrets/db.txt
  shared_key:
    external: true
configs:
  nginx_conf:
    content: "worker_processes 1;"
`);
  t.strictSame(r.messages, [
    'compose.yaml:6:9: services.api.secrets[1]: secret "api_key" is not declared: add it under the top-level "secrets" key',
    'compose.yaml:11:9: services.api.configs[1]: config "missing_conf" is not declared: add it under the top-level "configs" key',
  ]);
  t.strictSame(r.project.services.api!.secrets, [{ source: 'db_password' }, { source: 'api_key', target: '/run/keys/api', mode: 0o440 }]);
  t.strictSame(r.project.secrets, {
    db_password: { name: 'shop_db_password', file: `${DIR}/secrets/db.txt` },
    shared_key: { name: 'shared_key', external: true },
  });
  t.strictSame(r.project.configs, { nginx_conf: { name: 'shop_nginx_conf', content: 'worker_processes 1;' } });
});

t.test('project name precedence: -p, then name, then COMPOSE_PROJECT_NAME, then the directory', async (t) => {
  const withName = 'name: from-file\nservices:\n  web:\n    image: nginx\n';
  const without = 'services:\n  web:\n    image: nginx\n';
  const env = { COMPOSE_PROJECT_NAME: 'from-env' };
  t.equal(normalize(withName, { projectName: 'from-flag', env }).project.name, 'from-flag');
  t.equal(normalize(withName, { env }).project.name, 'from-file');
  t.equal(normalize(without, { env }).project.name, 'from-env');
  t.equal(normalize(without, { projectDirectory: '/srv/My Shop.v2' }).project.name, 'myshopv2');
  t.equal(normalize(without, { projectDirectory: '/srv/_Tmp' }).project.name, 'tmp');
  t.equal(normalize(without).project.networks.default!.name, 'shop_default');
});

t.test('an explicit invalid project name is a problem saying what is allowed', async (t) => {
  t.strictSame(normalize('name: My App\nservices: {}\n').messages, [
    'compose.yaml:1:7: name: project name "My App" is not valid: use only lowercase letters, digits, dashes and underscores, starting with a letter or digit',
  ]);
  t.strictSame(normalize('services: {}\n', { projectName: '-x' }).messages, [
    'compose.yaml:1:1: project name "-x" (from -p) is not valid: use only lowercase letters, digits, dashes and underscores, starting with a letter or digit',
  ]);
  t.strictSame(normalize('services: {}\n', { env: { COMPOSE_PROJECT_NAME: 'Shop' } }).messages, [
    'compose.yaml:1:1: project name "Shop" (from COMPOSE_PROJECT_NAME) is not valid: use only lowercase letters, digits, dashes and underscores, starting with a letter or digit',
  ]);
  t.strictSame(normalize('services: {}\n', { projectDirectory: '/' }).messages, [
    'compose.yaml:1:1: cannot make a project name from the directory "/": set "name" at the top of the stack file or pass -p',
  ]);
});

t.test('container_name cannot go with several replicas; scale is deploy.replicas', async (t) => {
  const r = normalize(`services:
  web:
    image: nginx
    container_name: web
    deploy:
      replicas: 3
  worker:
    image: w
    scale: 2
  odd:
    image: w
    scale: 2
    deploy:
      replicas: 4
`);
  t.strictSame(r.messages, [
    'compose.yaml:4:21: services.web.container_name: container_name "web" cannot be used with 3 replicas: container names must be unique, so remove container_name or run one replica',
    'compose.yaml:12:12: services.odd.scale: scale 2 and deploy.replicas 4 disagree: set only one of them',
  ]);
  t.strictSame(r.project.services.worker!.deploy, { replicas: 2 });
});

const PROFILES = `services:
  api:
    image: api
    depends_on: [db]
  db:
    image: postgres
  runner:
    image: api
    profiles: [test]
    depends_on:
      api:
        condition: service_started
  debug:
    image: busybox
    profiles: [debug, tools]
  admin:
    image: adminer
    depends_on:
      debug:
        condition: service_started
      runner:
        condition: service_started
        required: false
`;

t.test('profiles: services whose profile is off are set aside, dependencies on them are problems', async (t) => {
  const r = normalize(PROFILES);
  t.strictSame(Object.keys(r.project.services), ['api', 'db', 'admin']);
  t.strictSame(Object.keys(r.project.disabledServices), ['runner', 'debug']);
  t.strictSame(r.messages, [
    'compose.yaml:19:7: services.admin.depends_on.debug: service "admin" depends on "debug", which is disabled by its profiles: enable it with one of --profile debug, --profile tools',
  ]);
  // An optional dependency on a disabled service is dropped instead.
  t.strictSame(Object.keys(r.project.services.admin!.depends_on), []);
  t.strictSame(r.project.disabledServices.runner!.profiles, ['test']);

  const test = normalize(PROFILES, { profiles: ['test', 'tools'] });
  t.strictSame(test.messages, []);
  t.strictSame(Object.keys(test.project.services), ['api', 'db', 'runner', 'debug', 'admin']);
  t.strictSame(Object.keys(test.project.services.admin!.depends_on), ['debug', 'runner']);

  const all = normalize(PROFILES, { profiles: ['*'] });
  t.strictSame(Object.keys(all.project.disabledServices), []);
});

t.test('a single profile is named in the hint', async (t) => {
  const r = normalize(`services:
  web:
    image: w
    depends_on: [mail]
  mail:
    image: mailpit
    profiles: [dev]
`);
  t.strictSame(r.messages, [
    'compose.yaml:4:18: services.web.depends_on[0]: service "web" depends on "mail", which is disabled by its profiles: enable it with --profile dev',
  ]);
});

t.test('commands, top-level resources, extensions and positions', async (t) => {
  const r = normalize(`name: shop
x-common: &common
  restart: unless-stopped
services:
  redis:
    image: redis:7
    command: redis-server --appendonly yes --requirepass "a b"
    entrypoint: null
    tmpfs: /run
    ulimits:
      nofile: { soft: 1024, hard: 2048 }
      nproc: 512
    x-note: keep me
    restart: always
    logging:
      driver: json-file
      options:
        max-size: 10m
        max-file: 3
volumes:
  data:
    external: true
  named:
    name: explicit-name
networks:
  legacy:
    external:
      name: outside
`);
  t.strictSame(r.messages, []);
  const redis = r.project.services.redis!;
  t.strictSame(redis.command, ['redis-server', '--appendonly', 'yes', '--requirepass', 'a b']);
  t.equal(redis.entrypoint, null);
  t.strictSame(redis.tmpfs, ['/run']);
  t.strictSame(redis.ulimits, { nofile: { soft: 1024, hard: 2048 }, nproc: { soft: 512, hard: 512 } });
  t.strictSame(redis.logging, { driver: 'json-file', options: { 'max-size': '10m', 'max-file': '3' } });
  t.strictSame(redis.extensions, { 'x-note': 'keep me' });
  t.equal(redis.restart, 'always');
  t.strictSame(r.project.extensions, { 'x-common': { restart: 'unless-stopped' } });
  t.strictSame(r.project.volumes, { data: { name: 'data', external: true }, named: { name: 'explicit-name' } });
  t.strictSame(r.project.networks.legacy, { name: 'outside', external: true });
  // Later stages locate problems in the Project itself.
  t.strictSame(locate(r.project, ['services', 'redis', 'command']), { file: 'compose.yaml', line: 7, col: 14 });
  t.strictSame(locate(r.project, ['volumes', 'named', 'name']), { file: 'compose.yaml', line: 24, col: 11 });
});

t.test('a service with neither image nor build, and a bad command', async (t) => {
  const r = normalize(`services:
  ghost:
    command: echo "unfinished
`);
  t.strictSame(r.messages, [
    'compose.yaml:2:3: services.ghost: service "ghost" has neither "image" nor "build": set one of them',
    'compose.yaml:3:14: services.ghost.command: "echo "unfinished" has an unterminated double quote: close it or write the command as a list',
  ]);
});

t.test('develop.watch paths are absolute; expose and devices are checked', async (t) => {
  const r = normalize(`services:
  web:
    image: node
    expose: [3000, "9000-9001", "53/udp", "http"]
    devices:
      - /dev/ttyUSB0
      - /dev/sda:/dev/xvda:r
    develop:
      watch:
        - path: ./src
          action: sync
          target: /app/src
          ignore: [node_modules/]
        - path: package.json
          action: rebuild
`);
  t.strictSame(r.messages, [
    'compose.yaml:4:43: services.web.expose[3]: "http" is not a valid exposed port: use a port, a range or PORT/PROTOCOL, like "3000", "3000-3005" or "53/udp"',
  ]);
  const web = r.project.services.web!;
  t.strictSame(web.expose, ['3000', '9000-9001', '53/udp']);
  t.strictSame(web.devices, [
    { source: '/dev/ttyUSB0', target: '/dev/ttyUSB0', permissions: 'rwm' },
    { source: '/dev/sda', target: '/dev/xvda', permissions: 'r' },
  ]);
  t.strictSame(web.develop, {
    watch: [
      { path: `${DIR}/src`, action: 'sync', target: '/app/src', ignore: ['node_modules/'] },
      { path: `${DIR}/package.json`, action: 'rebuild' },
    ],
  });
});

t.test('develop.watch: a sync rule needs a target, a sync+exec rule a command; said at the rule', async (t) => {
  const r = normalize(`services:
  web:
    image: node
    develop:
      watch:
        - path: ./src
          action: sync
        - path: ./hooks
          action: sync+exec
          target: /hooks
        - path: ./Dockerfile
          action: rebuild
        - path: ./conf
          action: sync+restart
          target: /etc/app
`);
  t.strictSame(r.messages, [
    'compose.yaml:7:19: services.web.develop.watch[0].action: action sync needs a "target": set the container path the files of ./src are copied to, e.g. target: /app',
    'compose.yaml:8:11: services.web.develop.watch[1]: a watch rule with action sync+exec needs "exec.command": the command to run in the container after each sync',
  ]);
});

t.test('label_file, empty keys, network_mode with networks, build secrets, conditions', async (t) => {
  const r = normalize(
    `services:
  app:
    build:
      context: .
      secrets: [npm_token]
    label_file: ./labels.env
    labels:
      team: web
    environment:
    network_mode: host
    networks: [default]
    depends_on:
      db:
        condition: service_ready
  db:
    image: postgres
    label_file:
      - path: ./missing.labels
`,
    { files: { [`${DIR}/labels.env`]: 'team=platform\ntier=frontend\n' } },
  );
  t.strictSame(r.messages, [
    'compose.yaml:5:17: services.app.build.secrets[0]: secret "npm_token" is not declared: add it under the top-level "secrets" key',
    'compose.yaml:11:15: services.app.networks: "networks" cannot be used together with network_mode "host": remove one of them',
    'compose.yaml:14:20: services.app.depends_on.db.condition: unknown condition "service_ready": use service_started, service_healthy or service_completed_successfully',
    `compose.yaml:18:9: services.db.label_file[0]: label file missing.labels not found: create it or mark it "required: false"`,
  ]);
  const app = r.project.services.app!;
  t.strictSame(app.labels, { team: 'web', tier: 'frontend' });
  t.strictSame(app.label_file, [`${DIR}/labels.env`]);
  t.strictSame(app.environment, {});
});
