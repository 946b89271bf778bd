// Push from an engine to a real registry: skopeo (an independent tool) sees what arrived,
// and a fresh engine pulls it back and runs it the same. The busybox image's layer is a
// plain tar, so this also covers pulling uncompressed layers. Then, through a proxy that
// counts requests: a layer over the chunk threshold goes up in PATCHes, a push of the same
// image to a second repository mounts every blob, and a mount the registry cannot do
// (answered 202) falls back to an upload.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUSYBOX_IMAGE, engineSkipReason, makeEngineHarness } from '../api/engine-harness.js';
import { runCli } from '../cli/run-cli.js';
import { DEFAULT_CHUNK_SIZE, DEFAULT_CHUNK_THRESHOLD, RegistryClient } from '../../src/image/registry/client.js';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { busyboxLayers, writeImageLayout } from './oci-layout.js';
import { pushLayout, registrySkipReason, skopeo, startCountingProxy, startRegistry, type CountedRequest } from './registry-server.js';

const skip = engineSkipReason() ?? registrySkipReason() ?? false;

interface Line { status?: string; id?: string; aux?: { Tag: string; Digest: string; Size: number }; error?: string }

t.test('push to a registry, skopeo inspect, pull into a fresh engine and run', { skip }, async (t) => {
  const registry = await startRegistry();
  t.teardown(() => registry.stop());
  const first = await makeEngineHarness('push');
  t.teardown(() => first.cleanup());
  const image = `${registry.host}/pushed/busybox:1.0`;
  const env = first.env;
  const cwd = first.paths.root;

  const tag = await runCli(['tag', BUSYBOX_IMAGE, image], { cwd, env });
  t.equal(tag.code, 0, tag.stderr);
  const res = await first.client.open('POST', `/images/${registry.host}/pushed/busybox/push`, { query: { tag: '1.0' } });
  let text = '';
  for await (const chunk of res as AsyncIterable<Buffer>) text += chunk.toString();
  const lines = text.trim().split('\n').map((l) => JSON.parse(l) as Line);
  t.same(lines[0], { status: `The push refers to repository [${registry.host}/pushed/busybox]` });
  t.ok(lines.some((l) => l.status === 'Pushed'), 'a layer was pushed');
  const aux = lines.at(-1)!.aux!;
  t.equal(aux.Tag, '1.0');
  t.match(aux.Digest, /^sha256:[a-f0-9]{64}$/);

  const inspected = JSON.parse(await skopeo(['inspect', '--tls-verify=false', `docker://${image}`])) as { Digest: string; Layers: string[]; Architecture: string };
  t.equal(inspected.Digest, aux.Digest, 'skopeo sees the pushed manifest');
  t.equal(inspected.Layers.length, 1);
  const local = await first.client.call<{ Id: string; RootFS: { Layers: string[] } }>('GET', `/images/${image}/json`);

  const again = await runCli(['push', image], { cwd, env });
  t.equal(again.code, 0, again.stderr);
  t.match(again.stdout, 'Layer already exists', 'a second push uploads nothing');

  const second = await makeEngineHarness('push-fresh');
  t.teardown(() => second.cleanup());
  const pulled = await runCli(['pull', image], { cwd: second.paths.root, env: second.env });
  t.equal(pulled.code, 0, pulled.stderr);
  t.match(pulled.stdout, `Digest: ${aux.Digest}`);
  const remote = await second.client.call<{ Id: string; RootFS: { Layers: string[] } }>('GET', `/images/${image}/json`);
  t.equal(remote.Id, local.Id, 'the same image ID (config digest) in both engines');
  t.same(remote.RootFS.Layers, local.RootFS.Layers);
  const cmd = ['run', '--rm', image, 'sh', '-c', 'cat /etc/passwd; ls /bin | wc -l'];
  const a = await runCli(cmd, { cwd, env });
  const b = await runCli(cmd, { cwd: second.paths.root, env: second.env });
  t.equal(a.code, 0, a.stderr);
  t.same(b, a, 'runs identically');

  const missing = await runCli(['push', `${registry.host}/nothing:here`], { cwd, env });
  t.equal(missing.code, 1);
  t.match(missing.stderr, 'No such image');
});

/** Deletes a blob's link from one repository of the registry (its data stays for the others). */
function unlinkBlob(host: string, repository: string, digest: string): Promise<number> {
  const [hostname, port] = host.split(':');
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port: Number(port), method: 'DELETE', path: `/v2/${repository}/blobs/${digest}` }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

const isUpload = (r: CountedRequest): boolean => r.path.includes('/blobs/uploads/');

t.test('chunked upload of a big layer, cross-repository mounts, and the fallback when a mount is refused', { skip }, async (t) => {
  const source = await startRegistry();
  t.teardown(() => source.stop());
  const target = await startRegistry();
  t.teardown(() => target.stop());
  const proxy = await startCountingProxy(target);
  t.teardown(() => proxy.stop());
  const layout = mkdtempSync(join(tmpdir(), 'stack-push-layout-'));
  t.teardown(() => rmSync(layout, { recursive: true, force: true }));
  const bigBytes = DEFAULT_CHUNK_THRESHOLD + 1024 * 1024;
  await writeImageLayout(layout, 'v1', await busyboxLayers('pushed in chunks', bigBytes), ['cat', '/etc/greeting']);
  await pushLayout(layout, 'v1', `${source.host}/src/big:v1`);
  const engine = await makeEngineHarness('push-chunks');
  t.teardown(() => engine.cleanup());
  const cwd = engine.paths.root;
  const env = engine.env;
  const cli = async (argv: string[]): Promise<string> => {
    const res = await runCli(argv, { cwd, env });
    t.equal(res.code, 0, `stack ${argv.join(' ')}: ${res.stderr}`);
    return res.stdout;
  };
  await cli(['pull', `${source.host}/src/big:v1`]);
  const local = await engine.client.call<{ Id: string }>('GET', `/images/${source.host}/src/big:v1/json`);

  // Repository a: everything uploaded, the big layer in chunks.
  await cli(['tag', `${source.host}/src/big:v1`, `${proxy.host}/a/big:v1`]);
  const pushedA = await cli(['push', `${proxy.host}/a/big:v1`]);
  t.notMatch(pushedA, 'Mounted from', 'another registry\'s repositories are no mount source');
  const toA = proxy.requests.splice(0);
  const patches = toA.filter((r) => r.method === 'PATCH' && isUpload(r));
  t.equal(patches.length, Math.ceil(bigBytes / DEFAULT_CHUNK_SIZE), 'the big layer went up in chunks');
  t.ok(patches.every((r) => r.status === 202));
  const blobPuts = toA.filter((r) => r.method === 'PUT' && isUpload(r));
  t.equal(blobPuts.length, 4, 'three layers and the config finished with a PUT each');
  t.equal(blobPuts.filter((r) => r.query.has('digest')).length, 4);

  // Repository b of the same registry: every blob mounted from a, nothing uploaded.
  await cli(['tag', `${source.host}/src/big:v1`, `${proxy.host}/b/big:v1`]);
  const pushedB = await cli(['push', `${proxy.host}/b/big:v1`]);
  t.equal(pushedB.match(/Mounted from a\/big/g)?.length, 3, 'the three layers say where they were mounted from');
  const toB = proxy.requests.splice(0);
  const mounts = toB.filter((r) => r.method === 'POST' && r.query.get('from') === 'a/big');
  t.equal(mounts.length, 4, 'three layers and the config mounted');
  t.ok(mounts.every((r) => r.status === 201));
  t.same(toB.filter((r) => (r.method === 'PATCH' || r.method === 'PUT') && isUpload(r)), [], 'no bytes uploaded to b');

  // Repository c, after b lost the big layer: the mount from b is answered 202 and the layer is uploaded.
  const manifest = JSON.parse(await skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${target.host}/b/big:v1`])) as { layers: Array<{ digest: string; size: number }> };
  const big = manifest.layers.find((l) => l.size > DEFAULT_CHUNK_THRESHOLD)!;
  t.equal(await unlinkBlob(target.host, 'b/big', big.digest), 202);
  await cli(['tag', `${source.host}/src/big:v1`, `${proxy.host}/c/big:v1`]);
  const pushedC = await cli(['push', `${proxy.host}/c/big:v1`]);
  t.equal(pushedC.match(/Mounted from b\/big/g)?.length, 2);
  t.match(pushedC, `${big.digest.slice(7, 19)}: Pushed`);
  const toC = proxy.requests.splice(0);
  t.equal(toC.filter((r) => r.method === 'POST' && r.query.get('mount') === big.digest && r.status === 202).length, 1, 'the refused mount opened an upload');
  t.equal(toC.filter((r) => r.method === 'PATCH').length, Math.ceil(bigBytes / DEFAULT_CHUNK_SIZE));

  // skopeo, an independent client, copies both back and verifies every digest.
  for (const repo of ['a', 'c']) {
    const copy = mkdtempSync(join(tmpdir(), `stack-push-copy-${repo}-`));
    t.teardown(() => rmSync(copy, { recursive: true, force: true }));
    await skopeo(['copy', '--src-tls-verify=false', `docker://${target.host}/${repo}/big:v1`, `oci:${copy}:v1`]);
    const config = JSON.parse(await skopeo(['inspect', '--config', `oci:${copy}:v1`])) as { rootfs: { diff_ids: string[] } };
    t.equal(config.rootfs.diff_ids.length, 3, `${repo}: all layers copied and verified`);
  }
  const fresh = await makeEngineHarness('push-chunks-fresh');
  t.teardown(() => fresh.cleanup());
  const pulled = await runCli(['pull', `${target.host}/c/big:v1`], { cwd: fresh.paths.root, env: fresh.env });
  t.equal(pulled.code, 0, pulled.stderr);
  const again = await fresh.client.call<{ Id: string }>('GET', `/images/${target.host}/c/big:v1/json`);
  t.equal(again.Id, local.Id, 'the same image comes back');
  const run = await runCli(['run', '--rm', `${target.host}/c/big:v1`], { cwd: fresh.paths.root, env: fresh.env });
  t.same(run, { code: 0, stdout: 'pushed in chunks\n', stderr: '' });
});

t.test('the registry asks for chunks (OCI-Chunk-Min-Length): even a small blob goes up in chunks of at least that size', { skip: registrySkipReason() ?? false }, async (t) => {
  const registry = await startRegistry();
  t.teardown(() => registry.stop());
  const minLength = 1024 * 1024;
  const proxy = await startCountingProxy(registry, (method, path): Record<string, string> => (method === 'POST' && path.endsWith('/blobs/uploads/') ? { 'OCI-Chunk-Min-Length': String(minLength) } : {}));
  t.teardown(() => proxy.stop());
  const client = new RegistryClient(proxy.host, 'chunks/asked', { actions: 'pull,push' });
  t.teardown(() => client.close());
  const blob = randomBytes(2 * minLength + 1234);
  const digest = `sha256:${createHash('sha256').update(blob).digest('hex')}`;
  // Asked for smaller chunks than the registry's minimum: the minimum wins.
  const outcome = await client.uploadBlob(digest, blob.length, () => Readable.from([blob.subarray(0, 1000), blob.subarray(1000)]), { chunkSize: 64 * 1024 });
  t.same(outcome, { kind: 'uploaded', chunks: 3 });
  const patches = proxy.requests.filter((r) => r.method === 'PATCH');
  t.equal(patches.length, 3);
  t.ok(patches.every((r) => r.status === 202));
  let back = Buffer.alloc(0);
  for await (const chunk of client.blobChunks(digest, blob.length)) back = Buffer.concat([back, chunk]);
  t.ok(back.equals(blob), 'the registry holds the blob byte for byte');

  // A small blob to a registry that does not ask: one PUT.
  const plain = new RegistryClient(registry.host, 'chunks/plain', { actions: 'pull,push' });
  t.teardown(() => plain.close());
  const small = randomBytes(1000);
  const smallDigest = `sha256:${createHash('sha256').update(small).digest('hex')}`;
  t.same(await plain.uploadBlob(smallDigest, small.length, () => Readable.from([small])), { kind: 'uploaded', chunks: 0 });
  t.ok(await plain.hasBlob(smallDigest));
  // A wrong size is caught before the registry is told the upload is complete.
  const wrong = randomBytes(3000);
  const wrongDigest = `sha256:${createHash('sha256').update(wrong).digest('hex')}`;
  await t.rejects(client.uploadBlob(wrongDigest, 4000, () => Readable.from([wrong])), /the store gave 3000 bytes where the manifest says 4000/);
});
