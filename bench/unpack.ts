// Benchmark: unpacking one real layer — the cached Debian minbase rootfs tarball
// (/var/cache/stack-test, made by the run tests' mmdebstrap), plain and gzipped once into a
// temp file — with unpackLayerStream into an empty temp store, beside GNU `tar -xf` /
// `tar -xzf` of the same bytes into an empty temp dir. Median of BENCH_RUNS (3) each, as MB/s
// of uncompressed tar and the ratio ours/tar in throughput (the target is >= 0.9). A `sync`
// before every run keeps one run's writeback out of the next one's time. Needs root (tar
// and the unpacker both chown); cleans up everything, also on failure. BENCH_DIR puts the
// temp dirs elsewhere (e.g. /dev/shm to see the CPU cost without the disk).

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { unpackLayerStream } from '../src/image/unpack.js';
import { ImageStore } from '../src/image/store.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const DEBIAN = '/var/cache/stack-test/debian-bookworm_minbase.tar';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (r.error || r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.error?.message ?? r.stderr.trim()}`);
}

async function timeOurs(base: string, file: string, diffId: string, i: number): Promise<number> {
  const dir = join(base, `store-${i}`);
  const store = await new ImageStore(dir).init();
  try {
    run('sync', []);
    const started = performance.now();
    // Read as store.openBlob reads a layer blob.
    await unpackLayerStream(store, createReadStream(file, { highWaterMark: 1 << 20 }), diffId);
    return performance.now() - started;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function timeTar(base: string, file: string, gzip: boolean, i: number): number {
  const dir = join(base, `tar-${i}`);
  mkdirSync(dir);
  try {
    run('sync', []);
    const started = performance.now();
    run('tar', [gzip ? '-xzf' : '-xf', file, '-C', dir]);
    return performance.now() - started;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const reason = process.getuid?.() !== 0 ? 'needs root' : existsSync(DEBIAN) ? undefined : `needs ${DEBIAN} (run the image tests once)`;
  if (reason) {
    console.log(`unpack bench skipped: ${reason}`);
    return;
  }
  const base = mkdtempSync(join(process.env.BENCH_DIR ?? tmpdir(), 'stack-bench-unpack-'));
  try {
    const gz = join(base, 'layer.tar.gz');
    const hash = createHash('sha256');
    await pipeline(createReadStream(DEBIAN).on('data', (c) => hash.update(c)), createGzip({ level: 6 }), createWriteStream(gz));
    const diffId = `sha256:${hash.digest('hex')}`;
    const mb = statSync(DEBIAN).size / 1e6;
    console.log(`layer: ${DEBIAN}, ${mb.toFixed(1)} MB tar, ${(statSync(gz).size / 1e6).toFixed(1)} MB gzip; ${RUNS} runs each, every one into an empty dir`);
    for (const [label, file, gzip] of [['tar+gzip', gz, true], ['plain tar', DEBIAN, false]] as const) {
      const ours: number[] = [];
      const theirs: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        ours.push(await timeOurs(base, file, diffId, i));
        theirs.push(timeTar(base, file, gzip, i));
      }
      const o = mb / (median(ours) / 1000);
      const t = mb / (median(theirs) / 1000);
      const flag = gzip ? '-xzf' : '-xf ';
      const runs = (xs: number[]) => xs.map((x) => (x / 1000).toFixed(1)).join('/');
      console.log(`${label.padEnd(9)}  stack unpack ${o.toFixed(1).padStart(6)} MB/s (${runs(ours)} s)   tar ${flag} ${t.toFixed(1).padStart(6)} MB/s (${runs(theirs)} s)   ratio ${(o / t).toFixed(2)}`);
    }
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}

await main();
