// Pausing a container: its processes frozen by the kernel, as `docker pause` does, through
// the freezer cgroup the shim made (v1: freezer.state) or, where the freezer is cgroup v2,
// the cgroup.freeze file every v2 cgroup has. Freezing takes a moment (tasks in a system
// call finish it first), so the state is read back until the kernel says it is done.

import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { RuntimeFailure } from '../common/errors.js';

export interface FreezableCgroup {
  controller: string;
  version: 1 | 2;
  path: string;
}

/** How long the kernel may take to freeze or thaw every task before we give up. */
const SETTLE_MS = 10_000;

export async function setFrozen(cgroups: readonly FreezableCgroup[], frozen: boolean): Promise<void> {
  const v1 = cgroups.find((c) => c.controller === 'freezer' && c.version === 1);
  const v2 = cgroups.find((c) => c.version === 2);
  if (!v1 && !v2) throw new RuntimeFailure('this container has no freezer cgroup (it was started before the engine made one, or the machine has no freezer): restart it to be able to pause it');
  const write = v1
    ? () => writeFile(join(v1.path, 'freezer.state'), frozen ? 'FROZEN' : 'THAWED')
    : () => writeFile(join(v2!.path, 'cgroup.freeze'), frozen ? '1' : '0');
  const settled = v1
    ? async () => (await readFile(join(v1.path, 'freezer.state'), 'utf8')).trim() === (frozen ? 'FROZEN' : 'THAWED')
    : async () => /^frozen (\d)$/m.exec(await readFile(join(v2!.path, 'cgroup.events'), 'utf8'))?.[1] === (frozen ? '1' : '0');
  const deadline = Date.now() + SETTLE_MS;
  for (;;) {
    // v1 asks for the state again while FREEZING: a write retries the tasks that were busy.
    await write();
    if (await settled()) return;
    if (Date.now() > deadline) break;
    await sleep(10);
  }
  if (frozen) await setFrozen(cgroups, false).catch(() => undefined);
  throw new RuntimeFailure(`the kernel did not ${frozen ? 'freeze' : 'thaw'} the container's processes within ${SETTLE_MS / 1000} s`);
}
