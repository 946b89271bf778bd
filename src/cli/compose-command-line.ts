// Reading a compose command's line without yargs, for the commands run most (config, up,
// down, ps, logs): global options anywhere, the command word, its flags and single-valued
// options, service names. It reads only the spellings yargs reads the same way; anything
// it is not sure of (help, `--no-x` it does not list, bundled short flags, repeated
// flags, a flag followed by `true`/`false`, unknown options) makes it answer undefined,
// and the line goes to yargs, whose words for usage errors and help stay the only ones.

import type { GlobalArgs } from './global-options.js';

export interface CommandLineSpec<F extends string, O extends string> {
  command: string;
  /** Flag spellings to the key they set; a key may be set once. */
  flags: Record<string, F>;
  /** Spellings of the command's single-valued options to their key. */
  options: Record<string, O>;
  /** The values an option may take (others go to yargs, which says what is allowed); any value for an option not named. */
  choices: Partial<Record<O, ReadonlySet<string>>>;
  /** Whether yargs takes the command's own flags before the command word too (it does for some only). */
  flagsBeforeCommand: boolean;
}

export interface ReadCommandLine<F extends string, O extends string> {
  global: GlobalArgs;
  flags: Set<F>;
  options: Partial<Record<O, string>>;
  /** The words after the command word: service names. */
  services: string[];
}

type RepeatableOption = 'file' | 'envFile' | 'profile';
type SingleOption = 'projectName' | 'projectDirectory';

const GLOBAL_OPTIONS: Record<string, RepeatableOption | SingleOption> = {
  '-f': 'file',
  '--file': 'file',
  '--env-file': 'envFile',
  '--profile': 'profile',
  '-p': 'projectName',
  '--project-name': 'projectName',
  '--project-directory': 'projectDirectory',
};
const REPEATABLE = new Set<string>(['file', 'envFile', 'profile']);

/** The command line read as yargs would read it, or undefined when this reader is not sure. */
export function readCommandLine<F extends string, O extends string>(argv: readonly string[], spec: CommandLineSpec<F, O>): ReadCommandLine<F, O> | undefined {
  const repeated: Partial<Record<RepeatableOption, string[]>> = {};
  const single: Partial<Record<SingleOption | O, string>> = {};
  const flags = new Set<F>();
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    if (!word.startsWith('-')) {
      if (word === '') return undefined;
      positionals.push(word);
      continue;
    }
    const eq = word.startsWith('--') ? word.indexOf('=') : -1;
    const name = eq === -1 ? word : word.slice(0, eq);
    const beforeCommand = positionals.length === 0;
    const flag = spec.flags[name];
    if (flag !== undefined) {
      if (beforeCommand && !spec.flagsBeforeCommand) return undefined;
      // yargs would take a following `true` or `false` as the flag's value.
      if (eq !== -1 || flags.has(flag) || argv[i + 1] === 'true' || argv[i + 1] === 'false') return undefined;
      flags.add(flag);
      continue;
    }
    const option = GLOBAL_OPTIONS[name] ?? (beforeCommand && !spec.flagsBeforeCommand ? undefined : spec.options[name]);
    if (option === undefined) return undefined;
    const value = eq !== -1 ? word.slice(eq + 1) : argv[++i];
    if (value === undefined || value === '' || value.startsWith('-')) return undefined;
    if (REPEATABLE.has(option)) (repeated[option as RepeatableOption] ??= []).push(value);
    else if (single[option as SingleOption | O] !== undefined) return undefined;
    else single[option as SingleOption | O] = value;
  }
  if (positionals[0] !== spec.command) return undefined;
  const options: Partial<Record<O, string>> = {};
  for (const key of new Set(Object.values<O>(spec.options))) {
    const value = single[key];
    if (value === undefined) continue;
    if (spec.choices[key] && !spec.choices[key].has(value)) return undefined;
    options[key] = value;
  }
  // Shaped as yargs leaves them: a repeatable option given once is a string.
  const global: GlobalArgs = {};
  const once = (values: string[] | undefined) => (values === undefined ? undefined : values.length === 1 ? values[0] : values);
  if (repeated.file) global.file = once(repeated.file);
  if (repeated.envFile) global.envFile = once(repeated.envFile);
  if (repeated.profile) global.profile = once(repeated.profile);
  if (single.projectName !== undefined) global.projectName = single.projectName;
  if (single.projectDirectory !== undefined) global.projectDirectory = single.projectDirectory;
  return { global, flags, options, services: positionals.slice(1) };
}
