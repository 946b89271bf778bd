// The top of the CLI: builds the command table, runs one command, and is the only
// place that turns errors into messages and exit codes.

import { createRequire } from 'node:module';
import yargs from 'yargs';
import { ConflictError, InvalidStackFileError, NotFoundError, RuntimeFailure, UsageError } from '../common/errors.js';
import { configCommand } from './config.js';
import { withGlobalOptions } from './global-options.js';
import { processIO, type CliIO } from './io.js';

export const EXIT = { ok: 0, failure: 1, usage: 2, invalidStackFile: 15, internal: 70, interrupted: 130 } as const;

export function stackVersion(): string {
  const pkg = createRequire(import.meta.url)('../../../package.json') as { version: string };
  return pkg.version;
}

/** Run one command line; resolves to the exit code. Never throws for user errors. */
export async function main(argv: readonly string[], io: CliIO): Promise<number> {
  const parser = withGlobalOptions(yargs([...argv]))
    .scriptName('stack')
    .usage('$0 <command> [options]\n\nMulti-container dev environments from Compose files, on a runtime of our own.')
    .command(configCommand(io))
    .completion('completion', 'Print a bash/zsh completion script (source it from your shell rc)')
    .demandCommand(1, 'name a command, e.g. "stack config"; see "stack --help"')
    .strict()
    .version(stackVersion())
    .help()
    .alias('help', 'h')
    .alias('version', 'V')
    .wrap(Math.min(110, process.stdout.columns ?? 100))
    .exitProcess(false)
    .fail((msg, err) => {
      throw err ?? new UsageError(msg);
    });
  const out = captureYargsOutput(parser, io);
  try {
    await parser.parseAsync();
    out.flush();
    return EXIT.ok;
  } catch (err) {
    out.flush();
    return reportError(err, io);
  }
}

/**
 * yargs prints help and version through console.log; route that to the injected
 * stdout so in-process runs capture it and nothing leaks to the test's terminal.
 */
function captureYargsOutput(parser: ReturnType<typeof yargs>, io: CliIO) {
  let text = '';
  parser.showHelpOnFail(false);
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

export function reportError(err: unknown, io: CliIO): number {
  if (err instanceof InvalidStackFileError) {
    const n = err.problems.length;
    io.stderr.write(`${err.message}\n`);
    io.stderr.write(`stack file is invalid: ${n} problem${n === 1 ? '' : 's'} found\n`);
    return EXIT.invalidStackFile;
  }
  if (err instanceof UsageError) {
    io.stderr.write(`error: ${err.message}\n`);
    return EXIT.usage;
  }
  if (err instanceof NotFoundError || err instanceof ConflictError || err instanceof RuntimeFailure) {
    io.stderr.write(`error: ${err.message}\n`);
    return EXIT.failure;
  }
  const detail = err instanceof Error ? (err.stack ?? err.message) : String(err);
  io.stderr.write(`internal error: ${detail}\nThis is a bug in stack ${stackVersion()}; please report it with the command you ran and the output above.\n`);
  return EXIT.internal;
}

/** Entry point of bin/stack.js. */
export async function runFromProcess(): Promise<void> {
  const code = await main(process.argv.slice(2), processIO());
  process.exitCode = code;
}
