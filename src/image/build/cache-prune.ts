// Which build cache entries a prune removes: a pure plan over what the store holds, so the
// rules read in one place. The cache's size is the bytes of the blobs (manifests, configs,
// compressed layers) that only step results reference: what removing every entry would
// free. Entries an unfinished build holds or a container uses are never removed; without
// `all`, results that are also named images stay too (Docker's "dangling only"). With a
// storage to keep, the least recently used go first until the rest fits; without one,
// every candidate goes.

export interface CacheObject {
  /** The step result's manifest digest (several cache keys may share one result). */
  digest: string;
  /** The newest use of any of its keys. */
  used: number;
  /** Its manifest, config and layer blobs. */
  blobs: ReadonlyArray<{ digest: string; size: number }>;
  /** A name of the store points at it too. */
  named: boolean;
  /** A running build holds it or a container uses it. */
  inUse: boolean;
}

export interface PrunePlan {
  /** Manifest digests to drop, least recently used first. */
  remove: string[];
  /** The cache's size before and after (blob bytes only step results reference). */
  sizeBefore: number;
  sizeAfter: number;
}

/**
 * `pinned`: blobs something other than a step result references (a named image, another
 * unnamed image); they are not the cache's to free.
 */
export function planCachePrune(objects: readonly CacheObject[], pinned: ReadonlySet<string>, options: { all: boolean; keepStorage: number }): PrunePlan {
  const refs = new Map<string, { size: number; count: number }>();
  for (const object of objects) {
    for (const blob of object.blobs) {
      if (pinned.has(blob.digest)) continue;
      const ref = refs.get(blob.digest) ?? { size: blob.size, count: 0 };
      ref.count++;
      refs.set(blob.digest, ref);
    }
  }
  let size = [...refs.values()].reduce((n, r) => n + r.size, 0);
  const sizeBefore = size;
  const candidates = objects.filter((o) => !o.inUse && (options.all || !o.named)).sort((a, b) => a.used - b.used || a.digest.localeCompare(b.digest));
  const remove: string[] = [];
  for (const object of candidates) {
    if (options.keepStorage > 0 && size <= options.keepStorage) break;
    remove.push(object.digest);
    for (const blob of object.blobs) {
      const ref = refs.get(blob.digest);
      if (ref === undefined) continue;
      if (--ref.count === 0) size -= ref.size;
    }
  }
  return { remove, sizeBefore, sizeAfter: size };
}
