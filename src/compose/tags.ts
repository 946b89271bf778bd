// The Compose merge tags. `!reset` removes a value inherited from an earlier file
// (or from `extends`); `!override` replaces a mapping or sequence instead of merging
// it. The parse stage produces these markers; the merge and extends stages consume
// them, so nothing after merge ever sees one.

/** The value written as `key: !reset ...`. */
export const RESET: unique symbol = Symbol('stack.reset');
export type Reset = typeof RESET;

const overrides = new WeakSet<object>();

/** Mark a mapping or sequence written as `key: !override ...`. */
export function markOverride(container: object): void {
  overrides.add(container);
}

export function isOverride(value: unknown): boolean {
  return typeof value === 'object' && value !== null && overrides.has(value);
}

export function isReset(value: unknown): value is Reset {
  return value === RESET;
}
