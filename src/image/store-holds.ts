// What running work (a build) still needs from the image store although the index may not
// name it: the images a build stands on and made so far, and the layers it stored before
// recording an image of them. Garbage collection keeps everything held, and prunes skip
// held images, so a prune during a build cannot pull layers from under it.

export interface StoreHold {
  /** Keeps an image (its manifest, config and layers) by manifest digest. */
  addImage(manifestDigest: string): void;
  /** Keeps one layer: its blob and its unpacked directory. */
  addLayer(blobDigest: string, diffId: string): void;
  /** Ends the hold (the work is done, its results named or cached in the index). */
  release(): void;
}

interface Held {
  images: Set<string>;
  blobs: Set<string>;
  diffIds: Set<string>;
}

export interface HeldContent {
  images: Set<string>;
  blobs: Set<string>;
  diffIds: Set<string>;
}

export class StoreHolds {
  private readonly open = new Set<Held>();

  hold(): StoreHold {
    const held: Held = { images: new Set(), blobs: new Set(), diffIds: new Set() };
    this.open.add(held);
    return {
      addImage: (digest) => void held.images.add(digest),
      addLayer: (blob, diffId) => {
        held.blobs.add(blob);
        held.diffIds.add(diffId);
      },
      release: () => void this.open.delete(held),
    };
  }

  /** Everything held right now, by all open holds. */
  content(): HeldContent {
    const out: HeldContent = { images: new Set(), blobs: new Set(), diffIds: new Set() };
    for (const held of this.open) {
      for (const d of held.images) out.images.add(d);
      for (const d of held.blobs) out.blobs.add(d);
      for (const d of held.diffIds) out.diffIds.add(d);
    }
    return out;
  }
}
