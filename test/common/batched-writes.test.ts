// Writes gathered while code runs go out in one write when it yields; a big batch goes at once.
import t from 'tap';
import { batchedWrites } from '../../src/common/batched-writes.js';

t.test('what is added in one go is one write, when the code yields', async (t) => {
  const writes: string[] = [];
  const out = batchedWrites((chunk) => writes.push(chunk.toString('utf8')));
  out.add('a\n');
  out.add(Buffer.from('b\n'));
  t.same(writes, [], 'nothing yet');
  await null;
  t.same(writes, ['a\nb\n'], 'one write of both');
  out.add('c\n');
  out.flush();
  t.same(writes, ['a\nb\n', 'c\n'], 'flush sends what is pending at once');
  await null;
  t.same(writes, ['a\nb\n', 'c\n'], 'and the scheduled send finds nothing left');
});

t.test('a batch of a megabyte goes out without waiting', async (t) => {
  const sizes: number[] = [];
  const out = batchedWrites((chunk) => sizes.push(chunk.length));
  const line = 'x'.repeat(1023) + '\n';
  for (let i = 0; i < 1500; i++) out.add(line);
  t.same(sizes, [1 << 20], 'the first megabyte went while adding');
  await null;
  t.same(sizes, [1 << 20, 1500 * 1024 - (1 << 20)], 'the rest when the code yielded');
});
