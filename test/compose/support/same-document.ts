// Test support: where two parsed documents differ, counting what a later stage can
// see: values (NaN and -0 included), key order, the entry and container positions of
// positions.ts and the !override markers of tags.ts. Undefined when they are the same.

import { containerPosition, entryPosition } from '../../../src/compose/positions.js';
import { isOverride } from '../../../src/compose/tags.js';

export function firstDifference(a: unknown, b: unknown, path = '$'): string | undefined {
  if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null) {
    return Object.is(a, b) ? undefined : `${path}: ${String(a)} vs ${String(b)}`;
  }
  if (Array.isArray(a) !== Array.isArray(b)) return `${path}: list vs mapping`;
  if (isOverride(a) !== isOverride(b)) return `${path}: !override marker`;
  const pa = JSON.stringify(containerPosition(a));
  const pb = JSON.stringify(containerPosition(b));
  if (pa !== pb) return `${path}: container position ${pa} vs ${pb}`;
  const keysA = Array.isArray(a) ? a.map((_, i) => i) : Object.keys(a);
  const keysB = Array.isArray(b) ? (b as unknown[]).map((_, i) => i) : Object.keys(b);
  if (JSON.stringify(keysA) !== JSON.stringify(keysB)) return `${path}: keys ${JSON.stringify(keysA)} vs ${JSON.stringify(keysB)}`;
  for (const k of keysA) {
    const ea = JSON.stringify(entryPosition(a, k));
    const eb = JSON.stringify(entryPosition(b, k));
    if (ea !== eb) return `${path}.${k}: entry position ${ea} vs ${eb}`;
    const d = firstDifference((a as Record<string | number, unknown>)[k], (b as Record<string | number, unknown>)[k], `${path}.${k}`);
    if (d) return d;
  }
  return undefined;
}
