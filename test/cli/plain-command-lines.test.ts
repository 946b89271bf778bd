// `stack up`, `down`, `ps` and `logs` read without yargs (plain-command-lines.ts) must hand
// the commands exactly the arguments yargs would, and leave every line they are not sure of
// to yargs. (What the commands then do is the same code either way: test/compose and
// test/examples run them through main, so through this reader.)
import t from 'tap';
import yargs from 'yargs';
import { commandShortFlags } from '../../src/cli/command-short-flags.js';
import { downCommand } from '../../src/cli/down.js';
import { withGlobalOptions } from '../../src/cli/global-options.js';
import type { CliIO } from '../../src/cli/io.js';
import { logsCommand } from '../../src/cli/logs.js';
import { readDownCommandLine, readLogsCommandLine, readPsCommandLine, readUpCommandLine } from '../../src/cli/plain-command-lines.js';
import { psCommand } from '../../src/cli/ps.js';
import { upCommand } from '../../src/cli/up.js';

const io: CliIO = { cwd: '/', env: {}, stdout: { write: () => undefined }, stderr: { write: () => undefined } };

const UP_KEYS = ['file', 'projectName', 'projectDirectory', 'envFile', 'profile', 'service', 'detach', 'dryRun', 'wait', 'forceRecreate', 'recreate', 'deps',
  'scale', 'removeOrphans', 'renewAnonVolumes', 'timeout', 'pull', 'build', 'abortOnContainerExit', 'exitCodeFrom', 'format', 'tui', 'watch'];
const DOWN_KEYS = ['file', 'projectName', 'projectDirectory', 'envFile', 'profile', 'volumes', 'removeOrphans', 'timeout', 'format'];
const PS_KEYS = ['file', 'projectName', 'projectDirectory', 'envFile', 'profile', 'service', 'all', 'quiet', 'services', 'status', 'format', 'filter'];
const LOGS_KEYS = ['file', 'projectName', 'projectDirectory', 'envFile', 'profile', 'names', 'follow', 'tail', 'since', 'until', 'timestamps', 'logPrefix', 'color', 'index'];
const COMMANDS = {
  up: { module: upCommand, keys: UP_KEYS },
  down: { module: downCommand, keys: DOWN_KEYS },
  ps: { module: psCommand, keys: PS_KEYS },
  logs: { module: logsCommand, keys: LOGS_KEYS },
};

/** The arguments yargs hands the command's handler (from the line as main rewrites it), reduced to the keys the command reads. */
async function throughYargs(argv: string[], command: keyof typeof COMMANDS): Promise<Record<string, unknown>> {
  const module = (COMMANDS[command].module as (io: CliIO) => object)(io);
  let handed: Record<string, unknown> | undefined;
  await withGlobalOptions(yargs(commandShortFlags(argv)))
    .command({ ...module, handler: (args: Record<string, unknown>) => { handed = args; } } as never)
    .strict()
    .exitProcess(false)
    .fail((msg, err) => {
      throw err ?? new Error(msg);
    })
    .parseAsync();
  return comparable(handed!, COMMANDS[command].keys);
}

function comparable(args: object, keys: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of keys) {
    const value = (args as Record<string, unknown>)[key];
    // No service named: yargs hands [], the reader leaves the key out; the commands read both as "all".
    if (value === undefined || ((key === 'service' || key === 'names') && Array.isArray(value) && value.length === 0)) continue;
    out[key] = value;
  }
  return out;
}

const UP_READ_HERE = [
  ['up'], ['up', '-d'], ['up', '--detach'], ['up', '--wait'], ['up', '-d', 'web'], ['up', 'web', 'db', '-d'], ['-f', 'a.yaml', 'up', '-d'], ['up', '-d', '-f', 'a.yaml', '-f', 'b.yaml'],
  ['-p', 'x', 'up', '-d'], ['--project-name=x', 'up'], ['--project-directory', 'dir', '--env-file', 'e', '--profile', 'p', 'up'], ['up', '--dry-run'], ['up', '--force-recreate'],
  ['up', '--no-recreate'], ['up', '--no-deps', 'web'], ['up', '--remove-orphans'], ['up', '--renew-anon-volumes'], ['up', '--no-tui'], ['up', '-d', '--no-tui'], ['up', '--build'], ['up', '--no-build'], ['up', '--format', 'json'], ['up', '--format=json', '-d'],
  ['up', '--watch'], ['up', '-w'], ['up', '-w', 'web'], ['up', '--watch', '--no-tui', '--build'],
];
const UP_LEFT_TO_YARGS = [
  ['up', '-d', 'true'], ['up', '-d', '-d'], ['up', '--detach=true'], ['up', '-dt', '5'], ['up', '-t', '5'], ['up', '--timeout', '5'], ['up', '--scale', 'web=2'], ['up', '--pull', 'never'],
  ['up', '--build', '--no-build'], ['up', '--format', 'xml'], ['up', '--help'], ['up', '--abort-on-container-exit'], ['up', '--exit-code-from', 'web'], ['up', '--bogus'], ['up', '--tui'], ['up', '-V'],
  ['up', '-p'], ['up', ''], ['-d', 'up'], ['--format', 'json', 'up'], ['down'], ['upp'], ['web', 'up'], ['config'],
  ['up', '--watch=true'], ['up', '-w', '-w'], ['up', '-wd'], ['up', '--no-watch'], ['-w', 'up'],
];
const DOWN_READ_HERE = [['down'], ['down', '-v'], ['down', '--volumes'], ['down', '--remove-orphans'], ['-p', 'x', 'down'], ['down', '-f', 'a.yaml', '--format', 'json']];
const DOWN_LEFT_TO_YARGS = [['down', 'web'], ['down', '-t', '0'], ['down', '-v', '-v'], ['down', '--rmi', 'all'], ['down', '--help'], ['down', '-vx'], ['-v', 'down'], ['up']];

const PS_READ_HERE = [['ps'], ['ps', '-a'], ['ps', '--all', 'web'], ['ps', 'web', 'db', '-q'], ['ps', '--services'], ['ps', '--format', 'json'], ['-p', 'x', 'ps', '-a'], ['ps', '-f', 'a.yaml']];
const PS_LEFT_TO_YARGS = [['ps', '-aq'], ['ps', '--status', 'running'], ['ps', '--filter', 'name=x'], ['ps', '--format', 'xml'], ['ps', '--help'], ['-a', 'ps'], ['ps', '-a', '-a'], ['pss']];
const LOGS_READ_HERE = [['logs'], ['logs', '-f'], ['logs', '--follow', 'web'], ['logs', 'web', 'db'], ['logs', '-t', '--tail', '5'], ['logs', '-n', '10', 'web'], ['logs', '--no-log-prefix', '--no-color'],
  ['logs', '--since', '2024-01-01T00:00:00Z', '--until=1700000000'], ['-f', 'a.yaml', 'logs', '-f'], ['-p', 'x', 'logs', 'web']];
const LOGS_LEFT_TO_YARGS = [['logs', '--index', '2'], ['logs', '-ft'], ['logs', '--tail', '-1'], ['logs', '--help'], ['logs', '-f', '-f'], ['logs', '--log-prefix'], ['-t', 'logs']];

t.test('plain ps and logs lines are read here, as yargs reads them', async (t) => {
  for (const argv of PS_READ_HERE) {
    const read = readPsCommandLine(argv);
    t.not(read, undefined, `read here: ${argv.join(' ')}`);
    t.same(comparable(read ?? {}, PS_KEYS), await throughYargs(argv, 'ps'), argv.join(' '));
  }
  for (const argv of LOGS_READ_HERE) {
    const read = readLogsCommandLine(argv);
    t.not(read, undefined, `read here: ${argv.join(' ')}`);
    t.same(comparable(read ?? {}, LOGS_KEYS), await throughYargs(argv, 'logs'), argv.join(' '));
  }
  for (const argv of PS_LEFT_TO_YARGS) t.equal(readPsCommandLine(argv), undefined, `left to yargs: ${argv.join(' ')}`);
  for (const argv of LOGS_LEFT_TO_YARGS) t.equal(readLogsCommandLine(argv), undefined, `left to yargs: ${argv.join(' ')}`);
});

t.test('plain up lines are read here, as yargs reads them', async (t) => {
  for (const argv of UP_READ_HERE) {
    const read = readUpCommandLine(argv);
    t.not(read, undefined, `read here: ${argv.join(' ')}`);
    t.same(comparable(read ?? {}, UP_KEYS), await throughYargs(argv, 'up'), argv.join(' '));
  }
});

t.test('plain down lines are read here, as yargs reads them', async (t) => {
  for (const argv of DOWN_READ_HERE) {
    const read = readDownCommandLine(argv);
    t.not(read, undefined, `read here: ${argv.join(' ')}`);
    t.same(comparable(read ?? {}, DOWN_KEYS), await throughYargs(argv, 'down'), argv.join(' '));
  }
});

t.test('anything else goes to yargs', async (t) => {
  for (const argv of UP_LEFT_TO_YARGS) t.equal(readUpCommandLine(argv), undefined, `left to yargs: ${argv.join(' ')}`);
  for (const argv of DOWN_LEFT_TO_YARGS) t.equal(readDownCommandLine(argv), undefined, `left to yargs: ${argv.join(' ')}`);
});
