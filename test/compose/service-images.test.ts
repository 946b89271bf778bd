// `stack build|pull|push` in a project, as `docker compose build|pull|push`: the services'
// images built (build args from the file and the command line), pushed to a real registry
// (Debian's docker-registry) and pulled back; failures named; and the docker-style forms
// still working inside a project directory. Private engine, real builds.
import t from 'tap';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ImageSummary } from '../../src/common/api-types.js';
import { engineSkipReason, makeEngineHarness } from '../api/engine-harness.js';
import { freePort } from '../api/free-port.js';
import { registrySkipReason, skopeo, startRegistry } from '../image/registry-server.js';
import { assertProjectGone, projectDir } from './support/project-dir.js';

const skip = engineSkipReason() ?? registrySkipReason() ?? false;

t.test('build, push and pull the services\' images; docker-style forms still work in the project', { skip, timeout: 240_000 }, async (t) => {
  const registry = await startRegistry();
  const h = await makeEngineHarness('service-images');
  const closed = await freePort();
  const image = `${registry.host}/imgs/web:1`;
  const p = projectDir(h, 'service-images', `name: imgs
services:
  web:
    build: ./web
    image: ${image}
  worker:
    build:
      context: ./web
      args: { GREETING: from-file }
  cache:
    image: ${image}
  broken:
    image: 127.0.0.1:${closed}/nothing:1
    profiles: [extra]
`);
  t.teardown(async () => {
    await p.remove();
    await h.cleanup();
    await registry.stop();
  });
  mkdirSync(join(p.dir, 'web'));
  writeFileSync(join(p.dir, 'web/Dockerfile'), 'FROM busybox:test\nARG GREETING=web\nRUN echo "$GREETING" > /greeting\nCMD ["cat", "/greeting"]\n');
  const tags = async () => (await h.client.call<ImageSummary[]>('GET', '/images/json')).flatMap((i) => i.RepoTags ?? []).sort();
  const greeting = async (service: string) => (await p.stack('run', '--rm', '--no-deps', service)).stdout;

  const build = await p.stack('build');
  t.equal(build.code, 0, build.stderr);
  t.match(build.stdout, `Image ${image}  Built`);
  t.match(build.stdout, 'Image imgs-worker  Built');
  t.same(await tags(), ['busybox:test', image, 'imgs-worker:latest'].sort(), 'the two services with build: are built; cache has nothing to build');
  t.equal(await greeting('web'), 'web\n');
  t.equal(await greeting('worker'), 'from-file\n', 'the file\'s build args');
  const again = await p.stack('build', 'worker', '--build-arg', 'GREETING=from-cli');
  t.equal(again.code, 0, again.stderr);
  t.notMatch(again.stdout, image, 'only the service named');
  t.equal(await greeting('worker'), 'from-cli\n', '--build-arg over the file\'s');
  const nothing = await p.stack('build', 'cache');
  t.equal(nothing.code, 0);
  t.match(nothing.stderr, 'nothing to build: cache of project imgs has a "build:" section');

  const push = await p.stack('push');
  t.equal(push.code, 0, push.stderr);
  t.match(push.stdout, `Image ${image}  Pushed`);
  t.notMatch(push.stdout, 'imgs-worker', 'a service without image: is not pushed');
  t.match(JSON.parse(await skopeo(['inspect', '--tls-verify=false', `docker://${image}`])), { Name: `${registry.host}/imgs/web` }, 'the registry has it');

  await h.client.call('DELETE', `/images/${encodeURIComponent(image)}`);
  const pull = await p.stack('pull', 'cache');
  t.equal(pull.code, 0, pull.stderr);
  t.match(pull.stdout, `Image ${image}  Pulled`);
  t.ok((await tags()).includes(image), 'pulled back');
  const all = await p.stack('pull', '--ignore-buildable');
  t.equal(all.code, 0, all.stderr);

  const broken = await p.stack('--profile', 'extra', 'pull', 'broken');
  t.not(broken.code, 0);
  t.match(broken.stderr, `127.0.0.1:${closed}/nothing:1`);
  const tolerated = await p.stack('--profile', 'extra', 'pull', '--ignore-pull-failures', 'broken', 'cache');
  t.equal(tolerated.code, 0, tolerated.stderr);
  t.match(tolerated.stderr, /WARN service broken: pulling image 127\.0\.0\.1:\d+\/nothing:1 failed/);

  for (const [argv, message] of [
    [['build', 'web', '--tag', 'x:1'], '--tag is for building a context directory'],
    [['build', 'nosuch'], '"nosuch" is neither a service of project imgs (cache, web, worker) nor a context directory'],
    [['build', 'web', 'nosuch'], '"nosuch": no such service; the services are cache, web, worker'],
    [['pull', '--platform', 'linux/arm64', 'cache'], '--platform is for pulling one image'],
  ] as const) {
    const bad = await p.stack(...argv);
    t.not(bad.code, 0, argv.join(' '));
    t.match(bad.stderr, message);
  }

  const dockerStyle = await p.stack('build', '-t', 'plain:1', './web');
  t.equal(dockerStyle.code, 0, dockerStyle.stderr);
  t.ok((await tags()).includes('plain:1'), 'a context directory still builds docker-style');
  const pullOne = await p.stack('pull', '-q', image);
  t.equal(pullOne.code, 0, pullOne.stderr);
  t.equal(pullOne.stdout, `${image}\n`, 'an image name still pulls docker-style');
  await assertProjectGone(t, h, p);
});
