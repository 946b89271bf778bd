// The official `docker` CLI's legacy builder (DOCKER_BUILDKIT=0) against the engine's
// POST /build: the context it sends, the step lines it prints, the cache on a rebuild,
// and `docker run` of the result.
import t from 'tap';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { engineSkipReason, makeEngineHarness } from './engine-harness.js';
import { DOCKER, makeDocker } from './docker-cli-support.js';

const skip = engineSkipReason() ?? (existsSync(DOCKER) ? false : `the docker CLI is not installed (${DOCKER}): nothing to test it with`);

t.test('DOCKER_BUILDKIT=0 docker build, then docker run', { skip }, async (t) => {
  const engine = await makeEngineHarness('docker-build');
  const home = mkdtempSync(join(tmpdir(), 'stack-docker-home-'));
  t.teardown(async () => {
    rmSync(home, { recursive: true, force: true });
    await engine.cleanup();
  });
  const docker = makeDocker(engine, home, { DOCKER_BUILDKIT: '0' });
  const ctx = join(dirname(engine.paths.root), 'ctx');
  mkdirSync(ctx, { recursive: true });
  writeFileSync(join(ctx, 'a.txt'), 'A\n');
  writeFileSync(join(ctx, 'ignored.txt'), 'I\n');
  writeFileSync(join(ctx, '.dockerignore'), 'ignored.txt\n');
  writeFileSync(join(ctx, 'Dockerfile'), 'FROM busybox:test\nCOPY . /ctx/\nRUN echo ran; ls /ctx\nCMD ["cat", "/ctx/a.txt"]\n');
  const first = await docker(['build', '-t', 'dk:1', ctx]);
  t.equal(first.code, 0, first.stderr);
  t.match(first.stdout, /Step 3\/4 : RUN echo ran; ls \/ctx\nran\nDockerfile\na.txt\n ---> [a-f0-9]{12}\n/);
  t.match(first.stdout, /Successfully tagged dk:1\n/);
  const again = await docker(['build', '-t', 'dk:1', ctx]);
  t.equal(again.stdout.match(/Using cache/g)?.length, 3, 'a rebuild is all cache hits');
  t.same(await docker(['run', '--rm', 'dk:1']), { code: 0, stdout: 'A\n', stderr: '' });
  const withFile = await docker(['build', '-f', join(ctx, 'Dockerfile'), '--build-arg', 'X=1', ctx]);
  t.equal(withFile.code, 0, withFile.stderr);
  t.match(withFile.stdout, /\[Warning\] One or more build-args \[X\] were not consumed/, '-f and --build-arg reach the engine');
});
