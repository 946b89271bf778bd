import t from 'tap';
import { stringify } from 'yaml';
import { toCanonicalDocument } from '../../src/compose/canonical.js';
import { normalizeProject } from '../../src/compose/normalize.js';
import { positionedYaml } from './support/positioned-yaml.js';

function canonicalYaml(yaml: string, profiles: string[] = []): string {
  const { project, problems } = normalizeProject(positionedYaml(yaml), {
    projectDirectory: '/srv/shop',
    env: { HOME: '/root' },
    composeFiles: ['/srv/shop/compose.yaml'],
    profiles,
    readFile: () => undefined,
  });
  if (problems.length > 0) throw new Error(problems.map((p) => p.message).join('\n'));
  return stringify(toCanonicalDocument(project), { lineWidth: 0, aliasDuplicateObjects: false });
}

const INPUT = `x-zeta: last
services:
  web:
    ports:
      - "127.0.0.1:8080:80"
      - 9000-9001:9000-9001/udp
    image: nginx:1.27
    environment:
      - B=2
      - A=1
    healthcheck:
      test: curl -f http://localhost
      interval: 90s
      timeout: 500ms
      start_period: 1h2m
    stop_grace_period: 1m30s
    depends_on: [db]
    volumes:
      - ./html:/usr/share/nginx/html:ro
    extra_hosts:
      - "b.local=10.0.0.2"
      - "a.local=10.0.0.1"
    x-note: hi
  db:
    image: postgres:16
    mem_limit: 512m
    deploy:
      resources:
        limits:
          cpus: "0.5"
      restart_policy:
        delay: 5s
    volumes:
      - pgdata:/var/lib/postgresql/data
    networks: [back]
  tools:
    image: busybox
    profiles: [debug]
volumes:
  pgdata:
networks:
  back:
x-alpha:
  b: 2
  a: 1
name: shop
`;

const EXPECTED = `name: shop
services:
  db:
    deploy:
      resources:
        limits:
          cpus: 0.5
      restart_policy:
        delay: 5s
    image: postgres:16
    mem_limit: 536870912
    networks:
      back: null
    volumes:
      - source: pgdata
        target: /var/lib/postgresql/data
        type: volume
        volume: {}
  web:
    depends_on:
      db:
        condition: service_started
        required: true
        restart: false
    environment:
      A: "1"
      B: "2"
    extra_hosts:
      - a.local=10.0.0.1
      - b.local=10.0.0.2
    healthcheck:
      interval: 1m30s
      start_period: 1h2m0s
      test:
        - CMD-SHELL
        - curl -f http://localhost
      timeout: 500ms
    image: nginx:1.27
    networks:
      default: null
    ports:
      - host_ip: 127.0.0.1
        mode: ingress
        protocol: tcp
        published: "8080"
        target: 80
      - mode: ingress
        protocol: udp
        published: "9000"
        target: 9000
      - mode: ingress
        protocol: udp
        published: "9001"
        target: 9001
    stop_grace_period: 1m30s
    volumes:
      - bind:
          create_host_path: true
        read_only: true
        source: /srv/shop/html
        target: /usr/share/nginx/html
        type: bind
    x-note: hi
networks:
  back:
    name: shop_back
  default:
    name: shop_default
volumes:
  pgdata:
    name: shop_pgdata
x-alpha:
  a: 1
  b: 2
x-zeta: last
`;

t.test('the canonical long form, in a stable key order', async (t) => {
  t.equal(canonicalYaml(INPUT), EXPECTED);
});

t.test('the same project written in another order prints the same bytes', async (t) => {
  const reordered = `name: shop
networks:
  back:
volumes:
  pgdata:
x-alpha:
  a: 1
  b: 2
x-zeta: last
services:
  db:
    networks: [back]
    volumes:
      - pgdata:/var/lib/postgresql/data
    deploy:
      restart_policy:
        delay: 5000ms
      resources:
        limits:
          cpus: 0.5
    mem_limit: 536870912
    image: postgres:16
  web:
    x-note: hi
    extra_hosts:
      a.local: 10.0.0.1
      b.local: 10.0.0.2
    volumes:
      - type: bind
        source: ./html
        target: /usr/share/nginx/html
        read_only: true
        bind:
          create_host_path: true
    depends_on:
      db:
        condition: service_started
    stop_grace_period: 90s
    healthcheck:
      start_period: 62m
      timeout: 0.5s
      interval: 1m30s
      test: ["CMD-SHELL", "curl -f http://localhost"]
    environment:
      A: 1
      B: 2
    ports:
      - target: 80
        host_ip: 127.0.0.1
        published: 8080
      - 9000-9001:9000-9001/udp
    image: nginx:1.27
`;
  t.equal(canonicalYaml(reordered), EXPECTED);
});

t.test('enabled profiles are printed; disabled services are not', async (t) => {
  const out = canonicalYaml(INPUT, ['debug']);
  t.match(out, /\n {2}tools:\n {4}image: busybox\n {4}networks:\n {6}default: null\n {4}profiles:\n {6}- debug\n/);
  t.notMatch(canonicalYaml(INPUT), /tools/);
});

t.test('empty collections are left out, null command and entrypoint kept', async (t) => {
  const doc = toCanonicalDocument({
    name: 'p',
    workingDir: '/p',
    composeFiles: [],
    services: {
      s: {
        name: 's',
        image: 'x',
        entrypoint: null,
        command: [],
        environment: {},
        ports: [],
        expose: [],
        volumes: [],
        networks: {},
        network_mode: 'host',
        depends_on: {},
        profiles: [],
        labels: {},
        secrets: [],
        configs: [],
        extra_hosts: {},
        cap_add: [],
        cap_drop: [],
      },
    },
    disabledServices: {},
    networks: {},
    volumes: {},
    secrets: {},
    configs: {},
    extensions: {},
  });
  t.equal(JSON.stringify(doc), '{"name":"p","services":{"s":{"command":[],"entrypoint":null,"image":"x","network_mode":"host"}}}');
});
