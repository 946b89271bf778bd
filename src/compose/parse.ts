// Stage 3 of loading: bytes of one stack file -> a plain JS document, with the source
// position of every mapping and sequence entry recorded (see positions.ts).
//
// Hostile or broken input is refused here, before any later stage walks the tree:
// files over MAX_FILE_BYTES, binary or non-UTF-8 content, YAML syntax errors, tabs
// used as indentation, duplicate keys, nesting deeper than MAX_DEPTH and aliases that
// expand to more than MAX_EXPANDED_NODES values ("billion laughs"). Anchors, aliases
// and `<<` merge keys are expanded; `!reset` and `!override` become the markers of
// tags.ts for the merge stage.
//
// Two paths give the same result. Files written in the common part of YAML are read
// by yaml-subset.ts in a few milliseconds; everything else, and every file with a
// mistake in it, goes to the `yaml` library and the converter below, which also word
// every problem. `yaml` is loaded only when that path runs: loading it costs ~40 ms.

import { createRequire } from 'node:module';
import type { Alias, Document, LineCounter, Node as YamlNode, Pair, YAMLMap, YAMLSeq, Scalar } from 'yaml';
import type { Problem, SourcePosition } from '../common/errors.js';
import { entryPosition as entryPositionOf, setContainerPosition, setEntryPosition, formatPath, type PathSegment } from './positions.js';
import { readYamlSubset } from './yaml-subset.js';
import { RESET, markOverride } from './tags.js';
import { closestName } from './did-you-mean.js';
import { has, put } from './mapping.js';

export const MAX_FILE_BYTES = 4 * 1024 * 1024;
export const MAX_DEPTH = 64;
export const MAX_EXPANDED_NODES = 250_000;

type YamlLibrary = typeof import('yaml');
let yamlLibrary: YamlLibrary | undefined;
function yaml(): YamlLibrary {
  yamlLibrary ??= createRequire(import.meta.url)('yaml') as YamlLibrary;
  return yamlLibrary;
}
// The library's node tests, for the converter (which runs only once it is loaded).
const isAlias = (node: unknown): node is Alias => yaml().isAlias(node);
const isMap = (node: unknown): node is YAMLMap => yaml().isMap(node);
const isPair = (node: unknown): node is Pair => yaml().isPair(node);
const isScalar = (node: unknown): node is Scalar => yaml().isScalar(node);
const isSeq = (node: unknown): node is YAMLSeq => yaml().isSeq(node);

/** Where a node is, as a chain to its parent: built for every node, turned into a path only for a problem. */
type Where = { readonly parent: Where; readonly key: PathSegment } | undefined;

function pathOf(where: Where): PathSegment[] {
  const out: PathSegment[] = [];
  for (let w = where; w; w = w.parent) out.push(w.key);
  return out.reverse();
}

export interface ParseResult {
  /** The document; undefined when the file could not be read as YAML at all. */
  value: unknown;
  problems: Problem[];
  /** True when the document carries no source positions (none were asked for, and the common path read it). */
  positionsSkipped?: boolean;
}

/**
 * Parse one stack file's bytes. `file` is the name used in every reported position.
 * `positions: false` lets the common path skip recording where values are written, for
 * a load that needs them only if it finds something to report (load.ts); the full
 * path, which runs for unusual files and every mistake, records them always.
 */
export function parseStackFile(bytes: Uint8Array, file: string, positions = true): ParseResult {
  const refused = refuseUnreadable(bytes, file);
  if (refused) return { value: undefined, problems: [refused] };

  let text = new TextDecoder('utf-8').decode(bytes);
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);

  const common = readYamlSubset(text, file, { maxDepth: MAX_DEPTH, maxExpandedValues: MAX_EXPANDED_NODES }, positions);
  if (common !== undefined) return { value: common, problems: [], ...(positions ? {} : { positionsSkipped: true }) };
  return parseWithYamlLibrary(text, file);
}

/** The full path alone; exported so tests can hold the fast path to it. */
export function parseWithYamlLibrary(text: string, file: string): ParseResult {
  const { LineCounter, parseDocument } = yaml();
  const tooDeep = findExcessiveFlowNesting(text);
  if (tooDeep !== undefined) {
    const lc = new LineCounter();
    countLines(text, lc);
    return { value: undefined, problems: [tooDeepProblem(file, positionAt(lc, file, tooDeep))] };
  }

  const lineCounter = new LineCounter();
  // Duplicate keys are found while converting (yaml's own check costs ~20 ms on a large file).
  const doc = parseDocument(text, { lineCounter, uniqueKeys: false, merge: false, prettyErrors: false, keepSourceTokens: false });
  const syntaxProblems = yamlErrors(doc, file, lineCounter);
  if (syntaxProblems.length > 0) return { value: undefined, problems: syntaxProblems };

  if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) {
    return {
      value: undefined,
      problems: [{ path: '', message: 'the file is empty: a stack file needs at least a "services:" mapping', position: { file, line: 1, col: 1 } }],
    };
  }

  const converter = new Converter(doc, file, lineCounter);
  const value = converter.convert(doc.contents as YamlNode, undefined, 0);
  if (converter.problems.length > 0) return { value: undefined, problems: converter.problems };

  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    const found = Array.isArray(value) ? 'a list' : `the value ${JSON.stringify(value)}`;
    return {
      value: undefined,
      problems: [{
        path: '',
        message: `the top level must be a mapping with keys like "services:", but the file holds ${found}`,
        position: converter.positionOf(doc.contents as YamlNode),
      }],
    };
  }
  return { value, problems: [] };
}

function refuseUnreadable(bytes: Uint8Array, file: string): Problem | undefined {
  const start: SourcePosition = { file, line: 1, col: 1 };
  if (bytes.length > MAX_FILE_BYTES) {
    return {
      path: '',
      message: `the file is ${bytes.length} bytes, over the ${MAX_FILE_BYTES}-byte limit for a stack file: split it with "include:"`,
      position: start,
    };
  }
  const nul = bytes.indexOf(0);
  if (nul !== -1) {
    return {
      path: '',
      message: 'the file holds binary data (a NUL byte), not YAML text: check that -f names the stack file',
      position: linePosOfByte(bytes, nul, file),
    };
  }
  const bad = firstInvalidUtf8(bytes);
  if (bad !== -1) {
    return {
      path: '',
      message: `the file is not UTF-8 text (byte 0x${bytes[bad]!.toString(16).toUpperCase().padStart(2, '0')}): save it as UTF-8`,
      position: linePosOfByte(bytes, bad, file),
    };
  }
  return undefined;
}

function firstInvalidUtf8(bytes: Uint8Array): number {
  // A fast path for ASCII, then a strict decoder to confirm; only on failure do we
  // walk byte by byte to find where, since that is the rare case.
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return -1;
  } catch {
    let i = 0;
    while (i < bytes.length) {
      const b = bytes[i]!;
      const need = b < 0x80 ? 0 : b >= 0xc2 && b <= 0xdf ? 1 : b >= 0xe0 && b <= 0xef ? 2 : b >= 0xf0 && b <= 0xf4 ? 3 : -1;
      if (need < 0) return i;
      for (let k = 1; k <= need; k++) {
        const c = bytes[i + k];
        if (c === undefined || (c & 0xc0) !== 0x80) return i;
      }
      i += need + 1;
    }
    return 0;
  }
}

function linePosOfByte(bytes: Uint8Array, offset: number, file: string): SourcePosition {
  let line = 1, col = 1;
  for (let i = 0; i < offset; i++) {
    if (bytes[i] === 0x0a) { line++; col = 1; } else if ((bytes[i]! & 0xc0) !== 0x80) col++;
  }
  return { file, line, col };
}

/**
 * The yaml parser composes nested flow collections recursively and only gives up at
 * the engine's stack limit, slowly and with one error per level. Counting brackets
 * first (outside quotes and comments) refuses such input at once.
 */
function findExcessiveFlowNesting(text: string): number | undefined {
  let depth = 0;
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quote) {
      if (ch === '\\' && quote === '"') i++;
      else if (ch === quote) quote = undefined;
      continue;
    }
    if (ch === '"' || ch === "'") {
      // A quote only opens a scalar at its start; in `it's` it is a plain character.
      const prev = i > 0 ? text[i - 1] : '\n';
      if (prev === ' ' || prev === '\n' || prev === '\t' || prev === '[' || prev === '{' || prev === ',' || prev === ':' || prev === '-') quote = ch;
    } else if (ch === '#') {
      const prev = i > 0 ? text[i - 1] : '\n';
      if (prev === ' ' || prev === '\n' || prev === '\t') {
        const nl = text.indexOf('\n', i);
        i = nl === -1 ? text.length : nl;
      }
    } else if (ch === '[' || ch === '{') {
      if (++depth > MAX_DEPTH) return i;
    } else if (ch === ']' || ch === '}') {
      if (depth > 0) depth--;
    }
  }
  return undefined;
}

function countLines(text: string, lc: LineCounter): void {
  lc.addNewLine(0);
  for (let i = 0; i < text.length; i++) if (text[i] === '\n') lc.addNewLine(i + 1);
}

function positionAt(lc: LineCounter, file: string, offset: number): SourcePosition {
  const { line, col } = lc.linePos(offset);
  return { file, line, col };
}

function tooDeepProblem(file: string, position: SourcePosition): Problem {
  return { path: '', message: `values are nested more than ${MAX_DEPTH} levels deep: no stack file needs that, check the file's brackets and indentation`, position };
}

const YAML_ERROR_WORDS: Record<string, string> = {
  TAB_AS_INDENT: 'tabs are not allowed for indentation in YAML: indent with spaces',
  MISSING_CHAR: 'YAML syntax error',
  BAD_INDENT: 'bad indentation',
  MULTIPLE_DOCS: 'the file holds several YAML documents ("---"): a stack file is one document',
};

/** Codes the yaml parser uses when indentation, not syntax proper, is usually the cause. */
const INDENTATION_CODES = new Set(['BAD_INDENT', 'BLOCK_AS_IMPLICIT_KEY', 'MULTILINE_IMPLICIT_KEY', 'UNEXPECTED_TOKEN', 'BAD_DIRECTIVE_INDENT']);

function yamlErrors(doc: Document, file: string, lc: LineCounter): Problem[] {
  const problems: Problem[] = [];
  let exhausted = false;
  for (const err of doc.errors) {
    const offset = err.pos[0];
    const position = positionAt(lc, file, offset);
    if (err.code === 'RESOURCE_EXHAUSTION') {
      if (!exhausted) problems.push(tooDeepProblem(file, position));
      exhausted = true;
      continue;
    }
    const firstLine = err.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    let message: string;
    if (err.code === 'TAB_AS_INDENT') {
      message = YAML_ERROR_WORDS.TAB_AS_INDENT!;
    } else if (err.code === 'MULTIPLE_DOCS') {
      message = YAML_ERROR_WORDS.MULTIPLE_DOCS!;
    } else {
      message = `YAML syntax error: ${lowerFirst(firstLine)}`;
    }
    const hint = INDENTATION_CODES.has(err.code) ? 'check the indentation of this line and the lines above it' : undefined;
    problems.push({ path: '', message, position, ...(hint ? { hint } : {}) });
  }
  // One problem per place (the parser often reports one mistake twice), and a tab makes
  // it report every later line too: the first few say enough.
  return dedupeByPlace(problems).slice(0, 20);
}


function dedupeByPlace(problems: Problem[]): Problem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const k = `${p.position?.line}:${p.position?.col}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

function lowerFirst(s: string): string {
  return s.length > 0 ? s[0]!.toLowerCase() + s.slice(1) : s;
}

/**
 * YAML 1.2 reads `0400` as decimal, but Compose's Go loader reads a plain leading-zero
 * integer as octal (file modes are written that way), and real files depend on it.
 */
function scalarValue(node: Scalar): unknown {
  if (node.type === 'PLAIN' && typeof node.source === 'string' && /^[-+]?0[0-7]+$/.test(node.source)) {
    return Number.parseInt(node.source, 8);
  }
  return node.value;
}

/** Turns yaml's node tree into plain values, recording positions as it goes. */
class Converter {
  readonly problems: Problem[] = [];
  private expanded = 0;
  private bombReported = false;
  /** Sizes of anchored nodes once expanded, so repeated aliases are costed without walking. */
  private readonly anchoredSize = new Map<YamlNode, number>();

  constructor(
    private readonly doc: Document,
    private readonly file: string,
    private readonly lc: LineCounter,
  ) {}

  positionOf(node: YamlNode | null | undefined): SourcePosition {
    const offset = node?.range?.[0] ?? 0;
    return positionAt(this.lc, this.file, offset);
  }

  private anchorNames(): string[] {
    return [...this.anchors().keys()];
  }

  /**
   * Anchors by name, each with its definitions in document order (YAML lets a name be
   * defined again; an alias means the latest definition before it). Built once:
   * yaml's own Alias.resolve walks the whole document on every call, which made a
   * 200-service file with `<<: *common` in each service take a second.
   */
  private anchorTable: Map<string, YamlNode[]> | undefined;
  private anchors(): Map<string, YamlNode[]> {
    if (this.anchorTable) return this.anchorTable;
    const table = new Map<string, YamlNode[]>();
    const visit = (node: unknown): void => {
      if (!node || typeof node !== 'object') return;
      const anchor = (node as { anchor?: string }).anchor;
      if (anchor && !isAlias(node)) {
        const list = table.get(anchor) ?? [];
        list.push(node as YamlNode);
        table.set(anchor, list);
      }
      if (isMap(node)) for (const pair of node.items) { visit(pair.key); visit(pair.value); }
      else if (isSeq(node)) for (const item of node.items) visit(item);
    };
    visit(this.doc.contents);
    this.anchorTable = table;
    return table;
  }

  private resolveAlias(alias: { source: string; range?: [number, number, number] | null }): YamlNode | undefined {
    const at = alias.range?.[0] ?? Infinity;
    let found: YamlNode | undefined;
    for (const node of this.anchors().get(alias.source) ?? []) {
      if ((node.range?.[0] ?? 0) < at) found = node;
    }
    return found;
  }

  convert(node: YamlNode | null, path: Where, depth: number): unknown {
    if (node === null || node === undefined) return null;
    if (this.bombReported) return null;
    if (depth > MAX_DEPTH) {
      if (!this.problems.some((p) => p.message.includes('nested more than'))) {
        this.problems.push({ ...tooDeepProblem(this.file, this.positionOf(node)), path: formatPath(pathOf(path)) });
      }
      return null;
    }
    if (isAlias(node)) {
      const target = this.resolveAlias(node);
      if (!target) {
        const close = closestName(node.source, this.anchorNames());
        this.problems.push({
          path: formatPath(pathOf(path)),
          message: `unknown alias *${node.source}: define the anchor &${node.source} before using it`,
          position: this.positionOf(node),
          ...(close ? { hint: `did you mean *${close}?` } : {}),
        });
        return null;
      }
      if (!this.charge(this.sizeOf(target, 0), node, path)) return null;
      return this.convertNode(target, path, depth, false);
    }
    if (!this.charge(1, node, path)) return null;
    return this.convertNode(node, path, depth, true);
  }

  /** Count expanded values; refuse once aliases have multiplied them past the limit. */
  private charge(n: number, node: YamlNode, path: Where): boolean {
    this.expanded += n;
    if (this.expanded <= MAX_EXPANDED_NODES) return true;
    if (!this.bombReported) {
      this.bombReported = true;
      this.problems.push({
        path: formatPath(pathOf(path)),
        message: `aliases expand to more than ${MAX_EXPANDED_NODES} values (a "billion laughs" pattern): reduce the nesting of anchors and aliases`,
        position: this.positionOf(node),
      });
    }
    return false;
  }

  private sizeOf(node: YamlNode, depth: number): number {
    if (depth > MAX_DEPTH) return MAX_EXPANDED_NODES + 1;
    const known = this.anchoredSize.get(node);
    if (known !== undefined) return known;
    let size = 1;
    if (isAlias(node)) {
      const target = this.resolveAlias(node);
      size = target ? this.sizeOf(target, depth + 1) : 1;
    } else if (isMap(node)) {
      for (const pair of node.items) size += 1 + (pair.value ? this.sizeOf(pair.value as YamlNode, depth + 1) : 0);
    } else if (isSeq(node)) {
      for (const item of node.items) size += item ? this.sizeOf(item as YamlNode, depth + 1) : 1;
    }
    size = Math.min(size, MAX_EXPANDED_NODES + 1);
    this.anchoredSize.set(node, size);
    return size;
  }

  /** `charged` says whether children still need to be charged (false inside an alias, already costed). */
  private convertNode(node: YamlNode, path: Where, depth: number, charged: boolean): unknown {
    const tag = node.tag;
    if (tag === '!reset') return RESET;
    if (tag !== undefined && tag.startsWith('!') && tag !== '!override') {
      this.problems.push({
        path: formatPath(pathOf(path)),
        message: `unknown YAML tag ${tag}: stack files know only !reset and !override`,
        position: this.positionOf(node),
      });
      return null;
    }
    let value: unknown;
    if (isMap(node)) value = this.convertMap(node as YAMLMap, path, depth, charged);
    else if (isSeq(node)) value = this.convertSeq(node as YAMLSeq, path, depth, charged);
    else if (isScalar(node)) value = scalarValue(node as Scalar);
    else value = null;
    if (tag === '!override' && typeof value === 'object' && value !== null) markOverride(value);
    return value;
  }

  private child(node: YamlNode | null, path: Where, depth: number, charged: boolean): unknown {
    if (charged) return this.convert(node, path, depth + 1);
    if (node === null || node === undefined) return null;
    if (isAlias(node)) {
      const target = this.resolveAlias(node);
      return target ? this.convertNode(target, path, depth + 1, false) : null;
    }
    return this.convertNode(node, path, depth + 1, false);
  }

  private convertMap(node: YAMLMap, path: Where, depth: number, charged: boolean): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    setContainerPosition(out, this.positionOf(node));
    const merges: YamlNode[] = [];
    for (const pair of node.items) {
      if (!isPair(pair)) continue;
      const keyNode = pair.key as YamlNode | null;
      if (keyNode !== null && !isScalar(keyNode)) {
        this.problems.push({ path: formatPath(pathOf(path)), message: 'a mapping key must be a plain value, not a list or mapping', position: this.positionOf(keyNode) });
        continue;
      }
      const key = keyNode === null ? '' : String((keyNode as Scalar).value);
      const keyPos = this.positionOf(keyNode);
      if (key === '<<' && keyNode !== null && (keyNode as Scalar).type === 'PLAIN') {
        merges.push(pair.value as YamlNode);
        continue;
      }
      if (has(out, key)) {
        this.problems.push({
          path: '',
          message: `duplicate key: ${JSON.stringify(key)} is already set earlier in the same mapping; remove one of them`,
          position: keyPos,
        });
        continue;
      }
      const valueNode = pair.value as YamlNode | null;
      // `key:` with nothing after it has no value node; point at the key.
      const valuePos = valueNode && valueNode.range && valueNode.range[1] > valueNode.range[0] ? this.positionOf(valueNode) : keyPos;
      put(out, key, this.child(valueNode, { parent: path, key }, depth, charged));
      setEntryPosition(out, key, { key: keyPos, value: valuePos });
    }
    // `<<: *base` or `<<: [*a, *b]`: keys written in the mapping win, then earlier sources.
    for (const source of merges) this.applyMergeKey(out, source, path, depth);
    return out;
  }

  private applyMergeKey(out: Record<string, unknown>, source: YamlNode, path: Where, depth: number): void {
    const sources: YamlNode[] = isSeq(source) ? (source.items as YamlNode[]) : [source];
    for (const s of sources) {
      const merged = this.convert(s, path, depth + 1);
      if (merged === null && isAlias(s)) continue; // an unknown alias, reported by convert
      if (typeof merged !== 'object' || merged === null || Array.isArray(merged)) {
        this.problems.push({ path: formatPath(pathOf(path)), message: 'the "<<" merge key takes a mapping alias like "<<: *defaults" or a list of them', position: this.positionOf(s) });
        continue;
      }
      for (const [k, v] of Object.entries(merged)) {
        if (has(out, k)) continue;
        put(out, k, v);
        const pos = this.positionOfEntry(merged, k) ?? { value: this.positionOf(s) };
        setEntryPosition(out, k, pos);
      }
    }
  }

  private positionOfEntry(container: object, key: string) {
    return entryPositionOf(container, key);
  }

  private convertSeq(node: YAMLSeq, path: Where, depth: number, charged: boolean): unknown[] {
    const out: unknown[] = [];
    setContainerPosition(out, this.positionOf(node));
    node.items.forEach((item, i) => {
      const itemNode = item as YamlNode | null;
      out.push(this.child(itemNode, { parent: path, key: i }, depth, charged));
      setEntryPosition(out, i, { value: itemNode ? this.positionOf(itemNode) : this.positionOf(node) });
    });
    return out;
  }
}
