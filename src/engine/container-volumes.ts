// What a container's volumes are and how they get into it. At create, the request's
// volume binds (`data:/var/lib/x`), `Mounts` of type volume, `VolumesFrom` and the image's
// VOLUMEs become a list of mount points kept in the container's record, making any
// volume that does not exist yet, so every start of the container uses the same ones.
// At start each volume is made ready (a tmpfs mounted, the image's content copied into
// an empty volume) and becomes a bind mount of the runtime's spec.

import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import type { ContainerConfig, HostConfig, MountView } from '../common/api-types.js';
import { NotFoundError, UsageError } from '../common/errors.js';
import type { ContainerMount } from '../runtime/bundle.js';
import type { ContainerRecord } from './container-record.js';
import { parseBind } from './container-spec.js';
import type { VolumeService } from './volume-service.js';

/** A volume (or a bind inherited through VolumesFrom) of one container, as its record keeps it. */
export interface MountPoint {
  Type: 'volume' | 'bind';
  /** The volume's name (volumes only). */
  Name?: string;
  /** The host path (binds only; a volume's is looked up at each start). */
  Source?: string;
  Destination: string;
  RW: boolean;
  /** The mode as given (`ro`, `nocopy`, ...), shown by inspect. */
  Mode: string;
  /** Never copy the image's content into the volume. */
  NoCopy?: boolean;
}

export interface ResolvedMounts {
  mountPoints: MountPoint[];
  /** Anonymous volumes this create made: removed again should the create fail later. */
  created: string[];
  /** Every volume named here is held (cannot be removed) until the create calls this. */
  release(): void;
}

export class ContainerVolumes {
  constructor(private readonly volumes: VolumeService) {}

  /**
   * The mount points of a new container; `find` looks up VolumesFrom's containers. The
   * container's own mounts win over VolumesFrom's, which win over the image's VOLUMEs;
   * two of its own at one destination are refused, as Docker does.
   */
  async resolve(config: ContainerConfig, host: HostConfig, find: (ref: string) => ContainerRecord): Promise<ResolvedMounts> {
    const created: string[] = [];
    const held: string[] = [];
    const release = (): void => held.splice(0).forEach((name) => this.volumes.unhold(name));
    const taken = new Set<string>();
    const claim = (destination: string, what: string): void => {
      const normal = normalTarget(destination);
      if (taken.has(normal)) throw new UsageError(`duplicate mount point ${normal} (${what}): mount one thing per path`);
      taken.add(normal);
    };
    const volume = async (name: string, options: { labels?: Record<string, string>; driver?: string; driverOptions?: Record<string, string> } = {}): Promise<string> => {
      if (name !== '' && this.volumes.store.has(name)) {
        this.volumes.hold(name);
        held.push(name);
        return name;
      }
      const made = await this.volumes.create({
        ...(name ? { name } : {}),
        ...(options.driver ? { driver: options.driver } : {}),
        ...(options.labels ? { labels: options.labels } : {}),
        ...(options.driverOptions ? { options: options.driverOptions } : {}),
      });
      if (this.volumes.store.isAnonymous(made.Name)) created.push(made.Name);
      this.volumes.hold(made.Name);
      held.push(made.Name);
      return made.Name;
    };
    try {
      const own: MountPoint[] = [];
      for (const bind of host.Binds ?? []) {
        const b = parseBind(bind);
        claim(b.target, bind);
        if (!b.volume) continue;
        own.push({ Type: 'volume', Name: await volume(b.source), Destination: b.target, RW: !b.modes.includes('ro'), Mode: b.modes.join(','), NoCopy: b.modes.includes('nocopy') });
      }
      for (const m of host.Mounts ?? []) {
        claim(m.Target, `mount at ${m.Target}`);
        if (m.Type !== 'volume') continue;
        if (m.Source && m.Source.startsWith('/')) throw new UsageError(`mount at ${m.Target}: a volume's Source is a volume name, not a path ("${m.Source}"); use Type bind for host paths`);
        const v = m.VolumeOptions ?? {};
        const name = await volume(m.Source ?? '', {
          ...(v.Labels ? { labels: v.Labels } : {}),
          ...(v.DriverConfig?.Name ? { driver: v.DriverConfig.Name } : {}),
          ...(v.DriverConfig?.Options ? { driverOptions: v.DriverConfig.Options } : {}),
        });
        own.push({ Type: 'volume', Name: name, Destination: m.Target, RW: !m.ReadOnly, Mode: m.ReadOnly ? 'ro' : '', NoCopy: v.NoCopy ?? false });
      }
      for (const target of Object.keys(host.Tmpfs ?? {})) claim(target, `tmpfs ${target}`);

      const inherited: MountPoint[] = [];
      for (const entry of host.VolumesFrom ?? []) {
        const [ref = '', mode = ''] = entry.split(':');
        if (mode !== '' && mode !== 'ro' && mode !== 'rw') throw new UsageError(`VolumesFrom "${entry}": the mode must be ro or rw`);
        let source: ContainerRecord;
        try {
          source = find(ref);
        } catch (err) {
          throw new NotFoundError(`VolumesFrom "${entry}": no such container ${ref}`, { cause: err });
        }
        for (const m of mountPointsOf(source)) {
          if (taken.has(normalTarget(m.Destination))) continue;
          taken.add(normalTarget(m.Destination));
          const rw = mode === '' ? m.RW : mode === 'rw';
          inherited.push({ ...m, RW: rw, Mode: mode || m.Mode });
        }
      }

      const fromImage: MountPoint[] = [];
      for (const target of Object.keys(config.Volumes ?? {}).sort()) {
        if (taken.has(normalTarget(target))) continue;
        taken.add(normalTarget(target));
        fromImage.push({ Type: 'volume', Name: await volume(''), Destination: target, RW: true, Mode: '' });
      }
      return { mountPoints: [...own, ...inherited, ...fromImage], created, release };
    } catch (err) {
      release();
      await this.removeVolumes(created);
      throw err;
    }
  }

  /** Removes volumes a failed create made, quietly: the create's own error is what matters. */
  async removeVolumes(names: readonly string[]): Promise<void> {
    for (const name of names) await this.volumes.remove(name, { force: true }).catch(() => undefined);
  }

  /**
   * The runtime mounts for one start of `record`, its rootfs mounted at `rootfs`: each
   * volume made ready and, unless nocopy, given the image's content the first time.
   */
  async attach(record: ContainerRecord, rootfs: string): Promise<ContainerMount[]> {
    await prepareBindSources(record.HostConfig);
    const mounts: ContainerMount[] = [];
    for (const m of record.MountPoints ?? []) {
      if (m.Type === 'bind') {
        mounts.push({ type: 'bind', source: m.Source ?? '', target: m.Destination, readonly: !m.RW });
        continue;
      }
      const name = m.Name ?? '';
      if (!this.volumes.store.has(name)) {
        throw new NotFoundError(`volume "${name}" of container ${record.Name.slice(1)} is gone; remove the container and create it again`);
      }
      const source = await this.volumes.store.activate(name);
      if (!m.NoCopy) await this.volumes.store.populate(name, rootfs, m.Destination);
      mounts.push({ type: 'bind', source, target: m.Destination, readonly: !m.RW });
    }
    return mounts;
  }

  /** After `record` stopped or went away: unmounts its tmpfs volumes no running container needs. */
  async release(record: ContainerRecord): Promise<void> {
    const running = this.volumes.usedByRunning();
    for (const m of record.MountPoints ?? []) {
      if (m.Type === 'volume' && m.Name && !running.has(m.Name)) await this.volumes.store.deactivate(m.Name).catch(() => undefined);
    }
  }

  /** `rm -v`: the anonymous volumes of a removed container that no other container uses; named ones stay. */
  async removeAnonymous(record: ContainerRecord): Promise<void> {
    const users = this.volumes.users();
    for (const m of record.MountPoints ?? []) {
      if (m.Type !== 'volume' || !m.Name || !this.volumes.store.isAnonymous(m.Name)) continue;
      if (users.get(m.Name)?.length) continue;
      await this.volumes.remove(m.Name).catch(() => undefined);
    }
  }

  /** The container's `Mounts`, as inspect and ps show them: its binds, then its volumes. */
  views(record: ContainerRecord): MountView[] {
    const host = record.HostConfig;
    const views: MountView[] = [];
    for (const bind of host.Binds ?? []) {
      const b = parseBindQuietly(bind);
      if (b && !b.volume) views.push({ Type: 'bind', Source: b.source, Destination: b.target, Mode: b.modes.join(','), RW: !b.modes.includes('ro'), Propagation: 'rprivate' });
    }
    for (const m of host.Mounts ?? []) {
      if (m.Type === 'bind') views.push({ Type: 'bind', Source: m.Source ?? '', Destination: m.Target, Mode: '', RW: !m.ReadOnly, Propagation: 'rprivate' });
    }
    for (const m of record.MountPoints ?? []) {
      if (m.Type === 'bind') {
        views.push({ Type: 'bind', Source: m.Source ?? '', Destination: m.Destination, Mode: m.Mode, RW: m.RW, Propagation: 'rprivate' });
        continue;
      }
      const name = m.Name ?? '';
      const source = this.volumes.store.has(name) ? this.volumes.store.dataDir(name) : '';
      views.push({ Type: 'volume', Name: name, Source: source, Destination: m.Destination, Driver: 'local', Mode: m.Mode, RW: m.RW, Propagation: '' });
    }
    return views;
  }
}

/** Everything a container mounts that VolumesFrom passes on: its volumes and its host binds. */
function mountPointsOf(record: ContainerRecord): MountPoint[] {
  const points: MountPoint[] = [];
  for (const bind of record.HostConfig.Binds ?? []) {
    const b = parseBindQuietly(bind);
    if (b && !b.volume) points.push({ Type: 'bind', Source: b.source, Destination: b.target, RW: !b.modes.includes('ro'), Mode: b.modes.includes('ro') ? 'ro' : '' });
  }
  for (const m of record.HostConfig.Mounts ?? []) {
    if (m.Type === 'bind' && m.Source) points.push({ Type: 'bind', Source: m.Source, Destination: m.Target, RW: !m.ReadOnly, Mode: m.ReadOnly ? 'ro' : '' });
  }
  return [...points, ...(record.MountPoints ?? [])];
}

function parseBindQuietly(bind: string): ReturnType<typeof parseBind> | undefined {
  try {
    return parseBind(bind);
  } catch {
    return undefined;
  }
}

function normalTarget(path: string): string {
  return `/${path.split('/').filter((c) => c !== '' && c !== '.').join('/')}`;
}

/**
 * Docker's rule for host paths: a missing source of a `-v /host:/ctr` bind (Binds; Compose's
 * short syntax, create_host_path) is made as a directory; a missing source of a Mounts bind
 * (the long syntax without create_host_path) is an error naming it.
 */
async function prepareBindSources(host: HostConfig): Promise<void> {
  for (const bind of host.Binds ?? []) {
    const source = bind.split(':')[0] ?? '';
    if (source.startsWith('/') && !existsSync(source)) await mkdir(source, { recursive: true, mode: 0o755 });
  }
  for (const m of host.Mounts ?? []) {
    if (m.Type === 'bind' && m.Source && !existsSync(m.Source)) {
      throw new UsageError(`bind source path does not exist: ${m.Source} (mounted at ${m.Target}): create it, or use a -v bind, which creates it`);
    }
  }
}
