// The top of the CLI: runs one command line (the command table is in commands.ts)
// and is the only place that turns errors into messages and exit codes.

import { createRequire } from 'node:module';
import { ConflictError, ContainerExit, InvalidStackFileError, NotFoundError, RuntimeFailure, UsageError } from '../common/errors.js';
import { readConfigCommandLine, runConfigWithoutYargs } from './config-fast-path.js';
import { runWithoutYargs } from './run-fast-path.js';
import { runPlainCommandLine } from './plain-command-lines.js';
import { processIO, type CliIO } from './io.js';
import { restoreHeldCaCertificates } from '../common/held-ca-certificates.js';
import { useShortRunSettings } from './short-run.js';
import { EngineConnections } from './engine-connections.js';
import { environmentWithHost, takeLeadingHostOption } from './host-option.js';

export const EXIT = { ok: 0, failure: 1, usage: 2, invalidStackFile: 15, internal: 70, interrupted: 130 } as const;

export function stackVersion(): string {
  const pkg = createRequire(import.meta.url)('../../../package.json') as { version: string };
  return pkg.version;
}

/** Run one command line; resolves to the exit code. Never throws for user errors. */
export async function main(commandLine: readonly string[], processIO: CliIO): Promise<number> {
  // The version is asked for by scripts and shell prompts: answer it without loading
  // the command table (yargs alone costs ~70 ms to load).
  if (commandLine.length === 1 && (commandLine[0] === '--version' || commandLine[0] === '-V')) {
    processIO.stdout.write(`${stackVersion()}\n`);
    return EXIT.ok;
  }
  const engineConnections = new EngineConnections();
  try {
    const { host, rest: argv } = takeLeadingHostOption(commandLine);
    const io: CliIO = { ...processIO, env: host === undefined ? processIO.env : environmentWithHost(processIO.env, host), engineConnections };
    if (await runConfigWithoutYargs(argv, io)) return EXIT.ok;
    if (await runWithoutYargs(argv, io)) return EXIT.ok;
    if (await runPlainCommandLine(argv, io)) return EXIT.ok;
    const { runCommandLine } = await import('./commands.js');
    await runCommandLine(argv, io);
    return EXIT.ok;
  } catch (err) {
    return reportError(err, processIO);
  } finally {
    engineConnections.closeAll();
  }
}

export function reportError(err: unknown, io: CliIO): number {
  if (err instanceof ContainerExit) return err.code;
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
  restoreHeldCaCertificates(process.env);
  const argv = process.argv.slice(2);
  // `stack config` is over in a moment: V8 settings for that (short-run.ts).
  if (readConfigCommandLine(argv)) useShortRunSettings();
  const code = await main(argv, processIO());
  process.exitCode = code;
}
