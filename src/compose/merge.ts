// Stage 7 of loading: several stack files (a base file, then override files or further
// `-f` files) become one document, by the Compose Specification's merge rules. The
// same rules merge a service with the one it `extends` (see extends.ts).
//
// Mappings merge key by key and scalars are replaced, but many sequences and
// list-or-mapping fields have rules of their own, keyed below by path pattern:
// commands are replaced, `ports`/`volumes`/`secrets`/... are merged by their unique
// key, `environment`/`labels`/... merge as mappings whichever form each file uses.
// `!reset` removes what earlier files set and `!override` replaces instead of merging;
// the output never holds either mark. Every container built here carries the source
// positions of the file that supplied each entry, so later problems point there.

import type { Problem, SourcePosition } from '../common/errors.js';
import {
  containerPosition,
  copyAllPositions,
  entryPosition,
  formatPath,
  setContainerPosition,
  setEntryPosition,
  type DocPath,
  type EntryPosition,
  type PathSegment,
  positionField,
  positionedEntryCount,
} from './positions.js';
import { parsePortLongSyntax, parsePortShortSyntax } from './short-syntax/ports.js';
import { parseVolumeShortSyntax } from './short-syntax/volumes.js';
import { RESET, isOverride, isReset, markOverride } from './tags.js';
import { has, isMapping, put, scalarText, type Mapping } from './mapping.js';


export interface MergeResult {
  value: Mapping;
  problems: Problem[];
}

/** Merge parsed stack files in order: each later file overrides the ones before it. */
export function mergeDocuments(docs: readonly unknown[]): MergeResult {
  const merger = new Merger(false);
  let merged: Mapping | undefined;
  docs.forEach((doc, i) => {
    if (!isMapping(doc)) {
      merger.problems.push({
        path: '',
        message: `a stack file must be a mapping with keys like "services:", but file ${i + 1} of ${docs.length} holds ${describe(doc)}`,
        ...positionField(isContainer(doc) ? containerPosition(doc) : undefined),
      });
      return;
    }
    merged = merged === undefined ? (merger.copy(doc) as Mapping) : (merger.merge(merged, doc, [], {}) as Mapping);
  });
  return { value: merged ?? {}, problems: merger.problems };
}

export interface ServiceMergeResult {
  value: unknown;
  problems: Problem[];
}

/**
 * The service `local` (at `servicePath`, e.g. ['services', 'web']) on top of the service
 * it extends. `!reset` and `!override` in `local` act on `base` and are also kept in the
 * result, so that merging this file over an earlier one applies them again, as Compose
 * does; marks inside `base` are consumed.
 */
export function mergeServiceDefinitions(base: unknown, local: unknown, servicePath: DocPath): ServiceMergeResult {
  const merger = new Merger(true);
  const cleanBase = merger.copy(base, false);
  const value = cleanBase === undefined || cleanBase === null ? merger.copy(local) : merger.merge(cleanBase, local, [...servicePath], {});
  return { value, problems: merger.problems };
}

/** Where the entry being merged sits in the earlier (`base`) and the later (`over`) container. */
interface Where {
  base?: EntryPosition | undefined;
  over?: EntryPosition | undefined;
}

type KeyOf = (item: unknown) => string;

type Rule =
  | { kind: 'replace' }
  | { kind: 'keyValues'; hosts: boolean }
  | { kind: 'named'; listEntry: () => unknown }
  | { kind: 'keyed'; keyOf: KeyOf; acceptsString: boolean }
  | { kind: 'build' }
  | { kind: 'logging' };

const REPLACE: Rule = { kind: 'replace' };
const KEY_VALUES: Rule = { kind: 'keyValues', hosts: false };
const HOSTS: Rule = { kind: 'keyValues', hosts: true };
const keyed = (keyOf: KeyOf, acceptsString = false): Rule => ({ kind: 'keyed', keyOf, acceptsString });

// Rules by path pattern (`*` is any one key). A path that matches none merges
// generically: mappings by key, sequences by appending what is not there yet.
const RULES: ReadonlyArray<readonly [string, Rule]> = [
  // Shell commands are whole values: appending arguments would make a different command.
  ['services.*.command', REPLACE],
  ['services.*.entrypoint', REPLACE],
  ['services.*.healthcheck.test', REPLACE],
  ['services.*.ulimits.*', REPLACE],

  ['services.*.environment', KEY_VALUES],
  ['services.*.labels', KEY_VALUES],
  ['services.*.annotations', KEY_VALUES],
  ['services.*.sysctls', KEY_VALUES],
  ['services.*.storage_opt', KEY_VALUES],
  ['services.*.build.args', KEY_VALUES],
  ['services.*.build.labels', KEY_VALUES],
  ['services.*.build.additional_contexts', KEY_VALUES],
  ['services.*.build.ssh', KEY_VALUES],
  ['services.*.deploy.labels', KEY_VALUES],
  ['networks.*.labels', KEY_VALUES],
  ['volumes.*.labels', KEY_VALUES],
  ['secrets.*.labels', KEY_VALUES],
  ['configs.*.labels', KEY_VALUES],
  ['services.*.extra_hosts', HOSTS],
  ['services.*.build.extra_hosts', HOSTS],

  ['services.*.depends_on', { kind: 'named', listEntry: () => ({ condition: 'service_started', required: true }) }],
  ['services.*.networks', { kind: 'named', listEntry: () => null }],
  ['services.*.models', { kind: 'named', listEntry: () => null }],

  ['services.*.build', { kind: 'build' }],
  ['services.*.logging', { kind: 'logging' }],

  ['services.*.ports', keyed(portKey)],
  ['services.*.volumes', keyed(volumeTarget)],
  ['services.*.tmpfs', keyed(tmpfsTarget, true)],
  ['services.*.secrets', keyed(secretTarget)],
  ['services.*.configs', keyed(configTarget)],
  ['services.*.build.secrets', keyed(buildSecretKey)],
  ['services.*.devices', keyed(deviceTarget)],
  ['services.*.blkio_config.device_read_bps', keyed(fieldKey('path'))],
  ['services.*.blkio_config.device_read_iops', keyed(fieldKey('path'))],
  ['services.*.blkio_config.device_write_bps', keyed(fieldKey('path'))],
  ['services.*.blkio_config.device_write_iops', keyed(fieldKey('path'))],
  ['services.*.blkio_config.weight_device', keyed(fieldKey('path'))],
  ['services.*.develop.watch', keyed(watchKey)],
  ['networks.*.ipam.config', keyed(fieldKey('subnet'))],
  // Written as one string or a list of them.
  ['services.*.env_file', keyed(envFileKey, true)],
  ['services.*.label_file', keyed(valueKey, true)],
  ['services.*.dns', keyed(valueKey, true)],
  ['services.*.dns_search', keyed(valueKey, true)],
  ['services.*.dns_opt', keyed(valueKey, true)],
  ['services.*.expose', keyed(valueKey)],
];

const COMPILED_RULES = RULES.map(([pattern, rule]) => ({ pattern: pattern.split('.'), rule }));

function ruleFor(path: readonly PathSegment[]): Rule | undefined {
  for (const { pattern, rule } of COMPILED_RULES) {
    if (pattern.length === path.length && pattern.every((seg, i) => seg === '*' || seg === path[i])) return rule;
  }
  return undefined;
}

/** `x-` extensions are the user's own data: any shape may replace any other. */
function isExtension(path: readonly PathSegment[]): boolean {
  return path.some((seg) => typeof seg === 'string' && seg.startsWith('x-'));
}

class Merger {
  readonly problems: Problem[] = [];

  /** keepTags: leave `!reset`/`!override` of the later side in the result (extends). */
  constructor(private readonly keepTags: boolean) {}

  /**
   * A value written in a file, ready to be part of the result: `!reset` values are
   * dropped (undefined) and `!override` marks left behind, unless tags are kept. Only
   * the containers that change are copied (with their positions); a container with
   * nothing to remove in it is shared, as no stage changes a document it was given.
   */
  copy(value: unknown, keepTags = this.keepTags): unknown {
    if (isReset(value)) return keepTags ? RESET : undefined;
    const unmark = !keepTags && isOverride(value);
    if (Array.isArray(value)) {
      let out: unknown[] | undefined = unmark ? [] : undefined;
      for (let i = 0; i < value.length; i++) {
        const item = value[i];
        const copied = this.copy(item, keepTags);
        if (!out) {
          if (copied === item && copied !== undefined) continue;
          out = value.slice(0, i);
        }
        if (copied !== undefined) out.push(copied);
      }
      if (!out) return value;
      const kept = out;
      const keptAll = kept.length === value.length;
      if (!this.sharePositions(value, kept, keptAll, keptAll ? value.filter((_, i) => entryPosition(value, i)).length : 0)) {
        let at = 0;
        value.forEach((item, i) => {
          // The items copy() returned undefined for.
          if (item === undefined || (isReset(item) && !keepTags)) return;
          const pos = entryPosition(value, i);
          if (pos) setEntryPosition(kept, at, pos);
          at++;
        });
      }
      return this.finish(value, kept, keepTags);
    }
    if (isMapping(value)) {
      const keys = Object.keys(value);
      let out: Mapping | undefined = unmark ? {} : undefined;
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i]!;
        const item = value[key];
        const copied = this.copy(item, keepTags);
        if (!out) {
          if (copied === item && copied !== undefined) continue;
          out = {};
          for (let j = 0; j < i; j++) put(out, keys[j]!, value[keys[j]!]);
        }
        if (copied !== undefined) put(out, key, copied);
      }
      if (!out) return value;
      const kept = out;
      const keptKeys = Object.keys(kept);
      const keptAll = keptKeys.length === keys.length;
      if (!this.sharePositions(value, kept, keptAll, keptAll ? keys.filter((k) => entryPosition(value, k)).length : 0)) {
        for (const key of keptKeys) {
          const pos = entryPosition(value, key);
          if (pos) setEntryPosition(kept, key, pos);
        }
      }
      return this.finish(value, kept, keepTags);
    }
    return value;
  }

  /**
   * A copy that kept every entry, where every recorded position belongs to one of
   * them, can share its source's positions instead of copying them one by one.
   */
  private sharePositions(from: object, to: object, keptAll: boolean, positionedKept: number): boolean {
    if (!keptAll || positionedKept !== positionedEntryCount(from)) return false;
    copyAllPositions(from, to);
    return true;
  }

  private finish<T extends object>(from: object, out: T, keepTags: boolean): T {
    const self = containerPosition(from);
    if (self && containerPosition(out) !== self) setContainerPosition(out, self);
    if (keepTags && isOverride(from)) markOverride(out);
    return out;
  }

  /**
   * `over` (from the later file) on top of `base` (already merged, free of marks).
   * Undefined means the entry is gone.
   */
  merge(base: unknown, over: unknown, path: PathSegment[], where: Where): unknown {
    if (over === undefined) return base;
    if (isReset(over)) return this.keepTags ? RESET : undefined;
    if (isOverride(over) || base === undefined) return this.copy(over);
    const rule = isExtension(path) ? undefined : ruleFor(path);
    // An empty value in a later file (`web:` with nothing under it) adds nothing.
    if (over === null) return rule?.kind === 'replace' ? null : base;
    if (base === null) return this.copy(over);
    switch (rule?.kind) {
      case 'replace':
        return this.copy(over);
      case 'keyValues':
        return this.mergeKeyValues(base, over, path, where, rule.hosts);
      case 'named':
        return this.mergeNamed(base, over, path, where, rule.listEntry);
      case 'keyed':
        return this.mergeKeyed(base, over, path, where, rule.keyOf, rule.acceptsString);
      case 'build':
        return this.mergeBuild(base, over, path, where);
      case 'logging':
        return this.mergeLogging(base, over, path, where);
      default:
        return this.mergeGeneric(base, over, path, where);
    }
  }

  private mergeGeneric(base: unknown, over: unknown, path: PathSegment[], where: Where): unknown {
    if (isMapping(base) && isMapping(over)) return this.mergeMappings(base, over, path);
    if (Array.isArray(base) && Array.isArray(over)) return this.mergeKeyed(base, over, path, where, stableJson, false);
    if (isContainer(base) && !isExtension(path)) {
      this.clash(base, over, path, where);
      return base;
    }
    return this.copy(over);
  }

  private mergeMappings(base: Mapping, over: Mapping, path: PathSegment[]): Mapping {
    const out: Mapping = {};
    for (const [key, value] of Object.entries(base)) {
      put(out, key, value);
      const pos = entryPosition(base, key);
      if (pos) setEntryPosition(out, key, pos);
    }
    for (const [key, value] of Object.entries(over)) {
      const inBase = has(base, key);
      const basePos = entryPosition(base, key);
      const overPos = entryPosition(over, key);
      const merged = this.merge(inBase ? base[key] : undefined, value, [...path, key], { base: basePos, over: overPos });
      if (merged === undefined) {
        delete out[key];
        continue;
      }
      put(out, key, merged);
      // The later file wrote this entry, unless it only wrote an empty value.
      const pos = value === null && inBase ? basePos : overPos;
      if (pos) setEntryPosition(out, key, pos);
    }
    const self = containerPosition(base) ?? containerPosition(over);
    if (self) setContainerPosition(out, self);
    return out;
  }

  /**
   * Sequences whose items have an identity (a port, a mount target, a file): a later
   * item replaces the earlier one with the same key in place, others are appended.
   * With `stableJson` as the key this is plain appending without duplicates.
   */
  private mergeKeyed(base: unknown, over: unknown, path: PathSegment[], where: Where, keyOf: KeyOf, acceptsString: boolean): unknown {
    const baseList = acceptsString && isScalar(base) ? [base] : base;
    const overList = acceptsString && isScalar(over) ? [over] : over;
    if (!Array.isArray(baseList) || !Array.isArray(overList)) {
      return this.mergeGeneric(base, over, path, where);
    }
    const out: unknown[] = [];
    const index = new Map<string, number>();
    baseList.forEach((item, i) => {
      out.push(item);
      setItemPosition(out, out.length - 1, itemPosition(baseList, i, where.base));
      const key = keyOf(item);
      if (!index.has(key)) index.set(key, out.length - 1);
    });
    overList.forEach((item, i) => {
      const copied = this.copy(item);
      if (copied === undefined || isReset(copied)) return;
      const key = keyOf(copied);
      const at = index.get(key);
      const pos = itemPosition(overList, i, where.over);
      if (at !== undefined) {
        out[at] = copied;
        setItemPosition(out, at, pos);
      } else {
        out.push(copied);
        index.set(key, out.length - 1);
        setItemPosition(out, out.length - 1, pos);
      }
    });
    const self = (Array.isArray(base) ? containerPosition(base) : undefined) ?? where.base?.value ?? where.over?.value;
    if (self) setContainerPosition(out, self);
    return out;
  }

  /**
   * `environment`, `labels`, `extra_hosts`...: `KEY=VALUE` lists and mappings alike, merged
   * by key so that a later file's KEY wins. Two lists stay a list (the user's form);
   * otherwise the result is a mapping, the form `docker compose config` shows.
   */
  private mergeKeyValues(base: unknown, over: unknown, path: PathSegment[], where: Where, hosts: boolean): unknown {
    const before = keyValueEntries(base, hosts, where.base);
    const after = keyValueEntries(over, hosts, where.over);
    if (!before || !after) return this.mergeGeneric(base, over, path, where);

    const groups = new Map<string, KeyValueEntry[]>(before.groups);
    for (const [key, entries] of after.groups) {
      const reset = entries.every((e) => isReset(e.mapValue));
      if (reset && !this.keepTags) groups.delete(key);
      else groups.set(key, entries.map((e) => ({ ...e, item: this.copy(e.item), mapValue: this.copy(e.mapValue) })));
    }

    const asList = (Array.isArray(base) && Array.isArray(over)) || !before.convertible || !after.convertible;
    if (asList) {
      const out: unknown[] = [];
      for (const entries of groups.values()) {
        for (const entry of entries) {
          for (const item of entry.listItems()) {
            if (item === undefined || isReset(item)) continue;
            out.push(item);
            setItemPosition(out, out.length - 1, entry.pos);
          }
        }
      }
      const self = (Array.isArray(base) ? containerPosition(base) : undefined) ?? where.base?.value;
      if (self) setContainerPosition(out, self);
      return out;
    }
    const out: Mapping = {};
    for (const [key, entries] of groups) {
      const last = entries[entries.length - 1]!;
      // Several `HOST=IP` lines for one host are several addresses, not an override.
      const value = hosts && entries.length > 1 ? entries.flatMap((e) => (Array.isArray(e.mapValue) ? e.mapValue : [e.mapValue])) : last.mapValue;
      if (value === undefined) continue;
      put(out, key, value);
      if (last.pos) setEntryPosition(out, key, last.pos);
    }
    const self = (isMapping(base) ? containerPosition(base) : undefined) ?? where.base?.value;
    if (self) setContainerPosition(out, self);
    return out;
  }

  /**
   * `depends_on` and service `networks`: a list of names or a mapping by name. A name
   * a later list adds keeps any details an earlier mapping gave it.
   */
  private mergeNamed(base: unknown, over: unknown, path: PathSegment[], where: Where, listEntry: () => unknown): unknown {
    if (Array.isArray(base) && Array.isArray(over)) return this.mergeKeyed(base, over, path, where, valueKey, false);
    const before = namesToMapping(base, where.base, listEntry);
    const after = namesToMapping(over, where.over, listEntry);
    if (!before || !after) return this.mergeGeneric(base, over, path, where);
    if (Array.isArray(over)) for (const key of Object.keys(after)) if (has(before, key)) delete after[key];
    return this.mergeMappings(before, after, path);
  }

  /** `build: ./dir` is `build: { context: ./dir }`, so the two forms merge. */
  private mergeBuild(base: unknown, over: unknown, path: PathSegment[], where: Where): unknown {
    if (typeof base === 'string' && typeof over === 'string') return over;
    const before = typeof base === 'string' ? contextMapping(base, where.base) : base;
    const after = typeof over === 'string' ? contextMapping(over, where.over) : over;
    if (isMapping(before) && isMapping(after)) return this.mergeMappings(before, after, path);
    return this.mergeGeneric(base, over, path, where);
  }

  /** Options of one logging driver mean nothing to another: a new driver replaces them. */
  private mergeLogging(base: unknown, over: unknown, path: PathSegment[], where: Where): unknown {
    if (isMapping(base) && isMapping(over) && typeof base.driver === 'string' && typeof over.driver === 'string' && base.driver !== over.driver) {
      return this.copy(over);
    }
    return this.mergeGeneric(base, over, path, where);
  }

  private clash(base: unknown, over: unknown, path: PathSegment[], where: Where): void {
    const baseFile = where.base?.value.file;
    this.problems.push({
      path: formatPath(path),
      message: `is ${describe(over)} here but ${describe(base)} in ${baseFile ?? 'an earlier file'}, so the two cannot be merged: write ${describe(base)}`,
      ...positionField(where.over?.value),
    });
  }
}

interface KeyValueEntry {
  /** The item as written, when it came from a list. */
  item: unknown;
  /** The value in mapping form: null for a bare `KEY`. */
  mapValue: unknown;
  pos: EntryPosition | undefined;
  /** The entry in list form. */
  listItems(): unknown[];
}

interface KeyValueEntries {
  groups: Map<string, KeyValueEntry[]>;
  /** False when a list item is not `KEY=VALUE` text, so the list cannot become a mapping. */
  convertible: boolean;
}

function keyValueEntries(value: unknown, hosts: boolean, where: EntryPosition | undefined): KeyValueEntries | undefined {
  const groups = new Map<string, KeyValueEntry[]>();
  const add = (key: string, entry: KeyValueEntry): void => {
    const group = groups.get(key);
    if (group) group.push(entry);
    else groups.set(key, [entry]);
  };
  let convertible = true;
  if (Array.isArray(value)) {
    value.forEach((item, i) => {
      const pos = itemPosition(value, i, where);
      if (isReset(item)) return;
      if (!isScalar(item) || item === null) {
        convertible = false;
        add(`\0${stableJson(item)}`, { item, mapValue: undefined, pos, listItems: () => [item] });
        return;
      }
      const text = String(item);
      // `host=ip` is the current form of an extra host; `host:ip` the older one.
      const sep = hosts && !text.includes('=') ? text.indexOf(':') : text.indexOf('=');
      const key = sep < 0 ? text : text.slice(0, sep);
      add(key, { item, mapValue: sep < 0 ? null : text.slice(sep + 1), pos, listItems: () => [item] });
    });
    return { groups, convertible };
  }
  if (isMapping(value)) {
    for (const [key, mapValue] of Object.entries(value)) {
      const entry: KeyValueEntry = {
        item: undefined,
        mapValue,
        pos: entryPosition(value, key),
        listItems() {
          const v = this.mapValue;
          if (isReset(v)) return [];
          if (hosts && Array.isArray(v)) return v.map((address) => `${key}=${scalarText(address)}`);
          return [v === null ? key : `${key}=${scalarText(v)}`];
        },
      };
      add(key, entry);
    }
    return { groups, convertible };
  }
  return undefined;
}

function namesToMapping(value: unknown, where: EntryPosition | undefined, listEntry: () => unknown): Mapping | undefined {
  if (isMapping(value)) return value;
  if (!Array.isArray(value)) return undefined;
  const out: Mapping = {};
  for (let i = 0; i < value.length; i++) {
    const item = value[i];
    if (isReset(item)) continue;
    if (typeof item !== 'string') return undefined;
    const pos = itemPosition(value, i, where);
    const entry = listEntry();
    if (pos && isContainer(entry)) {
      setContainerPosition(entry, pos.value);
      for (const k of Object.keys(entry)) setEntryPosition(entry, k, { key: pos.value, value: pos.value });
    }
    put(out, item, entry);
    if (pos) setEntryPosition(out, item, { key: pos.value, value: pos.value });
  }
  const self = containerPosition(value) ?? where?.value;
  if (self) setContainerPosition(out, self);
  return out;
}

function contextMapping(context: string, where: EntryPosition | undefined): Mapping {
  const out: Mapping = { context };
  if (where) {
    setEntryPosition(out, 'context', { key: where.value, value: where.value });
    setContainerPosition(out, where.value);
  }
  return out;
}

// Unique keys of sequence items. Items the key cannot be read from fall back to their
// whole text, so they are only merged with an identical item.

function portKey(item: unknown): string {
  const parsed = typeof item === 'string' || typeof item === 'number' ? parsePortShortSyntax(item) : isMapping(item) ? parsePortLongSyntax(item) : undefined;
  if (!parsed?.ok) return stableJson(item);
  const ports = Array.isArray(parsed.value) ? parsed.value : [parsed.value];
  return ports.map((p) => `${p.host_ip ?? ''}:${p.published ?? ''}:${p.target}/${p.protocol}`).join(',');
}

function volumeTarget(item: unknown): string {
  if (typeof item === 'string') {
    // Only the container path matters here; the host paths given are never used.
    const parsed = parseVolumeShortSyntax(item, { projectDirectory: '/', home: '/' });
    return parsed.ok ? parsed.value.target : stableJson(item);
  }
  return isMapping(item) && typeof item.target === 'string' ? item.target : stableJson(item);
}

function tmpfsTarget(item: unknown): string {
  return typeof item === 'string' ? item.split(':')[0]! : stableJson(item);
}

function secretTarget(item: unknown): string {
  if (typeof item === 'string') return `/run/secrets/${item}`;
  if (isMapping(item)) {
    if (typeof item.target === 'string') return item.target.startsWith('/') ? item.target : `/run/secrets/${item.target}`;
    if (typeof item.source === 'string') return `/run/secrets/${item.source}`;
  }
  return stableJson(item);
}

function configTarget(item: unknown): string {
  if (typeof item === 'string') return `/${item}`;
  if (isMapping(item)) {
    if (typeof item.target === 'string') return item.target;
    if (typeof item.source === 'string') return `/${item.source}`;
  }
  return stableJson(item);
}

function buildSecretKey(item: unknown): string {
  if (typeof item === 'string') return item;
  if (isMapping(item)) {
    if (typeof item.target === 'string') return item.target;
    if (typeof item.source === 'string') return item.source;
  }
  return stableJson(item);
}

function deviceTarget(item: unknown): string {
  if (typeof item === 'string') {
    const parts = item.split(':');
    return parts.length === 1 ? parts[0]! : parts[1]!;
  }
  if (isMapping(item) && typeof item.target === 'string') return item.target;
  return stableJson(item);
}

function watchKey(item: unknown): string {
  if (isMapping(item) && typeof item.path === 'string') return `${String(item.action)} ${item.path}`;
  return stableJson(item);
}

function envFileKey(item: unknown): string {
  if (typeof item === 'string') return item;
  if (isMapping(item) && typeof item.path === 'string') return item.path;
  return stableJson(item);
}

function fieldKey(field: string): KeyOf {
  return (item) => (isMapping(item) && (typeof item[field] === 'string' || typeof item[field] === 'number') ? String(item[field]) : stableJson(item));
}

function valueKey(item: unknown): string {
  return isScalar(item) && item !== null ? String(item) : stableJson(item);
}

/** JSON with sorted keys, so equal values give equal text whatever their key order. */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (isMapping(value)) {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${stableJson(value[k])}`).join(',')}}`;
  }
  if (value === undefined || typeof value === 'symbol') return 'null';
  return JSON.stringify(value) ?? 'null';
}

function itemPosition(list: readonly unknown[], index: number, fallback: EntryPosition | undefined): EntryPosition | undefined {
  return entryPosition(list, index) ?? (fallback ? { value: fallback.value } : undefined);
}

function setItemPosition(list: unknown[], index: number, pos: EntryPosition | undefined): void {
  if (pos) setEntryPosition(list, index, { value: pos.value });
}


function describe(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (isMapping(value)) return 'a mapping';
  if (value === null) return 'an empty value';
  if (typeof value === 'string') return 'a string';
  if (typeof value === 'number') return 'a number';
  if (typeof value === 'boolean') return 'a boolean';
  return `a ${typeof value}`;
}

function isContainer(v: unknown): v is object {
  return typeof v === 'object' && v !== null;
}

function isScalar(v: unknown): v is string | number | boolean | null {
  return v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
}
