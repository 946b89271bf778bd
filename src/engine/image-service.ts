// The engine's view of its image store for the API: images found by name or ID (the
// config digest, as Docker names images), listed in Docker's shape, removed only when no
// container uses them, tagged, pulled from and pushed to registries. The engine is the
// only writer of its store: the CLI asks for pulls and pushes through the API.

import { findCredentials, type RegistryCredentials } from '../common/docker-config.js';
import { ConflictError, NotFoundError } from '../common/errors.js';
import type { ImageSummary } from '../common/api-types.js';
import { parseReference } from '../image/reference.js';
import { TokenCache } from '../image/registry/auth.js';
import { RegistryClient } from '../image/registry/client.js';
import type { Platform } from '../image/registry/platform.js';
import type { ProgressSink } from '../image/registry/progress.js';
import { pullImage, type PullResult } from '../image/registry/pull.js';
import { pushImage, type PushResult } from '../image/registry/push.js';
import { unpackLayer } from '../image/unpack.js';
import type { ImageStore, ResolvedImage } from '../image/store.js';

export interface RegistryOptions {
  /** Registries reached over plain HTTP besides loopback ones (host or host:port). */
  insecure?: readonly string[];
  /** Where the engine's own ~/.docker/config.json is found, for requests that bring no credentials. */
  env?: Readonly<Record<string, string | undefined>>;
  /** The shim, for unpacking layers. */
  shimPath?: string;
}

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
  private readonly tokens = new TokenCache();

  constructor(readonly store: ImageStore, private readonly registries: RegistryOptions = {}) {}

  /** The credentials a request brought, else the engine's own config.json's for that registry. */
  private async credentialsFor(domain: string, given: RegistryCredentials | undefined): Promise<RegistryCredentials | undefined> {
    if (given) return given;
    return this.registries.env ? findCredentials(this.registries.env, domain) : undefined;
  }

  async pull(reference: string, options: { credentials?: RegistryCredentials; platform?: Platform; onProgress?: ProgressSink } = {}): Promise<PullResult> {
    const { domain } = parseReference(reference);
    const shimPath = this.registries.shimPath;
    return pullImage(this.store, reference, {
      credentials: await this.credentialsFor(domain, options.credentials),
      insecure: this.registries.insecure ?? [],
      tokens: this.tokens,
      ...(options.platform ? { platform: options.platform } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      unpack: (blob, diffId) => unpackLayer(this.store, blob, diffId, shimPath ? { shimPath } : {}),
    });
  }

  async push(name: string, options: { credentials?: RegistryCredentials; onProgress?: ProgressSink } = {}): Promise<PushResult> {
    const image = await this.find(name);
    const { domain } = parseReference(image.reference);
    return pushImage(this.store, image.reference, {
      credentials: await this.credentialsFor(domain, options.credentials),
      insecure: this.registries.insecure ?? [],
      tokens: this.tokens,
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
  }

  /** `docker tag`: `target` names the image `source` names. */
  async tag(source: string, target: string): Promise<ResolvedImage> {
    const image = await this.find(source);
    return this.store.tag(image.reference, target);
  }

  /** `POST /auth`: do these credentials open `domain`? Throws the registry's refusal. */
  async checkLogin(domain: string, credentials: RegistryCredentials): Promise<void> {
    const client = new RegistryClient(domain, '', { credentials, insecure: this.registries.insecure ?? [], tokens: this.tokens });
    try {
      await client.checkLogin();
    } finally {
      client.close();
    }
  }

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
