// Mounts an image's unpacked layers, plus a container's own upper and work dirs, as one
// overlay at a target path. Uses the `mount` command (Node has no mount(2)). The lowerdir
// list names the layers by their short links relative to <store>/layers, with `mount` run
// in that directory, so dozens of layers stay under the page-size limit of mount data.

import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ImageStore, ResolvedImage } from './store.js';
import { unpackLayer, type UnpackOptions } from './unpack.js';

const run = promisify(execFile);
const MOUNT_DATA_LIMIT = 4096;

export interface RootfsDirs {
  /** Where the container's writes go (kept for commit/diff, removed with the container). */
  upper: string;
  work: string;
  target: string;
}

/** Unpacks any layer not yet unpacked, then mounts the overlay at `dirs.target`. */
export async function mountImageRootfs(store: ImageStore, image: ResolvedImage, dirs: RootfsDirs, options: UnpackOptions = {}): Promise<void> {
  const links: string[] = [];
  for (const layer of image.layers) {
    const unpacked = await unpackLayer(store, layer.digest, layer.diffId, options);
    links.push(`l/${unpacked.link}`);
  }
  await mountOverlay(store.layerDir, links, dirs);
}

/**
 * `lowerLinks` are relative to `base`, bottom layer first (image order); overlayfs wants
 * the topmost first.
 */
export async function mountOverlay(base: string, lowerLinks: string[], dirs: RootfsDirs): Promise<void> {
  if (lowerLinks.length === 0) throw new Error('cannot mount an image with no layers');
  await mkdir(dirs.upper, { recursive: true });
  await mkdir(dirs.work, { recursive: true });
  await mkdir(dirs.target, { recursive: true });
  const data = `lowerdir=${[...lowerLinks].reverse().join(':')},upperdir=${dirs.upper},workdir=${dirs.work}`;
  if (data.length >= MOUNT_DATA_LIMIT) {
    throw new Error(`overlay mount options are ${data.length} bytes, over the ${MOUNT_DATA_LIMIT}-byte limit (${lowerLinks.length} layers); shorten the engine root path`);
  }
  try {
    await run('mount', ['-t', 'overlay', 'overlay', '-o', data, dirs.target], { cwd: base });
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? '';
    throw new Error(`cannot mount overlay at ${dirs.target}: ${stderr.trim() || String(err)}`, { cause: err });
  }
}

export async function unmountRootfs(target: string): Promise<void> {
  try {
    await run('umount', [target]);
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? '';
    if (/not mounted|no mount point/i.test(stderr)) return;
    // A container's leftover process may hold it busy: detach so the dir can go.
    await run('umount', ['-l', target]).catch(() => undefined);
  }
}

export function containerRootfsDirs(root: string, id: string): RootfsDirs {
  const base = join(root, 'containers', id);
  return { upper: join(base, 'upper'), work: join(base, 'work'), target: join(base, 'rootfs') };
}
