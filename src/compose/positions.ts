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

/**
 * Each container carries its positions itself, in a private class field: invisible to
 * Object.keys, spreads, JSON, structuredClone and test comparisons, so containers stay
 * plain data. (A class whose base constructor returns its argument can add a private
 * field to any object. A WeakMap side table did the same job, but its inserts and the
 * collector's ephemeron work cost ~60 ms of a 200-service load, and a symbol property
 * added with defineProperty costs twice as much as the field.) Stages copy every
 * container they rebuild, so a copy shares its source's record until either of them is
 * given a position of its own (copy on write).
 */
interface PositionRecord {
  /** Where the container itself starts. */
  self: SourcePosition | undefined;
  entries: Map<PathSegment, EntryPosition> | undefined;
  /** Held by more than one container: copy before changing it. */
  shared: boolean;
}

class ReturnsItsArgument {
  constructor(target: object) {
    return target;
  }
}

class PositionCarrier extends ReturnsItsArgument {
  #record: PositionRecord;

  private constructor(target: object, record: PositionRecord) {
    super(target);
    this.#record = record;
  }

  static attach(target: object, record: PositionRecord): void {
    new PositionCarrier(target, record);
  }

  static recordOf(target: object): PositionRecord | undefined {
    return #record in target ? target.#record : undefined;
  }

  /** Only for a target that has a record already. */
  static replace(target: object, record: PositionRecord): void {
    (target as PositionCarrier).#record = record;
  }
}

function recordOf(container: Container): PositionRecord | undefined {
  return PositionCarrier.recordOf(container);
}

function attach(container: Container, record: PositionRecord): void {
  PositionCarrier.attach(container, record);
}

function writableRecord(container: Container): PositionRecord {
  let record = recordOf(container);
  if (!record) {
    record = { self: undefined, entries: undefined, shared: false };
    attach(container, record);
  } else if (record.shared) {
    record = { self: record.self, entries: record.entries && new Map(record.entries), shared: false };
    PositionCarrier.replace(container, record);
  }
  return record;
}

export function setEntryPosition(container: Container, key: PathSegment, pos: EntryPosition): void {
  const record = writableRecord(container);
  (record.entries ??= new Map()).set(key, pos);
}

export function entryPosition(container: Container, key: PathSegment): EntryPosition | undefined {
  return recordOf(container)?.entries?.get(key);
}

export function setContainerPosition(container: Container, pos: SourcePosition): void {
  writableRecord(container).self = pos;
}

/** Where the container itself starts, when it was recorded (see setContainerPosition). */
export function containerPosition(container: Container): SourcePosition | undefined {
  return recordOf(container)?.self;
}

/** Copy the position of entry `fromKey` of `from` to entry `toKey` of `to`. */
export function copyEntryPosition(from: Container, fromKey: PathSegment, to: Container, toKey: PathSegment = fromKey): void {
  const pos = entryPosition(from, fromKey);
  if (pos) setEntryPosition(to, toKey, pos);
}

/** How many entries of the container have a recorded position. */
export function positionedEntryCount(container: Container): number {
  return recordOf(container)?.entries?.size ?? 0;
}

/** Copy every recorded entry position (and the container's own, unless it has one) from one container to another. */
export function copyAllPositions(from: Container, to: Container): void {
  const source = recordOf(from);
  if (!source) return;
  const target = recordOf(to);
  if (!target) {
    source.shared = true;
    attach(to, source);
    return;
  }
  if (source.entries) {
    const entries = (writableRecord(to).entries ??= new Map());
    for (const [k, p] of source.entries) entries.set(k, p);
  }
  if (source.self && !target.self) writableRecord(to).self = source.self;
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
