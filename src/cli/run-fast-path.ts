// `stack run` without yargs: starting a container is the command people time, and
// loading and setting up yargs costs more than the engine's whole create-start-wait.
// A command line made only of `run`, the options below in their plain spellings, the
// image and its command is read here; anything else (help, `--opt=value`, bundled short
// flags, --runtime, unknown options) goes to yargs as before, so its words stay the same.

import type { CliIO } from './io.js';
import type { RunArgs } from './run.js';

type ListOption = 'env' | 'volume' | 'label' | 'publish' | 'networkAlias' | 'addHost' | 'dns' | 'link';
type ValueOption = 'name' | 'restart' | 'entrypoint' | 'workdir' | 'user' | 'memory' | 'healthCmd' | 'healthInterval' | 'healthRetries' | 'network' | 'ip' | 'macAddress' | 'hostname';
type Flag = 'rm' | 'detach' | 'init' | 'publishAll' | 'tty';

const LISTS: Record<string, ListOption> = {
  '-e': 'env', '--env': 'env', '-v': 'volume', '--volume': 'volume', '-l': 'label', '--label': 'label', '-p': 'publish', '--publish': 'publish',
  '--network-alias': 'networkAlias', '--add-host': 'addHost', '--dns': 'dns', '--link': 'link',
};
const VALUES: Record<string, ValueOption> = {
  '--name': 'name', '--restart': 'restart', '--entrypoint': 'entrypoint', '-w': 'workdir', '--workdir': 'workdir', '-u': 'user', '--user': 'user',
  '-m': 'memory', '--memory': 'memory', '--health-cmd': 'healthCmd', '--health-interval': 'healthInterval', '--health-retries': 'healthRetries',
  '--network': 'network', '--net': 'network', '--ip': 'ip', '--mac-address': 'macAddress', '--hostname': 'hostname',
};
const FLAGS: Record<string, Flag> = { '--rm': 'rm', '-d': 'detach', '--detach': 'detach', '--init': 'init', '-P': 'publishAll', '--publish-all': 'publishAll', '-t': 'tty', '--tty': 'tty' };

/** The arguments and the container's command, or undefined when this reader is not sure. */
export function readRunCommandLine(argv: readonly string[]): { args: RunArgs; command: string[] } | undefined {
  if (argv[0] !== 'run') return undefined;
  const args: RunArgs = { _: ['run'], image: '', rm: false, detach: false, init: false, runtime: 'shim' };
  const lists: Record<ListOption, string[]> = { env: [], volume: [], label: [], publish: [], networkAlias: [], addHost: [], dns: [], link: [] };
  for (let i = 1; i < argv.length; i++) {
    const word = argv[i]!;
    if (!word.startsWith('-') || word === '-') {
      if (word === '') return undefined;
      args.image = word;
      for (const [key, values] of Object.entries(lists)) if (values.length) (args as unknown as Record<string, string[]>)[key] = values;
      return { args, command: argv.slice(i + 1) };
    }
    const flag = FLAGS[word];
    if (flag !== undefined) {
      if (args[flag]) return undefined;
      args[flag] = true;
      continue;
    }
    const value = argv[i + 1];
    if (value === undefined) return undefined;
    const list = LISTS[word];
    const single = VALUES[word];
    if (list !== undefined) lists[list].push(value);
    else if (single === 'healthRetries') {
      if (!/^\d+$/.test(value)) return undefined;
      args.healthRetries = Number(value);
    } else if (single !== undefined) {
      if (args[single] !== undefined) return undefined;
      args[single] = value;
    } else return undefined;
    i++;
  }
  return undefined;
}

/** Runs `stack run` if `argv` is a plain run command line; false means "ask yargs". */
export async function runWithoutYargs(argv: readonly string[], io: CliIO): Promise<boolean> {
  const read = readRunCommandLine(argv);
  if (!read) return false;
  const { runContainer } = await import('./run.js');
  await runContainer(io, read.args, read.command);
  return true;
}
