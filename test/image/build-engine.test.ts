// `stack build` against a private engine, as root, on the busybox image (fast): COPY in
// its forms, RUN with whiteouts and opaque directories, the image config, multi-stage
// builds, .dockerignore, the step cache, a failing step, build args and ADD of a tar. One
// SLOW test installs a Debian package through the bridge's NAT on the cached Debian base.
import t, { type Test } from 'tap';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { debianTarball, importRootfsTarball } from '../../src/image/bootstrap.js';
import { ImageStore } from '../../src/image/store.js';
import { engineSkipReason, makeEngineHarness, type EngineHarness } from '../api/engine-harness.js';
import { runCli } from '../cli/run-cli.js';

const skip = engineSkipReason() ?? false;
const DEBIAN_CACHE = '/var/cache/stack-test';

/** Writes files (path -> content) under a fresh context directory. */
function context(engine: EngineHarness, name: string, files: Record<string, string>): string {
  const dir = join(dirname(engine.paths.root), 'contexts', name);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

async function leftovers(t: Test, engine: EngineHarness): Promise<void> {
  const containers = await engine.client.call<unknown[]>('GET', '/containers/json', { query: { all: 1 } });
  t.same(containers, [], 'no build container is left');
  const mounts = readFileSync('/proc/self/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1] ?? '').filter((m) => m.startsWith(engine.paths.root));
  t.same(mounts, [], 'nothing is left mounted under the engine root');
  t.same(readdirSync(join(engine.paths.root, 'image', 'tmp')), [], 'no temp dirs (contexts, mounts) are left');
}

t.test('COPY, RUN, whiteouts and the image config: the built image runs as written', { skip }, async (t) => {
  const engine = await makeEngineHarness('build');
  t.teardown(() => engine.cleanup());
  const env = engine.env;
  const ctx = context(engine, 'basic', {
    'a.txt': 'A\n',
    'notes/one.md': 'one\n',
    'notes/two.md': 'two\n',
    'notes/skip.txt': 'skip\n',
    'dir/b.txt': 'B\n',
    'dir/sub/c.txt': 'C\n',
    'secret.key': 'nope\n',
    '.dockerignore': 'secret.key\n',
    Dockerfile: [
      'FROM busybox:test',
      'ENV GREETING=hello PATH=/bin:/usr/local/bin',
      'COPY a.txt /app/',
      'COPY dir /app/d',
      'COPY notes/*.md /app/notes/',
      'COPY --chown=1234:5678 --chmod=0600 a.txt /app/owned',
      'COPY . /ctx/',
      'RUN echo built > /app/built.txt && rm /etc/group && rm -rf /app/d/sub && mkdir /app/d/sub && echo new > /app/d/sub/n.txt',
      'WORKDIR /app',
      'USER 1000:1000',
      'ENTRYPOINT ["sh", "-c"]',
      'CMD ["echo $GREETING $(id -u) $(pwd); cat a.txt d/b.txt built.txt; ls d/sub; ls notes; stat -c \'%u:%g %a\' owned; test -e /etc/group || echo group-gone; ls /ctx"]',
    ].join('\n'),
  });
  const build = await runCli(['build', '-t', 'built:1', ctx], { cwd: ctx, env });
  t.equal(build.code, 0, build.stderr);
  t.match(build.stdout, /^Step 1\/12 : FROM busybox:test\n/);
  t.match(build.stdout, /Successfully built [a-f0-9]{12}\nSuccessfully tagged built:1\n$/);
  const run = await runCli(['run', '--rm', 'built:1'], { cwd: ctx, env });
  t.same(run, {
    code: 0,
    stderr: '',
    stdout: 'hello 1000 /app\nA\nB\nbuilt\nn.txt\none.md\ntwo.md\n1234:5678 600\ngroup-gone\nDockerfile\na.txt\ndir\nnotes\n',
  }, 'config, COPY forms, the whiteout and the opaque directory are all in the image; .dockerignore left secret.key out');
  const inspect = await engine.client.call<{ Config: Record<string, unknown>; RootFS: { Layers: string[] } }>('GET', '/images/built:1/json');
  t.same(inspect.Config.Entrypoint, ['sh', '-c']);
  t.equal(inspect.Config.WorkingDir, '/app');
  t.equal(inspect.Config.User, '1000:1000');
  t.equal(inspect.RootFS.Layers.length, 1 + 5 + 1, 'a layer for the base, each COPY and the RUN; none for metadata steps, nor for a WORKDIR that exists');
  await leftovers(t, engine);
});

t.test('multi-stage with COPY --from, ADD of a tar, build args, labels and a target', { skip }, async (t) => {
  const engine = await makeEngineHarness('build-ms');
  t.teardown(() => engine.cleanup());
  const env = engine.env;
  const ctx = context(engine, 'ms', {
    Dockerfile: [
      'ARG BASE=busybox:test',
      'FROM $BASE AS builder',
      'ARG FLAVOUR=plain',
      'RUN mkdir -p /out && echo "made $FLAVOUR" > /out/result',
      'FROM busybox:test AS unused',
      'RUN exit 1',
      'FROM ${BASE}',
      'ARG BASE',
      'COPY --from=builder /out/result /result',
      'ADD bundle.tar /bundle/',
      'LABEL base=$BASE',
      'CMD cat /result /bundle/inner/x.txt',
    ].join('\n'),
  });
  mkdirSync(join(ctx, 'src', 'inner'), { recursive: true });
  writeFileSync(join(ctx, 'src', 'inner', 'x.txt'), 'from the tar\n');
  execFileSync('tar', ['-C', join(ctx, 'src'), '-cf', join(ctx, 'bundle.tar'), 'inner']);
  const build = await runCli(['build', '-t', 'ms:1', '--build-arg', 'FLAVOUR=spicy', '--build-arg', 'UNUSED=1', '--label', 'team=core', ctx], { cwd: ctx, env });
  t.equal(build.code, 0, build.stderr);
  t.notMatch(build.stdout, /RUN exit 1/, 'a stage the target does not need is not built');
  t.match(build.stdout, /\[Warning\] One or more build-args \[UNUSED\] were not consumed/);
  const run = await runCli(['run', '--rm', 'ms:1'], { cwd: ctx, env });
  t.same(run, { code: 0, stdout: 'made spicy\nfrom the tar\n', stderr: '' });
  const inspect = await engine.client.call<{ Config: { Labels: Record<string, string> } }>('GET', '/images/ms:1/json');
  t.same(inspect.Config.Labels, { base: 'busybox:test', team: 'core' });
  const target = await runCli(['build', '-t', 'ms:builder', '--target', 'builder', ctx], { cwd: ctx, env });
  t.equal(target.code, 0, target.stderr);
  t.match(target.stdout, /Step 3\/3 : RUN/, 'only the target stage');
  await leftovers(t, engine);
});

t.test('the cache: a rebuild is all hits; a changed file reruns only from its step', { skip }, async (t) => {
  const engine = await makeEngineHarness('build-cache');
  t.teardown(() => engine.cleanup());
  const env = engine.env;
  const ctx = context(engine, 'cache', {
    'first.txt': '1\n',
    'second.txt': '2\n',
    Dockerfile: 'FROM busybox:test\nCOPY first.txt /f\nRUN cat /f > /f.copy\nCOPY second.txt /s\nRUN cat /s > /s.copy\nCMD cat /f.copy /s.copy\n',
  });
  const first = await runCli(['build', '-t', 'c:1', ctx], { cwd: ctx, env });
  t.equal(first.code, 0, first.stderr);
  t.notMatch(first.stdout, /Using cache/);
  const started = performance.now();
  const again = await runCli(['build', '-t', 'c:1', ctx], { cwd: ctx, env });
  const ms = performance.now() - started;
  t.comment(`no-change rebuild through the CLI: ${ms.toFixed(0)} ms`);
  t.equal(again.code, 0, again.stderr);
  t.equal(again.stdout.match(/Using cache/g)?.length, 5, 'every step after FROM is a hit');
  t.ok(ms < 1000, `the rebuild is quick (${ms.toFixed(0)} ms; the bench measures the median)`);
  t.equal(/Successfully built (\w+)/.exec(again.stdout)?.[1], /Successfully built (\w+)/.exec(first.stdout)?.[1], 'the same image');
  writeFileSync(join(ctx, 'second.txt'), '2 changed\n');
  const changed = await runCli(['build', '-t', 'c:1', ctx], { cwd: ctx, env });
  t.equal(changed.code, 0, changed.stderr);
  const steps = changed.stdout.split(/(?=Step \d)/).filter((s) => s.startsWith('Step'));
  t.same(steps.map((s) => s.includes('Using cache')), [false, true, true, false, false, false], 'steps 2-3 from the cache, 4 on rerun');
  const run = await runCli(['run', '--rm', 'c:1'], { cwd: ctx, env });
  t.equal(run.stdout, '1\n2 changed\n');
  const noCache = await runCli(['build', '--no-cache', '-t', 'c:1', ctx], { cwd: ctx, env });
  t.notMatch(noCache.stdout, /Using cache/, '--no-cache runs every step');
  await leftovers(t, engine);
});

t.test('a failing RUN names the step and shows its output; nothing is tagged', { skip }, async (t) => {
  const engine = await makeEngineHarness('build-fail');
  t.teardown(() => engine.cleanup());
  const env = engine.env;
  const ctx = context(engine, 'fail', {
    Dockerfile: 'FROM busybox:test\nRUN echo preparing\nRUN echo about to fail; echo oh no >&2; exit 3\nCMD true\n',
  });
  const r = await runCli(['build', '-t', 'broken:1', ctx], { cwd: ctx, env });
  t.equal(r.code, 1);
  t.match(r.stdout, /Step 3\/4 : RUN echo about to fail; echo oh no >&2; exit 3\nabout to fail\noh no\n/);
  t.equal(r.stderr, "error: The command '/bin/sh -c echo about to fail; echo oh no >&2; exit 3' (Dockerfile:3, step 3/4) returned a non-zero code: 3:\nabout to fail\noh no\n");
  const images = await engine.client.call<Array<{ RepoTags: string[] }>>('GET', '/images/json');
  t.notOk(images.some((i) => i.RepoTags.includes('broken:1')), 'nothing tagged');
  const missing = context(engine, 'missing', { Dockerfile: 'FROM busybox:test\nCOPY nothere.txt /x\n' });
  const m = await runCli(['build', missing], { cwd: missing, env });
  t.equal(m.stderr, 'error: Dockerfile:2: COPY failed: file not found in build context or excluded by .dockerignore: "nothere.txt"\n');
  const bad = context(engine, 'bad', { Dockerfile: 'FROM busybox:test\nRUNN true\n' });
  const b = await runCli(['build', bad], { cwd: bad, env });
  t.equal(b.stderr, 'error: Dockerfile:2: unknown instruction "RUNN" (did you mean "RUN"?)\n');
  const url = context(engine, 'url', { Dockerfile: 'FROM busybox:test\nADD https://example.com/x /x\n' });
  const u = await runCli(['build', url], { cwd: url, env });
  t.match(u.stderr, /ADD failed: "https:\/\/example.com\/x" is a URL: this builder does not download/);
  await leftovers(t, engine);
});

// SLOW: apt-get from Debian's mirror through the engine's bridge NAT, on the cached Debian base.
t.test('DEBIAN (cached base): RUN apt-get install hello through the NAT, then hello runs', { skip: skip || (existsSync('/usr/bin/mmdebstrap') ? false : 'needs mmdebstrap'), timeout: 900_000 }, async (t) => {
  const engine = await makeEngineHarness('build-deb');
  t.teardown(() => engine.cleanup());
  const store = await new ImageStore(join(engine.paths.root, 'image')).init();
  const tarball = await debianTarball({ suite: 'bookworm', variant: 'minbase', cacheDir: DEBIAN_CACHE }, engine.paths.root);
  await importRootfsTarball(store, tarball, 'stack/debian:bookworm');
  const ctx = context(engine, 'deb', {
    Dockerfile: 'FROM stack/debian:bookworm\nRUN apt-get update && apt-get install -y --no-install-recommends hello && rm -rf /var/lib/apt/lists/*\nCMD ["hello"]\n',
  });
  const build = await runCli(['build', '-t', 'hello:1', ctx], { cwd: ctx, env: engine.env });
  t.equal(build.code, 0, build.stderr + build.stdout.slice(-2000));
  t.match(build.stdout, /Setting up hello/);
  const run = await runCli(['run', '--rm', 'hello:1'], { cwd: ctx, env: engine.env });
  t.same(run, { code: 0, stdout: 'Hello, world!\n', stderr: '' });
  await leftovers(t, engine);
});
