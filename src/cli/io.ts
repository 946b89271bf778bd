// What a command may touch of the outside world, passed in so commands run in-process
// in tests with captured output and a chosen environment.

export interface CliIO {
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stdout: { write(text: string): unknown; isTTY?: boolean };
  readonly stderr: { write(text: string): unknown; isTTY?: boolean };
  /** Standard input, for the commands that read it (login --password-stdin). */
  readonly stdin?: AsyncIterable<Buffer | string>;
}

export function processIO(): CliIO {
  return { cwd: process.cwd(), env: process.env, stdout: process.stdout, stderr: process.stderr, stdin: process.stdin };
}
