// Benchmark: `POST /build` of a small Dockerfile (COPY, RUN, ENV, WORKDIR, CMD) on the
// busybox image against a private in-process engine: a full build (--no-cache) and a
// no-change rebuild (all cache hits; the target is a median under 200 ms), each timed
// from packing the context to the last line of the answer, as `stack build` does it.
// Then the same Dockerfile and context under Debian's docker.io (`DOCKER_BUILDKIT=0 docker
// build --network none`, a private dockerd, the same busybox imported as its base), when
// dockerd can run here. Needs root and busybox-static. Everything is cleaned up, also on failure.

import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApiClient } from '../src/client/api-client.js';
import { packBuildContext } from '../src/client/build-context.js';
import { DOCKER_CLI, ensureDocker, importBusyboxImage, startPrivateDockerd, stopDockerd } from './docker-peer.js';
import { startBenchEngine } from './private-engine.js';


const RUNS = Number(process.env.BENCH_RUNS ?? 10);

async function build(client: ApiClient, dir: string, noCache: boolean): Promise<{ ms: number; cached: number }> {
  const started = performance.now();
  const packed = await packBuildContext(dir, undefined);
  const res = await client.open('POST', `/build?t=bench:1&dockerfile=${packed.dockerfile}${noCache ? '&nocache=1' : ''}`, { rawBody: { stream: packed.tar, contentType: 'application/x-tar' } });
  let text = '';
  for await (const chunk of res as AsyncIterable<Buffer>) text += chunk.toString('utf8');
  const ms = performance.now() - started;
  if (text.includes('"error"')) throw new Error(`the build failed: ${text}`);
  return { ms, cached: text.split('Using cache').length - 1 };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.log('build bench: skipped (needs root)');
    return;
  }
  const bench = await startBenchEngine('build');
  const { base, paths } = bench;
  try {
    const ctx = join(base, 'ctx');
    mkdirSync(join(ctx, 'src'), { recursive: true });
    for (let i = 0; i < 20; i++) writeFileSync(join(ctx, 'src', `file${i}.txt`), `content ${i}\n`.repeat(100));
    writeFileSync(join(ctx, 'Dockerfile'), 'ARG BASE=busybox:test\nFROM ${BASE}\nENV APP=/app\nWORKDIR /app\nCOPY src/ ./src/\nRUN ls src | wc -l > count\nCMD ["cat", "count"]\n');
    const client = bench.client;
    const full = await build(client, ctx, true);
    console.log(`build: full build (no cache, one RUN): ${full.ms.toFixed(0)} ms`);
    const times: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const r = await build(client, ctx, false);
      if (r.cached !== 5) throw new Error(`expected 5 cache hits, got ${r.cached}`);
      times.push(r.ms);
    }
    const m = median(times);
    console.log(`build: no-change rebuild, median of ${RUNS}: ${m.toFixed(1)} ms (min ${Math.min(...times).toFixed(1)}, max ${Math.max(...times).toFixed(1)}; target < 200 ms: ${m < 200 ? 'met' : 'NOT met'})`);
    await bench.stop();
    await dockerBuilds(base, ctx, full.ms, m);
  } finally {
    await bench.cleanup();
  }
}

/** The same Dockerfile under Docker's classic builder, beside our figures. */
async function dockerBuilds(base: string, ctx: string, ourFull: number, ourRebuild: number): Promise<void> {
  const missing = ensureDocker();
  if (missing) {
    console.log(`docker build: skipped (${missing})`);
    return;
  }
  const dockerBase = join(base, 'docker');
  mkdirSync(dockerBase);
  const { dockerd, env, version } = await startPrivateDockerd(dockerBase);
  try {
    importBusyboxImage(env, dockerBase, 'stack-bench-busybox:latest');
    const buildEnv = { ...env, DOCKER_BUILDKIT: '0' };
    const docker = (noCache: boolean): number => {
      const started = performance.now();
      const r = spawnSync(DOCKER_CLI, ['build', '--network', 'none', '--build-arg', 'BASE=stack-bench-busybox:latest', ...(noCache ? ['--no-cache'] : []), '-t', 'bench:1', ctx], { env: buildEnv, encoding: 'utf8', timeout: 120_000 });
      if (r.status !== 0) throw new Error(`docker build failed: ${r.stderr.trim()}`);
      return performance.now() - started;
    };
    const full = docker(true);
    const rebuilds: number[] = [];
    for (let i = 0; i < RUNS; i++) rebuilds.push(docker(false));
    const m = median(rebuilds);
    console.log(`docker build (${version}, classic builder): full ${full.toFixed(0)} ms, no-change rebuild median ${m.toFixed(1)} ms`);
    console.log(`ratio stack / docker: full ${(ourFull / full).toFixed(2)}, no-change rebuild ${(ourRebuild / m).toFixed(2)}`);
  } finally {
    await stopDockerd(dockerd);
  }
}

await main();
