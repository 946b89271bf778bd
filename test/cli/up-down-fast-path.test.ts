// `stack up` and `stack down` read without yargs (up-down-fast-path.ts) must hand the
// commands exactly the arguments yargs would, and leave every line they are not sure of
// to yargs. (What up and down then do is the same code either way: test/compose and
// test/examples run them through main, so through this reader.)
import t from 'tap';
import yargs from 'yargs';
import { downCommand } from '../../src/cli/down.js';
import { withGlobalOptions } from '../../src/cli/global-options.js';
import type { CliIO } from '../../src/cli/io.js';
import { upCommand } from '../../src/cli/up.js';
import { readDownCommandLine, readUpCommandLine } from '../../src/cli/up-down-fast-path.js';

const io: CliIO = { cwd: '/', env: {}, stdout: { write: () => undefined }, stderr: { write: () => undefined } };

const UP_KEYS = ['file', 'projectName', 'projectDirectory', 'envFile', 'profile', 'service', 'detach', 'dryRun', 'wait', 'forceRecreate', 'recreate', 'deps',
  'scale', 'removeOrphans', 'renewAnonVolumes', 'timeout', 'pull', 'build', 'abortOnContainerExit', 'exitCodeFrom', 'format', 'tui', 'watch'];
const DOWN_KEYS = ['file', 'projectName', 'projectDirectory', 'envFile', 'profile', 'volumes', 'removeOrphans', 'timeout', 'format'];

/** The arguments yargs hands the command's handler, reduced to the keys the command reads. */
async function throughYargs(argv: string[], command: 'up' | 'down'): Promise<Record<string, unknown>> {
  const module = command === 'up' ? upCommand(io) : downCommand(io);
  let handed: Record<string, unknown> | undefined;
  await withGlobalOptions(yargs(argv))
    .command({ ...module, handler: (args: Record<string, unknown>) => { handed = args; } } as never)
    .strict()
    .exitProcess(false)
    .fail((msg, err) => {
      throw err ?? new Error(msg);
    })
    .parseAsync();
  return comparable(handed!, command === 'up' ? UP_KEYS : DOWN_KEYS);
}

function comparable(args: object, keys: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of keys) {
    const value = (args as Record<string, unknown>)[key];
    // No service named: yargs hands [], the reader leaves the key out; up reads both as "all".
    if (value === undefined || (key === 'service' && Array.isArray(value) && value.length === 0)) continue;
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
