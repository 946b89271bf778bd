// Positions ride on containers invisibly and are shared between a container and its
// copies until one of them changes (positions.ts).
import t from 'tap';
import {
  containerPosition,
  copyAllPositions,
  entryPosition,
  positionedEntryCount,
  setContainerPosition,
  setEntryPosition,
} from '../../src/compose/positions.js';

const at = (line: number, col: number) => ({ file: 'compose.yaml', line, col });

t.test('positions are invisible to everything that reads the data', async (t) => {
  const doc: Record<string, unknown> = { a: 1, list: ['x'] };
  setContainerPosition(doc, at(1, 1));
  setEntryPosition(doc, 'a', { key: at(1, 1), value: at(1, 4) });
  setEntryPosition(doc.list as object, 0, { value: at(2, 5) });
  t.same(Object.keys(doc), ['a', 'list']);
  t.equal(JSON.stringify(doc), '{"a":1,"list":["x"]}');
  t.same(Object.getOwnPropertySymbols(doc), []);
  t.strictSame({ ...doc }, { a: 1, list: ['x'] });
  t.strictSame(structuredClone(doc), { a: 1, list: ['x'] });
  t.equal(entryPosition({ ...doc }, 'a'), undefined, 'a spread copy has no positions');
  t.equal((doc.list as unknown[]).length, 1);
});

t.test('a copy shares positions until either side changes', async (t) => {
  const from = { a: 1, b: 2 };
  setContainerPosition(from, at(1, 1));
  setEntryPosition(from, 'a', { value: at(1, 4) });
  const to = { a: 1, b: 2 };
  copyAllPositions(from, to);
  t.same(entryPosition(to, 'a'), { value: at(1, 4) });
  t.same(containerPosition(to), at(1, 1));

  setEntryPosition(to, 'b', { value: at(2, 4) });
  t.equal(entryPosition(from, 'b'), undefined, 'the source is not changed by its copy');
  t.equal(positionedEntryCount(from), 1);
  t.equal(positionedEntryCount(to), 2);

  setEntryPosition(from, 'a', { value: at(9, 9) });
  t.same(entryPosition(to, 'a'), { value: at(1, 4) }, 'nor the copy by its source');
});

t.test('copying onto a container with positions of its own merges them', async (t) => {
  const from = { a: 1 };
  setEntryPosition(from, 'a', { value: at(1, 4) });
  setContainerPosition(from, at(1, 1));
  const to = { a: 1, z: 2 };
  setEntryPosition(to, 'z', { value: at(5, 4) });
  setContainerPosition(to, at(5, 1));
  copyAllPositions(from, to);
  t.same(entryPosition(to, 'a'), { value: at(1, 4) });
  t.same(entryPosition(to, 'z'), { value: at(5, 4) });
  t.same(containerPosition(to), at(5, 1), 'its own start is kept');
});
