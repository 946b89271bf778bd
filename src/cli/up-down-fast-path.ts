// `stack up` and `stack down` without yargs: they are the commands a developer runs (and
// waits for) most, and loading yargs and laying out its usage text costs more than the
// engine's whole work for a small stack. Plain command lines are read here
// (compose-command-line.ts); anything else goes to yargs as before.

import { readCommandLine } from './compose-command-line.js';
import type { DownArgs } from './down.js';
import type { CliIO } from './io.js';
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

/** Runs `stack up` or `stack down` if `argv` is a plain line of either; false means "ask yargs". */
export async function runUpDownWithoutYargs(argv: readonly string[], io: CliIO): Promise<boolean> {
  const up = readUpCommandLine(argv);
  if (up) {
    const { runUp } = await import('./up.js');
    await runUp(up, io);
    return true;
  }
  const down = readDownCommandLine(argv);
  if (down) {
    const { runDown } = await import('./down.js');
    await runDown(down, io);
    return true;
  }
  return false;
}
