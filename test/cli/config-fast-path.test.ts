// `stack config` read without yargs (config-fast-path.ts) must do exactly what the
// yargs command line does: same output, same errors, same exit code; and every line it
// is not sure of must go to yargs.
import t from 'tap';
import { join, resolve } from 'node:path';
import { runCommandLine } from '../../src/cli/commands.js';
import { readConfigCommandLine } from '../../src/cli/config-fast-path.js';
import { main, reportError } from '../../src/cli/main.js';
import type { CliIO } from '../../src/cli/io.js';

const DIR = join(resolve(import.meta.dirname, '../../..'), 'test/fixtures/corpus/profiles-default');

function captured(): { io: CliIO; out: { stdout: string; stderr: string } } {
  const out = { stdout: '', stderr: '' };
  return {
    out,
    io: { cwd: DIR, env: { HOME: '/home/tester' }, stdout: { write: (s: string) => (out.stdout += s) }, stderr: { write: (s: string) => (out.stderr += s) } },
  };
}

async function throughMain(argv: string[]) {
  const { io, out } = captured();
  return { code: await main(argv, io), ...out };
}

async function throughYargs(argv: string[]) {
  const { io, out } = captured();
  let code = 0;
  try {
    await runCommandLine(argv, io);
  } catch (err) {
    code = reportError(err, io);
  }
  return { code, ...out };
}

const READ_HERE = [
  ['config'], ['config', '--format', 'json'], ['config', '--format=json'], ['--format', 'json', 'config'],
  ['config', '--services'], ['config', '--volumes'], ['config', '--profiles'], ['config', '-q'], ['config', '--quiet'], ['config', '--services', '--volumes'],
  ['-p', 'x', 'config'], ['config', '-p', 'x'], ['--project-name', 'x', 'config'], ['--project-name=x', 'config'],
  ['-f', 'compose.yaml', 'config'], ['-f', 'compose.yaml', '-f', 'compose.yaml', 'config'], ['--file', 'nope.yaml', 'config'], ['--env-file', 'nope.env', 'config'],
  ['--profile', 'debug', 'config', '--services'], ['--profile', 'debug,test', 'config', '--services'], ['--profile', 'debug', '--profile', 'test', 'config', '--profiles'],
  ['config', 'app'], ['config', 'nope'], ['config', '010'], ['config', 'app', 'app'], ['config', 'config'], ['config', 'run'], ['-p', 'run', 'config'],
  ['--project-directory', '.', 'config'], ['--project-directory', '/nonexistent', 'config'],
];

const LEFT_TO_YARGS = [
  [], ['confg'], ['app', 'config'], ['config', '--format', 'xml'], ['config', '--format'], ['config', '--services', 'true'], ['config', '--services=true'],
  ['config', '--no-services'], ['-p', 'x', '-p', 'y', 'config'], ['-px', 'config'], ['-p=x', 'config'], ['config', '--', 'app'], ['config', '-h'],
  ['config', '--help'], ['config', '--version'], ['config', '--bogus'], ['config', '-x'], ['config', '--projectName', 'x'], ['config', '-q', '-q'], ['config', ''],
  ['config', '-p', '-x'], ['image', 'ls'],
];

t.test('plain config lines are read here, with the same result as through yargs', async (t) => {
  for (const argv of READ_HERE) {
    t.not(readConfigCommandLine(argv), undefined, `read here: ${argv.join(' ')}`);
    t.same(await throughMain(argv), await throughYargs(argv), argv.join(' '));
  }
});

t.test('anything else goes to yargs', async (t) => {
  for (const argv of LEFT_TO_YARGS) {
    t.equal(readConfigCommandLine(argv), undefined, `left to yargs: ${argv.join(' ')}`);
    if (argv[0] !== 'image') t.same(await throughMain(argv), await throughYargs(argv), argv.join(' '));
  }
});

t.test('arguments come out as yargs would hand them to the command', async (t) => {
  t.same(readConfigCommandLine(['-f', 'a.yaml', '--profile', 'x', 'config', 'web', '--format=json', '-q']), {
    file: 'a.yaml',
    profile: 'x',
    service: ['web'],
    format: 'json',
    services: false,
    volumes: false,
    profiles: false,
    quiet: true,
  });
  t.same(readConfigCommandLine(['-f', 'a.yaml', '-f', 'b.yaml', '--env-file', 'e', '--env-file', 'f', '-p', 'p', '--project-directory', 'd', 'config']), {
    file: ['a.yaml', 'b.yaml'],
    envFile: ['e', 'f'],
    projectName: 'p',
    projectDirectory: 'd',
    format: 'yaml',
    services: false,
    volumes: false,
    profiles: false,
    quiet: false,
  });
});
