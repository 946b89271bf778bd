// `--host URL` / `-H URL`: the engine to talk to, as STACK_HOST says it (unix://PATH or
// ssh://[USER@]HOST[:PORT][/SOCKET]); the option wins over the environment.

import { UsageError } from '../common/errors.js';
import { GLOBAL_OPTIONS_WITH_VALUE } from './global-options.js';

type Environment = Readonly<Record<string, string | undefined>>;

/** The environment with the engine named by `host`: STACK_SOCKET, a local path, gives way to it. */
export function environmentWithHost(env: Environment, host: string): Environment {
  return { ...env, STACK_HOST: host, STACK_SOCKET: undefined };
}

/**
 * Takes `--host` options from before the command word (skipping other global options and
 * their values), so the commands that bypass yargs (run, config, up, down) see them too.
 */
export function takeLeadingHostOption(argv: readonly string[]): { host: string | undefined; rest: string[] } {
  const rest: string[] = [];
  let host: string | undefined;
  let at = 0;
  for (; at < argv.length && argv[at]!.startsWith('-') && argv[at] !== '--'; at++) {
    const word = argv[at]!;
    if (word === '--host' || word === '-H') {
      host = argv[at + 1];
      if (host === undefined) throw new UsageError(`${word} needs a value: unix://PATH or ssh://[USER@]HOST[:PORT][/PATH/TO/stack.sock]`);
      at++;
    } else if (word.startsWith('--host=')) {
      host = word.slice('--host='.length);
    } else {
      rest.push(word);
      if (GLOBAL_OPTIONS_WITH_VALUE.has(word) && at + 1 < argv.length) rest.push(argv[++at]!);
    }
  }
  return { host, rest: [...rest, ...argv.slice(at)] };
}
