// The engine's volumes: create, list, inspect, remove and prune as the Docker API asks
// for them, with what only the engine knows (which containers use which volume) added
// to the store's work (src/volumes). Also what containers need of volumes: resolving
// their mounts at create (container-volumes.ts) and making them ready at start.

import { ConflictError } from '../common/errors.js';
import type { VolumeCreateRequest, VolumeFilters, VolumeStore, VolumeView } from '../volumes/volume-store.js';
import type { ContainerRecord } from './container-record.js';
import type { EventBus } from './event-bus.js';

export class VolumeService {
  /**
   * Volumes a container create has resolved but not yet recorded: between the two, the
   * create's awaits would let a remove delete a volume the new container is about to use.
   */
  private readonly held = new Map<string, number>();
  /** Volumes being removed: a create that names one now is refused, not handed a dying dir. */
  private readonly removing = new Set<string>();

  constructor(
    readonly store: VolumeStore,
    private readonly containers: () => readonly ContainerRecord[],
    private readonly events: EventBus,
  ) {}

  /** Volume name → names of the containers (any state) that mount it. */
  users(): Map<string, string[]> {
    const users = new Map<string, string[]>();
    for (const record of this.containers()) {
      for (const m of record.MountPoints ?? []) {
        if (m.Type !== 'volume' || !m.Name) continue;
        const list = users.get(m.Name) ?? [];
        if (!list.includes(record.Name.slice(1))) list.push(record.Name.slice(1));
        users.set(m.Name, list);
      }
    }
    for (const name of this.held.keys()) users.set(name, [...(users.get(name) ?? []), '(a container being created)']);
    return users;
  }

  hold(name: string): void {
    if (this.removing.has(name)) throw new ConflictError(`volume ${name} is being removed: try again once it is gone, or pick another name`);
    this.held.set(name, (this.held.get(name) ?? 0) + 1);
  }

  unhold(name: string): void {
    const n = (this.held.get(name) ?? 0) - 1;
    if (n > 0) this.held.set(name, n);
    else this.held.delete(name);
  }

  /** Names of the volumes some running container mounts (tmpfs volumes stay mounted for them). */
  usedByRunning(): Set<string> {
    const used = new Set<string>();
    for (const record of this.containers()) {
      if (record.State.Status !== 'running' && record.State.Status !== 'paused' && record.State.Status !== 'restarting') continue;
      for (const m of record.MountPoints ?? []) if (m.Type === 'volume' && m.Name) used.add(m.Name);
    }
    return used;
  }

  async create(request: VolumeCreateRequest): Promise<VolumeView> {
    const { volume, created } = await this.store.create(request);
    if (created) this.events.publish('volume', 'create', volume.Name, { driver: volume.Driver });
    return volume;
  }

  list(filters: VolumeFilters = {}): VolumeView[] {
    return this.store.list(filters, new Set(this.users().keys()));
  }

  inspect(name: string): VolumeView {
    return this.store.view(name);
  }

  /**
   * Removes a volume no container uses. In use is a conflict even with `force` (as in
   * Docker: force only makes a missing volume no error), naming the containers.
   */
  async remove(name: string, options: { force?: boolean } = {}): Promise<void> {
    if (!this.store.has(name)) {
      if (options.force) return;
      this.store.find(name);
    }
    const users = this.users().get(name);
    if (users?.length) {
      throw new ConflictError(`remove ${name}: volume is in use by container${users.length > 1 ? 's' : ''} ${users.join(', ')}: remove ${users.length > 1 ? 'them' : 'it'} first (stack rm)`);
    }
    // Marked before the first await: from here no create can take it.
    this.removing.add(name);
    try {
      await this.store.remove(name);
    } finally {
      this.removing.delete(name);
    }
    this.events.publish('volume', 'destroy', name, { driver: 'local' });
  }

  async prune(options: { all?: boolean; filters?: VolumeFilters } = {}): Promise<{ VolumesDeleted: string[]; SpaceReclaimed: number }> {
    const { deleted, reclaimed } = await this.store.prune({ inUse: new Set(this.users().keys()), ...options });
    for (const name of deleted) this.events.publish('volume', 'destroy', name, { driver: 'local' });
    return { VolumesDeleted: deleted, SpaceReclaimed: reclaimed };
  }
}
