// Finds the engine for the CLI, starting one in the background when nothing answers on
// the socket (as the first `stack` command on a machine does), and says so once.

import { mkdirSync, openSync } from 'node:fs';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { engineLogFile, type EnginePaths } from '../common/engine-paths.js';
import { RuntimeFailure } from '../common/errors.js';
import { holdCaCertificates } from '../common/held-ca-certificates.js';
import { ApiClient } from './api-client.js';

const STACKD = resolve(import.meta.dirname, '../../../bin/stackd.js');
/**
 * V8 flags the engine runs with (bin/stackd.js's shebang names them too). A 1 MB young
 * generation, one V8 worker thread and a 4 MB initial heap (a full GC early, on a small heap,
 * instead of garbage kept until the heap grows) keep an idle engine ~6 MB smaller after it has
 * run containers; its work is I/O and small requests, which none of them slows measurably.
 * (--no-opt would save ~4 MB more but makes log streaming ~2x slower.)
 */
export const ENGINE_NODE_FLAGS = ['--max-semi-space-size=1', '--v8-pool-size=1', '--initial-heap-size=4'];
const START_TIMEOUT_MS = 10_000;

export async function connectEngine(paths: EnginePaths, options: { autostart: boolean; say: (line: string) => void }): Promise<ApiClient> {
  const client = new ApiClient(paths.socket);
  if (await client.ping()) return client;
  if (!options.autostart) throw new RuntimeFailure(`no engine answers on ${paths.socket}: start one with "stack engine"`);
  mkdirSync(paths.runRoot, { recursive: true, mode: 0o711 });
  const log = engineLogFile(paths);
  const out = openSync(log, 'a');
  // Loaded only here: node:child_process costs every command ~9 ms to load, and the engine is usually up.
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, [...ENGINE_NODE_FLAGS, STACKD, '--root', paths.root, '--run-root', paths.runRoot, '--socket', paths.socket], {
    detached: true,
    stdio: ['ignore', out, out],
    // As bin/stackd.js does: Node does not load the extra CA file at start, the engine does at its first TLS.
    env: holdCaCertificates(process.env),
  });
  let exited: number | null = null;
  child.once('exit', (code) => (exited = code ?? 1));
  child.unref();
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (await client.ping()) {
      options.say(`stack: started the engine (pid ${child.pid}, socket ${paths.socket}, log ${log})`);
      return client;
    }
    // Another CLI may have started one at the same moment: ours then exits, theirs answers.
    if (exited !== null && exited !== 0) {
      if (await client.ping()) return client;
      throw new RuntimeFailure(`the engine failed to start (exit ${exited}); see ${log}`);
    }
    await sleep(25);
  }
  throw new RuntimeFailure(`the engine did not answer on ${paths.socket} within ${START_TIMEOUT_MS / 1000} s; see ${log}`);
}
