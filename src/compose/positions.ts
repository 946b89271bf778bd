// Source positions of parsed stack-file values, kept beside the plain objects the
// pipeline works on. Every container (mapping or sequence) that came from YAML has a
// record of where each of its keys and values sits; stages that build new containers
// copy the records of what they keep, so a problem found after interpolation, extends
// and merge still points at the line the user wrote.

import type { SourcePosition } from '../common/errors.js';

export type PathSegment = string | number;
export type DocPath = readonly PathSegment[];

export interface EntryPosition {
  /** Where the key is written (mappings only). */
  key?: SourcePosition;
  /** Where the value starts. */
  value: SourcePosition;
}

type Container = object;

// Keyed by object identity: a hidden side table, not global behaviour.
const table = new WeakMap<Container, Map<PathSegment, EntryPosition>>();

export function setEntryPosition(container: Container, key: PathSegment, pos: EntryPosition): void {
  let entries = table.get(container);
  if (!entries) {
    entries = new Map();
    table.set(container, entries);
  }
  entries.set(key, pos);
}

export function entryPosition(container: Container, key: PathSegment): EntryPosition | undefined {
  return table.get(container)?.get(key);
}

/** Where the container itself starts, when it was recorded (see setContainerPosition). */
const selfTable = new WeakMap<Container, SourcePosition>();
export function setContainerPosition(container: Container, pos: SourcePosition): void {
  selfTable.set(container, pos);
}
export function containerPosition(container: Container): SourcePosition | undefined {
  return selfTable.get(container);
}

/** Copy the position of entry `fromKey` of `from` to entry `toKey` of `to`. */
export function copyEntryPosition(from: Container, fromKey: PathSegment, to: Container, toKey: PathSegment = fromKey): void {
  const pos = entryPosition(from, fromKey);
  if (pos) setEntryPosition(to, toKey, pos);
}

/** Copy every recorded entry position (and the container's own) from one container to another. */
export function copyAllPositions(from: Container, to: Container): void {
  const entries = table.get(from);
  if (entries) for (const [k, p] of entries) setEntryPosition(to, k, p);
  const self = selfTable.get(from);
  if (self && !selfTable.has(to)) selfTable.set(to, self);
}

/**
 * Find the best known position for `path` inside `root`: the position of the deepest
 * entry along the path that has one. `part` chooses between the key and the value of
 * the last entry (unknown-key errors point at the key).
 */
export function locate(root: unknown, path: DocPath, part: 'key' | 'value' = 'value'): SourcePosition | undefined {
  let node: unknown = root;
  let best: SourcePosition | undefined = isContainer(root) ? containerPosition(root) : undefined;
  for (let i = 0; i < path.length; i++) {
    if (!isContainer(node)) break;
    const seg = path[i]!;
    const pos = entryPosition(node, seg);
    if (pos) best = i === path.length - 1 && part === 'key' && pos.key ? pos.key : pos.value;
    node = (node as Record<PathSegment, unknown>)[seg];
  }
  return best;
}

function isContainer(v: unknown): v is Container {
  return typeof v === 'object' && v !== null;
}

/** `services.web.ports[1]` from ['services', 'web', 'ports', 1]. */
export function formatPath(path: DocPath): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z0-9_-]+$/.test(seg) || seg === '') out += out ? `.${seg}` : seg;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

/** `{ position }` when there is one, for spreading into a Problem. */
export function positionField(position: SourcePosition | undefined): { position?: SourcePosition } {
  return position ? { position } : {};
}
