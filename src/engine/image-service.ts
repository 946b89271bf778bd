// The engine's view of its image store for the API: images found by name or ID (the
// config digest, as Docker names images), listed in Docker's shape, removed only when no
// container uses them, tagged, pulled from and pushed to registries. The engine is the
// only writer of its store: the CLI asks for pulls and pushes through the API. The registry
// client (with https and tls) and the archive code (with tar-stream) are loaded by the
// first request that needs them: an idle engine holds neither.

import { findCredentials, type RegistryCredentials } from '../common/docker-config.js';
import { ConflictError, NotFoundError } from '../common/errors.js';
import type { ImageSummary } from '../common/api-types.js';
import { parseReference } from '../image/reference.js';
import type { TokenCache } from '../image/registry/auth.js';
import { BlobSources } from '../image/registry/blob-sources.js';
import { StoreHolds } from '../image/store-holds.js';
import type { Platform } from '../image/registry/platform.js';
import type { ProgressSink } from '../image/registry/progress.js';
import type { PullResult } from '../image/registry/pull.js';
import type { PushResult } from '../image/registry/push.js';
import { unpackLayer } from '../image/unpack.js';
import type { ImageStore, ResolvedImage } from '../image/store.js';
import type { Readable, Writable } from 'node:stream';
import type { LoadedImage } from '../image/archive/load.js';
import type { ArchiveFormat, SaveRequest } from '../image/archive/save.js';

export interface RegistryOptions {
  /** Registries reached over plain HTTP besides loopback ones (host or host:port). */
  insecure?: readonly string[];
  /**
   * Where the engine's own ~/.docker/config.json is found, for requests that bring no
   * credentials; its NODE_EXTRA_CA_CERTS is trusted for registry TLS.
   */
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

/**
 * Pulls and loads store blobs before the index names them; collecting garbage then would
 * delete them. Those run side by side ("shared"); a removal that collects garbage waits
 * for none to be running and holds new ones back ("exclusive").
 */
class StoreGate {
  private shared = 0;
  private exclusive: Promise<unknown> = Promise.resolve();
  private drained: (() => void) | undefined;

  async withShared<T>(work: () => Promise<T>): Promise<T> {
    await this.exclusive;
    this.shared++;
    try {
      return await work();
    } finally {
      if (--this.shared === 0) this.drained?.();
    }
  }

  withExclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.exclusive.then(async () => {
      if (this.shared > 0) await new Promise<void>((resolve) => (this.drained = resolve));
      this.drained = undefined;
      return work();
    });
    this.exclusive = run.catch(() => undefined);
    return run;
  }
}

export class ImageService {
  private tokensLoaded: Promise<TokenCache> | undefined;
  private readonly gate = new StoreGate();
  private readonly sources: BlobSources;
  /** What running builds stand on: collected garbage never includes it, prunes skip it. */
  readonly holds = new StoreHolds();

  constructor(readonly store: ImageStore, private readonly registries: RegistryOptions = {}) {
    this.sources = new BlobSources(store.root);
  }

  /** Registry tokens, one cache for the engine's life. */
  private tokens(): Promise<TokenCache> {
    return (this.tokensLoaded ??= import('../image/registry/auth.js').then(({ TokenCache }) => new TokenCache()));
  }

  /** The credentials a request brought, else the engine's own config.json's for that registry. */
  private async credentialsFor(domain: string, given: RegistryCredentials | undefined): Promise<RegistryCredentials | undefined> {
    if (given) return given;
    return this.registries.env ? findCredentials(this.registries.env, domain) : undefined;
  }

  async pull(reference: string, options: { credentials?: RegistryCredentials; platform?: Platform; onProgress?: ProgressSink } = {}): Promise<PullResult> {
    const { domain } = parseReference(reference);
    const shimPath = this.registries.shimPath;
    const credentials = await this.credentialsFor(domain, options.credentials);
    const [{ pullImage }, tokens] = await Promise.all([import('../image/registry/pull.js'), this.tokens()]);
    return this.gate.withShared(() => pullImage(this.store, reference, {
      credentials,
      insecure: this.registries.insecure ?? [],
      tokens,
      extraCaFile: this.registries.env?.NODE_EXTRA_CA_CERTS,
      sources: this.sources,
      ...(options.platform ? { platform: options.platform } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      unpack: (blob, diffId) => unpackLayer(this.store, blob, diffId, shimPath ? { shimPath } : {}),
    }));
  }

  async push(name: string, options: { credentials?: RegistryCredentials; onProgress?: ProgressSink } = {}): Promise<PushResult> {
    const image = await this.find(name);
    const { domain } = parseReference(image.reference);
    const [{ pushImage }, tokens] = await Promise.all([import('../image/registry/push.js'), this.tokens()]);
    return pushImage(this.store, image.reference, {
      credentials: await this.credentialsFor(domain, options.credentials),
      insecure: this.registries.insecure ?? [],
      tokens,
      extraCaFile: this.registries.env?.NODE_EXTRA_CA_CERTS,
      sources: this.sources,
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
    const [{ RegistryClient }, tokens] = await Promise.all([import('../image/registry/client.js'), this.tokens()]);
    const client = new RegistryClient(domain, '', { credentials, insecure: this.registries.insecure ?? [], tokens, extraCaFile: this.registries.env?.NODE_EXTRA_CA_CERTS });
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
   * `docker rmi`: a name is untagged, and the image deleted once nothing else names it and
   * no container uses it; an ID deletes the image with all its names. A container using it
   * (or, by ID, several names) is a conflict unless forced; a running container's image is
   * never deleted, forced or not. Forced past a stopped container, the image loses its
   * names but stays as an unnamed image until that container is gone (the container still
   * needs its layers: Docker keeps them under the container for the same reason).
   */
  remove(nameOrId: string, usedBy: (imageId: string) => ImageUser[], force: boolean): Promise<RemovedImage[]> {
    return this.gate.withExclusive(() => this.removeNow(nameOrId, usedBy, force));
  }

  private async removeNow(nameOrId: string, usedBy: (imageId: string) => ImageUser[], force: boolean): Promise<RemovedImage[]> {
    const byReference = await this.store.resolve(nameOrId).catch(() => undefined);
    const image = byReference ?? (await this.find(nameOrId));
    const id = imageId(image);
    const tags = await this.namesOf(id, await this.store.entries());
    const users = usedBy(id);
    const running = users.filter((u) => u.running);
    const usedText = (list: ImageUser[]): string => `container${list.length > 1 ? 's' : ''} ${list.map((u) => u.name).join(', ')}`;
    if (byReference && tags.length > 1) {
      // Another name stays: only this one goes, whoever uses the image.
      await this.store.untag(byReference.reference, false);
      return [{ Untagged: familiarName(byReference.reference) }];
    }
    if (!byReference && tags.length > 1 && !force) {
      throw new ConflictError(`unable to delete ${id.slice(7, 19)} (must be forced): the image is referenced in several repositories (${tags.map(familiarName).join(', ')})`);
    }
    if (running.length > 0) {
      throw new ConflictError(`unable to delete ${byReference ? `"${nameOrId}"` : id.slice(7, 19)}${force ? ' (cannot be forced)' : ''}: the image is in use by running ${usedText(running)}`);
    }
    if (users.length > 0 && !force) {
      throw new ConflictError(`unable to remove ${byReference ? `repository reference "${nameOrId}"` : id.slice(7, 19)} (must force): ${usedText(users)} ${users.length > 1 ? 'use' : 'uses'} the image ${id.slice(7, 19)}; remove ${users.length > 1 ? 'them' : 'it'} first`);
    }
    const out: RemovedImage[] = [];
    for (const reference of tags) {
      await this.store.untag(reference, users.length > 0);
      out.push({ Untagged: familiarName(reference) });
    }
    if (users.length === 0) {
      await this.store.dropUnnamed(await this.manifestsOf(id));
      await this.collectGarbage();
      out.push({ Deleted: id });
    }
    return out;
  }

  /**
   * `docker image prune`: deletes dangling images (unnamed: the builder's step results
   * among them) or, with `all`, named ones too; never one a container uses or a running
   * build holds.
   * Returns Docker's report and the manifests that went, so the build cache can forget them.
   */
  prune(usedBy: (imageId: string) => ImageUser[], all: boolean): Promise<{ ImagesDeleted: RemovedImage[]; SpaceReclaimed: number; removedManifests: string[] }> {
    return this.gate.withExclusive(() => this.pruneNow(usedBy, all));
  }

  private async pruneNow(usedBy: (imageId: string) => ImageUser[], all: boolean): Promise<{ ImagesDeleted: RemovedImage[]; SpaceReclaimed: number; removedManifests: string[] }> {
    const entries = await this.store.entries();
    const byId = new Map<string, { named: string[]; manifests: Set<string> }>();
    for (const entry of entries) {
      const id = (await this.store.resolveManifest(entry.digest)).manifest.config.digest;
      const row = byId.get(id) ?? { named: [], manifests: new Set<string>() };
      if (entry.reference !== undefined) row.named.push(entry.reference);
      row.manifests.add(entry.digest);
      byId.set(id, row);
    }
    const deleted: RemovedImage[] = [];
    const removedManifests: string[] = [];
    const held = this.holds.content().images;
    for (const [id, row] of byId) {
      if (usedBy(id).length > 0 || [...row.manifests].some((m) => held.has(m))) continue;
      if (row.named.length > 0 && !all) continue;
      for (const reference of row.named) {
        await this.store.untag(reference, false);
        deleted.push({ Untagged: familiarName(reference) });
      }
      await this.store.dropUnnamed(row.manifests);
      removedManifests.push(...row.manifests);
      deleted.push({ Deleted: id });
    }
    const { bytes } = await this.collectGarbage();
    return { ImagesDeleted: deleted, SpaceReclaimed: bytes, removedManifests };
  }

  /**
   * Runs a store write (blobs, then the index entry naming them) so that no garbage
   * collection runs between the two, and none waits long: it is short.
   */
  guardWrite<T>(work: () => Promise<T>): Promise<T> {
    return this.gate.withShared(work);
  }

  /** Runs `work` alone (no pull, load or store write under way); `collect` collects garbage. */
  exclusively<T>(work: (collect: () => Promise<{ bytes: number }>) => Promise<T>): Promise<T> {
    return this.gate.withExclusive(() => work(() => this.collectGarbage()));
  }

  /** Deletes unreferenced, unheld blobs and layers; the mount sources of deleted blobs go too. */
  private async collectGarbage(): Promise<{ bytes: number }> {
    const collected = await this.store.collectGarbage(this.holds.content());
    await this.sources.retain((digest) => this.store.hasBlob(digest));
    return collected;
  }

  /** Every name of the image `id`. */
  private async namesOf(id: string, entries: Array<{ reference: string | undefined; digest: string }>): Promise<string[]> {
    const out: string[] = [];
    for (const entry of entries) {
      if (entry.reference === undefined) continue;
      if ((await this.store.resolveManifest(entry.digest)).manifest.config.digest === id) out.push(entry.reference);
    }
    return out;
  }

  /** Every manifest of the index, named or not, whose config is `id`. */
  private async manifestsOf(id: string): Promise<string[]> {
    const out: string[] = [];
    for (const entry of await this.store.entries()) {
      if ((await this.store.resolveManifest(entry.digest)).manifest.config.digest === id) out.push(entry.digest);
    }
    return out;
  }

  /** `docker save`: the images `names` name, as one archive written to `out`. */
  async save(names: readonly string[], format: ArchiveFormat, out: Writable): Promise<void> {
    const requests: SaveRequest[] = [];
    for (const name of names) {
      const byReference = await this.store.resolve(name).catch(() => undefined);
      const image = byReference ?? (await this.find(name));
      requests.push({ image, references: byReference ? [byReference.reference] : [] });
    }
    const { saveArchive } = await import('../image/archive/save.js');
    await saveArchive(this.store, requests, format, out, familiarName);
  }

  /** `docker load`: a docker-archive or OCI layout tar (plain or gzip) into the store. */
  async load(source: Readable, onLoaded?: (loaded: LoadedImage) => void): Promise<LoadedImage[]> {
    const shimPath = this.registries.shimPath;
    const { loadArchive } = await import('../image/archive/load.js');
    return this.gate.withShared(() => loadArchive(this.store, source, {
      unpack: (blob, diffId) => unpackLayer(this.store, blob, diffId, shimPath ? { shimPath } : {}),
      ...(onLoaded ? { onLoaded } : {}),
    }));
  }
}

export interface ImageUser {
  name: string;
  running: boolean;
}

export type RemovedImage = { Untagged?: string; Deleted?: string };
