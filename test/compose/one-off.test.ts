// The service as `run` changes it, and the one-off's create body: pure, from a stack file in memory.
import t from 'tap';
import { oneOffName, oneOffService, serviceToRun, type OneOffChanges } from '../../src/compose/one-off.js';
import { oneOffCreateBody } from '../../src/compose/service-container.js';
import { NotFoundError, UsageError } from '../../src/common/errors.js';
import { loadYaml } from './plan-support.js';

const { project } = loadYaml(`
name: shop
services:
  web:
    image: busybox:test
    command: ["httpd", "-f"]
    entrypoint: ["/init"]
    restart: always
    tty: true
    environment: { MODE: dev, KEEP: "1" }
    ports: ["127.0.0.1:8080:80"]
    volumes: ["data:/data"]
    networks: { default: { aliases: [shop-web] } }
volumes:
  data:
`);
const web = project.services.web!;
const none: OneOffChanges = { command: [], env: [], labels: {}, volumes: [], publish: [], servicePorts: false };

t.test('by default: no ports, no restart policy, no tty; the rest of the service as it is', async (t) => {
  const s = oneOffService(project, web, none, {});
  t.same(s.ports, []);
  t.equal(s.restart, undefined);
  t.equal(s.tty, undefined);
  t.same(s.command, ['httpd', '-f']);
  t.same(s.volumes, web.volumes);
  t.same(oneOffService(project, web, { ...none, servicePorts: true }, {}).ports, web.ports, '--service-ports keeps the service\'s');
});

t.test('the command line changes command, environment, ports, volumes, entrypoint', async (t) => {
  const s = oneOffService(project, web, {
    ...none, command: ['sh'], env: ['MODE=test', 'FROM_HOST', 'UNSET'], labels: { a: 'b' }, volumes: ['./src:/src:ro'], publish: ['9000:80'], workdir: '/w', user: '1:1',
  }, { FROM_HOST: 'yes', HOME: '/home/u' });
  t.same(s.command, ['sh']);
  t.same(s.environment, { MODE: 'test', KEEP: '1', FROM_HOST: 'yes' }, '-e KEY takes the value from the environment, and nothing when unset');
  t.same(s.ports.map((p) => `${p.published}:${p.target}`), ['9000:80']);
  t.match(s.volumes.at(-1), { type: 'bind', source: '/p/src', target: '/src', read_only: true }, 'relative to the project directory');
  t.match(s, { working_dir: '/w', user: '1:1', labels: { a: 'b' } });
  const entry = oneOffService(project, web, { ...none, entrypoint: 'sh -c' }, {});
  t.same([entry.entrypoint, entry.command], [['sh', '-c'], []], 'a new entrypoint drops the service\'s command, as Compose does');
  t.same(oneOffService(project, web, { ...none, entrypoint: '' }, {}).entrypoint, [], '"" clears it');
  t.throws(() => oneOffService(project, web, { ...none, publish: ['80:eighty'] }, {}), UsageError);
  t.throws(() => oneOffService(project, web, { ...none, env: ['=x'] }, {}), UsageError);
});

t.test('the body: one-off labels, its own name as its only alias unless --use-aliases', async (t) => {
  const slug = 'ab'.repeat(32);
  const name = oneOffName(project, web, slug);
  t.equal(name, 'shop-web-run-abababababab');
  const body = oneOffCreateBody(project, oneOffService(project, web, none, {}), { name, serviceAliases: false, slug });
  t.match(body.Labels, { 'com.docker.compose.oneoff': 'True', 'com.docker.compose.slug': slug, 'com.docker.compose.service': 'web', 'com.docker.compose.project': 'shop' });
  t.equal(body.Labels!['com.docker.compose.container-number'], undefined);
  t.equal(body.Labels!['com.docker.compose.config-hash'], undefined);
  t.same(body.HostConfig?.RestartPolicy, { Name: 'no', MaximumRetryCount: 0 });
  t.equal(body.HostConfig?.PortBindings, undefined);
  t.equal(body.Tty, undefined);
  t.same(body.NetworkingConfig?.EndpointsConfig?.shop_default?.Aliases, [name]);
  const aliased = oneOffCreateBody(project, web, { name, serviceAliases: true, slug });
  t.same(aliased.NetworkingConfig?.EndpointsConfig?.shop_default?.Aliases, ['web', name, 'shop-web']);
});

t.test('an unknown service: did-you-mean and the list', async (t) => {
  t.throws(() => serviceToRun(project, 'wbe'), new NotFoundError('no such service: "wbe"; did you mean "web"? (the services are web)'));
  t.throws(() => serviceToRun(project, 'zzzzzz'), new NotFoundError('no such service: "zzzzzz" (the services are web)'));
});
