// The command table: one module per command, registered here, parsed by yargs.
// Loaded only when a command runs (see main.ts), since yargs is slow to load.

import yargs from 'yargs';
import { UsageError } from '../common/errors.js';
import { configCommand } from './config.js';
import { imageCommand } from './image.js';
import { builderCommand } from './builder.js';
import { buildCommand } from './build.js';
import { runCommand, separateRunCommand } from './run.js';
import { engineCommand } from './engine.js';
import { psCommand } from './ps.js';
import { logsCommand } from './logs.js';
import { execCommand } from './exec.js';
import { lifecycleCommands } from './container-lifecycle.js';
import { inspectCommand } from './inspect.js';
import { imagesCommand } from './images.js';
import { topCommand } from './top.js';
import { portCommand } from './port.js';
import { cpCommand } from './cp.js';
import { statsCommand } from './stats.js';
import { networkCommand } from './network.js';
import { volumeCommand } from './volume.js';
import { pullCommand } from './pull.js';
import { pushCommand } from './push.js';
import { tagCommand } from './tag.js';
import { loginCommand } from './login.js';
import { logoutCommand } from './logout.js';
import { upCommand } from './up.js';
import { downCommand } from './down.js';
import { saveCommand } from './save.js';
import { loadCommand } from './load.js';
import { rmiCommand } from './rmi.js';
import { lsCommand } from './ls.js';
import { waitCommand } from './wait.js';
import { eventsCommand } from './events.js';
import { watchCommand } from './watch.js';
import { commandShortFlags } from './command-short-flags.js';
import { withGlobalOptions } from './global-options.js';
import type { CliIO } from './io.js';
import { stackVersion } from './main.js';

/** Parse and run one command line; errors propagate to main.ts. */
export async function runCommandLine(argv: readonly string[], io: CliIO): Promise<void> {
  const parser = withGlobalOptions(yargs(commandShortFlags(separateRunCommand(argv))))
    .scriptName('stack')
    .usage('$0 <command> [options]\n\nMulti-container dev environments from Compose files, on a runtime of our own.')
    .command(configCommand(io))
    .command(imageCommand(io))
    .command(buildCommand(io))
    .command(builderCommand(io))
    .command(runCommand(io))
    .command(engineCommand(io))
    .command(psCommand(io))
    .command(logsCommand(io))
    .command(execCommand(io))
    .command(lifecycleCommands(io))
    .command(inspectCommand(io))
    .command(imagesCommand(io))
    .command(topCommand(io))
    .command(portCommand(io))
    .command(cpCommand(io))
    .command(statsCommand(io))
    .command(networkCommand(io))
    .command(volumeCommand(io))
    .command(pullCommand(io))
    .command(pushCommand(io))
    .command(tagCommand(io))
    .command(loginCommand(io))
    .command(logoutCommand(io))
    .command(upCommand(io))
    .command(downCommand(io))
    .command(saveCommand(io))
    .command(loadCommand(io))
    .command(rmiCommand(io))
    .command(lsCommand(io))
    .command(waitCommand(io))
    .command(eventsCommand(io))
    .command(watchCommand(io))
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
