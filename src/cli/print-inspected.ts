// What every `inspect` command prints: the engine's JSON for each name, in order, as one
// array indented as docker prints it; or, with --format, the Go template filled in for
// each, a line apiece.

import type { Argv } from 'yargs';
import { engineClient } from './engine-client.js';
import { renderGoTemplate } from './go-template.js';
import type { CliIO } from './io.js';

/** The --format/-f option every inspect command takes. */
export function withInspectFormat<T>(y: Argv<T>): Argv<T> {
  return y.option('format', { type: 'string', description: 'A Go template per object, as docker inspect -f: {{.State.Status}}, {{json .Config}}, {{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' }) as unknown as Argv<T>;
}

export async function printInspected(io: CliIO, names: readonly string[], fetch: (name: string, call: (path: string) => Promise<unknown>) => Promise<unknown>, format?: string): Promise<void> {
  const client = await engineClient(io);
  const out: unknown[] = [];
  for (const name of names) out.push(await fetch(name, (path) => client.call('GET', path)));
  if (format !== undefined && format !== '' && format !== 'json') {
    io.stdout.write(out.map((o) => `${renderGoTemplate(format, o)}\n`).join(''));
    return;
  }
  io.stdout.write(`${JSON.stringify(out, null, 4)}\n`);
}
