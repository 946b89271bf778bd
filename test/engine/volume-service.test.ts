// The engine's volume service on a temp store: a volume a container create has resolved
// but not yet recorded cannot be removed, and one being removed cannot be taken.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventBus } from '../../src/engine/event-bus.js';
import { VolumeService } from '../../src/engine/volume-service.js';
import { VolumeStore } from '../../src/volumes/volume-store.js';

async function service(): Promise<{ volumes: VolumeService; cleanup: () => void }> {
  const base = mkdtempSync(join(tmpdir(), 'stack-volsvc-'));
  const store = await new VolumeStore(join(base, 'volumes')).init();
  return { volumes: new VolumeService(store, () => [], new EventBus()), cleanup: () => rmSync(base, { recursive: true, force: true }) };
}

t.test('a held volume is in use; a volume being removed cannot be held', async (t) => {
  const { volumes, cleanup } = await service();
  t.teardown(cleanup);
  await volumes.create({ name: 'data' });
  volumes.hold('data');
  await t.rejects(volumes.remove('data'), /volume is in use by container \(a container being created\)/);
  t.same(volumes.list().map((v) => v.Name), ['data'], 'still there');
  volumes.unhold('data');

  const removal = volumes.remove('data');
  t.throws(() => volumes.hold('data'), /volume data is being removed/, 'a create in the middle of the removal is refused');
  await removal;
  t.same(volumes.list(), [], 'removed');
  t.doesNotThrow(() => volumes.hold('data'), 'once gone, the name is free again');
  volumes.unhold('data');
  const pruned = await volumes.prune({ all: true });
  t.same(pruned.VolumesDeleted, []);
});
