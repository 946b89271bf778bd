// Benchmark: start-to-exit of /bin/true for the same busybox bundle under our shim
// and under runc, with a bare `unshare` + chroot as the floor. Needs root, runc and
// busybox-static (scripts/setup installs them). Prints medians and p90 and the ratio
// from one run; it asserts nothing.

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { writeBundle } from '../src/runtime/bundle.js';
import { RuncRuntime } from '../src/runtime/shim-runtime.js';
import { makeHarness, skipReason } from '../test/runtime/fixtures.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 20);

function stats(xs: number[]): { median: number; p90: number } {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
  return { median: at(0.5), p90: at(0.9) };
}

async function main(): Promise<void> {
  const skip = skipReason();
  if (skip) {
    console.log(`runtime bench skipped: ${skip}`);
    return;
  }
  const h = makeHarness('bench');
  const runc = new RuncRuntime({ root: join(h.root, 'runc') });
  const shimTimes: number[] = [];
  const runcTimes: number[] = [];
  const floorTimes: number[] = [];
  try {
    for (let i = 0; i < RUNS; i++) {
      const id = h.newId();
      // Deleting a container removes its bundle's config.json, so each run writes its own.
      const bundle = await writeBundle(join(h.root, 'bundles', id), { rootfs: h.rootfs, args: ['/bin/true'] });
      let started = performance.now();
      await h.runtime.start(id, bundle);
      const state = await h.runtime.waitForExit(id, 10_000);
      shimTimes.push(performance.now() - started);
      if (state.exitCode !== 0) throw new Error(`shim run ${i} exited ${state.exitCode}`);
      await h.runtime.delete(id);

      await writeBundle(bundle, { rootfs: h.rootfs, args: ['/bin/true'] });
      started = performance.now();
      const r = await runc.run(`bench-${process.pid}-${i}`, bundle);
      runcTimes.push(performance.now() - started);
      if (r.exitCode !== 0) throw new Error(`runc run ${i} exited ${r.exitCode}: ${r.stderr}`);

      started = performance.now();
      const bare = spawnSync('unshare', ['-fpmnui', '--mount-proc', 'chroot', h.rootfs, '/bin/true']);
      floorTimes.push(performance.now() - started);
      if (bare.status !== 0) throw new Error(`unshare exited ${bare.status}: ${bare.stderr}`);
    }
  } finally {
    await h.cleanup();
  }
  const shim = stats(shimTimes);
  const rc = stats(runcTimes);
  const floor = stats(floorTimes);
  console.log(`/bin/true start to exit, ${RUNS} runs each, ms`);
  console.log('runtime                 median     p90');
  for (const [name, s] of [['stack shim', shim], ['runc', rc], ['unshare+chroot (floor)', floor]] as const) {
    console.log(`${name.padEnd(22)} ${s.median.toFixed(1).padStart(7)} ${s.p90.toFixed(1).padStart(7)}`);
  }
  console.log(`shim/runc (median): ${(shim.median / rc.median).toFixed(2)}`);
}

await main();
