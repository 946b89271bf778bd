// Shared by the image tests: a temp store that is removed (mounts first) even when a test fails,
// and tar archives built in memory with tar-stream.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImageStore } from '../../src/image/store.js';

export { packTar as makeTar, type TarEntry } from '../../src/image/pack-tar.js';

export function sha256(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** A temp dir holding a store; `cleanup` unmounts anything mounted below it first. */
export async function tempStore(name: string): Promise<{ dir: string; store: ImageStore; cleanup(): void }> {
  const dir = mkdtempSync(join(tmpdir(), `stack-img-${name}-`));
  const store = await new ImageStore(join(dir, 'store')).init();
  return {
    dir,
    store,
    cleanup() {
      const mounts = readFileSync('/proc/self/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1] ?? '').filter((m) => m.startsWith(dir));
      for (const m of mounts.reverse()) execFileSync('umount', ['-l', m]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
