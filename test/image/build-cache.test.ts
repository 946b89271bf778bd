// The build cache's bound: `stack builder prune` (and POST /build/prune) while a build runs
// never takes what that build stands on; the engine keeps the cache under
// --build-cache-max by evicting the least recently used entries after each build; the
// docker CLI's `builder prune` works against the same API.
import t, { type Test } from 'tap';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { IncomingMessage } from 'node:http';
import { packBuildContext } from '../../src/client/build-context.js';
import { parseEngineArgs } from '../../src/cli/engine-main.js';
import { DOCKER, makeDocker } from '../api/docker-cli-support.js';
import { engineSkipReason, makeEngineHarness, type EngineHarness } from '../api/engine-harness.js';
import { runCli } from '../cli/run-cli.js';

const skip = engineSkipReason() ?? (existsSync(DOCKER) ? false : `the docker CLI is not installed (${DOCKER})`);

function context(engine: EngineHarness, name: string, dockerfile: string): string {
  const dir = join(dirname(engine.paths.root), 'contexts', name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'Dockerfile'), `${dockerfile}\n`);
  return dir;
}

async function build(t: Test, engine: EngineHarness, dir: string, tag?: string): Promise<string> {
  const res = await runCli(['build', ...(tag ? ['-t', tag] : []), dir], { cwd: dir, env: engine.env });
  t.equal(res.code, 0, res.stderr);
  return res.stdout;
}

/** Reads a build's JSON stream until `until` appears in its text; returns the text so far. */
async function readUntil(stream: AsyncIterator<Buffer>, until: string | undefined, sofar = ''): Promise<string> {
  let text = sofar;
  for (;;) {
    const next = await stream.next();
    if (next.done) return text;
    text += next.value.toString('utf8');
    if (until !== undefined && text.includes(until)) return text;
  }
}

t.test('builder prune -a during a build keeps what the build uses; the build finishes and its image runs', { skip }, async (t) => {
  const engine = await makeEngineHarness('build-prune');
  t.teardown(() => engine.cleanup());
  const env = engine.env;
  // Cache nobody uses (its image unnamed), and the first step of the racing build, also unnamed.
  const other = context(engine, 'other', 'FROM busybox:test\nRUN echo other > /other');
  await build(t, engine, other);
  const first = context(engine, 'first', 'FROM busybox:test\nRUN echo one > /one');
  await build(t, engine, first);

  // Stage one comes from the cache; while stage two's slow RUN runs, nothing but the build
  // itself needs stage one's result (no container uses it), and COPY --from reads it after.
  const raced = context(engine, 'raced', [
    'FROM busybox:test AS one',
    'RUN echo one > /one',
    'FROM busybox:test',
    // Says it runs ("ready-42": not the step line's text), then waits (60 s at most) for the
    // test to say go, so the prune surely runs meanwhile.
    'RUN echo ready-$((6*7)); i=0; while [ ! -e /tmp/go ] && [ $i -lt 60 ]; do sleep 1; i=$((i+1)); done; rm -f /tmp/go; echo done > /result',
    'COPY --from=one /one /one',
  ].join('\n'));
  const packed = await packBuildContext(raced, undefined);
  const res = await engine.client.open('POST', '/build', { query: { t: 'raced:1', dockerfile: packed.dockerfile }, rawBody: { stream: packed.tar, contentType: 'application/x-tar' } }) as IncomingMessage;
  const stream = (res as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  const before = await readUntil(stream, 'ready-42');
  t.match(before, 'Using cache', 'stage one came from the cache');

  const pruned = await runCli(['builder', 'prune', '-a', '-f'], { cwd: raced, env });
  t.equal(pruned.code, 0, pruned.stderr);
  t.match(pruned.stdout, /^Deleted build cache objects:\n([a-f0-9]{64}\n)+\nTotal reclaimed space: \d/);

  const steps = await engine.client.call<Array<{ Id: string }>>('GET', '/containers/json', { query: { filters: JSON.stringify({ label: ['stack.build.step'] }) } });
  t.equal(steps.length, 1, 'the slow RUN is running');
  const go = await runCli(['exec', steps[0]!.Id, 'touch', '/tmp/go'], { cwd: raced, env });
  t.equal(go.code, 0, go.stderr);
  const text = await readUntil(stream, undefined, before);
  t.notMatch(text, '"error"', 'the build did not fail');
  t.match(text, 'Successfully tagged raced:1');
  const run = await runCli(['run', '--rm', 'raced:1', 'cat', '/one', '/result'], { cwd: raced, env });
  t.same(run, { code: 0, stdout: 'one\ndone\n', stderr: '' });

  t.match(await build(t, engine, first), 'Using cache', 'the held step was not pruned');
  t.notMatch(await build(t, engine, other), 'Using cache', 'the unused cache was');

  // -a again, nothing running: everything goes; the named image stays whole.
  const all = await runCli(['builder', 'prune', '-a', '-f'], { cwd: raced, env });
  t.equal(all.code, 0, all.stderr);
  t.notMatch(await build(t, engine, first), 'Using cache');
  const again = await runCli(['run', '--rm', 'raced:1', 'cat', '/one', '/result'], { cwd: raced, env });
  t.same(again, run);
});

t.test('--build-cache-max: the least recently used cache goes after a build', { skip }, async (t) => {
  t.equal(parseEngineArgs(['--build-cache-max', '1m']).buildCacheMax, 1024 * 1024);
  t.throws(() => parseEngineArgs(['--build-cache-max', 'lots']), /--build-cache-max: "lots" is not a valid size/);
  t.throws(() => parseEngineArgs(['--build-cache-max', '0']), /give a size above zero/);
  const engine = await makeEngineHarness('build-cache-max', { inProcess: false });
  t.teardown(() => engine.cleanup());
  await engine.startProcess(['--build-cache-max', '1m']);
  // Random bytes do not compress: each step's layer is about 700 kB, two do not fit in 1 MiB.
  const x = context(engine, 'x', 'FROM busybox:test\nRUN head -c 700000 /dev/urandom > /x');
  const y = context(engine, 'y', 'FROM busybox:test\nRUN head -c 700000 /dev/urandom > /y');
  await build(t, engine, x);
  t.match(await build(t, engine, x), 'Using cache', 'one fits');
  await build(t, engine, y);
  t.match(await build(t, engine, y), 'Using cache', 'the newest stays');
  t.notMatch(await build(t, engine, x), 'Using cache', 'the least recently used went');
  t.notMatch(await build(t, engine, y), 'Using cache', 'and now y is the older one');

  const bad = await runCli(['builder', 'prune', '--keep-storage', 'lots', '-f'], { cwd: x, env: engine.env });
  t.equal(bad.code, 2);
  t.match(bad.stderr, '--keep-storage: "lots" is not a valid size');
  await t.rejects(engine.client.call('POST', '/build/prune', { query: { 'keep-storage': '-1' } }), /keep-storage must be a number of bytes/);
  await t.rejects(engine.client.call('POST', '/build/prune', { query: { filters: JSON.stringify({ until: ['1h'] }) } }), /the "until" filter is not supported/);
  const kept = await runCli(['builder', 'prune', '--keep-storage', '10m', '-f'], { cwd: x, env: engine.env });
  t.same(kept, { code: 0, stdout: 'Total reclaimed space: 0B\n', stderr: '' }, 'everything fits in 10m: nothing goes');

  // The official docker CLI's `builder prune` speaks the same API.
  const home = mkdtempSync(join(tmpdir(), 'stack-docker-home-'));
  t.teardown(() => rmSync(home, { recursive: true, force: true }));
  const docker = await makeDocker(engine, home)(['builder', 'prune', '-af']);
  t.equal(docker.code, 0, docker.stderr);
  t.match(docker.stdout, /^Deleted build cache objects:\n([a-f0-9]{64}\n)+\nTotal reclaimed space: \d/);
  t.notMatch(await build(t, engine, x), 'Using cache', 'docker builder prune -af emptied the cache');
});
