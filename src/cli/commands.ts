// The command table: one module per command, registered here, parsed by yargs.
// Loaded only when a command runs (see main.ts), since yargs is slow to load; of the
// commands, only the one the line names.

import yargs from 'yargs';
import { UsageError } from '../common/errors.js';
import { commandShortFlags, commandWordIndex } from './command-short-flags.js';
import { withGlobalOptions } from './global-options.js';
import { environmentWithHost } from './host-option.js';
import type { CliIO } from './io.js';
import { stackVersion } from './main.js';

/**
 * The commands in the order `stack --help` lists them: the words that name each, and its
 * module, loaded only for a line that names it (all of them for help, completion or a
 * word that names none, so yargs can list them or say what is unknown).
 */
const COMMAND_TABLE: ReadonlyArray<{ words: readonly string[]; load: (io: CliIO) => Promise<unknown> }> = [
  { words: ['config'], load: async (io) => (await import('./config.js')).configCommand(io) },
  { words: ['image'], load: async (io) => (await import('./image.js')).imageCommand(io) },
  { words: ['build'], load: async (io) => (await import('./build.js')).buildCommand(io) },
  { words: ['builder'], load: async (io) => (await import('./builder.js')).builderCommand(io) },
  { words: ['run'], load: async (io) => (await import('./run.js')).runCommand(io) },
  { words: ['engine'], load: async (io) => (await import('./engine.js')).engineCommand(io) },
  { words: ['ps'], load: async (io) => (await import('./ps.js')).psCommand(io) },
  { words: ['logs'], load: async (io) => (await import('./logs.js')).logsCommand(io) },
  { words: ['exec'], load: async (io) => (await import('./exec.js')).execCommand(io) },
  { words: ['start', 'stop', 'restart', 'pause', 'unpause', 'kill', 'rm'], load: async (io) => (await import('./container-lifecycle.js')).lifecycleCommands(io) },
  { words: ['inspect'], load: async (io) => (await import('./inspect.js')).inspectCommand(io) },
  { words: ['images'], load: async (io) => (await import('./images.js')).imagesCommand(io) },
  { words: ['top'], load: async (io) => (await import('./top.js')).topCommand(io) },
  { words: ['port'], load: async (io) => (await import('./port.js')).portCommand(io) },
  { words: ['cp'], load: async (io) => (await import('./cp.js')).cpCommand(io) },
  { words: ['stats'], load: async (io) => (await import('./stats.js')).statsCommand(io) },
  { words: ['network'], load: async (io) => (await import('./network.js')).networkCommand(io) },
  { words: ['volume'], load: async (io) => (await import('./volume.js')).volumeCommand(io) },
  { words: ['pull'], load: async (io) => (await import('./pull.js')).pullCommand(io) },
  { words: ['push'], load: async (io) => (await import('./push.js')).pushCommand(io) },
  { words: ['tag'], load: async (io) => (await import('./tag.js')).tagCommand(io) },
  { words: ['login'], load: async (io) => (await import('./login.js')).loginCommand(io) },
  { words: ['logout'], load: async (io) => (await import('./logout.js')).logoutCommand(io) },
  { words: ['up'], load: async (io) => (await import('./up.js')).upCommand(io) },
  { words: ['down'], load: async (io) => (await import('./down.js')).downCommand(io) },
  { words: ['save'], load: async (io) => (await import('./save.js')).saveCommand(io) },
  { words: ['load'], load: async (io) => (await import('./load.js')).loadCommand(io) },
  { words: ['rmi'], load: async (io) => (await import('./rmi.js')).rmiCommand(io) },
  { words: ['ls'], load: async (io) => (await import('./ls.js')).lsCommand(io) },
  { words: ['wait'], load: async (io) => (await import('./wait.js')).waitCommand(io) },
  { words: ['events'], load: async (io) => (await import('./events.js')).eventsCommand(io) },
  { words: ['watch'], load: async (io) => (await import('./watch.js')).watchCommand(io) },
];

/** Parse and run one command line; errors propagate to main.ts. */
export async function runCommandLine(argv: readonly string[], io: CliIO): Promise<void> {
  // A --host after the command word (main.ts takes one before it): the commands find the
  // engine in their io's environment, read when they run, after this middleware.
  let env = io.env;
  const commandIO: CliIO = { ...io, get env() { return env; } };
  // `run` and `exec` take everything after their image or container as its command.
  const line = argv.includes('run') || argv.includes('exec') ? (await import('./run.js')).separateRunCommand(argv) : [...argv];
  const parser = withGlobalOptions(yargs(commandShortFlags(line)))
    .scriptName('stack')
    .usage('$0 <command> [options]\n\nMulti-container dev environments from Compose files, on a runtime of our own.');
  const word = argv[commandWordIndex(argv)];
  const named = COMMAND_TABLE.filter((c) => word !== undefined && c.words.includes(word));
  // Each module (or array of them: start|stop|...) is typed with its own arguments, which yargs leaves to it.
  for (const command of named.length > 0 ? named : COMMAND_TABLE) parser.command((await command.load(commandIO)) as never);
  parser
    .middleware((args) => {
      if (typeof args.host === 'string') env = environmentWithHost(env, args.host);
    }, true)
    .completion('completion', 'Print a bash/zsh completion script (source it from your shell rc)')
    .demandCommand(1, 'name a command, e.g. "stack config"; see "stack --help"')
    .strict()
    .version(stackVersion())
    .help()
    .alias('help', 'h')
    .alias('version', 'V')
    .wrap(Math.min(110, process.stdout.columns ?? 100))
    .exitProcess(false)
    .showHelpOnFail(false)
    .fail((msg, err) => {
      throw err ?? new UsageError(msg);
    });
  skipHelpRendering(parser);
  const out = captureYargsOutput(io);
  try {
    await parser.parseAsync();
  } finally {
    out.flush();
  }
}

/**
 * yargs lays out a command's whole help text as soon as its handler starts, to have it should
 * the handler fail later: ~30 ms of every command (string widths and wrapping of every line)
 * for a text never shown, since failures are ours to report (fail() throws, no help on fail).
 * `--help` itself is unaffected: it is answered before any handler runs.
 */
function skipHelpRendering(parser: unknown): void {
  const internals = (parser as { getInternalMethods?: () => { getUsageInstance(): { cacheHelpMessage?: () => void } } }).getInternalMethods?.();
  const usage = internals?.getUsageInstance();
  if (usage?.cacheHelpMessage) usage.cacheHelpMessage = () => undefined;
}

/**
 * yargs prints help and version through console.log; route that to the injected
 * stdout so in-process runs capture it and nothing leaks to the test's terminal.
 */
function captureYargsOutput(io: CliIO) {
  let text = '';
  const originalLog = console.log;
  const originalError = console.error;
  console.log = (...parts: unknown[]) => { text += `${parts.join(' ')}\n`; };
  console.error = (...parts: unknown[]) => { io.stderr.write(`${parts.join(' ')}\n`); };
  return {
    flush() {
      console.log = originalLog;
      console.error = originalError;
      if (text) io.stdout.write(text);
      text = '';
    },
  };
}
