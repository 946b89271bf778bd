// What every `inspect` command prints: the engine's JSON for each name, in order, as one
// array indented as docker prints it.

import { engineClient } from './engine-client.js';
import type { CliIO } from './io.js';

export async function printInspected(io: CliIO, names: readonly string[], fetch: (name: string, call: (path: string) => Promise<unknown>) => Promise<unknown>): Promise<void> {
  const client = await engineClient(io);
  const out: unknown[] = [];
  for (const name of names) out.push(await fetch(name, (path) => client.call('GET', path)));
  io.stdout.write(`${JSON.stringify(out, null, 4)}\n`);
}
