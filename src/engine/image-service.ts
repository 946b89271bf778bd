// The engine's view of its image store for the API: images found by name or ID (the
// config digest, as Docker names images), listed in Docker's shape, and removed only
// when no container uses them.

import { ConflictError, NotFoundError } from '../common/errors.js';
import type { ImageSummary } from '../common/api-types.js';
import type { ImageStore, ResolvedImage } from '../image/store.js';

export function imageId(image: ResolvedImage): string {
  return image.manifest.config.digest;
}

function imageSize(image: ResolvedImage): number {
  return image.layers.reduce((n, l) => n + l.size, 0);
}

/** `docker.io/library/busybox:latest` is shown as Docker shows it: `busybox:latest`. */
export function familiarName(reference: string): string {
  return reference.replace(/^docker\.io\/library\//, '').replace(/^docker\.io\//, '');
}

export class ImageService {
  constructor(readonly store: ImageStore) {}

  async all(): Promise<ResolvedImage[]> {
    const out: ResolvedImage[] = [];
    for (const entry of await this.store.list()) {
      out.push(await this.store.resolve(entry.reference));
    }
    return out;
  }

  /** By reference (`busybox`, `busybox:1`, `docker.io/library/busybox:1`) or by ID or a unique ID prefix. */
  async find(nameOrId: string): Promise<ResolvedImage> {
    try {
      return await this.store.resolve(nameOrId);
    } catch (err) {
      if (!(err instanceof NotFoundError) && !(err instanceof TypeError) && !(err instanceof Error && /reference/i.test(err.message))) throw err;
    }
    if (/^sha256:[a-f0-9]{64}$/.test(nameOrId)) {
      // A build step's unnamed image: its build runs containers of it by ID.
      const untagged = await this.store.findUntagged(nameOrId);
      if (untagged) return untagged;
    }
    const hex = nameOrId.replace(/^sha256:/, '');
    if (/^[a-f0-9]{4,64}$/.test(hex)) {
      const matches = (await this.all()).filter((i) => imageId(i).slice(7).startsWith(hex));
      const ids = new Set(matches.map(imageId));
      if (ids.size === 1) return matches[0]!;
      if (ids.size > 1) throw new ConflictError(`image ID prefix "${nameOrId}" names ${ids.size} images: give more of it`);
    }
    throw new NotFoundError(`No such image: ${nameOrId}`);
  }

  async list(): Promise<ImageSummary[]> {
    const byId = new Map<string, ImageSummary>();
    for (const image of await this.all()) {
      const id = imageId(image);
      const created = image.config.created ? Math.floor(Date.parse(image.config.created) / 1000) : 0;
      const row = byId.get(id) ?? {
        Id: id,
        ParentId: '',
        RepoTags: [],
        RepoDigests: [],
        Created: created,
        Size: imageSize(image),
        VirtualSize: imageSize(image),
        SharedSize: -1,
        Labels: image.config.config.Labels ?? null,
        Containers: -1,
      };
      row.RepoTags.push(familiarName(image.reference));
      byId.set(id, row);
    }
    return [...byId.values()].sort((a, b) => b.Created - a.Created || (a.RepoTags[0] ?? '').localeCompare(b.RepoTags[0] ?? ''));
  }

  /** Docker's `GET /images/{name}/json`. */
  inspect(image: ResolvedImage, allTags: string[]): Record<string, unknown> {
    return {
      Id: imageId(image),
      RepoTags: allTags,
      RepoDigests: [],
      Parent: '',
      Comment: '',
      Created: image.config.created ?? '1970-01-01T00:00:00Z',
      Config: image.config.config,
      Architecture: image.config.architecture,
      Os: image.config.os,
      Size: imageSize(image),
      VirtualSize: imageSize(image),
      GraphDriver: { Name: 'overlay2', Data: {} },
      RootFS: { Type: 'layers', Layers: image.config.rootfs.diff_ids },
      Metadata: { LastTagTime: '0001-01-01T00:00:00Z' },
    };
  }

  /**
   * Removes the name (or, given an ID, every name of that image). Refuses while a
   * container uses the image unless forced, as Docker does.
   */
  async remove(nameOrId: string, usedBy: (imageId: string) => string[], force: boolean): Promise<Array<{ Untagged?: string; Deleted?: string }>> {
    const image = await this.find(nameOrId);
    const id = imageId(image);
    const users = usedBy(id);
    if (users.length > 0 && !force) {
      throw new ConflictError(`image ${nameOrId} is used by container${users.length > 1 ? 's' : ''} ${users.join(', ')}: remove ${users.length > 1 ? 'them' : 'it'} first`);
    }
    const byName = (await this.all()).filter((i) => imageId(i) === id);
    const names = nameOrId.replace(/^sha256:/, '').match(/^[a-f0-9]{4,64}$/) && !byName.some((i) => i.reference === image.reference && familiarName(i.reference) === nameOrId)
      ? byName.map((i) => i.reference)
      : [image.reference];
    const out: Array<{ Untagged?: string; Deleted?: string }> = [];
    for (const reference of names) {
      await this.store.remove(reference);
      out.push({ Untagged: familiarName(reference) });
    }
    if (byName.length === names.length) out.push({ Deleted: id });
    return out;
  }
}
