// Save and load against private engines, as root: an image built in one engine saved
// (docker-archive and OCI layout), read by skopeo, loaded into a fresh engine where it runs
// the same; archives skopeo made load too; truncated and corrupted archives are refused
// with nothing stored; rmi and prune as Docker has them, the build cache kept consistent;
// the builder pulls a missing FROM from a registry; the docker CLI's save and load.
import t, { type Test } from 'tap';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import tar from 'tar-stream';
import { packTar, type TarEntry } from '../../src/image/pack-tar.js';
import { engineSkipReason, makeEngineHarness, type EngineHarness } from '../api/engine-harness.js';
import { DOCKER, makeDocker } from '../api/docker-cli-support.js';
import { runCli } from '../cli/run-cli.js';
import { busyboxLayers, writeImageLayout } from './oci-layout.js';
import { pushLayout, registrySkipReason, skopeo, startRegistry } from './registry-server.js';

const skip = engineSkipReason() ?? false;
const skipSkopeo = skip || (existsSync('/usr/bin/skopeo') ? false : 'needs skopeo (apt-get install skopeo)');
const skipRegistry = skip || (registrySkipReason() ?? false);

function tempDir(t: Test, name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `stack-saveload-${name}-`));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function engineFor(t: Test, name: string): Promise<EngineHarness> {
  const engine = await makeEngineHarness(name);
  t.teardown(() => engine.cleanup());
  return engine;
}

/** Builds `tag` in `engine` from a Dockerfile (and files) in a fresh context. */
async function build(t: Test, engine: EngineHarness, tag: string, files: Record<string, string>, extra: string[] = []) {
  const dir = join(dirname(engine.paths.root), 'contexts', `${tag.replace(/[^a-z0-9]/g, '-')}-${Math.random().toString(16).slice(2)}`);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  const result = await runCli(['build', ...extra, '-t', tag, dir], { cwd: dir, env: engine.env });
  t.equal(result.code, 0, `build ${tag}: ${result.stderr}`);
  return result;
}

/** What the store holds: its index and blob names, to show a refused load stored nothing. */
function storeState(engine: EngineHarness): { index: string; blobs: string[]; layers: string[]; tmp: string[] } {
  const root = join(engine.paths.root, 'image');
  return {
    index: readFileSync(join(root, 'index.json'), 'utf8'),
    blobs: readdirSync(join(root, 'blobs', 'sha256')).sort(),
    layers: readdirSync(join(root, 'layers')).sort(),
    tmp: readdirSync(join(root, 'tmp')),
  };
}

async function imageId(engine: EngineHarness, name: string): Promise<string> {
  return (await engine.client.call<{ Id: string }>('GET', `/images/${name}/json`)).Id;
}

/** The members of a tar, in order, with their bodies. */
async function readTar(path: string): Promise<TarEntry[]> {
  const out: TarEntry[] = [];
  const extract = tar.extract();
  const done = new Promise<void>((resolve, reject) => {
    extract.on('entry', (header, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: unknown) => { chunks.push(c as Buffer); });
      stream.on('end', () => {
        out.push({ ...header, body: Buffer.concat(chunks) });
        next();
      });
    });
    extract.on('finish', resolve);
    extract.on('error', reject);
  });
  extract.end(readFileSync(path));
  await done;
  return out;
}

const APP_DOCKERFILE = {
  'msg.txt': 'from the first engine\n',
  Dockerfile: ['FROM busybox:test', 'COPY msg.txt /app/msg.txt', 'RUN echo built > /app/built && rm /etc/group', 'ENV WHO=saved', 'CMD ["sh", "-c", "cat /app/msg.txt /app/built; echo $WHO; test -e /etc/group || echo no-group"]'].join('\n'),
};
const APP_OUTPUT = 'from the first engine\nbuilt\nsaved\nno-group\n';

t.test('save then load into a fresh engine: docker-archive and OCI layout, read by skopeo, run identically', { skip: skipSkopeo }, async (t) => {
  const source = await engineFor(t, 'save');
  const target = await engineFor(t, 'load');
  const dir = tempDir(t, 'archives');
  await build(t, source, 'app:1', APP_DOCKERFILE);
  const ran = await runCli(['run', '--rm', 'app:1'], { cwd: dir, env: source.env });
  t.equal(ran.stdout, APP_OUTPUT, 'the image runs in the engine that built it');
  const id = await imageId(source, 'app:1');

  const dockerTar = join(dir, 'app.tar');
  const saved = await runCli(['save', '-o', dockerTar, 'app:1'], { cwd: dir, env: source.env });
  t.equal(saved.code, 0, saved.stderr);
  const members = await readTar(dockerTar);
  const manifest = JSON.parse(String(members.find((m) => m.name === 'manifest.json')!.body)) as Array<{ Config: string; RepoTags: string[]; Layers: string[] }>;
  t.same(manifest[0]!.RepoTags, ['app:1'], 'manifest.json names the image as docker save does');
  t.equal(manifest[0]!.Config, `blobs/sha256/${id.slice(7)}`, 'the config keeps its digest (the image ID)');
  t.equal(manifest[0]!.Layers.length, 3, 'busybox, the COPY and the RUN');
  const inspected = JSON.parse(await skopeo(['inspect', `docker-archive:${dockerTar}`])) as { RepoTags: string[]; Layers: string[]; Env: string[] };
  t.equal(inspected.Layers.length, 3, 'skopeo reads our docker-archive: its layers');
  t.ok(inspected.Env.includes('WHO=saved'), 'and its config');
  await skopeo(['copy', `docker-archive:${dockerTar}`, `oci:${join(dir, 'via-skopeo')}:app`]);
  t.ok(existsSync(join(dir, 'via-skopeo', 'index.json')), 'skopeo copies our docker-archive to an OCI layout');

  const loaded = await runCli(['load', '-i', dockerTar], { cwd: dir, env: target.env });
  t.same(loaded, { code: 0, stdout: 'Loaded image: app:1\n', stderr: '' });
  t.equal(await imageId(target, 'app:1'), id, 'the loaded image has the same ID');
  const again = await runCli(['run', '--rm', 'app:1'], { cwd: dir, env: target.env });
  t.same(again, { code: 0, stdout: APP_OUTPUT, stderr: '' }, 'the loaded image runs identically in the fresh engine');

  const ociTar = join(dir, 'app-oci.tar');
  const savedOci = await runCli(['image', 'save', '--format', 'oci', '-o', ociTar, 'app:1', 'busybox:test'], { cwd: dir, env: source.env });
  t.equal(savedOci.code, 0, savedOci.stderr);
  const names = (await readTar(ociTar)).map((m) => m.name);
  t.ok(names.includes('oci-layout') && names.includes('index.json'), 'an OCI image layout');
  const ociInspect = JSON.parse(await skopeo(['inspect', `oci-archive:${ociTar}:docker.io/library/app:1`])) as { Layers: string[] };
  t.equal(ociInspect.Layers.length, 3, 'skopeo reads our OCI layout tar by its ref.name');
  t.equal((await runCli(['rmi', 'app:1'], { cwd: dir, env: target.env })).code, 0);
  const loadedOci = await runCli(['image', 'load', '-i', ociTar], { cwd: dir, env: target.env });
  t.same(loadedOci, { code: 0, stdout: 'Loaded image: app:1\nLoaded image: busybox:test\n', stderr: '' });
  t.equal(await imageId(target, 'app:1'), id, 'the same ID from the OCI layout');
  t.same(await runCli(['run', '--rm', 'app:1'], { cwd: dir, env: target.env }), { code: 0, stdout: APP_OUTPUT, stderr: '' });
  t.same(readdirSync(join(target.paths.root, 'image', 'tmp')), [], 'no staging left behind');
});

t.test('archives skopeo made load and run', { skip: skipSkopeo }, async (t) => {
  const engine = await engineFor(t, 'skopeo');
  const dir = tempDir(t, 'skopeo');
  await writeImageLayout(join(dir, 'layout'), 'v1', await busyboxLayers('made by skopeo'), ['cat', '/etc/greeting']);
  await skopeo(['copy', `oci:${join(dir, 'layout')}:v1`, `docker-archive:${join(dir, 'docker.tar')}:skopeo/img:v1`]);
  await skopeo(['copy', `oci:${join(dir, 'layout')}:v1`, `oci-archive:${join(dir, 'oci.tar')}:skopeo/oci:v2`]);
  const fromDocker = await runCli(['load', '-i', join(dir, 'docker.tar')], { cwd: dir, env: engine.env });
  t.same(fromDocker, { code: 0, stdout: 'Loaded image: skopeo/img:v1\n', stderr: '' });
  t.same(await runCli(['run', '--rm', 'skopeo/img:v1'], { cwd: dir, env: engine.env }), { code: 0, stdout: 'made by skopeo\n', stderr: '' });
  const fromOci = await runCli(['load', '-i', join(dir, 'oci.tar')], { cwd: dir, env: engine.env });
  t.same(fromOci, { code: 0, stdout: 'Loaded image: skopeo/oci:v2\n', stderr: '' });
  t.same(await runCli(['run', '--rm', 'skopeo/oci:v2'], { cwd: dir, env: engine.env }), { code: 0, stdout: 'made by skopeo\n', stderr: '' });
});

t.test('truncated, corrupted and incomplete archives are refused, naming the problem, and store nothing', { skip }, async (t) => {
  const engine = await engineFor(t, 'corrupt');
  const dir = tempDir(t, 'corrupt');
  const good = join(dir, 'good.tar');
  t.equal((await runCli(['save', '-o', good, 'busybox:test'], { cwd: dir, env: engine.env })).code, 0);
  // Made in a second name, so loading the good one would change the store.
  t.equal((await runCli(['rmi', 'busybox:test'], { cwd: dir, env: engine.env })).code, 0);
  const before = storeState(engine);
  const members = await readTar(good);
  const layer = members.find((m) => m.name !== 'manifest.json' && (m.body as Buffer).length > 100_000)!;

  const bytes = readFileSync(good);
  const truncated = join(dir, 'truncated.tar');
  writeFileSync(truncated, bytes.subarray(0, Math.floor(bytes.length / 2) + 7));
  const corrupted = join(dir, 'corrupted.tar');
  writeFileSync(corrupted, await packTar(members.map((m) => {
    if (m !== layer) return m;
    const body = Buffer.from(m.body as Buffer);
    body[body.length - 2000] = (body[body.length - 2000] ?? 0) ^ 0xff;
    return { ...m, body };
  })));
  const incomplete = join(dir, 'incomplete.tar');
  writeFileSync(incomplete, await packTar(members.filter((m) => m !== layer)));
  const notAnImage = join(dir, 'plain.tar');
  writeFileSync(notAnImage, await packTar([{ name: 'hello.txt', body: 'hi\n' }]));

  const cases: Array<[string, RegExp]> = [
    [truncated, /refused, nothing was loaded: .*truncated/],
    [corrupted, /does not match its diff_id/],
    [incomplete, /names "blobs\/sha256\/[a-f0-9]{64}", which the archive does not contain/],
    [notAnImage, /neither a docker-archive .* nor an OCI image layout/],
  ];
  for (const [file, message] of cases) {
    const result = await runCli(['load', '-i', file], { cwd: dir, env: engine.env });
    t.equal(result.code, 1, `${file} is refused`);
    t.match(result.stderr, message);
    t.same(storeState(engine), before, 'and nothing was stored');
  }
  t.same(await runCli(['load', '-i', good], { cwd: dir, env: engine.env }), { code: 0, stdout: 'Loaded image: busybox:test\n', stderr: '' }, 'the good archive still loads');
});

t.test('rmi and image prune: names, containers, dangling build steps, the build cache', { skip }, async (t) => {
  const engine = await engineFor(t, 'prune');
  const dir = tempDir(t, 'prune');
  const cli = (args: string[]) => runCli(args, { cwd: dir, env: engine.env });
  t.equal((await cli(['tag', 'busybox:test', 'other:1'])).code, 0);
  t.same(await cli(['rmi', 'other:1']), { code: 0, stdout: 'Untagged: other:1\n', stderr: '' }, 'another name stays: only the tag goes');
  t.equal((await cli(['run', '--name', 'user', 'busybox:test', 'true'])).code, 0);
  const inUse = await cli(['rmi', 'busybox:test']);
  t.equal(inUse.code, 1);
  t.match(inUse.stderr, /container user uses the image/, 'in use by a container: a conflict naming it');
  const status = await engine.client.open('DELETE', '/images/busybox:test').then(() => 200, (err: Error) => err.constructor.name);
  t.equal(status, 'ConflictError', '409');

  const v1 = { Dockerfile: 'FROM busybox:test\nRUN echo one > /v\nCMD ["cat", "/v"]\n' };
  const v2 = { Dockerfile: 'FROM busybox:test\nRUN echo two > /v\nCMD ["cat", "/v"]\n' };
  await build(t, engine, 'x:1', v1);
  const oldId = await imageId(engine, 'x:1');
  await build(t, engine, 'x:1', v2);
  const pruned = await cli(['image', 'prune', '-f']);
  t.equal(pruned.code, 0, pruned.stderr);
  t.match(pruned.stdout, new RegExp(`deleted: ${oldId}`), 'the old build, now dangling, is pruned');
  t.match(pruned.stdout, /Total reclaimed space: [1-9][\d.]*[kM]?B\n$/, 'with the space it took');
  t.ok(await imageId(engine, 'busybox:test'), 'a named image in use stays');
  t.equal(await imageId(engine, 'user').catch(() => 'gone'), 'gone');
  const cacheFile = JSON.parse(readFileSync(join(engine.paths.root, 'image', 'build-cache.json'), 'utf8')) as { steps: Record<string, { digest: string }> };
  const index = readFileSync(join(engine.paths.root, 'image', 'index.json'), 'utf8');
  for (const { digest } of Object.values(cacheFile.steps)) t.ok(index.includes(digest), `the build cache points only at images the store has (${digest.slice(7, 19)})`);
  const rebuilt = await build(t, engine, 'x:1', v1);
  t.notMatch(rebuilt.stdout, /Using cache/, 'the pruned steps are run again, not found in the cache');
  t.equal((await cli(['run', '--rm', 'x:1'])).stdout, 'one\n', 'and the rebuilt image works');
  const cached = await build(t, engine, 'x:1', v1);
  t.match(cached.stdout, /Using cache/, 'an unchanged rebuild uses the cache');

  const all = await cli(['image', 'prune', '-a', '-f']);
  t.equal(all.code, 0, all.stderr);
  t.match(all.stdout, /untagged: x:1/, '-a also removes named images no container uses');
  t.notMatch(all.stdout, /busybox:test/, 'but not one a container uses');
  t.same(await cli(['rmi', '-f', 'busybox:test']), { code: 0, stdout: 'Untagged: busybox:test\n', stderr: '' }, 'forced past a stopped container: untagged, kept for the container');
  t.equal((await cli(['start', 'user'])).code, 0, 'and the container still starts');
  t.equal((await cli(['rm', '-f', 'user'])).code, 0);
  const last = await cli(['image', 'prune', '-f']);
  t.match(last.stdout, /deleted: sha256:/, 'once the container is gone the image is dangling and pruned');
  t.same(await engine.client.call('GET', '/images/json'), [], 'nothing is left');
});

t.test('the builder pulls a FROM the engine lacks from a registry, and --pull pulls again', { skip: skipRegistry }, async (t) => {
  const engine = await engineFor(t, 'pull');
  const registry = await startRegistry();
  t.teardown(() => registry.stop());
  const dir = tempDir(t, 'layout');
  await writeImageLayout(join(dir, 'layout'), 'v1', await busyboxLayers('pulled base'));
  const base = `${registry.host}/test/base:v1`;
  await pushLayout(join(dir, 'layout'), 'v1', base);
  const files = { Dockerfile: `FROM ${base}\nRUN cat /etc/greeting > /copy\nCMD ["cat", "/copy"]\n` };
  const first = await build(t, engine, 'on-pulled:1', files);
  t.match(first.stdout, /Pulling from test\/base/);
  t.match(first.stdout, /[a-f0-9]{12}: Pull complete\n/, 'pull progress is in the build output');
  t.match(first.stdout, /Status: Downloaded newer image for 127\.0\.0\.1:\d+\/test\/base:v1\n/);
  t.same(await runCli(['run', '--rm', 'on-pulled:1'], { cwd: dir, env: engine.env }), { code: 0, stdout: 'pulled base\n', stderr: '' });
  const second = await build(t, engine, 'on-pulled:1', files, ['--pull']);
  t.match(second.stdout, /Status: Image is up to date for/, '--pull asks the registry again');
  t.match(second.stdout, /Using cache/);
  const third = await build(t, engine, 'on-pulled:1', files);
  t.notMatch(third.stdout, /Pulling from/, 'without --pull a base the engine has is not pulled');
  mkdirSync(join(dir, 'ctx'));
  writeFileSync(join(dir, 'ctx', 'Dockerfile'), `FROM ${registry.host}/test/absent:v1\n`);
  const absent = await runCli(['build', join(dir, 'ctx')], { cwd: dir, env: engine.env });
  t.equal(absent.code, 1);
  t.match(absent.stderr, /Dockerfile:1: FROM 127\.0\.0\.1:\d+\/test\/absent:v1: .*could not pull it/, 'a base neither here nor in the registry fails, saying so');
});

t.test('the docker CLI saves and loads through the engine', { skip: skip || (existsSync(DOCKER) ? false : `needs the docker CLI at ${DOCKER}`) }, async (t) => {
  const source = await engineFor(t, 'dsave');
  const target = await engineFor(t, 'dload');
  const home = tempDir(t, 'docker-home');
  const dir = tempDir(t, 'docker-tar');
  const file = join(dir, 'busybox.tar');
  const save = await makeDocker(source, home)(['save', '-o', file, 'busybox:test']);
  t.equal(save.code, 0, save.stderr);
  t.ok(statSync(file).size > 100_000, 'docker save wrote the archive');
  const docker = makeDocker(target, home);
  t.equal((await docker(['rmi', 'busybox:test'])).code, 0, 'docker rmi');
  const load = await docker(['load', '-i', file]);
  t.equal(load.code, 0, load.stderr);
  t.match(load.stdout, /Loaded image: busybox:test/);
  const run = await docker(['run', '--rm', 'busybox:test', 'echo', 'loaded by docker']);
  t.same({ code: run.code, stdout: run.stdout }, { code: 0, stdout: 'loaded by docker\n' }, run.stderr);
  const prune = await docker(['image', 'prune', '-f']);
  t.equal(prune.code, 0, prune.stderr);
});
