import t from 'tap';
import { splitCommand } from '../../../src/compose/short-syntax/command.js';

t.test('commands split like a shell splits them', async (t) => {
  t.strictSame(splitCommand('redis-server --appendonly yes'), { ok: true, value: ['redis-server', '--appendonly', 'yes'] });
  t.strictSame(splitCommand(`sh -c 'echo "hi there" && sleep 1'`), { ok: true, value: ['sh', '-c', 'echo "hi there" && sleep 1'] });
  t.strictSame(splitCommand('echo "a \\"quoted\\" word" b\\ c'), { ok: true, value: ['echo', 'a "quoted" word', 'b c'] });
  t.strictSame(splitCommand('echo "" $HOME'), { ok: true, value: ['echo', '', '$HOME'] });
  t.strictSame(splitCommand('  '), { ok: true, value: [] });
  t.strictSame(splitCommand("echo 'oops"), { ok: false, error: `"echo 'oops" has an unterminated single quote: close it or write the command as a list` });
});
