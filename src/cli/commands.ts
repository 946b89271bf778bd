// The command table: one module per command, registered here, parsed by yargs.
// Loaded only when a command runs (see main.ts), since yargs is slow to load.

import yargs from 'yargs';
import { UsageError } from '../common/errors.js';
import { configCommand } from './config.js';
import { imageCommand } from './image.js';
import { runCommand, separateRunCommand } from './run.js';
import { engineCommand } from './engine.js';
import { psCommand } from './ps.js';
import { logsCommand } from './logs.js';
import { execCommand } from './exec.js';
import { lifecycleCommands } from './container-lifecycle.js';
import { inspectCommand } from './inspect.js';
import { imagesCommand } from './images.js';
import { topCommand } from './top.js';
import { statsCommand } from './stats.js';
import { volumeCommand, volumeForceFlag } from './volume.js';
import { withGlobalOptions } from './global-options.js';
import type { CliIO } from './io.js';
import { stackVersion } from './main.js';

/** Parse and run one command line; errors propagate to main.ts. */
export async function runCommandLine(argv: readonly string[], io: CliIO): Promise<void> {
  const parser = withGlobalOptions(yargs(volumeForceFlag(separateRunCommand(argv))))
    .scriptName('stack')
    .usage('$0 <command> [options]\n\nMulti-container dev environments from Compose files, on a runtime of our own.')
    .command(configCommand(io))
    .command(imageCommand(io))
    .command(runCommand(io))
    .command(engineCommand(io))
    .command(psCommand(io))
    .command(logsCommand(io))
    .command(execCommand(io))
    .command(lifecycleCommands(io))
    .command(inspectCommand(io))
    .command(imagesCommand(io))
    .command(topCommand(io))
    .command(statsCommand(io))
    .command(volumeCommand(io))
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
  const out = captureYargsOutput(io);
  try {
    await parser.parseAsync();
  } finally {
    out.flush();
  }
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
