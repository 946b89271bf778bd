// `stack ps`: in a project (see project-scope.ts), its containers as `docker compose ps`
// lists them; elsewhere the engine's containers, as `docker ps` lists them.

import type { Argv, CommandModule } from 'yargs';
import type { ContainerSummary } from '../common/api-types.js';
import { UsageError } from '../common/errors.js';
import { engineClient, list } from './engine-client.js';
import type { GlobalArgs } from './global-options.js';
import type { CliIO } from './io.js';
import { containerNameOf, findProjectScope, noProject, type ProjectScope, requireServices, serviceOf } from './project-scope.js';
import { printTable } from './table.js';

export interface PsArgs extends GlobalArgs {
  service?: string[] | undefined;
  all: boolean;
  quiet: boolean;
  services: boolean;
  status?: string | string[] | undefined;
  format?: string | undefined;
  filter?: string | string[] | undefined;
}

const STATES = ['paused', 'restarting', 'removing', 'running', 'dead', 'created', 'exited'];

export function psCommand(io: CliIO): CommandModule<GlobalArgs, PsArgs> {
  return {
    command: 'ps [service..]',
    describe: 'List the project\'s containers (in a project), or all containers',
    builder: (y: Argv<GlobalArgs>) =>
      y
        .positional('service', { type: 'string', array: true, description: 'Only these services (in a project)' })
        .option('all', { alias: 'a', type: 'boolean', default: false, description: 'Include stopped containers' })
        .option('quiet', { alias: 'q', type: 'boolean', default: false, description: 'Only IDs' })
        .option('services', { type: 'boolean', default: false, description: 'Only the service names (in a project)' })
        .option('status', { type: 'string', description: `Only containers in this state (repeatable): ${STATES.join(', ')}` })
        .option('format', { type: 'string', choices: ['table', 'json'], description: 'Output format' })
        .option('filter', { type: 'string', description: 'label=K[=V], name=, status= (repeatable)' }) as unknown as Argv<PsArgs>,
    handler: (args) => runPs(args, io),
  };
}

/** What `ps` does once its command line is read (by yargs, or by plain-command-lines.ts). */
export async function runPs(args: PsArgs, io: CliIO): Promise<void> {
  const client = await engineClient(io);
  const filters = parseFilters(args.filter);
  const scope = await findProjectScope(args, io, client);
  if (scope) {
    printProjectContainers(io, scope, args, filters);
    return;
  }
  if (args.service?.length) throw noProject(`ps ${args.service.join(' ')}: service names need a project`);
  if (args.services) throw noProject('ps --services needs a project');
  for (const s of list(args.status)) (filters.status ??= []).push(s);
  const rows = await client.call<ContainerSummary[]>('GET', '/containers/json', { query: { all: args.all ? 1 : 0, ...(Object.keys(filters).length ? { filters: JSON.stringify(filters) } : {}) } });
  if (args.quiet) {
    for (const r of rows) io.stdout.write(`${r.Id.slice(0, 12)}\n`);
  } else if (args.format === 'json') {
    for (const r of rows) io.stdout.write(`${JSON.stringify({ ID: r.Id.slice(0, 12), Names: r.Names.map((n) => n.slice(1)).join(','), Image: r.Image, Command: r.Command, State: r.State, Status: r.Status, Ports: portsText(r.Ports), Labels: r.Labels })}\n`);
  } else {
    printTable(io, ['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES'], rows.map((r) => [
      r.Id.slice(0, 12), r.Image, quotedCommand(r.Command), ago(r.Created), r.Status, portsText(r.Ports), r.Names.map((n) => n.slice(1)).join(','),
    ]));
  }
}

function parseFilters(values: string | string[] | undefined): Record<string, string[]> {
  const filters: Record<string, string[]> = {};
  for (const f of list(values)) {
    const at = f.indexOf('=');
    const key = at === -1 ? f : f.slice(0, at);
    (filters[key] ??= []).push(at === -1 ? '' : f.slice(at + 1));
  }
  return filters;
}

/** `docker compose ps`: running containers (all with -a or --status), sorted by name. */
function printProjectContainers(io: CliIO, scope: ProjectScope, args: PsArgs, filters: Record<string, string[]>): void {
  const unsupported = Object.keys(filters).filter((k) => k !== 'status');
  if (unsupported.length) throw new UsageError(`ps --filter ${unsupported[0]}=...: in a project only status= filters; use --status, or SERVICE names`);
  const statuses = [...list(args.status), ...(filters.status ?? [])];
  for (const s of statuses) if (!STATES.includes(s)) throw new UsageError(`--status ${s}: not a container state; use one of ${STATES.join(', ')}`);
  requireServices(scope, args.service ?? []);
  const rows = scope.containers
    .filter((c) => !args.service?.length || args.service.includes(serviceOf(c)))
    .filter((c) => (statuses.length ? statuses.includes(c.State) : args.all || ['running', 'restarting', 'paused'].includes(c.State)))
    .sort((a, b) => (containerNameOf(a) < containerNameOf(b) ? -1 : 1));
  if (args.services) {
    for (const s of [...new Set(rows.map(serviceOf))]) io.stdout.write(`${s}\n`);
  } else if (args.quiet) {
    for (const r of rows) io.stdout.write(`${r.Id}\n`);
  } else if (args.format === 'json') {
    for (const r of rows) {
      io.stdout.write(`${JSON.stringify({
        ID: r.Id, Name: containerNameOf(r), Image: r.Image, Command: r.Command, Project: scope.name, Service: serviceOf(r),
        Created: r.Created, State: r.State, Status: r.Status, ExitCode: exitCodeOf(r.Status), Ports: portsText(r.Ports),
        Publishers: r.Ports.map((p) => ({ URL: p.IP ?? '', TargetPort: p.PrivatePort, PublishedPort: p.PublicPort ?? 0, Protocol: p.Type })),
        Labels: r.Labels,
      })}\n`);
    }
  } else {
    printTable(io, ['NAME', 'IMAGE', 'COMMAND', 'SERVICE', 'CREATED', 'STATUS', 'PORTS'], rows.map((r) => [
      containerNameOf(r), r.Image, quotedCommand(r.Command), serviceOf(r), ago(r.Created), r.Status, portsText(r.Ports),
    ]));
  }
}

function exitCodeOf(status: string): number {
  return Number(/^Exited \((-?\d+)\)/.exec(status)?.[1] ?? 0);
}

function quotedCommand(command: string): string {
  return `"${command.length > 20 ? `${command.slice(0, 19)}…` : command}"`;
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
