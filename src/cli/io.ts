// What a command may touch of the outside world, passed in so commands run in-process
// in tests with captured output and a chosen environment.

import type { EngineConnections } from './engine-connections.js';

export interface CliIO {
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** rows and columns: its size, when it is a terminal. */
  readonly stdout: { write(data: string | Uint8Array): unknown; isTTY?: boolean; rows?: number; columns?: number };
  readonly stderr: { write(text: string): unknown; isTTY?: boolean };
  /** Standard input, for the commands that read it (login --password-stdin). */
  readonly stdin?: AsyncIterable<Buffer | string>;
  /** Ends a command that runs until interrupted (logs -f, events), as Ctrl-C does; for in-process runs. */
  readonly interrupt?: AbortSignal;
  /** The engine connections this command line opened (main.ts closes them when it ends). */
  readonly engineConnections?: EngineConnections;
}

/** Aborts on Ctrl-C or on io.interrupt, whichever comes first; dispose when the command ends. */
export function interruption(io: CliIO): { signal: AbortSignal; dispose(): void } {
  const abort = new AbortController();
  const onSigint = (): void => abort.abort();
  process.once('SIGINT', onSigint);
  const signal = io.interrupt ? AbortSignal.any([abort.signal, io.interrupt]) : abort.signal;
  return { signal, dispose: () => void process.off('SIGINT', onSigint) };
}

export function processIO(): CliIO {
  return { cwd: process.cwd(), env: process.env, stdout: process.stdout, stderr: process.stderr, stdin: process.stdin };
}
