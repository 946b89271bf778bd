// The engine's builds: the Dockerfile builder of src/image/build with the engine's own
// containers as its RUN runner. A RUN step is a short-lived container of the step's parent
// image made through ContainerService, so it gets exactly what any container gets (the
// default bridge with NAT and the engine's DNS, /etc/hosts and resolv.conf, cgroups, the
// log file) and no second way of running things exists. The builder then reads the
// container's overlay upper dir as the step's layer and the container is removed. Base
// images the engine lacks are pulled with the engine's registry client, with the logins the
// client sent (X-Registry-Config), else the engine's own. The builder (and tar-stream with
// it) is loaded by the first build or cache prune: an engine that never builds never holds it.

import { readFile } from 'node:fs/promises';
import type { RegistryCredentials } from '../common/docker-config.js';
import { parseReference } from '../image/reference.js';
import { join } from 'node:path';
import { containerRootfsDirs } from '../image/rootfs.js';
import type { Builder, BuilderOptions, BuildRequest, BuildResult, RunOutcome, RunRequest, StepRunner } from '../image/build/builder.js';
import { readContainerLog } from './container-logs.js';
import { containerDir } from './container-record.js';
import type { ContainerService } from './container-service.js';
import { familiarName, type ImageService } from './image-service.js';
import type { ImageStore, ResolvedImage } from '../image/store.js';
import { planCachePrune, type CacheObject } from '../image/build/cache-prune.js';

/** Label on a build step's container (shown by `ps -a` while it runs, as Docker's are). */
export const BUILD_STEP_LABEL = 'stack.build.step';

/** The build cache's default bound (blob bytes only its step results use). */
export const DEFAULT_BUILD_CACHE_MAX = 10 * 1024 ** 3;

export interface BuildPruneReport {
  /** The cache keys dropped (Docker's build cache record IDs). */
  CachesDeleted: string[];
  SpaceReclaimed: number;
}

export class BuildService {
  private readonly builderOptions: BuilderOptions;
  private builderLoaded: Promise<Builder> | undefined;
  private readonly images: ImageService;
  private readonly containers: ContainerService;
  private readonly cacheMax: number;

  constructor(options: { root: string; images: ImageService; containers: ContainerService; cacheMax?: number }) {
    this.images = options.images;
    this.containers = options.containers;
    this.cacheMax = options.cacheMax ?? DEFAULT_BUILD_CACHE_MAX;
    this.builderOptions = {
      store: options.images.store,
      findImage: (ref) => options.images.find(ref),
      pullImage: (ref, say, pull) => pullForBuild(options.images, ref, say, pull.logins),
      runner: new ContainerStepRunner(options.root, options.containers),
      hold: () => options.images.holds.hold(),
      guardWrite: (work) => options.images.guardWrite(work),
    };
  }

  private builder(): Promise<Builder> {
    return (this.builderLoaded ??= import('../image/build/builder.js').then(({ Builder }) => new Builder(this.builderOptions)));
  }

  /** Builds; then, the build's hold released, evicts the least recently used cache beyond the bound. */
  async build(request: BuildRequest): Promise<BuildResult> {
    try {
      return await (await this.builder()).build(request);
    } finally {
      await this.prune({ all: true, keepStorage: this.cacheMax }).catch((err: unknown) => {
        request.output(`[Warning] keeping the build cache under ${this.cacheMax} bytes failed: ${(err as Error).message}\n`);
      });
    }
  }

  /** The build cache forgets steps whose results were these (removed) images. */
  async forgetImages(manifestDigests: Iterable<string>): Promise<number> {
    return (await (await this.builder()).stepCache.forget(manifestDigests)).length;
  }

  /**
   * `docker builder prune`: drops cache entries (the unnamed step images and their cache
   * keys) as cache-prune.ts plans, never one a running build holds or a container uses,
   * then collects the garbage. Runs with no other store write under way.
   */
  async prune(options: { all: boolean; keepStorage: number }): Promise<BuildPruneReport> {
    const cache = (await this.builder()).stepCache;
    const store = this.images.store;
    return this.images.exclusively(async (collect) => {
      const entries = await cache.entries();
      const index = await store.entries();
      const listed = new Set(index.map((e) => e.digest));
      const named = new Set(index.filter((e) => e.reference !== undefined).map((e) => e.digest));
      const held = this.images.holds.content().images;
      const results = new Map<string, number>();
      for (const [, entry] of entries) results.set(entry.digest, Math.max(results.get(entry.digest) ?? 0, entry.used));
      const objects: CacheObject[] = [];
      for (const [digest, used] of results) {
        if (!listed.has(digest)) continue;
        const image = await store.resolveManifest(digest);
        const inUse = held.has(digest) || this.containers.usersOfImage(image.manifest.config.digest).length > 0;
        objects.push({ digest, used, blobs: await imageBlobs(store, image), named: named.has(digest), inUse });
      }
      const pinned = new Set<string>();
      for (const entry of index) {
        if (entry.reference === undefined && results.has(entry.digest)) continue;
        for (const blob of await imageBlobs(store, await store.resolveManifest(entry.digest))) pinned.add(blob.digest);
      }
      const plan = planCachePrune(objects, pinned, options);
      // Entries whose image went some other way are dropped too: they can never hit.
      const stale = [...results.keys()].filter((d) => !listed.has(d));
      if (plan.remove.length === 0 && stale.length === 0) return { CachesDeleted: [], SpaceReclaimed: 0 };
      await store.dropUnnamed(plan.remove);
      const dropped = await cache.forget([...plan.remove, ...stale]);
      const { bytes } = await collect();
      return { CachesDeleted: dropped, SpaceReclaimed: bytes };
    });
  }
}

/** An image's manifest, config and layer blobs, each once, with their sizes. */
async function imageBlobs(store: ImageStore, image: ResolvedImage): Promise<Array<{ digest: string; size: number }>> {
  const blobs = new Map<string, number>([[image.manifestDigest, (await store.getBlob(image.manifestDigest)).length], [image.manifest.config.digest, image.manifest.config.size]]);
  for (const layer of image.manifest.layers) blobs.set(layer.digest, layer.size);
  return [...blobs].map(([digest, size]) => ({ digest, size }));
}

/**
 * Pulls a base image, its progress as the text lines `docker build` shows for one: each
 * layer's status once per change (not every byte count), then the digest and status.
 * The client's login for the image's registry is used when it sent one, else the engine's.
 */
async function pullForBuild(images: ImageService, ref: string, say: (line: string) => void, logins: ReadonlyMap<string, RegistryCredentials> | undefined): Promise<ResolvedImage> {
  const last = new Map<string, string>();
  const credentials = logins?.get(parseReference(ref).domain);
  const result = await images.pull(ref, {
    ...(credentials ? { credentials } : {}),
    onProgress: (event) => {
      if (event.kind === 'message') {
        say(`${event.id ? `${event.id}: ` : ''}${event.text}\n`);
        return;
      }
      if (last.get(event.id) === event.status) return;
      last.set(event.id, event.status);
      say(`${event.id}: ${event.status}\n`);
    },
  });
  say(`Digest: ${result.manifestDigest}\n`);
  say(`Status: ${result.changed ? 'Downloaded newer image' : 'Image is up to date'} for ${familiarName(result.image.reference)}\n`);
  return result.image;
}

class ContainerStepRunner implements StepRunner {
  constructor(private readonly root: string, private readonly containers: ContainerService) {}

  async run(request: RunRequest): Promise<RunOutcome> {
    const { Id: id } = await this.containers.create(undefined, {
      Image: request.imageId,
      Cmd: request.args,
      Entrypoint: [],
      Env: request.env,
      User: request.user,
      WorkingDir: request.workdir,
      // The image's health check is for the finished image, not for its build steps.
      Healthcheck: { Test: ['NONE'] },
      Labels: { [BUILD_STEP_LABEL]: 'true' },
      HostConfig: { NetworkMode: 'default' },
    });
    const release = async (): Promise<void> => {
      await this.containers.remove(id, { force: true, volumes: true });
    };
    try {
      const onAbort = (): void => {
        void this.containers.kill(id).catch(() => undefined);
      };
      request.signal?.addEventListener('abort', onAbort, { once: true });
      try {
        await this.containers.start(id);
        const stopped = this.containers.wait(id, 'not-running');
        await readContainerLog(
          this.containers.logPath(id),
          { stdout: true, stderr: true, follow: true },
          (entry) => request.onOutput(entry.log),
          { isStopped: () => !this.containers.isRunning(id), stopped, ...(request.signal ? { signal: request.signal } : {}) },
        );
        const { StatusCode } = await stopped;
        if (request.signal?.aborted) throw new Error('the build was cancelled');
        return { exitCode: StatusCode, upperDir: containerRootfsDirs(this.root, id).upper, mountTargets: await this.mountTargets(id), release };
      } finally {
        request.signal?.removeEventListener('abort', onAbort);
      }
    } catch (err) {
      await release().catch(() => undefined);
      throw err;
    }
  }

  /** The mount destinations of the container's bundle: the runtime made stubs for those in the rootfs. */
  private async mountTargets(id: string): Promise<string[]> {
    const spec = JSON.parse(await readFile(join(containerDir(this.root, id), 'bundle', 'config.json'), 'utf8')) as { mounts?: Array<{ destination: string }> };
    return (spec.mounts ?? []).map((m) => m.destination);
  }
}
