// Benchmark: what bridge networking costs. (1) Throughput and connection latency to a
// container through a published 127.0.0.1 port (kernel DNAT) versus straight to the
// container's address on its bridge: busybox httpd in the container, this process as the
// client, bounded request counts. (2) The time a network attachment adds to a container's
// start: create+start+wait of `true` on the default bridge versus `--network none`, and the
// sandbox set-up and tear-down alone. A private engine in this process, on its own root;
// traffic goes only to 127.0.0.1 and to the container on the bridge it makes. Needs root,
// busybox-static and iptables. Prints medians and ratios; asserts nothing.

import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ContainerInspect } from '../src/common/api-types.js';
import { startBenchEngine } from './private-engine.js';

const IMAGE = 'busybox:test';
const BULK_MB = Number(process.env.BENCH_BULK_MB ?? 256);
const BULK_ROUNDS = 5;
const LATENCY_REQUESTS = Number(process.env.BENCH_LATENCY_REQUESTS ?? 500);
const START_RUNS = Number(process.env.BENCH_RUNS ?? 30);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** One GET on a fresh connection; resolves the body size and the time to the last byte. */
function get(host: string, port: number, path: string, agent: Agent | false): Promise<{ bytes: number; ms: number }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path, agent, timeout: 10_000 }, (res) => {
      let bytes = 0;
      res.on('data', (c: Buffer) => (bytes += c.length));
      res.on('end', () => resolve({ bytes, ms: performance.now() - t0 }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${host}:${port}${path} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

async function throughput(host: string, port: number): Promise<number> {
  const rates: number[] = [];
  for (let i = 0; i < BULK_ROUNDS; i++) {
    const { bytes, ms } = await get(host, port, '/bulk', false);
    rates.push(bytes / 1e6 / (ms / 1000));
  }
  return median(rates);
}

async function latency(host: string, port: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < LATENCY_REQUESTS; i++) times.push((await get(host, port, '/small', false)).ms);
  return median(times);
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.log('bench/network: needs root (namespaces, bridges, iptables); skipped');
    return;
  }
  const bench = await startBenchEngine('net', IMAGE);
  const { client } = bench;
  const cleanup = (): Promise<void> => bench.cleanup();
  try {
    // --- published port versus direct --------------------------------------------------
    const { Id } = await client.call<{ Id: string }>('POST', '/containers/create', {
      query: { name: 'web' },
      body: {
        Image: IMAGE,
        Cmd: ['sh', '-c', `mkdir -p /www && dd if=/dev/zero of=/www/bulk bs=1M count=${BULK_MB} 2>/dev/null && echo ok > /www/small && httpd -f -p 80 -h /www`],
        HostConfig: { PortBindings: { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] }, Tmpfs: { '/www': 'size=1g' } },
      },
    });
    await client.call('POST', `/containers/${Id}/start`);
    const info = await client.call<ContainerInspect>('GET', `/containers/${Id}/json`);
    const published = Number(info.NetworkSettings.Ports['80/tcp']![0]!.HostPort);
    const direct = info.NetworkSettings.IPAddress;
    for (let i = 0; i < 100; i++) {
      if ((await get(direct, 80, '/small', false).catch(() => ({ bytes: 0 }))).bytes > 0) break;
      await sleep(50);
    }
    await throughput(direct, 80);
    const directRate = await throughput(direct, 80);
    const publishedRate = await throughput('127.0.0.1', published);
    const directLatency = await latency(direct, 80);
    const publishedLatency = await latency('127.0.0.1', published);
    console.log(`throughput (${BULK_MB} MB GET, median of ${BULK_ROUNDS}): direct ${directRate.toFixed(0)} MB/s, published 127.0.0.1 ${publishedRate.toFixed(0)} MB/s -> ${(publishedRate / directRate).toFixed(2)}x of direct (target >= 0.80)`);
    console.log(`connect+request+close latency (median of ${LATENCY_REQUESTS}): direct ${(directLatency * 1000).toFixed(0)} us, published ${(publishedLatency * 1000).toFixed(0)} us -> ${(directLatency / publishedLatency).toFixed(2)}x of direct's rate`);
    await client.call('DELETE', `/containers/${Id}`, { query: { force: 1 } });

    // --- what an attachment adds to a start --------------------------------------------
    const lifecycle = async (networkMode: string): Promise<number> => {
      const t0 = performance.now();
      const { Id: id } = await client.call<{ Id: string }>('POST', '/containers/create', { body: { Image: IMAGE, Cmd: ['true'], HostConfig: { NetworkMode: networkMode } } });
      const waiting = client.call('POST', `/containers/${id}/wait`, { query: { condition: 'next-exit' } });
      await client.call('POST', `/containers/${id}/start`);
      await waiting;
      const ms = performance.now() - t0;
      await client.call('DELETE', `/containers/${id}`, { query: { force: 1 } });
      return ms;
    };
    // Nothing else runs on the engine: back-to-back runs find the default bridge still
    // lingering from the one before, and only the first makes it (its rules, its DNS).
    const none: number[] = [];
    const bridged: number[] = [];
    for (let i = 0; i < START_RUNS + 3; i++) {
      const a = await lifecycle('none');
      const b = await lifecycle('bridge');
      if (i >= 3) {
        none.push(a);
        bridged.push(b);
      }
    }
    const added = median(bridged) - median(none);
    console.log(`container create+start+exit (median of ${START_RUNS}): --network none ${median(none).toFixed(1)} ms, default bridge ${median(bridged).toFixed(1)} ms -> the attachment adds ${added.toFixed(1)} ms (target < 10 ms)`);
  } finally {
    await cleanup();
  }
}

await main();
