// Benchmark: a container's network attachment (a new namespace bound to a file, one veth
// on a bridge, address, default route) and its teardown, wired by the shim over rtnetlink
// (`stack-shim net-attach` / `net-detach`) versus with iproute2 the way src/network/links.ts
// does it (`unshare --net=F ip -batch -` + `ip -batch -`; `ip -force -batch -` + `umount`).
// Everything happens in a scratch network namespace that plays the host (each command runs
// under `nsenter --net=SCRATCH`, which execs it: no extra process, one extra exec, measured
// alone as the baseline). No traffic at all. Needs root and a built shim. Prints medians.

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DEFAULT_SHIM_PATH } from '../src/runtime/shim-runtime.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 30);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Runs one command to completion; returns its wall time in ms, throwing on failure. */
function timed(args: string[], input = ''): number {
  const t0 = performance.now();
  const r = spawnSync(args[0]!, args.slice(1), { input, encoding: 'utf8' });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return ms;
}

const dir = mkdtempSync(join(tmpdir(), 'stack-bench-netsetup-'));
const host = join(dir, 'host');
const sandbox = join(dir, 'sandbox');
const inHost = (args: string[]): string[] => ['nsenter', `--net=${host}`, ...args];
const attachment = {
  netns: sandbox,
  create: true,
  interfaces: [{ hostVeth: 'stvbench0', name: 'eth0', bridge: 'br0', address: '10.77.0.2', prefix: 24, mac: '02:42:0a:4d:00:02', gateway: '10.77.0.1' }],
};
const inside = [
  'link set lo up',
  `link add eth0 address 02:42:0a:4d:00:02 type veth peer name stvbench0 netns ${host}`,
  'addr add 10.77.0.2/24 dev eth0',
  'link set eth0 up',
  'route add default via 10.77.0.1 dev eth0',
].join('\n') + '\n';
const enslave = 'link set stvbench0 master br0 up\nlink set stvbench0 type bridge_slave hairpin on\n';

try {
  writeFileSync(host, '');
  execFileSync('unshare', [`--net=${host}`, 'true']);
  execFileSync('nsenter', [`--net=${host}`, 'ip', '-batch', '-'], { input: 'link add br0 type bridge\naddr add 10.77.0.1/24 dev br0\nlink set br0 up\n' });

  const rows: Array<[string, number[], number[]]> = [];
  const baseline: number[] = [];
  for (let i = 0; i < RUNS; i++) baseline.push(timed(inHost(['true'])));

  const shimUp: number[] = [];
  const shimDown: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    shimUp.push(timed(inHost([DEFAULT_SHIM_PATH, 'net-attach']), JSON.stringify(attachment)));
    shimDown.push(timed(inHost([DEFAULT_SHIM_PATH, 'net-detach']), JSON.stringify(attachment)));
  }
  rows.push(['stack-shim (rtnetlink)', shimUp, shimDown]);

  const ipUp: number[] = [];
  const ipDown: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    writeFileSync(sandbox, '');
    ipUp.push(timed(inHost(['unshare', `--net=${sandbox}`, 'ip', '-batch', '-']), inside) + timed(inHost(['ip', '-batch', '-']), enslave));
    const t0 = performance.now();
    timed(inHost(['ip', '-force', '-batch', '-']), 'link del stvbench0\n');
    timed(['umount', sandbox]);
    rmSync(sandbox);
    ipDown.push(performance.now() - t0);
  }
  rows.push(['iproute2 (links.ts)', ipUp, ipDown]);

  process.stdout.write(`network attachment, median of ${RUNS} runs (ms); nsenter alone: ${median(baseline).toFixed(2)}\n`);
  process.stdout.write('how                      attach   detach    total\n');
  for (const [name, up, down] of rows) {
    const total = up.map((u, i) => u + down[i]!);
    process.stdout.write(`${name.padEnd(24)} ${median(up).toFixed(2).padStart(7)}  ${median(down).toFixed(2).padStart(7)}  ${median(total).toFixed(2).padStart(7)}\n`);
  }
} finally {
  spawnSync('umount', ['-l', sandbox]);
  spawnSync('umount', ['-l', host]);
  rmSync(dir, { recursive: true, force: true });
}
