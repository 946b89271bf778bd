// V8 settings for a CLI process that loads a stack file, prints and exits (`stack config`).
// Such a run is a few hundred milliseconds of mostly cold code, yet V8's optimizing
// compiler (TurboFan) still picks up the parser's and loader's hot loops and compiles
// them on a second thread: ~140 ms of CPU for a 200-service file, which on a busy
// machine holds up the command itself, for optimized code that then runs for a few
// milliseconds. A short run goes without it (bytecode and baseline code only).
//
// Only bin/stack.js processes do this (main.ts runFromProcess), never the CLI run
// in-process by tests, where engines and other commands share the process. The build
// makes the schema validator's code cache under the same settings (V8 takes a cache only
// under the flags it was made with), so that it serves these runs.

import { setFlagsFromString } from 'node:v8';

export const SHORT_RUN_V8_FLAGS = '--no-opt';

/** Call first thing, before the code the command runs is warm. */
export function useShortRunSettings(): void {
  setFlagsFromString(SHORT_RUN_V8_FLAGS);
}
