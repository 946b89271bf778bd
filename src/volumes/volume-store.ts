// Named volumes of the `local` driver, as Docker keeps them: one directory per volume
// under the engine root, `<root>/volumes/<name>/_data` holding the data and
// `<root>/volumes/<name>/volume.json` what was asked for (labels, driver options) and
// whether the image's content was copied in. The store knows nothing of containers:
// callers say which volumes are in use.
//
// Durability: a volume's data is a plain directory on the host's filesystem, bind-mounted
// into containers, so killing a container (or the engine) loses nothing an application
// had flushed (fsync) to it; nothing of the volume lives in the container or the engine.
// Metadata is written through a fsynced temp file renamed over the old one, and a volume
// appears (create) or disappears (remove) by one rename of its directory, so a crash at
// any point leaves the old state or the new one, never half a volume.

import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { lstat, mkdir, open, readFile, readdir, rename, rm, stat } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { promisify } from 'node:util';
import { ANONYMOUS_LABEL, type VolumeView } from '../common/volume-api-types.js';
import { ConflictError, NotFoundError, RuntimeFailure, UsageError } from '../common/errors.js';
import { writeFileAtomic } from '../image/store.js';
import { copyImageContent } from './populate.js';

const run = promisify(execFile);

export type { VolumeView };
export const VOLUME_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;


/** volume.json: the view plus what only the engine needs. */
interface VolumeMeta extends VolumeView {
  /** Set once the image's content was copied in, so it never is again (even into a volume emptied since). */
  Populated?: boolean;
}

/** What the local driver's options (`type`, `o`, `device`, as `mount` takes them) make of a volume. */
export type VolumeKind =
  | { kind: 'directory' }
  | { kind: 'bind'; device: string }
  | { kind: 'tmpfs'; mountOptions: string };

export interface VolumeCreateRequest {
  /** Empty or absent: an anonymous volume with a random 64-hex name. */
  name?: string;
  driver?: string;
  labels?: Record<string, string>;
  options?: Record<string, string>;
}

export interface VolumeFilters {
  /** Substrings of the name (any of them). */
  name?: string[];
  /** `key` or `key=value` (all of them). */
  label?: string[];
  /** `key` or `key=value` that must not match (prune's `label!`). */
  labelNot?: string[];
  driver?: string[];
  /** true: only volumes no container uses; false: only those some container uses. */
  dangling?: boolean;
}

const TMPFS_OPTIONS = /^(size=\d+[kmg%]?|nr_inodes=\d+[kmg]?|mode=[0-7]{3,4}|uid=\d+|gid=\d+|noexec|exec|nosuid|suid|nodev|dev|ro|rw)$/i;

/** Checks the local driver's options; throws UsageError naming the volume and saying what works. */
export function volumeKind(name: string, options: Record<string, string>): VolumeKind {
  for (const key of Object.keys(options)) {
    if (key !== 'type' && key !== 'o' && key !== 'device') {
      throw new UsageError(`volume "${name}": driver option "${key}" is not known to the local driver (use type, o and device)`);
    }
  }
  const type = options.type ?? '';
  const o = options.o ?? '';
  const device = options.device ?? '';
  if (type === '' && o === '' && device === '') return { kind: 'directory' };
  if (type === 'tmpfs') {
    for (const option of o.split(',').filter((x) => x !== '')) {
      if (!TMPFS_OPTIONS.test(option)) throw new UsageError(`volume "${name}": tmpfs option "${option}" is not supported (use size=64m, mode=1777, uid=, gid=, noexec, nosuid, nodev)`);
    }
    return { kind: 'tmpfs', mountOptions: o };
  }
  if (type === 'none' || type === '') {
    if (!o.split(',').includes('bind')) throw new UsageError(`volume "${name}": type=${type || '(none)'} needs o=bind (e.g. type=none,o=bind,device=/srv/data)`);
    const unknown = o.split(',').filter((x) => x !== '' && x !== 'bind' && x !== 'rbind');
    if (unknown.length) throw new UsageError(`volume "${name}": bind option "${unknown[0]}" is not supported (only o=bind)`);
    if (!isAbsolute(device)) throw new UsageError(`volume "${name}": a bind volume needs device=/absolute/host/path (got "${device}")`);
    return { kind: 'bind', device };
  }
  throw new UsageError(`volume "${name}": type=${type} is not supported by this engine; use no options (a directory), type=none,o=bind,device=/host/path or type=tmpfs,device=tmpfs,o=size=64m`);
}

/** Docker's CreatedAt: RFC 3339 in seconds. */
function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d+Z$/, 'Z');
}

function matchesLabel(labels: Record<string, string>, filter: string): boolean {
  const at = filter.indexOf('=');
  return at === -1 ? filter in labels : labels[filter.slice(0, at)] === filter.slice(at + 1);
}

export class VolumeStore {
  private readonly volumes = new Map<string, VolumeMeta>();
  /** Serialises work on one volume (create, populate, mount, remove) within this process. */
  private readonly locks = new Map<string, Promise<unknown>>();
  private readonly now: () => Date;
  private readonly randomName: () => string;

  /** `root` is `<engine root>/volumes`. */
  constructor(readonly root: string, options: { now?: () => Date; randomName?: () => string } = {}) {
    this.now = options.now ?? (() => new Date());
    this.randomName = options.randomName ?? (() => randomBytes(32).toString('hex'));
  }

  /** Reads every volume; finishes the removals and drops the creations a crash cut short. */
  async init(): Promise<this> {
    await mkdir(this.root, { recursive: true, mode: 0o701 });
    for (const entry of await readdir(this.root)) {
      const dir = join(this.root, entry);
      if (entry.startsWith('.')) {
        await rm(dir, { recursive: true, force: true });
        continue;
      }
      try {
        const meta = JSON.parse(await readFile(join(dir, 'volume.json'), 'utf8')) as VolumeMeta;
        this.volumes.set(meta.Name, meta);
      } catch (err) {
        throw new RuntimeFailure(`cannot read volume ${entry} (${join(dir, 'volume.json')}): ${(err as Error).message}; move that directory away to start without it`, { cause: err });
      }
    }
    return this;
  }

  private locked<T>(name: string, work: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(name) ?? Promise.resolve();
    const next = previous.then(work, work);
    const settled = next.catch(() => undefined);
    this.locks.set(name, settled);
    void settled.then(() => {
      if (this.locks.get(name) === settled) this.locks.delete(name);
    });
    return next;
  }

  dir(name: string): string {
    return join(this.root, name);
  }

  /** Where the data is: the volume's own `_data`, or the device of a bind volume. */
  dataDir(name: string): string {
    return this.find(name).Mountpoint;
  }

  has(name: string): boolean {
    return this.volumes.has(name);
  }

  find(name: string): VolumeView & { Populated?: boolean } {
    const meta = this.volumes.get(name);
    if (!meta) throw new NotFoundError(`No such volume: ${name}`);
    return meta;
  }

  view(name: string): VolumeView {
    const { Populated: _populated, ...view } = this.find(name);
    void _populated;
    return view;
  }

  kind(name: string): VolumeKind {
    return volumeKind(name, this.find(name).Options);
  }

  isAnonymous(name: string): boolean {
    return ANONYMOUS_LABEL in (this.volumes.get(name)?.Labels ?? {});
  }

  /**
   * Makes a volume, or returns the one of that name when it exists with the same driver
   * (Docker's create is idempotent: `created` says which happened).
   */
  async create(request: VolumeCreateRequest): Promise<{ volume: VolumeView; created: boolean }> {
    const anonymous = !request.name;
    const name = request.name || this.randomName();
    const driver = request.driver || 'local';
    if (!VOLUME_NAME.test(name)) {
      throw new UsageError(`invalid volume name "${name}": use two or more of [a-zA-Z0-9_.-], starting with a letter or digit`);
    }
    return this.locked(name, async () => {
      const existing = this.volumes.get(name);
      if (existing) {
        if (existing.Driver !== driver) throw new ConflictError(`volume "${name}" already exists with driver "${existing.Driver}", not "${driver}": remove it first or use another name`);
        return { volume: this.view(name), created: false };
      }
      if (driver !== 'local') throw new UsageError(`volume "${name}": driver "${driver}" is not supported by this engine (only "local")`);
      const options = { ...(request.options ?? {}) };
      const kind = volumeKind(name, options);
      if (kind.kind === 'bind' && !(await isDirectory(kind.device))) {
        throw new UsageError(`volume "${name}": the bind device ${kind.device} does not exist or is not a directory; create it on the host first`);
      }
      const meta: VolumeMeta = {
        Name: name,
        Driver: 'local',
        Labels: { ...(request.labels ?? {}), ...(anonymous ? { [ANONYMOUS_LABEL]: '' } : {}) },
        Options: options,
        CreatedAt: rfc3339(this.now()),
        Scope: 'local',
        Mountpoint: kind.kind === 'bind' ? kind.device : join(this.dir(name), '_data'),
      };
      // Built under a temp name and renamed into place: the volume exists whole or not at all.
      const temp = join(this.root, `.new-${randomBytes(8).toString('hex')}`);
      try {
        await mkdir(join(temp, '_data'), { recursive: true, mode: 0o755 });
        await writeFileAtomic(join(temp, 'volume.json'), JSON.stringify(meta));
        await rename(temp, this.dir(name));
        await fsyncDir(this.root);
      } catch (err) {
        await rm(temp, { recursive: true, force: true });
        throw new RuntimeFailure(`cannot create volume "${name}" in ${this.root}: ${(err as Error).message}`, { cause: err });
      }
      this.volumes.set(name, meta);
      return { volume: this.view(name), created: true };
    });
  }

  /** Volumes matching every filter given; `inUse` names the volumes some container uses. */
  list(filters: VolumeFilters = {}, inUse: ReadonlySet<string> = new Set()): VolumeView[] {
    return [...this.volumes.keys()].sort().map((name) => this.view(name)).filter((v) => {
      if (filters.name?.length && !filters.name.some((n) => v.Name.includes(n))) return false;
      if (filters.driver?.length && !filters.driver.includes(v.Driver)) return false;
      if (filters.label && !filters.label.every((l) => matchesLabel(v.Labels, l))) return false;
      if (filters.labelNot && filters.labelNot.some((l) => matchesLabel(v.Labels, l))) return false;
      if (filters.dangling !== undefined && filters.dangling === inUse.has(v.Name)) return false;
      return true;
    });
  }

  /**
   * Removes a volume and its data (a bind volume's device is the user's and stays);
   * resolves with the bytes freed. The caller checks that no container uses it.
   */
  remove(name: string): Promise<number> {
    return this.locked(name, async () => {
      const meta = this.volumes.get(name);
      if (!meta) throw new NotFoundError(`No such volume: ${name}`);
      const kind = volumeKind(name, meta.Options);
      if (kind.kind === 'tmpfs') await this.unmountLocked(name);
      const size = kind.kind === 'bind' ? 0 : await directorySize(meta.Mountpoint);
      // One rename takes it out of sight; a crash before the rm leaves a dot-dir init removes.
      const trash = join(this.root, `.removing-${randomBytes(8).toString('hex')}`);
      await rename(this.dir(name), trash);
      await fsyncDir(this.root);
      this.volumes.delete(name);
      await rm(trash, { recursive: true, force: true });
      return size;
    });
  }

  /**
   * Removes the volumes no container uses: anonymous ones only, unless `all` (Docker 23+),
   * and only those matching `filters` (label, label!).
   */
  async prune(options: { inUse: ReadonlySet<string>; all?: boolean; filters?: VolumeFilters }): Promise<{ deleted: string[]; reclaimed: number }> {
    const candidates = this.list({ ...(options.filters ?? {}), dangling: true }, options.inUse)
      .filter((v) => options.all || ANONYMOUS_LABEL in v.Labels);
    const deleted: string[] = [];
    let reclaimed = 0;
    for (const v of candidates) {
      if (options.inUse.has(v.Name) || !this.volumes.has(v.Name)) continue;
      reclaimed += await this.remove(v.Name);
      deleted.push(v.Name);
    }
    return { deleted, reclaimed };
  }

  /**
   * Makes the volume's data reachable at its Mountpoint and returns that path: mounts a
   * tmpfs volume's tmpfs (the first time since it was last unmounted), checks that a bind
   * volume's device is still there.
   */
  activate(name: string): Promise<string> {
    return this.locked(name, async () => {
      const meta = this.find(name);
      const kind = volumeKind(name, meta.Options);
      if (kind.kind === 'bind' && !(await isDirectory(kind.device))) {
        throw new UsageError(`volume "${name}": its bind device ${kind.device} is gone; recreate that directory on the host, or remove the volume`);
      }
      if (kind.kind === 'tmpfs' && !(await isMountPoint(meta.Mountpoint))) {
        try {
          await run('mount', ['-t', 'tmpfs', ...(kind.mountOptions ? ['-o', kind.mountOptions] : []), 'tmpfs', meta.Mountpoint]);
        } catch (err) {
          throw new RuntimeFailure(`volume "${name}": cannot mount its tmpfs at ${meta.Mountpoint}: ${((err as { stderr?: string }).stderr ?? String(err)).trim()}`, { cause: err });
        }
      }
      return meta.Mountpoint;
    });
  }

  /** Unmounts a tmpfs volume (its content goes with it); nothing for other kinds. */
  deactivate(name: string): Promise<void> {
    return this.locked(name, async () => {
      if (this.volumes.has(name) && this.kind(name).kind === 'tmpfs') await this.unmountLocked(name);
    });
  }

  private async unmountLocked(name: string): Promise<void> {
    const meta = this.find(name);
    if (!(await isMountPoint(meta.Mountpoint))) return;
    await run('umount', [meta.Mountpoint]).catch(() => run('umount', ['-l', meta.Mountpoint]));
    // A tmpfs starts empty at its next mount: let the image's content be copied in again.
    if (meta.Populated) await this.saveMeta({ ...meta, Populated: false });
  }

  /**
   * Copies what `rootfs` has at `containerPath` into the volume, once: only while the
   * volume has never been populated and is empty. True when content was copied.
   */
  populate(name: string, rootfs: string, containerPath: string): Promise<boolean> {
    return this.locked(name, async () => {
      const meta = this.find(name);
      if (meta.Populated) return false;
      if ((await readdir(meta.Mountpoint)).length > 0) return false;
      let copied: boolean;
      try {
        copied = await copyImageContent(rootfs, containerPath, meta.Mountpoint);
      } catch (err) {
        throw new RuntimeFailure(`volume "${name}": cannot copy the image's ${containerPath} into ${meta.Mountpoint}: ${(err as Error).message}`, { cause: err });
      }
      if (copied) await this.saveMeta({ ...meta, Populated: true });
      return copied;
    });
  }

  private async saveMeta(meta: VolumeMeta): Promise<void> {
    await writeFileAtomic(join(this.dir(meta.Name), 'volume.json'), JSON.stringify(meta));
    await fsyncDir(this.dir(meta.Name));
    this.volumes.set(meta.Name, meta);
  }
}

/** A rename is durable once its directory is synced. */
async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/** Bytes of the regular files under `dir` (each hard-linked file once), as Docker counts a volume's size. */
export async function directorySize(dir: string): Promise<number> {
  const seen = new Set<string>();
  let total = 0;
  const walk = async (path: string): Promise<void> => {
    let entries: string[];
    try {
      entries = await readdir(path);
    } catch {
      return;
    }
    for (const name of entries) {
      const child = join(path, name);
      const s = await lstat(child).catch(() => undefined);
      if (!s) continue;
      if (s.isDirectory()) await walk(child);
      else if (s.isFile() && !seen.has(`${s.dev}:${s.ino}`)) {
        seen.add(`${s.dev}:${s.ino}`);
        total += s.size;
      }
    }
  };
  await walk(dir);
  return total;
}

/** Whether `path` is a mount point, from /proc/self/mountinfo (octal escapes as the kernel writes them). */
export async function isMountPoint(path: string): Promise<boolean> {
  if (!existsSync(path)) return false;
  const text = await readFile('/proc/self/mountinfo', 'utf8');
  const escaped = path.replace(/[ \t\n\\]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
  return text.split('\n').some((line) => line.split(' ')[4] === escaped);
}
