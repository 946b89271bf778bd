// A private engine in this process for a benchmark: temp root, run root and socket, the
// busybox test image, and a clean-up that leaves nothing behind (containers, netfilter
// rules, bridges, mounts, files), also after a failure.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEngine } from '../src/api/stackd.js';
import { ApiClient } from '../src/client/api-client.js';
import type { EnginePaths } from '../src/common/engine-paths.js';
import { firewallTag, sweepNetworkKernelObjects } from '../src/engine/network-service.js';
import { makeBusyboxImage } from '../src/image/bootstrap.js';
import { ImageStore } from '../src/image/store.js';
import { Firewall } from '../src/network/firewall.js';
import { unmountUnder } from './processes.js';

export interface BenchEngine {
  /** The temp dir everything is under; a bench may put its own files there too. */
  base: string;
  paths: EnginePaths;
  client: ApiClient;
  /** Stops serving (containers stay until cleanup). */
  stop(): Promise<void>;
  cleanup(): Promise<void>;
}

export async function startBenchEngine(name: string, image = 'busybox:test'): Promise<BenchEngine> {
  const base = mkdtempSync(join(tmpdir(), `stack-bench-${name}-`));
  const paths = { root: join(base, 'root'), runRoot: join(base, 'run'), socket: join(base, 'run', 'stack.sock') };
  const store = await new ImageStore(join(paths.root, 'image')).init();
  await makeBusyboxImage(store, image);
  const engine = await startEngine(paths, 'bench');
  const client = new ApiClient(paths.socket);
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await engine.stop();
  };
  return {
    base,
    paths,
    client,
    stop,
    async cleanup() {
      if (!stopped) {
        for (const c of await client.call<Array<{ Id: string }>>('GET', '/containers/json', { query: { all: 1 } }).catch(() => [])) {
          await client.call('DELETE', `/containers/${c.Id}`, { query: { force: 1 } }).catch(() => undefined);
        }
      }
      await stop().catch(() => undefined);
      await sweepNetworkKernelObjects(paths.root, new Firewall({ tag: firewallTag(paths.root) })).catch(() => undefined);
      unmountUnder(base);
      rmSync(base, { recursive: true, force: true });
    },
  };
}
