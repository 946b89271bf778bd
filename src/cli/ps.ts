// `stack ps`: the engine's containers, as `docker ps` lists them.

import type { Argv, CommandModule } from 'yargs';
import type { ContainerSummary } from '../common/api-types.js';
import { engineClient } from './engine-client.js';
import type { GlobalArgs } from './global-options.js';
import type { CliIO } from './io.js';
import { printTable } from './table.js';

interface PsArgs extends GlobalArgs {
  all: boolean;
  quiet: boolean;
  format?: string | undefined;
  filter?: string | string[] | undefined;
}

export function psCommand(io: CliIO): CommandModule<GlobalArgs, PsArgs> {
  return {
    command: 'ps',
    describe: 'List containers',
    builder: (y: Argv<GlobalArgs>) =>
      y
        .option('all', { alias: 'a', type: 'boolean', default: false, description: 'Include stopped containers' })
        .option('quiet', { alias: 'q', type: 'boolean', default: false, description: 'Only IDs' })
        .option('format', { type: 'string', choices: ['table', 'json'], description: 'Output format' })
        .option('filter', { type: 'string', description: 'label=K[=V], name=, status= (repeatable)' }) as unknown as Argv<PsArgs>,
    handler: async (args) => {
      const client = await engineClient(io);
      const filters: Record<string, string[]> = {};
      for (const f of [args.filter ?? []].flat()) {
        const at = f.indexOf('=');
        const key = at === -1 ? f : f.slice(0, at);
        (filters[key] ??= []).push(at === -1 ? '' : f.slice(at + 1));
      }
      const rows = await client.call<ContainerSummary[]>('GET', '/containers/json', { query: { all: args.all ? 1 : 0, ...(Object.keys(filters).length ? { filters: JSON.stringify(filters) } : {}) } });
      if (args.quiet) {
        for (const r of rows) io.stdout.write(`${r.Id.slice(0, 12)}\n`);
      } else if (args.format === 'json') {
        for (const r of rows) io.stdout.write(`${JSON.stringify({ ID: r.Id.slice(0, 12), Names: r.Names.map((n) => n.slice(1)).join(','), Image: r.Image, Command: r.Command, State: r.State, Status: r.Status, Ports: portsText(r.Ports), Labels: r.Labels })}\n`);
      } else {
        printTable(io, ['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES'], rows.map((r) => [
          r.Id.slice(0, 12), r.Image, `"${r.Command.length > 20 ? `${r.Command.slice(0, 19)}…` : r.Command}"`, ago(r.Created), r.Status, portsText(r.Ports), r.Names.map((n) => n.slice(1)).join(','),
        ]));
      }
    },
  };
}

function ago(unixSeconds: number): string {
  const s = Math.max(0, Math.round(Date.now() / 1000 - unixSeconds));
  if (s < 60) return `${s} seconds ago`;
  if (s < 3600) return `${Math.round(s / 60)} minutes ago`;
  if (s < 172800) return `${Math.round(s / 3600)} hours ago`;
  return `${Math.round(s / 86400)} days ago`;
}

/** `127.0.0.1:8080->80/tcp, 53/udp`, as docker ps prints them. */
export function portsText(ports: ContainerSummary['Ports']): string {
  return ports.map((p) => (p.PublicPort ? `${p.IP}:${p.PublicPort}->${p.PrivatePort}/${p.Type}` : `${p.PrivatePort}/${p.Type}`)).join(', ');
}
