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
import { environmentWithHost } from './host-option.js';
import type { CliIO } from './io.js';
import { stackVersion } from './main.js';

/** Parse and run one command line; errors propagate to main.ts. */
export async function runCommandLine(argv: readonly string[], io: CliIO): Promise<void> {
  // A --host after the command word (main.ts takes one before it): the commands find the
  // engine in their io's environment, read when they run, after this middleware.
  let env = io.env;
  const commandIO: CliIO = { ...io, get env() { return env; } };
  const parser = withGlobalOptions(yargs(commandShortFlags(separateRunCommand(argv))))
    .scriptName('stack')
    .usage('$0 <command> [options]\n\nMulti-container dev environments from Compose files, on a runtime of our own.')
    .command(configCommand(commandIO))
    .command(imageCommand(commandIO))
    .command(buildCommand(commandIO))
    .command(builderCommand(commandIO))
    .command(runCommand(commandIO))
    .command(engineCommand(commandIO))
    .command(psCommand(commandIO))
    .command(logsCommand(commandIO))
    .command(execCommand(commandIO))
    .command(lifecycleCommands(commandIO))
    .command(inspectCommand(commandIO))
    .command(imagesCommand(commandIO))
    .command(topCommand(commandIO))
    .command(portCommand(commandIO))
    .command(cpCommand(commandIO))
    .command(statsCommand(commandIO))
    .command(networkCommand(commandIO))
    .command(volumeCommand(commandIO))
    .command(pullCommand(commandIO))
    .command(pushCommand(commandIO))
    .command(tagCommand(commandIO))
    .command(loginCommand(commandIO))
    .command(logoutCommand(commandIO))
    .command(upCommand(commandIO))
    .command(downCommand(commandIO))
    .command(saveCommand(commandIO))
    .command(loadCommand(commandIO))
    .command(rmiCommand(commandIO))
    .command(lsCommand(commandIO))
    .command(waitCommand(commandIO))
    .command(eventsCommand(commandIO))
    .command(watchCommand(commandIO))
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
