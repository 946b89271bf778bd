// `stack up`, `down`, `ps` and `logs` without yargs: they are the commands a developer runs
// (and waits for) most, and loading yargs (~70-130 ms) costs more than the engine's whole
// work for a small stack. Plain command lines are read here (compose-command-line.ts);
// anything else goes to yargs as before, whose words for usage errors and help stay the
// only ones.

import { commandShortFlags } from './command-short-flags.js';
import { readCommandLine } from './compose-command-line.js';
import type { DownArgs } from './down.js';
import type { CliIO } from './io.js';
import type { LogsArgs } from './logs.js';
import type { PsArgs } from './ps.js';
import type { UpArgs } from './up.js';

const FORMATS = new Set(['plain', 'json']);

const UP_LINE = {
  command: 'up',
  flags: {
    '-d': 'detach', '--detach': 'detach', '--wait': 'wait', '--dry-run': 'dryRun', '--force-recreate': 'forceRecreate',
    '--no-recreate': 'noRecreate', '--no-deps': 'noDeps', '--remove-orphans': 'removeOrphans', '--renew-anon-volumes': 'renewAnonVolumes',
    '--build': 'build', '--no-build': 'noBuild', '--no-tui': 'noTui', '-w': 'watch', '--watch': 'watch',
  },
  options: { '--format': 'format' },
  choices: { format: FORMATS },
  flagsBeforeCommand: false,
} as const;

const DOWN_LINE = {
  command: 'down',
  flags: { '-v': 'volumes', '--volumes': 'volumes', '--remove-orphans': 'removeOrphans' },
  options: { '--format': 'format' },
  choices: { format: FORMATS },
  flagsBeforeCommand: false,
} as const;

const PS_LINE = {
  command: 'ps',
  flags: { '-a': 'all', '--all': 'all', '-q': 'quiet', '--quiet': 'quiet', '--services': 'services' },
  options: { '--format': 'format' },
  choices: { format: new Set(['table', 'json']) },
  flagsBeforeCommand: false,
} as const;

const LOGS_LINE = {
  command: 'logs',
  // -f is --follow after the command word (command-short-flags.ts).
  flags: { '--follow': 'follow', '-t': 'timestamps', '--timestamps': 'timestamps', '--no-log-prefix': 'noLogPrefix', '--no-color': 'noColor' },
  options: { '--tail': 'tail', '-n': 'tail', '--since': 'since', '--until': 'until' },
  choices: {},
  flagsBeforeCommand: false,
} as const;

/** The arguments yargs would hand the up command, or undefined when this reader is not sure. */
export function readUpCommandLine(argv: readonly string[]): UpArgs | undefined {
  const read = readCommandLine(argv, UP_LINE);
  // yargs lets the last of --build and --no-build win; an unusual line, left to it.
  if (!read || (read.flags.has('build') && read.flags.has('noBuild'))) return undefined;
  const build = read.flags.has('build') ? true : read.flags.has('noBuild') ? false : undefined;
  return {
    ...read.global,
    ...(read.services.length > 0 ? { service: read.services } : {}),
    detach: read.flags.has('detach'),
    dryRun: read.flags.has('dryRun'),
    wait: read.flags.has('wait'),
    forceRecreate: read.flags.has('forceRecreate'),
    recreate: !read.flags.has('noRecreate'),
    deps: !read.flags.has('noDeps'),
    removeOrphans: read.flags.has('removeOrphans'),
    renewAnonVolumes: read.flags.has('renewAnonVolumes'),
    ...(build !== undefined ? { build } : {}),
    abortOnContainerExit: false,
    format: (read.options.format ?? 'plain') as UpArgs['format'],
    tui: !read.flags.has('noTui'),
    watch: read.flags.has('watch'),
  };
}

/** The arguments yargs would hand the down command, or undefined when this reader is not sure. */
export function readDownCommandLine(argv: readonly string[]): DownArgs | undefined {
  const read = readCommandLine(argv, DOWN_LINE);
  // `down` takes no service names: yargs says so.
  if (!read || read.services.length > 0) return undefined;
  return {
    ...read.global,
    volumes: read.flags.has('volumes'),
    removeOrphans: read.flags.has('removeOrphans'),
    format: (read.options.format ?? 'plain') as DownArgs['format'],
  };
}

/** The arguments yargs would hand the ps command, or undefined when this reader is not sure. */
export function readPsCommandLine(argv: readonly string[]): PsArgs | undefined {
  const read = readCommandLine(argv, PS_LINE);
  if (!read) return undefined;
  return {
    ...read.global,
    ...(read.services.length > 0 ? { service: read.services } : {}),
    all: read.flags.has('all'),
    quiet: read.flags.has('quiet'),
    services: read.flags.has('services'),
    ...(read.options.format !== undefined ? { format: read.options.format } : {}),
  };
}

/** The arguments yargs would hand the logs command, or undefined when this reader is not sure. */
export function readLogsCommandLine(argv: readonly string[]): LogsArgs | undefined {
  const read = readCommandLine(commandShortFlags(argv), LOGS_LINE);
  if (!read) return undefined;
  return {
    ...read.global,
    ...(read.services.length > 0 ? { names: read.services } : {}),
    follow: read.flags.has('follow'),
    timestamps: read.flags.has('timestamps'),
    logPrefix: !read.flags.has('noLogPrefix'),
    color: !read.flags.has('noColor'),
    ...(read.options.tail !== undefined ? { tail: read.options.tail } : {}),
    ...(read.options.since !== undefined ? { since: read.options.since } : {}),
    ...(read.options.until !== undefined ? { until: read.options.until } : {}),
  };
}

type PlainCommand = (argv: readonly string[], io: CliIO) => Promise<boolean>;

/** A command read here: its reader, and its runner, loaded only for a line the reader took. */
function plainCommand<A>(read: (argv: readonly string[]) => A | undefined, runner: () => Promise<(args: A, io: CliIO) => Promise<void>>): PlainCommand {
  return async (argv, io) => {
    const args = read(argv);
    if (args === undefined) return false;
    await (await runner())(args, io);
    return true;
  };
}

const PLAIN_COMMANDS: readonly PlainCommand[] = [
  plainCommand(readUpCommandLine, async () => (await import('./up.js')).runUp),
  plainCommand(readDownCommandLine, async () => (await import('./down.js')).runDown),
  plainCommand(readPsCommandLine, async () => (await import('./ps.js')).runPs),
  plainCommand(readLogsCommandLine, async () => (await import('./logs.js')).runLogs),
];

/** Runs `stack up`, `down`, `ps` or `logs` if `argv` is a plain line of one; false means "ask yargs". */
export async function runPlainCommandLine(argv: readonly string[], io: CliIO): Promise<boolean> {
  for (const command of PLAIN_COMMANDS) if (await command(argv, io)) return true;
  return false;
}
