// `stack config`: load, validate and print the normalized stack file, or list parts
// of it. The first thing to run on a new or broken file.

import type { Argv, CommandModule } from 'yargs';
import { stringify } from 'yaml';
import { NotFoundError, UsageError } from '../common/errors.js';
import { toCanonicalDocument } from '../compose/canonical.js';
import { machineLoaderHost } from '../compose/host.js';
import { loadProject } from '../compose/load.js';
import type { Project } from '../compose/model.js';
import { loadOptionsFrom, type GlobalArgs } from './global-options.js';
import type { CliIO } from './io.js';

export interface ConfigArgs extends GlobalArgs {
  service?: string[] | undefined;
  format: string;
  services: boolean;
  volumes: boolean;
  profiles: boolean;
  quiet: boolean;
}

export function configCommand(io: CliIO): CommandModule<GlobalArgs, ConfigArgs> {
  return {
    command: 'config [service..]',
    describe: 'Validate the stack file and print it in canonical form',
    builder: (y: Argv<GlobalArgs>) =>
      y
        .positional('service', { type: 'string', array: true, description: 'Only these services' })
        .option('format', { type: 'string', choices: ['yaml', 'json'], default: 'yaml', description: 'Output format' })
        .option('services', { type: 'boolean', default: false, description: 'Print the service names, one per line' })
        .option('volumes', { type: 'boolean', default: false, description: 'Print the volume names, one per line' })
        .option('profiles', { type: 'boolean', default: false, description: 'Print the profile names, one per line' })
        .option('quiet', { alias: 'q', type: 'boolean', default: false, description: 'Only validate; print nothing' }) as unknown as Argv<ConfigArgs>,
    handler: (args) => runConfig(args, io),
  };
}

export function runConfig(args: ConfigArgs, io: CliIO): void {
  const host = machineLoaderHost(io.cwd, io.env);
  const { project, warnings } = loadProject(loadOptionsFrom(args), host);
  for (const w of warnings) io.stderr.write(`warning: ${w}\n`);
  if (args.quiet) return;

  if (args.services) return printLines(io, Object.keys(project.services).sort());
  if (args.volumes) return printLines(io, Object.keys(project.volumes).sort());
  if (args.profiles) return printLines(io, allProfiles(project));

  const selected = selectServices(project, args.service ?? []);
  const doc = toCanonicalDocument(selected);
  // Printed as YAML 1.1 so that strings like "yes" and "on" stay quoted: older readers
  // (docker-compose v1, PyYAML) would take them for booleans.
  io.stdout.write(args.format === 'json' ? `${JSON.stringify(doc, null, 2)}\n` : stringify(doc, { lineWidth: 0, aliasDuplicateObjects: false, version: '1.1' }));
}

function printLines(io: CliIO, lines: string[]): void {
  if (lines.length > 0) io.stdout.write(`${lines.join('\n')}\n`);
}

function allProfiles(project: Project): string[] {
  const names = new Set<string>();
  for (const s of [...Object.values(project.services), ...Object.values(project.disabledServices ?? {})]) {
    for (const p of s.profiles ?? []) names.add(p);
  }
  return [...names].sort();
}

function selectServices(project: Project, names: string[]): Project {
  if (names.length === 0) return project;
  const services: Project['services'] = {};
  for (const name of names) {
    const s = project.services[name];
    if (!s) {
      if (project.disabledServices?.[name]) throw new UsageError(`service "${name}" is disabled by its profiles: enable one with --profile`);
      throw new NotFoundError(`no such service: "${name}"; the services are ${Object.keys(project.services).sort().join(', ')}`);
    }
    services[name] = s;
  }
  return { ...project, services };
}
