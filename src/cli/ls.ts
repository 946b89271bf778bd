// `stack ls`: the projects the engine has, told by the project label on their containers,
// as `docker compose ls` lists them: name, how many containers are in each state, and the
// stack files they were made from.

import type { Argv, CommandModule } from 'yargs';
import type { ContainerSummary } from '../common/api-types.js';
import { UsageError } from '../common/errors.js';
import { LABEL } from '../compose/labels.js';
import { engineClient, list } from './engine-client.js';
import type { GlobalArgs } from './global-options.js';
import type { CliIO } from './io.js';
import { printTable } from './table.js';

interface LsArgs extends GlobalArgs {
  all: boolean;
  quiet: boolean;
  format?: string | undefined;
  filter?: string | string[] | undefined;
}

export interface ProjectListing {
  Name: string;
  Status: string;
  ConfigFiles: string;
}

export function lsCommand(io: CliIO): CommandModule<GlobalArgs, LsArgs> {
  return {
    command: 'ls',
    describe: 'List the projects the engine has (running ones; all with -a)',
    builder: (y: Argv<GlobalArgs>) =>
      y
        .option('all', { alias: 'a', type: 'boolean', default: false, description: 'Include projects whose containers are all stopped' })
        .option('quiet', { alias: 'q', type: 'boolean', default: false, description: 'Only the names' })
        .option('format', { type: 'string', choices: ['table', 'json'], description: 'Output format' })
        .option('filter', { type: 'string', description: 'name=TEXT: projects whose name contains it (repeatable)' }) as unknown as Argv<LsArgs>,
    handler: async (args) => {
      const names = list(args.filter).map((f) => {
        const m = /^name=(.*)$/.exec(f);
        if (!m) throw new UsageError(`ls --filter ${f}: only name=TEXT filters projects`);
        return m[1]!;
      });
      const client = await engineClient(io);
      const containers = await client.call<ContainerSummary[]>('GET', '/containers/json', { query: { all: 1, filters: JSON.stringify({ label: [LABEL.project] }) } });
      const projects = listProjects(containers)
        .filter((p) => args.all || /running\(/.test(p.Status))
        .filter((p) => names.length === 0 || names.some((n) => p.Name.includes(n)));
      if (args.quiet) {
        for (const p of projects) io.stdout.write(`${p.Name}\n`);
      } else if (args.format === 'json') {
        io.stdout.write(`${JSON.stringify(projects)}\n`);
      } else {
        printTable(io, ['NAME', 'STATUS', 'CONFIG FILES'], projects.map((p) => [p.Name, p.Status, p.ConfigFiles]));
      }
    },
  };
}

/** One entry per project label value, by name; states counted as Compose does ("exited(1), running(2)"). */
export function listProjects(containers: readonly ContainerSummary[]): ProjectListing[] {
  const byProject = new Map<string, ContainerSummary[]>();
  for (const c of containers) {
    const name = c.Labels[LABEL.project];
    if (name) byProject.set(name, [...(byProject.get(name) ?? []), c]);
  }
  return [...byProject].sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, members]) => {
    const counts = new Map<string, number>();
    for (const c of members) counts.set(c.State, (counts.get(c.State) ?? 0) + 1);
    const files = [...new Set(members.map((c) => c.Labels[LABEL.configFiles]).filter((f): f is string => Boolean(f)))];
    return {
      Name: name,
      Status: [...counts].sort(([a], [b]) => (a < b ? -1 : 1)).map(([state, n]) => `${state}(${n})`).join(', '),
      ConfigFiles: files.join(','),
    };
  });
}
