// Paths inside a root that is not ours to trust (an image's rootfs, a build context):
// symlinks are followed as the container would see them, an absolute target meaning the
// root, and `..` never climbs out of it. Like Go's securejoin, done in Node with lstat
// and readlink one element at a time.

import { lstat, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';

const MAX_LINKS = 40;

/**
 * The host path of `path` (absolute or relative to the root) under `root`. With
 * `followLast` false, a symlink as the last element is not followed (COPY of a link
 * copies the link).
 */
export async function resolveInRoot(root: string, path: string, followLast = true): Promise<string> {
  const rel = await resolveRelative(root, path, followLast);
  return rel === '' ? root : join(root, rel);
}

/** As resolveInRoot, the answer relative to the root (`usr/bin/tool`; '' is the root). */
export async function resolveRelative(root: string, path: string, followLast = true): Promise<string> {
  let pending = path.split('/').filter((p) => p !== '' && p !== '.');
  const done: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === '..') {
      done.pop();
      continue;
    }
    const candidate = join(root, ...done, part);
    const st = await lstat(candidate).catch(() => undefined);
    if (st?.isSymbolicLink() && (pending.length > 0 || followLast)) {
      if (++links > MAX_LINKS) throw new Error(`too many levels of symbolic links resolving "${path}"`);
      const target = await readlink(candidate);
      if (target.startsWith('/')) done.length = 0;
      pending = [...target.split('/').filter((p) => p !== '' && p !== '.'), ...pending];
      continue;
    }
    done.push(part);
  }
  return done.join('/');
}

/**
 * `--chown=user[:group]` against the root's /etc/passwd and /etc/group. As Docker does, a
 * user given without a group gets the group of the same number as the user.
 */
export async function resolveChown(root: string, spec: string): Promise<{ uid: number; gid: number }> {
  const [user = '', group] = spec.split(':', 2);
  const read = async (file: string): Promise<string[][]> => {
    const text = await readFile(await resolveInRoot(root, file), 'utf8').catch(() => '');
    return text.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(':'));
  };
  const lookup = async (name: string, file: string, what: string): Promise<number> => {
    if (/^\d+$/.test(name)) return Number(name);
    const entry = (await read(file)).find((f) => f[0] === name);
    if (!entry) throw new Error(`--chown=${spec}: the ${what} "${name}" is not in the image's ${file}`);
    return Number(entry[2]);
  };
  if (user === '') throw new Error(`--chown=${spec} names no user`);
  const uid = await lookup(user, '/etc/passwd', 'user');
  const gid = group === undefined || group === '' ? uid : await lookup(group, '/etc/group', 'group');
  return { uid, gid };
}
