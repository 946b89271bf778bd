// Golden-text tests of `up` and `down` plans: what a fresh project needs, that a converged
// one needs nothing, that a change recreates only its service, scale, orphans, images
// (build vs pull), conflicts found before anything starts, and the container bodies.
import t from 'tap';
import { formatPlan, planDown, planUp } from '../../src/compose/plan.js';
import { containerCreateBody, serviceConfigHash } from '../../src/compose/service-container.js';
import { applied, emptyEngine, loadYaml } from './plan-support.js';

const STACK = `
name: shop
services:
  db:
    image: busybox:test
    command: ["sh", "-c", "sleep 1; touch /tmp/ready; sleep 3600"]
    volumes: ["data:/data"]
    healthcheck:
      test: ["CMD", "test", "-f", "/tmp/ready"]
      interval: 500ms
      retries: 10
  web:
    image: busybox:test
    command: ["httpd", "-f", "-p", "80"]
    depends_on:
      db: { condition: service_healthy }
    ports: ["127.0.0.1:8080:80"]
    environment: { MODE: dev }
  worker:
    image: busybox:test
    depends_on: [db]
    command: ["sleep", "3600"]
volumes:
  data:
`;

t.test('a fresh project: networks and volumes, then containers in dependency order', async (t) => {
  const { project, graph } = loadYaml(STACK);
  const plan = planUp(project, graph, emptyEngine('shop'));
  t.equal(formatPlan(plan), `project shop: 5 operations
  1. create network shop_default (missing)
  2. create volume shop_data (missing)
  3. create container shop-db-1 (new); after 1, 2
  4. create container shop-web-1 (new); after 1, 3; waits for db service_healthy
  5. create container shop-worker-1 (new); after 1, 3; waits for db service_started
`);
  t.same(plan.services, ['db', 'web', 'worker']);
});

t.test('nothing changed: an empty plan', async (t) => {
  const { project, graph } = loadYaml(STACK);
  const state = applied(emptyEngine('shop'), planUp(project, graph, emptyEngine('shop')));
  t.equal(formatPlan(planUp(project, graph, state)), 'project shop: nothing to do\nup to date: shop-db-1, shop-web-1, shop-worker-1\n');
  t.equal(formatPlan(planUp(loadYaml(STACK).project, graph, state)), 'project shop: nothing to do\nup to date: shop-db-1, shop-web-1, shop-worker-1\n', 'the hash is stable across loads');
});

t.test('one service changed: only it is recreated, not its dependents', async (t) => {
  const { project, graph } = loadYaml(STACK);
  const state = applied(emptyEngine('shop'), planUp(project, graph, emptyEngine('shop')));
  const changed = loadYaml(STACK.replace('retries: 10', 'retries: 11'));
  t.equal(formatPlan(planUp(changed.project, changed.graph, state)), `project shop: 1 operation
  1. recreate container shop-db-1 (config changed)
up to date: shop-web-1, shop-worker-1
`);
  const env = loadYaml(STACK.replace('MODE: dev', 'MODE: prod'));
  t.equal(formatPlan(planUp(env.project, env.graph, state)), `project shop: 1 operation
  1. recreate container shop-web-1 (config changed); waits for db service_healthy
up to date: shop-db-1, shop-worker-1
`);
  t.equal(formatPlan(planUp(env.project, env.graph, state, { noRecreate: true })), 'project shop: nothing to do\nup to date: shop-db-1, shop-web-1, shop-worker-1\n', '--no-recreate leaves it');
  t.equal(formatPlan(planUp(project, graph, state, { forceRecreate: true, services: ['worker'], noDeps: true })), `project shop: 1 operation
  1. recreate container shop-worker-1 (--force-recreate)
up to date: 
`.replace('up to date: \n', ''), '--force-recreate with --no-deps touches only the named service');
});

t.test('a stopped container is started; services named on the command line bring their dependencies', async (t) => {
  const { project, graph } = loadYaml(STACK);
  const state = applied(emptyEngine('shop'), planUp(project, graph, emptyEngine('shop')));
  state.containers.find((c) => c.name === 'shop-db-1')!.state = 'exited';
  t.equal(formatPlan(planUp(project, graph, state, { services: ['web'] })), `project shop: 1 operation
  1. start container shop-db-1 (stopped)
up to date: shop-web-1
`);
  t.equal(formatPlan(planUp(project, graph, emptyEngine('shop'), { services: ['web'], noDeps: true })), `project shop: 2 operations
  1. create network shop_default (missing)
  2. create container shop-web-1 (new); after 1
`, '--no-deps: neither db nor the wait for it');
  t.match(planUp(project, graph, state, { services: ['nope'] }).problems, [/no such service: "nope"; the services are db, web, worker/]);
});

t.test('scale up and down', async (t) => {
  const { project, graph } = loadYaml(STACK);
  const state = applied(emptyEngine('shop'), planUp(project, graph, emptyEngine('shop')));
  const up = planUp(project, graph, state, { scale: { worker: 3 } });
  t.equal(formatPlan(up), `project shop: 2 operations
  1. create container shop-worker-2 (scale 1 -> 3); waits for db service_started
  2. create container shop-worker-3 (scale 1 -> 3); waits for db service_started
up to date: shop-db-1, shop-web-1, shop-worker-1
`);
  const three = applied(state, up);
  t.equal(formatPlan(planUp(project, graph, three)), `project shop: 2 operations
  1. remove container shop-worker-2 (scale 3 -> 1)
  2. remove container shop-worker-3 (scale 3 -> 1)
up to date: shop-db-1, shop-web-1, shop-worker-1
`, 'back to deploy.replicas (1)');
  const replicas = loadYaml(STACK.replace('    depends_on: [db]\n', '    depends_on: [db]\n    deploy: { replicas: 2 }\n'));
  t.equal(formatPlan(planUp(replicas.project, replicas.graph, three)), `project shop: 1 operation
  1. remove container shop-worker-3 (scale 3 -> 2)
up to date: shop-db-1, shop-web-1, shop-worker-1, shop-worker-2
`, 'deploy.replicas is the default scale');
  t.match(planUp(project, graph, state, { scale: { web: 2 } }).problems, ['service web: 2 replicas cannot all publish host port 127.0.0.1:8080/tcp: publish a range or no host port']);
});

t.test('orphans are reported, or removed with --remove-orphans', async (t) => {
  const { project, graph } = loadYaml(STACK);
  const state = applied(emptyEngine('shop'), planUp(project, graph, emptyEngine('shop')));
  const smaller = loadYaml(STACK.replace(/  worker:[\s\S]*?sleep", "3600"\]\n/, ''));
  t.equal(formatPlan(planUp(smaller.project, smaller.graph, state)), `project shop: nothing to do
up to date: shop-db-1, shop-web-1
orphan containers (remove them with --remove-orphans): shop-worker-1
`);
  t.equal(formatPlan(planUp(smaller.project, smaller.graph, state, { removeOrphans: true })), `project shop: 1 operation
  1. remove orphan container shop-worker-1 (service worker is not in the project)
up to date: shop-db-1, shop-web-1
`);
});

t.test('images: one another service builds is built once, never pulled, and waited for', async (t) => {
  const { project, graph } = loadYaml(`
name: shared
services:
  web:
    build: ./web
    image: shared/httpd:1
    depends_on: [api]
  api:
    image: shared/httpd:1
`);
  t.equal(formatPlan(planUp(project, graph, emptyEngine('shared'))), `project shared: 4 operations
  1. create network shared_default (missing)
  2. build image shared/httpd:1 (missing)
  3. create container shared-api-1 (new); after 1, 2
  4. create container shared-web-1 (new); after 1, 2, 3; waits for api service_started
`);
  t.equal(formatPlan(planUp(project, graph, emptyEngine('shared'), { services: ['api'], noDeps: true })).includes('build image shared/httpd:1'), true, 'also when only the service without build: is asked for');
});

t.test('images: a missing one is built when the service has build:, pulled otherwise', async (t) => {
  const yaml = `
name: img
services:
  api:
    build: ./api
    image: img/api:dev
  cache:
    image: redis:7
  tool:
    build: { context: ./tool, dockerfile: Tool.dockerfile }
`;
  const { project, graph } = loadYaml(yaml);
  const plan = planUp(project, graph, emptyEngine('img'));
  t.equal(formatPlan(plan), `project img: 7 operations
  1. create network img_default (missing)
  2. build image img/api:dev (missing)
  3. pull image redis:7 (missing)
  4. build image img-tool (missing)
  5. create container img-api-1 (new); after 1, 2
  6. create container img-cache-1 (new); after 1, 3
  7. create container img-tool-1 (new); after 1, 4
`);
  t.same(plan.operations.find((o) => o.kind === 'build-image' && o.target === 'img-tool')?.build, { context: '/p/tool', dockerfile: 'Tool.dockerfile' });
  const state = applied(emptyEngine('img'), plan);
  t.equal(formatPlan(planUp(project, graph, state)), 'project img: nothing to do\nup to date: img-api-1, img-cache-1, img-tool-1\n', 'present images are neither built nor pulled again');
  t.equal(formatPlan(planUp(project, graph, state, { build: true, services: ['api'] })), `project img: 2 operations
  1. build image img/api:dev (--build)
  2. recreate container img-api-1 (image rebuilt); after 1
`, '--build rebuilds and recreates');
  t.equal(formatPlan(planUp(project, graph, state, { pull: 'always', services: ['cache'] })), `project img: 1 operation
  1. pull image redis:7 (pull policy always)
up to date: img-cache-1
`);
  const changedImage = structuredClone(state);
  changedImage.images['redis:7'] = 'sha256:newer';
  t.match(formatPlan(planUp(project, graph, changedImage, { services: ['cache'] })), /recreate container img-cache-1 \(image changed\)/, 'a container on an old image of its tag is recreated');
  t.same(planUp(project, graph, emptyEngine('img'), { pull: 'never', noBuild: true }).problems, [
    'service api: image img/api:dev is missing and --no-build forbids building it',
    'service cache: image redis:7 is missing and the pull policy is never: make it first, or pull with --pull missing',
    'service tool: image img-tool is missing and --no-build forbids building it',
  ]);
  const missing = { ...emptyEngine('img'), missingBuildContexts: ['/p/api'] };
  t.same(planUp(project, graph, missing).problems, ['service api: build context /p/api does not exist: check "build:" in the stack file']);
});

t.test('conflicts are problems of the plan: a host port in use, one port twice, a missing external network', async (t) => {
  const yaml = `
name: clash
services:
  a: { image: busybox:test, ports: ["127.0.0.1:8080:80", "9000:9000/udp"] }
  b: { image: busybox:test, ports: ["127.0.0.1:8080:81"], networks: [outside] }
networks:
  outside: { external: true, name: shared }
`;
  const { project, graph } = loadYaml(yaml);
  const plan = planUp(project, graph, { ...emptyEngine('clash'), hostPortsInUse: ['0.0.0.0:9000/udp'] });
  t.equal(formatPlan(plan), `project clash: 3 operations
  1. create network clash_default (missing)
  2. create container clash-a-1 (new); after 1
  3. create container clash-b-1 (new)
problem: network shared is declared as external but does not exist: create it with "stack network create shared"
problem: service a: host port 0.0.0.0:9000/udp is already in use: free it or publish another port
problem: services a and b both publish host port 127.0.0.1:8080/tcp: change one of them
`);
});

t.test('down: containers stop in reverse dependency order, each removed once stopped, then networks; volumes only with -v', async (t) => {
  const { project, graph } = loadYaml(STACK);
  const state = applied(emptyEngine('shop'), planUp(project, graph, emptyEngine('shop')));
  t.equal(formatPlan(planDown('shop', project, graph, state)), `project shop: 7 operations
  1. stop container shop-worker-1 (down)
  2. remove container shop-worker-1 (down); after 1
  3. stop container shop-web-1 (down)
  4. remove container shop-web-1 (down); after 3
  5. stop container shop-db-1 (down); after 1, 3
  6. remove container shop-db-1 (down); after 5
  7. remove network shop_default (down); after 2, 4, 6
`);
  const v = planDown('shop', project, graph, state, { volumes: true });
  t.equal(formatPlan(v).split('\n').slice(-2).join('\n'), '  8. remove volume shop_data (down -v); after 2, 4, 6\n');
  t.same(planDown('shop', project, graph, applied(state, v)).operations, [], 'nothing left to remove');
});

t.test('the container body: env, labels, ports, volumes, health, limits, aliases, network_mode', async (t) => {
  const yaml = `
name: body
services:
  app:
    image: busybox:test
    entrypoint: ["/bin/sh", "-c"]
    command: ["echo hi"]
    environment: { B: "2", A: "1", GONE: null }
    labels: { team: core }
    ports: ["127.0.0.1:8000-8001:80-81", "53:53/udp"]
    volumes: ["data:/data:ro", "./src:/src", { type: tmpfs, target: /scratch, tmpfs: { size: 1m } }, /anon]
    healthcheck: { test: "true", interval: 2s, timeout: 1s, retries: 3, start_period: 500ms }
    restart: on-failure:2
    init: true
    user: "1000"
    working_dir: /src
    stop_signal: SIGINT
    stop_grace_period: 1500ms
    cap_add: [NET_ADMIN]
    cap_drop: [ALL]
    read_only: true
    extra_hosts: ["db.local:10.0.0.5"]
    deploy: { resources: { limits: { memory: 64m, cpus: "0.5" } } }
    networks:
      front: { aliases: [www] }
  side:
    image: busybox:test
    network_mode: service:app
volumes: { data: {} }
networks: { front: {} }
`;
  const { project } = loadYaml(yaml);
  const body = containerCreateBody(project, project.services.app!, 2);
  t.same(body.Env, ['A=1', 'B=2']);
  t.same(body.Cmd, ['echo hi']);
  t.same(body.Entrypoint, ['/bin/sh', '-c']);
  t.match(body.Labels, {
    team: 'core', 'com.docker.compose.project': 'body', 'com.docker.compose.service': 'app', 'com.docker.compose.container-number': '2',
    'com.docker.compose.oneoff': 'False', 'com.docker.compose.project.working_dir': '/p', 'com.docker.compose.project.config_files': '/p/compose.yaml',
    'com.docker.compose.config-hash': serviceConfigHash(project, project.services.app!),
  });
  t.same(body.HostConfig!.PortBindings, {
    '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '8000' }], '81/tcp': [{ HostIp: '127.0.0.1', HostPort: '8001' }], '53/udp': [{ HostIp: '', HostPort: '53' }],
  }, 'ranges expanded, one binding per port');
  t.same(body.HostConfig!.Binds, ['body_data:/data:ro', '/p/src:/src']);
  t.same(body.HostConfig!.Tmpfs, { '/scratch': 'size=1048576' });
  t.same(body.Volumes, { '/anon': {} });
  t.same(body.Healthcheck, { Test: ['CMD-SHELL', 'true'], Interval: 2e9, Timeout: 1e9, StartPeriod: 5e8, Retries: 3 });
  t.same(body.HostConfig!.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 2 });
  t.match(body, { User: '1000', WorkingDir: '/src', StopSignal: 'SIGINT', StopTimeout: 2 });
  t.match(body.HostConfig, { Init: true, CapAdd: ['NET_ADMIN'], CapDrop: ['ALL'], ReadonlyRootfs: true, ExtraHosts: ['db.local:10.0.0.5'], Memory: 64 * 1024 * 1024, NanoCpus: 5e8, NetworkMode: 'body_front' });
  t.same(body.NetworkingConfig, { EndpointsConfig: { body_front: { Aliases: ['app', 'body-app-2', 'www'] } } });
  t.notOk(body.Hostname, 'no hostname: the engine uses the short ID, as with Compose');
  const side = containerCreateBody(project, project.services.side!, 1);
  t.equal(side.HostConfig!.NetworkMode, 'container:body-app-1');
  t.notOk(side.NetworkingConfig);
  t.equal(serviceConfigHash(project, project.services.app!), serviceConfigHash(loadYaml(yaml).project, loadYaml(yaml).project.services.app!), 'the hash is stable');
});

const LINKED = `
name: ln
services:
  db:
    image: busybox:test
    deploy: { replicas: 2 }
  web:
    image: busybox:test
    links: ["db:database"]
    ports: ["127.0.0.1:8080:80"]
`;

t.test('links: one NAME:ALIAS per container of the linked service; only to containers that will be there; recreated with them', async (t) => {
  const { project, graph } = loadYaml(LINKED);
  const fresh = planUp(project, graph, emptyEngine('ln'));
  t.same(fresh.operations.find((o) => o.target === 'ln-web-1')?.create?.HostConfig?.Links, ['ln-db-1:database', 'ln-db-2:database'], 'links imply the start order and name each replica');
  t.match(formatPlan(fresh), '4. create container ln-web-1 (new); after 1, 2, 3');
  const alone = planUp(project, graph, emptyEngine('ln'), { services: ['web'], noDeps: true });
  t.equal(alone.operations.find((o) => o.target === 'ln-web-1')?.create?.HostConfig?.Links, undefined, 'with --no-deps and no db container, no link is left dangling');
  const external = loadYaml(LINKED.replace('links: ["db:database"]', 'links: ["db:database"]\n    external_links: ["cache", "shared-db:sql"]'));
  t.same(planUp(external.project, external.graph, emptyEngine('ln'), { services: ['web'], noDeps: true }).operations.find((o) => o.target === 'ln-web-1')?.create?.HostConfig?.Links,
    ['cache:cache', 'shared-db:sql'], 'external_links stay: they name containers outside the project');
  const state = applied(emptyEngine('ln'), fresh);
  const changed = loadYaml(LINKED.replace('replicas: 2 }', 'replicas: 2 }\n    environment: { X: "1" }'));
  t.equal(formatPlan(planUp(changed.project, changed.graph, state)), `project ln: 3 operations
  1. recreate container ln-db-1 (config changed)
  2. recreate container ln-db-2 (config changed)
  3. recreate container ln-web-1 (its linked service db was recreated); after 1, 2
`, 'a recreated linked container has a new address: the linking one is recreated to see it');
});

t.test('prepareOnly (the service of run): its network and image, none of its containers or port checks', async (t) => {
  const { project, graph } = loadYaml(LINKED);
  const engine = { ...emptyEngine('ln', {}), hostPortsInUse: ['127.0.0.1:8080/tcp'] };
  t.equal(formatPlan(planUp(project, graph, engine, { services: [], prepareOnly: ['web'] })), `project ln: 2 operations
  1. create network ln_default (missing)
  2. pull image busybox:test (missing)
`);
  t.equal(formatPlan(planUp(project, graph, engine, { services: ['db'], prepareOnly: ['web'] })), `project ln: 4 operations
  1. create network ln_default (missing)
  2. pull image busybox:test (missing)
  3. create container ln-db-1 (new); after 1, 2
  4. create container ln-db-2 (new); after 1, 2
`, 'with its dependencies: theirs too');
});

t.test('down leaves one-offs of run (and their networks) unless --remove-orphans', async (t) => {
  const { project, graph } = loadYaml(LINKED);
  const state = applied(emptyEngine('ln'), planUp(project, graph, emptyEngine('ln')));
  state.networks['ln_default'] = { id: 'n1', name: 'ln_default', labels: { 'com.docker.compose.project': 'ln' } };
  const oneOff = { ...state.containers[0]!, id: 'id-run', name: 'ln-web-run-0123456789ab', service: 'web', number: 0, oneoff: true, state: 'exited' as const, networks: ['ln_default'] };
  state.containers.push(oneOff);
  t.equal(formatPlan(planDown('ln', project, graph, state)), `project ln: 6 operations
  1. stop container ln-web-1 (down)
  2. remove container ln-web-1 (down); after 1
  3. stop container ln-db-1 (down); after 1
  4. remove container ln-db-1 (down); after 3
  5. stop container ln-db-2 (down); after 1
  6. remove container ln-db-2 (down); after 5
one-off containers left with their networks (remove them with --remove-orphans): ln-web-run-0123456789ab
`);
  t.equal(formatPlan(planDown('ln', project, graph, state, { removeOrphans: true })), `project ln: 9 operations
  1. stop container ln-web-run-0123456789ab (down)
  2. remove container ln-web-run-0123456789ab (down); after 1
  3. stop container ln-web-1 (down)
  4. remove container ln-web-1 (down); after 3
  5. stop container ln-db-1 (down); after 1, 3
  6. remove container ln-db-1 (down); after 5
  7. stop container ln-db-2 (down); after 1, 3
  8. remove container ln-db-2 (down); after 7
  9. remove network ln_default (down); after 2, 4, 6, 8
`);
  t.same(planUp(project, graph, state).unchanged, ['ln-db-1', 'ln-db-2', 'ln-web-1'], 'up counts no one-off as a replica');
});
