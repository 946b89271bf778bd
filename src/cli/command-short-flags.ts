// The command's own meaning of a short flag after the command word, applied to the line
// before it is read (by yargs in commands.ts, or by plain-command-lines.ts).

import { GLOBAL_OPTIONS_WITH_VALUE } from './global-options.js';

/**
 * Short flags that Compose gives the whole tool (-f file, -p project) but Docker gives some
 * commands (rm -f, run -p): after the command word they are the command's, as a user of
 * either expects, up to the `--` that starts a container's own command.
 */
const COMMAND_SHORT_FLAGS: Record<string, Record<string, string>> = {
  run: { '-p': '--publish' },
  build: { '-f': '--dockerfile', '--file': '--dockerfile' },
  rm: { '-f': '--force' },
  rmi: { '-f': '--force' },
  'image remove': { '-f': '--force' },
  'image prune': { '-f': '--force' },
  'builder prune': { '-f': '--force' },
  login: { '-p': '--password' },
  logs: { '-f': '--follow' },
  up: { '-V': '--renew-anon-volumes' },
  inspect: { '-f': '--format' },
  'image inspect': { '-f': '--format' },
  'network inspect': { '-f': '--format' },
  'volume inspect': { '-f': '--format' },
  'network ls': { '-f': '--filter' },
  'network prune': { '-f': '--force' },
  'volume ls': { '-f': '--filter' },
  'volume rm': { '-f': '--force' },
  'volume remove': { '-f': '--force' },
  'volume prune': { '-f': '--force' },
};


/** Where the command word is: after the global options (and their values) before it. */
export function commandWordIndex(argv: readonly string[]): number {
  let at = 0;
  while (at < argv.length && argv[at]!.startsWith('-')) at += GLOBAL_OPTIONS_WITH_VALUE.has(argv[at]!) ? 2 : 1;
  return at;
}

export function commandShortFlags(argv: readonly string[]): string[] {
  const at = commandWordIndex(argv);
  if (at >= argv.length || (COMMAND_SHORT_FLAGS[argv[at]!] === undefined && COMMAND_SHORT_FLAGS[`${argv[at]} ${argv[at + 1]}`] === undefined)) return [...argv];
  const two = COMMAND_SHORT_FLAGS[`${argv[at]} ${argv[at + 1]}`];
  const flags = two ?? COMMAND_SHORT_FLAGS[argv[at]!]!;
  const from = two ? at + 1 : at;
  const end = argv.indexOf('--', from);
  return argv.map((a, i) => (i > from && (end === -1 || i < end) ? flags[a] ?? a : a));
}
