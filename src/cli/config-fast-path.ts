// `stack config` without yargs. Editors and scripts run it on every save, and loading
// and setting up yargs costs ~100 ms of a run that is otherwise ~200 ms. A command
// line made only of `config`, its options, the global options and service names is
// read here; anything else (help, version, other commands, unusual option forms,
// anything yargs would refuse) goes to yargs as before, so usage errors and help keep
// their words.

import type { ConfigArgs } from './config.js';
import type { GlobalArgs } from './global-options.js';
import type { CliIO } from './io.js';

/** Run `stack config` if `argv` is a plain config command line; false means "ask yargs". */
export async function runConfigWithoutYargs(argv: readonly string[], io: CliIO): Promise<boolean> {
  const args = readConfigCommandLine(argv);
  if (!args) return false;
  const { runConfig } = await import('./config-run.js');
  runConfig(args, io);
  return true;
}

type RepeatableOption = 'file' | 'envFile' | 'profile';
type SingleOption = 'projectName' | 'projectDirectory' | 'format';
type Flag = 'services' | 'volumes' | 'profiles' | 'quiet';

/** The spellings yargs accepts that we read too; other spellings (camelCase, `--no-x`, `-fX`) go to yargs. */
const OPTIONS: Record<string, RepeatableOption | SingleOption> = {
  '-f': 'file',
  '--file': 'file',
  '--env-file': 'envFile',
  '--profile': 'profile',
  '-p': 'projectName',
  '--project-name': 'projectName',
  '--project-directory': 'projectDirectory',
  '--format': 'format',
};
const REPEATABLE = new Set<string>(['file', 'envFile', 'profile']);
const FLAGS: Record<string, Flag> = { '--services': 'services', '--volumes': 'volumes', '--profiles': 'profiles', '--quiet': 'quiet', '-q': 'quiet' };
const FORMATS = new Set(['yaml', 'json']);

/** The arguments yargs would hand the config command, or undefined when this reader is not sure. */
export function readConfigCommandLine(argv: readonly string[]): ConfigArgs | undefined {
  const repeated: Partial<Record<RepeatableOption, string[]>> = {};
  const single: Partial<Record<SingleOption, string>> = {};
  const flags = new Set<Flag>();
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
    const flag = FLAGS[name];
    if (flag !== undefined) {
      // yargs would take a following `true` or `false` as the flag's value.
      if (eq !== -1 || flags.has(flag) || argv[i + 1] === 'true' || argv[i + 1] === 'false') return undefined;
      flags.add(flag);
      continue;
    }
    const option = OPTIONS[name];
    if (option === undefined) return undefined;
    let value: string | undefined;
    if (eq !== -1) value = word.slice(eq + 1);
    else value = argv[++i];
    if (value === undefined || value === '' || value.startsWith('-')) return undefined;
    if (REPEATABLE.has(option)) (repeated[option as RepeatableOption] ??= []).push(value);
    else if (single[option as SingleOption] !== undefined) return undefined;
    else single[option as SingleOption] = value;
  }
  if (positionals[0] !== 'config') return undefined;
  const format = single.format ?? 'yaml';
  if (!FORMATS.has(format)) return undefined;
  const services = positionals.slice(1);
  // Shaped as yargs leaves them: a repeatable option given once is a string.
  const global: GlobalArgs = {};
  const once = (values: string[] | undefined) => (values === undefined ? undefined : values.length === 1 ? values[0] : values);
  if (repeated.file) global.file = once(repeated.file);
  if (repeated.envFile) global.envFile = once(repeated.envFile);
  if (repeated.profile) global.profile = once(repeated.profile);
  if (single.projectName !== undefined) global.projectName = single.projectName;
  if (single.projectDirectory !== undefined) global.projectDirectory = single.projectDirectory;
  return {
    ...global,
    ...(services.length > 0 ? { service: services } : {}),
    format,
    services: flags.has('services'),
    volumes: flags.has('volumes'),
    profiles: flags.has('profiles'),
    quiet: flags.has('quiet'),
  };
}
