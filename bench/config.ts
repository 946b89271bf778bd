// Benchmark: CLI start (`stack --version`) and `stack config` on a 200-service file,
// each as a whole process, median of several runs; beside docker-compose (Debian's
// docker-compose package) doing the same where it is installed. Prints ratios from
// one run; it asserts nothing. Beside the wall time, the CPU time of our runs (user +
// system, all threads, mean): on a shared machine it moves much less than the wall.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { largeStackFile } from './large-stack-file.js';

const ROOT = resolve(import.meta.dirname, '../..');
const STACK = join(ROOT, 'bin/stack.js');
const RUNS = Number(process.env.BENCH_RUNS ?? 15);

/** CPU time of the children this process has waited for, in ms (Linux: cutime + cstime, in clock ticks of 10 ms). */
function childrenCpuMs(): number {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[13]) + Number(fields[14])) * 10;
}

function medianMs(cmd: string, args: string[], cwd: string): { ms: number; cpuMs: number; ok: boolean } {
  const times: number[] = [];
  let ok = true;
  const cpuBefore = childrenCpuMs();
  for (let i = 0; i < RUNS; i++) {
    const start = process.hrtime.bigint();
    const r = spawnSync(cmd, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, TAG: '2.0' } });
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
    if (r.status !== 0) {
      ok = false;
      process.stderr.write(`${cmd} ${args.join(' ')} failed: ${r.stderr}\n`);
      break;
    }
  }
  times.sort((a, b) => a - b);
  return { ms: times[Math.floor(times.length / 2)]!, cpuMs: (childrenCpuMs() - cpuBefore) / times.length, ok };
}

function has(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

function main(): void {
  const dir = mkdtempSync(join(tmpdir(), 'stack-bench-'));
  try {
    writeFileSync(join(dir, 'compose.yaml'), largeStackFile(200));
    const rows: [string, { ms: number; cpuMs: number }, number | undefined][] = [];
    // The CLI runs as a user runs it: bin/stack.js through its shebang, which starts Node
    // without NODE_EXTRA_CA_CERTS (set on this machine; Node 20 loads it at start).
    const node = medianMs(process.execPath, ['-e', ''], dir);
    const bareNode = medianMs('env', ['-u', 'NODE_EXTRA_CA_CERTS', process.execPath, '-e', ''], dir);
    const version = medianMs(STACK, ['--version'], dir);
    const config = medianMs(STACK, ['-p', 'bench', 'config'], dir);
    let peerVersion: number | undefined;
    let peerConfig: number | undefined;
    if (has('docker-compose')) {
      peerVersion = medianMs('docker-compose', ['version', '--short'], dir).ms;
      peerConfig = medianMs('docker-compose', ['-p', 'bench', 'config'], dir).ms;
    }
    rows.push(['node -e "" (as set here)', node, undefined]);
    rows.push(['node -e "" (no extra CAs)', bareNode, undefined]);
    rows.push(['--version (CLI start)', version, peerVersion]);
    rows.push(['config, 200 services', config, peerConfig]);
    console.log(`median of ${RUNS} runs, wall ms (cpu: mean CPU ms of ours); peer: docker-compose ${peerVersion === undefined ? '(not installed)' : ''}`);
    console.log('what                       stack    cpu    peer   peer/stack');
    for (const [what, ours, peer] of rows) {
      const ratio = peer === undefined ? '' : `${(peer / ours.ms).toFixed(2)}x`;
      console.log(`${what.padEnd(26)} ${ours.ms.toFixed(1).padStart(6)} ${ours.cpuMs.toFixed(1).padStart(6)} ${peer === undefined ? '     -' : peer.toFixed(1).padStart(6)}   ${ratio}`);
    }
    if (!version.ok || !config.ok) process.exitCode = 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main();
