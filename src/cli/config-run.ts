// What `stack config` does once its arguments are parsed: load the project and print
// it, or the lists the flags ask for.

import { NotFoundError, UsageError } from '../common/errors.js';
import { toCanonicalDocument } from '../compose/canonical.js';
import { machineLoaderHost } from '../compose/host.js';
import { loadProject } from '../compose/load.js';
import type { Project } from '../compose/model.js';
import type { ConfigArgs } from './config.js';
import { loadOptionsFrom } from './global-options.js';
import type { CliIO } from './io.js';
import { toYaml } from './yaml-output.js';

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
  io.stdout.write(args.format === 'json' ? `${JSON.stringify(doc, null, 2)}\n` : toYaml(doc));
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
