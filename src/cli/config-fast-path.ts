// `stack config` without yargs. Editors and scripts run it on every save, and loading
// and setting up yargs costs ~100 ms of a run that is otherwise ~200 ms. A command
// line made only of `config`, its options, the global options and service names is
// read here (compose-command-line.ts); anything else (help, version, other commands,
// unusual option forms, anything yargs would refuse) goes to yargs as before, so usage
// errors and help keep their words.

import { readCommandLine } from './compose-command-line.js';
import type { ConfigArgs } from './config.js';
import type { CliIO } from './io.js';

/** Run `stack config` if `argv` is a plain config command line; false means "ask yargs". */
export async function runConfigWithoutYargs(argv: readonly string[], io: CliIO): Promise<boolean> {
  const args = readConfigCommandLine(argv);
  if (!args) return false;
  const { runConfig } = await import('./config-run.js');
  runConfig(args, io);
  return true;
}

const CONFIG_LINE = {
  command: 'config',
  flags: { '--services': 'services', '--volumes': 'volumes', '--profiles': 'profiles', '--quiet': 'quiet', '-q': 'quiet' },
  options: { '--format': 'format' },
  choices: { format: new Set(['yaml', 'json']) },
  flagsBeforeCommand: true,
} as const;

/** The arguments yargs would hand the config command, or undefined when this reader is not sure. */
export function readConfigCommandLine(argv: readonly string[]): ConfigArgs | undefined {
  const read = readCommandLine(argv, CONFIG_LINE);
  if (!read) return undefined;
  return {
    ...read.global,
    ...(read.services.length > 0 ? { service: read.services } : {}),
    format: (read.options.format ?? 'yaml') as ConfigArgs['format'],
    services: read.flags.has('services'),
    volumes: read.flags.has('volumes'),
    profiles: read.flags.has('profiles'),
    quiet: read.flags.has('quiet'),
  };
}
