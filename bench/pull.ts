// Benchmark: pulling a multi-layer image of a few tens of MB from a local registry (Debian's
// docker-registry on 127.0.0.1) into an empty engine root through the engine's API
// (download, verify, unpack), beside `skopeo copy docker://... oci:DIR` (download and
// verify only, no unpack), median of 5 each, printed with their ratio. Our pull without the
// unpack (the registry client into a bare store) is shown too, as the like-for-like
// figure. The image: the cached Debian minbase tarball (/var/cache/stack-test, made by the
// run tests' mmdebstrap) gzipped as one layer, plus two small layers, written as an OCI
// layout and put in the registry by skopeo. Uses the tests' registry helper. Needs root,
// docker-registry and skopeo; cleans up everything, also on failure.

import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip, gzipSync } from 'node:zlib';
import { startEngine } from '../src/api/stackd.js';
import { ApiClient } from '../src/client/api-client.js';
import { packTar } from '../src/image/pack-tar.js';
import { hostPlatform } from '../src/image/registry/platform.js';
import { pullImage } from '../src/image/registry/pull.js';
import { ImageStore } from '../src/image/store.js';
import { registrySkipReason, skopeo, startRegistry } from '../test/image/registry-server.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const DEBIAN = '/var/cache/stack-test/debian-bookworm_minbase.tar';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function sha256(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** Writes the layout; returns its total compressed size. */
async function writeLayout(dir: string): Promise<number> {
  const blobs = join(dir, 'blobs', 'sha256');
  mkdirSync(blobs, { recursive: true });
  const put = (data: Buffer): { digest: string; size: number } => {
    const digest = sha256(data);
    writeFileSync(join(blobs, digest.slice(7)), data);
    return { digest, size: data.length };
  };
  // The big layer is streamed: diff_id over the tar, digest over the gzip.
  const diffHash = createHash('sha256');
  const blobHash = createHash('sha256');
  let size = 0;
  const tmp = join(blobs, 'partial');
  await pipeline(
    createReadStream(DEBIAN),
    new Transform({ transform(c: Buffer, _e, done) { diffHash.update(c); done(null, c); } }),
    createGzip({ level: 6 }),
    new Transform({ transform(c: Buffer, _e, done) { blobHash.update(c); size += c.length; done(null, c); } }),
    createWriteStream(tmp),
  );
  const big = { digest: `sha256:${blobHash.digest('hex')}`, size };
  renameSync(tmp, join(blobs, big.digest.slice(7)));
  const diffIds = [`sha256:${diffHash.digest('hex')}`];
  const layers = [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...big }];
  for (const n of [1, 2]) {
    const tar = await packTar([{ name: `etc/bench-${n}`, body: `layer ${n}\n`, mtime: new Date(0) }]);
    diffIds.push(sha256(tar));
    layers.push({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...put(gzipSync(tar)) });
  }
  const platform = hostPlatform();
  const config = put(Buffer.from(JSON.stringify({ architecture: platform.architecture, os: platform.os, config: { Cmd: ['bash'] }, rootfs: { type: 'layers', diff_ids: diffIds } })));
  const manifest = put(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config }, layers })));
  writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest, annotations: { 'org.opencontainers.image.ref.name': 'bench' } }] }));
  return layers.reduce((n, l) => n + l.size, config.size);
}

async function timeEnginePull(base: string, image: string, i: number): Promise<number> {
  const root = join(base, `engine-${i}`);
  const paths = { root: join(root, 'root'), runRoot: join(root, 'run'), socket: join(root, 'run', 'stack.sock') };
  const engine = await startEngine(paths, 'bench');
  try {
    const client = new ApiClient(paths.socket);
    const started = performance.now();
    const res = await client.open('POST', '/images/create', { query: { fromImage: image } });
    let text = '';
    for await (const chunk of res as AsyncIterable<Buffer>) text += chunk.toString();
    const ms = performance.now() - started;
    if (!text.includes('Status: Downloaded newer image')) throw new Error(`pull failed: ${text.trim().split('\n').at(-1)}`);
    return ms;
  } finally {
    await engine.stop();
    rmSync(root, { recursive: true, force: true });
  }
}

async function timeClientOnly(base: string, image: string, i: number): Promise<number> {
  const dir = join(base, `store-${i}`);
  const store = await new ImageStore(dir).init();
  try {
    const started = performance.now();
    await pullImage(store, image, { unpack: async () => undefined });
    return performance.now() - started;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function timeSkopeo(base: string, image: string, i: number): Promise<number> {
  const dir = join(base, `skopeo-${i}`);
  try {
    const started = performance.now();
    await skopeo(['copy', '--quiet', '--src-tls-verify=false', `docker://${image}`, `oci:${dir}:bench`]);
    return performance.now() - started;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const reason = registrySkipReason() ?? (process.getuid?.() !== 0 ? 'needs root' : undefined) ?? (existsSync(DEBIAN) ? undefined : `needs ${DEBIAN} (run the image tests once)`);
  if (reason) {
    console.log(`pull bench skipped: ${reason}`);
    return;
  }
  const base = mkdtempSync(join(tmpdir(), 'stack-bench-pull-'));
  const registry = await startRegistry();
  try {
    const layout = join(base, 'layout');
    const bytes = await writeLayout(layout);
    const image = `${registry.host}/bench/debian:1`;
    await skopeo(['copy', '--quiet', '--dest-tls-verify=false', `oci:${layout}:bench`, `docker://${image}`]);
    console.log(`image: 3 layers, ${(bytes / 1e6).toFixed(1)} MB compressed; ${RUNS} runs each, every one into an empty root`);
    const ours: number[] = [];
    const client: number[] = [];
    const theirs: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      ours.push(await timeEnginePull(base, image, i));
      client.push(await timeClientOnly(base, image, i));
      theirs.push(await timeSkopeo(base, image, i));
    }
    const o = median(ours);
    const c = median(client);
    const s = median(theirs);
    console.log(`stack pull (engine API: download, verify, unpack)  median ${o.toFixed(0)} ms`);
    console.log(`stack registry client (download, verify, no unpack) median ${c.toFixed(0)} ms`);
    console.log(`skopeo copy docker:// -> oci: (download, verify)    median ${s.toFixed(0)} ms`);
    console.log(`ratio stack pull / skopeo: ${(o / s).toFixed(2)}; without unpack: ${(c / s).toFixed(2)}`);
  } finally {
    await registry.stop();
    rmSync(base, { recursive: true, force: true });
  }
}

await main();
