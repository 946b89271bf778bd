// Copies what an image has at a path into an empty volume, as Docker does the first time
// a volume is mounted over content (a database image's default config, /etc, ...).
// The source is a container's rootfs, which its image (or a previous run) filled: every
// path is resolved inside that rootfs, and nothing in it is ever followed out of it.

import { constants } from 'node:fs';
import { chmod, chown, lchown, link, lstat, lutimes, mkdir, open, readdir, readlink, symlink, utimes } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';

/** Linux's own limit on symlinks followed while resolving one path. */
const MAX_SYMLINKS = 40;

/**
 * `path` (absolute, as seen inside the container) resolved in `root` the way the kernel
 * would resolve it after a chroot to `root`: `..` stops at the root, and an absolute
 * symlink target starts again from the root, not from the host's `/`. Undefined when
 * some component does not exist.
 */
export async function resolveInRoot(root: string, path: string): Promise<string | undefined> {
  const resolved: string[] = [];
  const pending = path.split('/').filter((c) => c !== '' && c !== '.');
  let followed = 0;
  while (pending.length > 0) {
    const component = pending.shift()!;
    if (component === '..') {
      resolved.pop();
      continue;
    }
    const candidate = join(root, ...resolved, component);
    let stat: Stats;
    try {
      stat = await lstat(candidate);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
      throw err;
    }
    if (!stat.isSymbolicLink()) {
      resolved.push(component);
      continue;
    }
    if (++followed > MAX_SYMLINKS) throw new Error(`too many symlinks resolving ${path} in ${root}`);
    const target = await readlink(candidate);
    if (target.startsWith('/')) resolved.length = 0;
    pending.unshift(...target.split('/').filter((c) => c !== '' && c !== '.'));
  }
  return join(root, ...resolved);
}

/** Owner, mode (setuid bits included) and times of `stat` onto `path`; owner first, since chown clears setuid bits. */
async function copyAttributes(path: string, stat: Stats): Promise<void> {
  if (stat.isSymbolicLink()) {
    await lchown(path, stat.uid, stat.gid);
    await lutimes(path, stat.atime, stat.mtime);
    return;
  }
  await chown(path, stat.uid, stat.gid);
  await chmod(path, stat.mode & 0o7777);
  await utimes(path, stat.atime, stat.mtime);
}

/**
 * Copies regular files through a descriptor opened with O_NOFOLLOW, so a file swapped
 * for a symlink after the directory was listed is refused rather than read through.
 */
async function copyFileContent(source: string, target: string, mode: number): Promise<void> {
  const input = await open(source, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    if (!(await input.stat()).isFile()) return;
    const output = await open(target, 'wx', mode & 0o777);
    try {
      // The streams close their handles when done (the close below is then a no-op); with
      // autoClose off, pipeline waited for a close that never came.
      await pipeline(input.createReadStream(), output.createWriteStream());
    } finally {
      await output.close();
    }
  } finally {
    await input.close();
  }
}

/**
 * Copies the content of directory `source` into the existing directory `target`:
 * directories, regular files (hard links kept as links), symlinks as links (never
 * followed, wherever they point), with owners, modes and times. Device nodes, fifos and
 * sockets are left out: Node cannot make them, and images rarely have them where volumes go.
 */
export async function copyTree(source: string, target: string, hardLinks = new Map<string, string>()): Promise<void> {
  for (const name of await readdir(source)) {
    const from = join(source, name);
    const to = join(target, name);
    const stat = await lstat(from);
    if (stat.isDirectory()) {
      await mkdir(to);
      await copyTree(from, to, hardLinks);
      // After the content, so the copy's own writes do not move the directory's mtime.
      await copyAttributes(to, stat);
    } else if (stat.isSymbolicLink()) {
      await symlink(await readlink(from), to);
      await copyAttributes(to, stat);
    } else if (stat.isFile()) {
      const key = `${stat.dev}:${stat.ino}`;
      const earlier = stat.nlink > 1 ? hardLinks.get(key) : undefined;
      if (earlier !== undefined) {
        await link(earlier, to);
        continue;
      }
      await copyFileContent(from, to, stat.mode);
      await copyAttributes(to, stat);
      if (stat.nlink > 1) hardLinks.set(key, to);
    }
  }
}

/**
 * Copies what `rootfs` holds at `containerPath` into `target` (an empty volume), and
 * gives `target` that directory's owner and mode, so a volume mounted over a directory
 * owned by a service user is that user's. False when the path is not a directory with
 * content in the rootfs: there was nothing to copy.
 */
export async function copyImageContent(rootfs: string, containerPath: string, target: string): Promise<boolean> {
  const source = await resolveInRoot(rootfs, containerPath);
  if (source === undefined) return false;
  const stat = await lstat(source);
  if (!stat.isDirectory()) return false;
  const entries = await readdir(source);
  await copyTree(source, target);
  await copyAttributes(target, stat);
  return entries.length > 0;
}
