// The yargs-free reader of `stack run` lines: what it reads, and what it leaves to yargs.
import t from 'tap';
import { readRunCommandLine } from '../../src/cli/run-fast-path.js';

t.test('plain run lines are read; the command keeps its own options', async (t) => {
  const r = readRunCommandLine(['run', '--rm', '-d', '-e', 'A=1', '--env', 'B=2', '-v', '/h:/c:ro', '--name', 'web', '--restart', 'on-failure:3', '--health-retries', '2', 'img:1', 'sh', '-c', 'echo', '-e', '--name']);
  t.same(r?.command, ['sh', '-c', 'echo', '-e', '--name']);
  t.match(r?.args, { image: 'img:1', rm: true, detach: true, env: ['A=1', 'B=2'], volume: ['/h:/c:ro'], name: 'web', restart: 'on-failure:3', healthRetries: 2, runtime: 'shim' });
  t.same(readRunCommandLine(['run', 'img'])?.command, []);
});

t.test('anything unusual goes to yargs', async (t) => {
  for (const argv of [
    ['run'], ['run', '--help'], ['run', '--name=web', 'img'], ['run', '-it', 'img'], ['run', '--runtime', 'runc', 'img'],
    ['run', '--name', 'a', '--name', 'b', 'img'], ['run', '--health-retries', 'x', 'img'], ['run', '--rm', '--rm', 'img'],
    ['run', '-e'], ['-f', 'x.yaml', 'run', 'img'], ['ps'], ['run', '', 'img'],
  ]) t.equal(readRunCommandLine(argv), undefined, argv.join(' '));
});
