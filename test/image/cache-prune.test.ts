// The build cache prune plan (pure): what counts toward the cache's size, what may go, and
// the order it goes in.
import t from 'tap';
import { planCachePrune, type CacheObject } from '../../src/image/build/cache-prune.js';

const blob = (digest: string, size: number): { digest: string; size: number } => ({ digest, size });

// Three step results on one base: a <- b (shares a's layer) and c alone; `base` is a named image's layer.
const objects: CacheObject[] = [
  { digest: 'a', used: 10, blobs: [blob('base', 500), blob('a-layer', 100), blob('a-m', 1)], named: false, inUse: false },
  { digest: 'b', used: 30, blobs: [blob('base', 500), blob('a-layer', 100), blob('b-layer', 200), blob('b-m', 1)], named: false, inUse: false },
  { digest: 'c', used: 20, blobs: [blob('base', 500), blob('c-layer', 400), blob('c-m', 1)], named: true, inUse: false },
];
const pinned = new Set(['base', 'c-layer', 'c-m']);

t.test('size counts only blobs no named or other image uses; shared blobs once', async (t) => {
  const plan = planCachePrune(objects, pinned, { all: true, keepStorage: 0 });
  t.equal(plan.sizeBefore, 100 + 1 + 200 + 1);
  t.same(plan.remove, ['a', 'c', 'b'], 'least recently used first');
  t.equal(plan.sizeAfter, 0);
});

t.test('without all, results that are named images stay', async (t) => {
  t.same(planCachePrune(objects, pinned, { all: false, keepStorage: 0 }).remove, ['a', 'b']);
});

t.test('keep-storage stops as soon as the rest fits; a shared layer is freed only with its last user', async (t) => {
  const plan = planCachePrune(objects, pinned, { all: true, keepStorage: 250 });
  // Dropping a frees only a-m (b still uses a-layer); c frees nothing; b frees the rest.
  t.same(plan.remove, ['a', 'c', 'b']);
  t.same(planCachePrune(objects, pinned, { all: true, keepStorage: 302 }).remove, [], 'already fits');
  t.same(planCachePrune(objects, pinned, { all: true, keepStorage: 301 }), { remove: ['a'], sizeBefore: 302, sizeAfter: 301 });
});

t.test('what a build holds or a container uses never goes', async (t) => {
  const held = objects.map((o) => (o.digest === 'a' ? { ...o, inUse: true } : o));
  const plan = planCachePrune(held, pinned, { all: true, keepStorage: 0 });
  t.same(plan.remove, ['c', 'b']);
  t.equal(plan.sizeAfter, 101, 'a keeps its layer and manifest');
});
