// What a pull or push reports as it goes, per layer (keyed by the short ID Docker shows:
// the first 12 hex digits of the blob digest). The API turns these into Docker's JSON
// progress lines; nothing here knows about HTTP or terminals.

export type LayerStatus =
  | 'Already exists' | 'Pulling fs layer' | 'Waiting' | 'Downloading' | 'Verifying Checksum' | 'Download complete' | 'Extracting' | 'Pull complete'
  | 'Preparing' | 'Pushing' | 'Pushed' | 'Layer already exists' | `Mounted from ${string}`;

export type TransferEvent =
  | { kind: 'layer'; id: string; status: LayerStatus; current?: number; total?: number }
  | { kind: 'message'; text: string; id?: string };

export type ProgressSink = (event: TransferEvent) => void;

export function shortId(digest: string): string {
  return digest.replace(/^sha256:/, '').slice(0, 12);
}

/** Runs `work` over `items` with at most `limit` at once; the first failure is rethrown after the others settle. */
export async function boundedAll<T>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { err: unknown } | undefined;
  async function worker(): Promise<void> {
    while (next < items.length && failure === undefined) {
      const i = next++;
      try {
        await work(items[i]!, i);
      } catch (err) {
        failure ??= { err };
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure.err;
}
