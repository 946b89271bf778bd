// Pull from a real registry (Debian's docker-registry, images put there by skopeo) into a
// private engine: the API's progress stream, `stack pull` and `stack run` of the result,
// layers not fetched twice, platform selection from an index, a corrupted blob refused,
// and a connection dropped mid-blob resumed with Range.
import t, { type Test } from 'tap';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sha256 } from './support.js';
import { hostPlatform } from '../../src/image/registry/platform.js';
import { ImageStore } from '../../src/image/store.js';
import { engineSkipReason, makeEngineHarness, type EngineHarness } from '../api/engine-harness.js';
import { runCli } from '../cli/run-cli.js';
import { busyboxLayers, writeImageLayout, writeIndexLayout } from './oci-layout.js';
import { pushLayout, registryBlobPath, skopeo, registrySkipReason, startRegistry, type TestRegistry } from './registry-server.js';

const skip = engineSkipReason() ?? registrySkipReason() ?? false;

interface Line { status?: string; id?: string; progressDetail?: { current?: number; total?: number }; error?: string; errorDetail?: { message: string } }

async function pullLines(engine: EngineHarness, fromImage: string, tag: string): Promise<Line[]> {
  const res = await engine.client.open('POST', '/images/create', { query: { fromImage, tag } });
  let text = '';
  for await (const chunk of res as AsyncIterable<Buffer>) text += chunk.toString();
  return text.trim().split('\n').map((l) => JSON.parse(l) as Line);
}

function tempDir(t: Test, name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `stack-${name}-`));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function registryFor(t: Test): Promise<TestRegistry> {
  const registry = await startRegistry();
  t.teardown(() => registry.stop());
  return registry;
}

async function engineFor(t: Test, name: string): Promise<EngineHarness> {
  const engine = await makeEngineHarness(name);
  t.teardown(() => engine.cleanup());
  return engine;
}

t.test('a multi-layer image: progress stream, stack run, and a second pull', { skip }, async (t) => {
  const registry = await registryFor(t);
  const layout = tempDir(t, 'layout');
  await writeImageLayout(layout, 'v1', await busyboxLayers('hello from the registry', 600_000), ['cat', '/etc/greeting']);
  await pushLayout(layout, 'v1', `${registry.host}/test/busybox:v1`);
  // skopeo compresses the plain layer on the way, so the registry's manifest is not the layout's.
  const manifestDigest = sha256(Buffer.from(await skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${registry.host}/test/busybox:v1`])));
  const engine = await engineFor(t, 'pull');

  const lines = await pullLines(engine, `${registry.host}/test/busybox`, 'v1');
  t.same(lines[0], { status: 'Pulling from test/busybox', id: 'v1' });
  const layerIds = [...new Set(lines.filter((l) => l.status === 'Pulling fs layer').map((l) => l.id))];
  t.equal(layerIds.length, 3, 'three layers announced');
  for (const id of layerIds) {
    t.match(id, /^[a-f0-9]{12}$/);
    const statuses = lines.filter((l) => l.id === id).map((l) => l.status);
    t.ok(statuses.includes('Downloading'), `${id} downloading`);
    t.equal(statuses.at(-1), 'Pull complete', `${id} ends complete`);
  }
  const downloading = lines.find((l) => l.status === 'Downloading')!;
  t.type(downloading.progressDetail?.current, 'number');
  t.type(downloading.progressDetail?.total, 'number');
  t.same(lines.at(-2), { status: `Digest: ${manifestDigest}` });
  t.same(lines.at(-1), { status: `Status: Downloaded newer image for ${registry.host}/test/busybox:v1` });

  const run = await runCli(['run', '--rm', `${registry.host}/test/busybox:v1`], { cwd: engine.paths.root, env: engine.env });
  t.same(run, { code: 0, stdout: 'hello from the registry\n', stderr: '' }, 'stack run --rm prints the greeting');

  const again = await pullLines(engine, `${registry.host}/test/busybox`, 'v1');
  t.same(again.at(-1), { status: `Status: Image is up to date for ${registry.host}/test/busybox:v1` });
  t.notOk(again.some((l) => l.status === 'Downloading'), 'nothing downloaded again');

  // The same layers under another name: already there, not fetched.
  await pushLayout(layout, 'v1', `${registry.host}/other/name:v2`);
  const other = await runCli(['pull', `${registry.host}/other/name:v2`], { cwd: engine.paths.root, env: engine.env });
  t.equal(other.code, 0, other.stderr);
  t.equal(other.stdout.split('\n').filter((l) => l.endsWith(': Already exists')).length, 3, 'every layer already exists');
  t.notMatch(other.stdout, /Downloading/);
  t.match(other.stdout, new RegExp(`Status: Image is up to date for ${registry.host}/other/name:v2|Status: Downloaded newer image for ${registry.host}/other/name:v2`));

  const images = await runCli(['images'], { cwd: engine.paths.root, env: engine.env });
  t.match(images.stdout, `${registry.host}/test/busybox`);
});

t.test('stack run of an image the engine lacks pulls it first', { skip }, async (t) => {
  const registry = await registryFor(t);
  const layout = tempDir(t, 'layout');
  await writeImageLayout(layout, 'v1', await busyboxLayers('pulled on demand'), ['cat', '/etc/greeting']);
  await pushLayout(layout, 'v1', `${registry.host}/ondemand:v1`);
  const engine = await engineFor(t, 'run-pull');
  const r = await runCli(['run', '--rm', `${registry.host}/ondemand:v1`], { cwd: engine.paths.root, env: engine.env });
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout, 'pulled on demand\n');
  t.match(r.stderr, `Unable to find image '${registry.host}/ondemand:v1' locally`);
  t.match(r.stderr, 'Pull complete');
});

t.test('an index: the host\'s platform is chosen; only foreign ones is an error naming them', { skip }, async (t) => {
  const registry = await registryFor(t);
  const host = hostPlatform();
  const foreign = host.architecture === 'arm64' ? { os: 'linux', architecture: 'amd64' } : { os: 'linux', architecture: 'arm64', variant: 'v8' };
  const layout = tempDir(t, 'index');
  await writeIndexLayout(layout, 'multi', [foreign, host]);
  await pushLayout(layout, 'multi', `${registry.host}/multi:1`);
  const only = tempDir(t, 'foreign');
  await writeIndexLayout(only, 'foreign', [foreign, { os: 'linux', architecture: 's390x' }]);
  await pushLayout(only, 'foreign', `${registry.host}/multi:foreign`);

  const engine = await engineFor(t, 'index');
  const pulled = await runCli(['pull', `${registry.host}/multi:1`], { cwd: engine.paths.root, env: engine.env });
  t.equal(pulled.code, 0, pulled.stderr);
  const run = await runCli(['run', '--rm', `${registry.host}/multi:1`, 'cat', '/etc/greeting'], { cwd: engine.paths.root, env: engine.env });
  t.equal(run.stdout, `built for ${host.os}/${host.architecture}${host.variant ? `/${host.variant}` : ''}\n`);

  const refused = await runCli(['pull', `${registry.host}/multi:foreign`], { cwd: engine.paths.root, env: engine.env });
  t.equal(refused.code, 1);
  t.match(refused.stderr, `has no image for ${host.os}/${host.architecture}`);
  t.match(refused.stderr, 'it has linux/arm64/v8, linux/s390x');

  const chosen = await runCli(['pull', '--platform', 'linux/s390x', `${registry.host}/multi:foreign`], { cwd: engine.paths.root, env: engine.env });
  t.equal(chosen.code, 0, `--platform picks another: ${chosen.stderr}`);
});

t.test('a corrupted blob is refused, named, and nothing is stored', { skip }, async (t) => {
  const registry = await registryFor(t);
  const layout = tempDir(t, 'corrupt');
  const layers = await busyboxLayers('corrupt me');
  await writeImageLayout(layout, 'v1', layers);
  await pushLayout(layout, 'v1', `${registry.host}/corrupt:v1`);
  // skopeo compresses plain tar layers on the way: the registry's manifest names the blobs.
  const manifest = JSON.parse(await skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${registry.host}/corrupt:v1`])) as { layers: Array<{ digest: string }> };
  const victim = manifest.layers[1]!.digest;
  const path = registryBlobPath(registry, victim);
  const data = readFileSync(path);
  const middle = Math.floor(data.length / 2);
  data[middle] = data[middle]! ^ 0xff; // same size, other bytes
  writeFileSync(path, data);

  const engine = await engineFor(t, 'corrupt');
  const lines = await pullLines(engine, `${registry.host}/corrupt`, 'v1');
  const last = lines.at(-1)!;
  t.ok(last.errorDetail, 'the stream ends with an error');
  t.match(last.error, victim, 'the error names the blob');
  t.match(last.error, /digest mismatch/);
  const store = new ImageStore(join(engine.paths.root, 'image'));
  t.notOk(await store.hasBlob(victim), 'the bad blob is not stored');
  t.notOk(await store.hasBlob(manifest.layers[0]!.digest), 'nor the good ones this pull fetched');
  t.notOk((await store.list()).some((i) => i.reference.includes('corrupt')), 'no image recorded');
  t.same(readdirSync(store.tmpDir), [], 'no temp files left');
});

/**
 * A TCP proxy in front of the registry that cuts the first connection whose answers pass
 * `cutAfter` bytes (the big blob), and records whether any request asked for a Range.
 */
async function droppingProxy(t: Test, target: number, cutAfter: number): Promise<{ port: number; cuts: number; ranges: string[] }> {
  const state = { port: 0, cuts: 0, ranges: [] as string[] };
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(target, '127.0.0.1');
    sockets.add(client).add(upstream);
    let down = 0;
    client.on('data', (d: Buffer) => {
      for (const m of d.toString('latin1').matchAll(/^Range: (.*)\r$/gim)) state.ranges.push(m[1]!);
      upstream.write(d);
    });
    upstream.on('data', (d: Buffer) => {
      down += d.length;
      if (state.cuts === 0 && down > cutAfter) {
        state.cuts++;
        client.write(d.subarray(0, d.length - (down - cutAfter)));
        client.destroy();
        upstream.destroy();
        return;
      }
      client.write(d);
    });
    const end = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  state.port = (server.address() as { port: number }).port;
  t.teardown(() => new Promise<void>((r) => {
    for (const s of sockets) s.destroy();
    server.close(() => r());
  }));
  return state;
}

t.test('a connection dropped mid-blob is resumed with Range', { skip }, async (t) => {
  const registry = await registryFor(t);
  const layout = tempDir(t, 'drop');
  await writeImageLayout(layout, 'v1', await busyboxLayers('resumed', 3_000_000), ['cat', '/etc/greeting']);
  await pushLayout(layout, 'v1', `${registry.host}/drop:v1`);
  const proxy = await droppingProxy(t, registry.port, 2_500_000);
  const engine = await engineFor(t, 'drop');
  const r = await runCli(['pull', `127.0.0.1:${proxy.port}/drop:v1`], { cwd: engine.paths.root, env: engine.env });
  t.equal(r.code, 0, r.stderr);
  t.equal(proxy.cuts, 1, 'one connection was cut');
  t.equal(proxy.ranges.length, 1, 'one request asked for the rest');
  t.match(proxy.ranges[0], /^bytes=\d+-$/);
  const run = await runCli(['run', '--rm', `127.0.0.1:${proxy.port}/drop:v1`], { cwd: engine.paths.root, env: engine.env });
  t.same(run, { code: 0, stdout: 'resumed\n', stderr: '' });
});
