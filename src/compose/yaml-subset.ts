// The fast path of stage 3 (parse.ts): a reader for the part of YAML that stack files
// are written in, giving exactly what the full path (the `yaml` library and parse.ts's
// converter) gives for the same text: the same values, the same positions of every
// entry and container, the same !reset and !override markers, anchors and `<<` merge
// keys expanded the same way.
//
// Why it exists: the `yaml` library parses a 200-service file in ~230 ms in a fresh
// process (its lexer alone takes ~85 ms before the JIT warms up), which was most of the
// time `stack config` took; loading it costs another ~40 ms. This reader does the same
// file in ~50 ms cold (~10 ms warm), positions included.
//
// It never reports a problem. Anything outside the subset, and anything that is or
// might be a mistake, makes it give up (return undefined), and the full path parses
// the file and says what is wrong in its usual words. So the subset may be small; what
// matters is that whatever it accepts, it reads as the full path does
// (test/compose/yaml-subset.test.ts compares the two on every fixture and on mutants).
//
// The subset: block mappings with plain or single-line quoted keys; block sequences
// (also at their key's indentation, and `- key: value` items); single-line plain and
// quoted scalars; single-line flow sequences and mappings; literal and folded block
// scalars of the common shapes; comments; anchors, aliases and `<<` merge keys; the
// !reset and !override tags; one leading `---`. Outside it: tabs, CR line ends,
// control characters, multi-line plain, quoted or flow scalars, complex keys,
// directives, other tags, several documents, empty sequence items.

import type { SourcePosition } from '../common/errors.js';
import { has, put } from './mapping.js';
import { containerPosition, entryPosition, setContainerPosition, setEntryPosition, type EntryPosition } from './positions.js';
import { RESET, isOverride, markOverride } from './tags.js';

/** The bounds the full parser refuses a file by. */
export interface ParseLimits {
  maxDepth: number;
  maxExpandedValues: number;
}

/**
 * Read `text` if it is inside the subset; undefined means "use the full parser".
 * `positions: false` records no source positions (see load.ts for when none are needed).
 */
export function readYamlSubset(text: string, file: string, limits: ParseLimits, positions = true): Record<string, unknown> | undefined {
  if (UNSUPPORTED_CHARACTERS.test(text)) return undefined;
  try {
    // Staying well inside the full parser's bounds means the fast path never accepts a
    // file the full path would refuse for its depth or size.
    return new SubsetReader(text, file, limits.maxDepth / 2, limits.maxExpandedValues / 4, positions).readDocument();
  } catch (err) {
    if (err instanceof OutsideSubset) return undefined;
    throw err;
  }
}

/** Tabs, CR and other control characters, and characters some readers take as line breaks. */
const UNSUPPORTED_CHARACTERS = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\ufeff]/;

const MAX_IMPLICIT_KEY_LENGTH = 1024;

/** Raised to leave the subset; caught in readYamlSubset. No stack trace: it is not an error. */
class OutsideSubset {}
function outside(): never {
  throw new OutsideSubset();
}

const SPACE = 0x20;
const HASH = 0x23;
const COLON = 0x3a;
const DASH = 0x2d;

/** Characters that cannot start a plain scalar in the subset (YAML's indicators). */
const NOT_PLAIN_START = new Set(['?', ':', ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', "'", '"', '%', '@', '`']);
const FLOW_INDICATORS = new Set([',', '[', ']', '{', '}']);
const ANCHOR_NAME = /^[A-Za-z0-9_.-]+$/;

interface Props {
  anchor?: string;
  /** Offset of the `&`: of two definitions of a name, an alias means the one that starts last before it. */
  anchorAt?: number;
  tag?: '!reset' | '!override';
}

/** A value read, and where the full path says it starts (undefined: no value was written). */
interface Read {
  value: unknown;
  at: SourcePosition | undefined;
  /** For a plain scalar (or a left-out value, ''), its text as written. */
  plain?: string;
}

class SubsetReader {
  /** Offset of the start of the current line, its number (1-based) and the offset of its end. */
  private lineStart = 0;
  private lineNo = 1;
  private lineEnd: number;
  /** Leading spaces of the current line, when it is a content line. */
  private indent = 0;
  private readonly anchors = new Map<string, { value: unknown; definedAt: number }>();
  /** Anchors whose node is still being read: an alias to one of them is recursive. */
  private readonly openAnchors = new Set<string>();
  private values = 0;

  constructor(
    private readonly text: string,
    private readonly file: string,
    private readonly maxDepth: number,
    private readonly maxValues: number,
    /** Whether to record where each container and entry is written. */
    private readonly positions: boolean,
  ) {
    this.lineEnd = this.endOfLine(0);
  }

  readDocument(): Record<string, unknown> {
    if (!this.toContentLine(true)) outside();
    if (this.startsDocumentMarker(this.lineStart)) {
      if (!this.endsLine(this.lineStart + 3)) outside();
      this.nextLine();
      if (!this.toContentLine()) outside();
    }
    if (this.indent !== 0) outside();
    const top = this.readBlockNode(0, 0);
    if (this.toContentLine()) outside();
    if (typeof top !== 'object' || top === null || Array.isArray(top)) outside();
    return top as Record<string, unknown>;
  }

  // ---- lines -------------------------------------------------------------------

  private endOfLine(from: number): number {
    const nl = this.text.indexOf('\n', from);
    return nl === -1 ? this.text.length : nl;
  }

  private nextLine(): boolean {
    if (this.lineEnd >= this.text.length) {
      this.lineStart = this.text.length;
      return false;
    }
    this.lineStart = this.lineEnd + 1;
    this.lineNo++;
    this.lineEnd = this.endOfLine(this.lineStart);
    return true;
  }

  /**
   * Move to the first line at or after the current one that holds more than spaces
   * and a comment, and measure its indentation. False at the end of the text.
   * `---` and `...` at the left edge start or end a document, and `%` starts a
   * directive: only a leading `---` is in the subset (`allowDocumentStart`).
   */
  private toContentLine(allowDocumentStart = false): boolean {
    const text = this.text;
    for (;;) {
      if (this.lineStart >= text.length) return false;
      let i = this.lineStart;
      while (i < this.lineEnd && text.charCodeAt(i) === SPACE) i++;
      if (i < this.lineEnd && text.charCodeAt(i) !== HASH) {
        this.indent = i - this.lineStart;
        if (this.indent === 0) {
          if (text.charCodeAt(i) === 0x25 /* % */) outside();
          if (this.startsDocumentMarker(i) && !allowDocumentStart) outside();
          if (text.startsWith('...', i) && this.endsLineOrSpace(i + 3)) outside();
        }
        return true;
      }
      if (!this.nextLine()) return false;
    }
  }

  private startsDocumentMarker(at: number): boolean {
    return this.text.startsWith('---', at) && this.endsLineOrSpace(at + 3);
  }

  private endsLineOrSpace(at: number): boolean {
    return at >= this.lineEnd || this.text.charCodeAt(at) === SPACE;
  }

  private skipSpaces(at: number): number {
    while (at < this.lineEnd && this.text.charCodeAt(at) === SPACE) at++;
    return at;
  }

  /** Only spaces and perhaps a comment from `at` to the end of the line. */
  private endsLine(at: number): boolean {
    const i = this.skipSpaces(at);
    return i >= this.lineEnd || this.startsComment(i);
  }

  /** A `#` starts a comment only at the start of a line or after a space. */
  private startsComment(at: number): boolean {
    return this.text.charCodeAt(at) === HASH && (at === this.lineStart || this.text.charCodeAt(at - 1) === SPACE);
  }

  private position(offset: number): SourcePosition {
    return { file: this.file, line: this.lineNo, col: offset - this.lineStart + 1 };
  }

  private count(n = 1): void {
    this.values += n;
    if (this.values > this.maxValues) outside();
  }

  // ---- block collections ---------------------------------------------------------

  /** A mapping or sequence starting at column `indent` of the current (content) line. */
  private readBlockNode(indent: number, depth: number): unknown {
    if (depth > this.maxDepth) outside();
    const at = this.lineStart + indent;
    if (this.isSequenceEntry(at)) return this.readBlockSequence(indent, depth);
    return this.readBlockMapping(at, depth);
  }

  private isSequenceEntry(at: number): boolean {
    return this.text.charCodeAt(at) === DASH && this.endsLineOrSpace(at + 1);
  }

  private readBlockSequence(indent: number, depth: number): unknown[] {
    const out: unknown[] = [];
    this.count();
    if (this.positions) setContainerPosition(out, this.position(this.lineStart + indent));
    for (;;) {
      const item = this.readSequenceEntry(indent, depth);
      if (this.positions) setEntryPosition(out, out.length, { value: item.at! });
      out.push(item.value);
      if (!this.toContentLine() || this.indent < indent) return out;
      if (this.indent > indent) outside();
      // At the same column but not `- `: the mapping this sequence is the value of goes on.
      if (!this.isSequenceEntry(this.lineStart + indent)) return out;
    }
  }

  /** One `- ...` entry; leaves the reader on the line after it. */
  private readSequenceEntry(indent: number, depth: number): Read {
    const start = this.skipSpaces(this.lineStart + indent + 1);
    if (this.isSequenceEntry(start)) outside();
    if (!this.endsLine(start) && this.scanKey(start)) {
      // `- key: value`: a mapping whose column is that of its first key.
      const at = this.position(start);
      return { value: this.readBlockMapping(start, depth + 1), at };
    }
    const props = this.readProps(start);
    if (props.next === undefined) return this.readBlockBelow(indent, depth, props, false);
    if (hasProps(props) && (this.scanKey(props.next) || this.text[props.next] === '*')) outside();
    return this.withProps(props, () => this.readInlineValue(props.next!, indent, depth + 1));
  }

  private readBlockMapping(firstKey: number, depth: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    this.count();
    const column = firstKey - this.lineStart;
    if (this.positions) setContainerPosition(out, this.position(firstKey));
    const merges: { value: unknown; at: SourcePosition; sequence: boolean }[] = [];
    let keyAt = firstKey;
    for (;;) {
      const key = this.scanKey(keyAt);
      if (!key) outside();
      const keyPos = this.position(keyAt);
      this.count();
      if (key.mergeKey) {
        const first = this.text[this.skipSpaces(key.end)];
        if (first === '&' || first === '!') outside();
        const read = this.readEntryValue(key.end, column, depth);
        if (read.at === undefined) outside();
        // `<<: *list` is one source (an error the full path reports); `<<: [*a, *b]` is several.
        merges.push({ value: read.value, at: read.at, sequence: Array.isArray(read.value) && first !== '*' });
      } else {
        if (has(out, key.text)) outside();
        const read = this.readEntryValue(key.end, column, depth);
        put(out, key.text, read.value);
        if (this.positions) setEntryPosition(out, key.text, { key: keyPos, value: read.at ?? keyPos });
      }
      if (!this.toContentLine() || this.indent < column) break;
      if (this.indent > column) outside();
      keyAt = this.lineStart + column;
      if (this.isSequenceEntry(keyAt)) outside();
    }
    for (const merge of merges) this.applyMerge(out, merge);
    return out;
  }

  /**
   * `<<: *base` or `<<: [*a, *b]`: keys written in the mapping win, then earlier
   * sources; each merged entry keeps the position it had in its source.
   */
  private applyMerge(out: Record<string, unknown>, merge: { value: unknown; at: SourcePosition; sequence: boolean }): void {
    // (Without positions recorded, a source's own position stands in: it is not used.)
    const sources: { value: unknown; at: SourcePosition }[] = merge.sequence
      ? (merge.value as unknown[]).map((value, i) => ({ value, at: entryPosition(merge.value as object, i)?.value ?? merge.at }))
      : [merge];
    for (const source of sources) {
      const from = source.value;
      if (typeof from !== 'object' || from === null || Array.isArray(from)) outside();
      for (const k of Object.keys(from)) {
        if (has(out, k)) continue;
        put(out, k, (from as Record<string, unknown>)[k]);
        if (this.positions) setEntryPosition(out, k, entryPosition(from, k) ?? { value: source.at });
      }
    }
  }

  /**
   * The value after `key:` whose colon ends before `from`; leaves the reader on the
   * next content line (or at the end).
   */
  private readEntryValue(from: number, column: number, depth: number): Read {
    const start = this.skipSpaces(from);
    const first = this.text.charCodeAt(start);
    // Most values have no anchor or tag: skip the bookkeeping. (`key: a: b` and
    // `key: - a` are refused by the value readers themselves.)
    if (first !== 0x26 /* & */ && first !== 0x21 /* ! */ && !this.endsLine(start)) return this.readInlineValue(start, column, depth + 1);
    const props = this.readProps(start);
    if (props.next !== undefined) {
      if (this.text[props.next] === '*') outside();
      return this.withProps(props, () => this.readInlineValue(props.next!, column, depth + 1));
    }
    return this.readBlockBelow(column, depth, props, true);
  }

  /**
   * The value on the lines below a `key:` or `- ` that ended its line, where `props`
   * were written. Anchors and tags may also stand alone on the first line below, as in
   * `x-common:\n  &common\n  restart: always`. A mapping's value may be a sequence at
   * the key's own column (`inMapping`); only a mapping's value may be left out (null).
   */
  private readBlockBelow(parentColumn: number, depth: number, props: Props, inMapping: boolean): Read {
    this.nextLine();
    let content = this.toContentLine();
    let all = props;
    if (content && this.indent > parentColumn) {
      const first = this.text[this.lineStart + this.indent];
      if (first === '&' || first === '!') {
        if (hasProps(props)) outside();
        const own = this.readProps(this.lineStart + this.indent);
        if (own.next !== undefined) outside();
        all = own;
        this.nextLine();
        content = this.toContentLine();
        if (!content || this.indent <= parentColumn) outside();
      }
    }
    return this.withProps(all, () => {
      if (content && this.indent > parentColumn) {
        const at = this.position(this.lineStart + this.indent);
        return { value: this.readBlockNode(this.indent, depth + 1), at };
      }
      if (content && inMapping && this.indent === parentColumn && this.isSequenceEntry(this.lineStart + parentColumn)) {
        const at = this.position(this.lineStart + parentColumn);
        return { value: this.readBlockSequence(parentColumn, depth + 1), at };
      }
      if (!inMapping) outside();
      this.count();
      return { value: null, at: undefined, plain: '' };
    });
  }

  /** `&anchor` and `!tag` before a value; `next` is where the value starts on this line, if it does. */
  private readProps(at: number): Props & { next?: number } {
    const props: Props & { next?: number } = {};
    for (;;) {
      if (this.endsLine(at)) return props;
      const ch = this.text[at];
      if (ch !== '&' && ch !== '!') {
        props.next = at;
        return props;
      }
      let end = at + 1;
      while (end < this.lineEnd && this.text.charCodeAt(end) !== SPACE) end++;
      const word = this.text.slice(at, end);
      if (ch === '&') {
        if (props.anchor !== undefined || !ANCHOR_NAME.test(word.slice(1))) outside();
        props.anchor = word.slice(1);
        props.anchorAt = at;
      } else {
        if (props.tag !== undefined || (word !== '!reset' && word !== '!override')) outside();
        props.tag = word;
      }
      at = this.skipSpaces(end);
    }
  }

  /** Apply a node's tag and record its anchor once the node is read. */
  private withProps(props: Props, read: () => Read): Read {
    if (props.anchor !== undefined) this.openAnchors.add(props.anchor);
    const r = read();
    let value = r.value;
    if (props.tag === '!reset') value = RESET;
    else if (props.tag === '!override') {
      if (typeof value === 'object' && value !== null) markOverride(value);
      // `yaml` gives a scalar with a tag it does not know no type: it stays text.
      else if (r.plain !== undefined) value = LEADING_ZERO_OCTAL.test(r.plain) ? Number.parseInt(r.plain, 8) : r.plain;
    }
    if (props.anchor !== undefined) {
      this.openAnchors.delete(props.anchor);
      const earlier = this.anchors.get(props.anchor);
      // A definition nested inside another of the same name starts later, so it wins.
      if (!earlier || earlier.definedAt < props.anchorAt!) this.anchors.set(props.anchor, { value, definedAt: props.anchorAt! });
    }
    return { value, at: r.at };
  }

  // ---- keys --------------------------------------------------------------------

  /** A `key:` starting at `at`: its text, whether it is the merge key, and the offset after the colon. */
  private scanKey(at: number): { text: string; mergeKey: boolean; end: number } | undefined {
    const text = this.text;
    const first = text[at]!;
    if (first === '"' || first === "'") {
      const q = this.readQuoted(at);
      if (q === undefined || text.charCodeAt(q.end) !== COLON || !this.endsLineOrSpace(q.end + 1)) return undefined;
      if (q.end - at > MAX_IMPLICIT_KEY_LENGTH) outside();
      return { text: q.value, mergeKey: false, end: q.end + 1 };
    }
    if (NOT_PLAIN_START.has(first) || (first === '-' && this.endsLineOrSpace(at + 1))) return undefined;
    // Searching the rest of the line with indexOf, not a loop over its characters:
    // this runs for every line, and a JS loop is slow until the JIT has warmed up.
    const rest = text.slice(at, this.lineEnd);
    const hash = rest.indexOf(' #');
    const comment = hash === -1 ? rest.length : hash + 1;
    for (let colon = rest.indexOf(':', 1); colon !== -1 && colon < comment; colon = rest.indexOf(':', colon + 1)) {
      if (colon + 1 < rest.length && rest.charCodeAt(colon + 1) !== SPACE) continue;
      if (colon > MAX_IMPLICIT_KEY_LENGTH) outside();
      let end = colon;
      while (rest.charCodeAt(end - 1) === SPACE) end--;
      const source = rest.slice(0, end);
      return { text: String(plainScalarValue(source, false)), mergeKey: source === '<<', end: at + colon + 1 };
    }
    return undefined;
  }

  // ---- values on one line --------------------------------------------------------

  /**
   * A value that starts on the current line at `at`: alias, quoted, flow, block or
   * plain scalar. `parentColumn` is the column of the collection holding it (block
   * scalars must be indented past it). Leaves the reader on the next content line.
   */
  private readInlineValue(at: number, parentColumn: number, depth: number): Read {
    const text = this.text;
    const ch = text[at]!;
    const pos = this.position(at);
    if (ch === '|' || ch === '>') {
      const value = this.readBlockScalar(at, parentColumn);
      this.count();
      return { value, at: pos };
    }
    let value: unknown;
    let end: number;
    let plain: string | undefined;
    if (ch === '*') {
      end = at + 1;
      while (end < this.lineEnd && text.charCodeAt(end) !== SPACE) end++;
      value = this.dereference(text.slice(at + 1, end), depth);
    } else if (ch === '"' || ch === "'") {
      const q = this.readQuoted(at);
      if (q === undefined) outside();
      value = q.value;
      end = q.end;
      this.count();
    } else if (ch === '[' || ch === '{') {
      const f = this.readFlow(at, depth);
      value = f.value;
      end = f.end;
    } else {
      end = this.plainEnd(at);
      plain = text.slice(at, end);
      value = plainScalarValue(plain, true);
      this.count();
    }
    if (!this.endsLine(end)) outside();
    this.nextLine();
    // A more-indented line after a one-line value continues it (or is a mistake).
    if (this.toContentLine() && this.indent > parentColumn) outside();
    return plain === undefined ? { value, at: pos } : { value, at: pos, plain };
  }

  /** End of a plain scalar in block context that starts at `at`. */
  private plainEnd(at: number): number {
    const text = this.text;
    const first = text[at]!;
    if (NOT_PLAIN_START.has(first) || (first === '-' && this.endsLineOrSpace(at + 1))) outside();
    const rest = text.slice(at, this.lineEnd);
    const hash = rest.indexOf(' #');
    let end = hash === -1 ? rest.length : hash + 1;
    // `a: b: c` is a mapping where one is not allowed.
    const colon = rest.indexOf(': ', 1);
    if ((colon !== -1 && colon < end) || (hash === -1 && rest.length > 1 && rest.charCodeAt(rest.length - 1) === COLON)) outside();
    while (rest.charCodeAt(end - 1) === SPACE) end--;
    return at + end;
  }

  private dereference(name: string, depth: number): unknown {
    const anchored = this.anchors.get(name);
    if (!anchored || this.openAnchors.has(name)) outside();
    return this.copyAnchored(anchored.value, depth);
  }

  /**
   * The full path converts an anchored node anew for every alias, so each alias gets
   * containers of its own, positioned where the anchored node was written.
   */
  private copyAnchored(value: unknown, depth: number): unknown {
    this.count();
    if (typeof value !== 'object' || value === null) return value;
    if (depth > this.maxDepth) outside();
    let copy: object;
    if (Array.isArray(value)) {
      const items: unknown[] = [];
      for (const item of value) items.push(this.copyAnchored(item, depth + 1));
      copy = items;
      value.forEach((_, i) => {
        const p = entryPosition(value, i);
        if (p) setEntryPosition(copy, i, p);
      });
    } else {
      const entries: Record<string, unknown> = {};
      for (const k of Object.keys(value)) {
        this.count();
        put(entries, k, this.copyAnchored((value as Record<string, unknown>)[k], depth + 1));
        const p: EntryPosition | undefined = entryPosition(value, k);
        if (p) setEntryPosition(entries, k, p);
      }
      copy = entries;
    }
    const self = containerPosition(value);
    if (self) setContainerPosition(copy, self);
    if (isOverride(value)) markOverride(copy);
    return copy;
  }

  /** A quoted scalar closed on its own line; `end` is the offset after the closing quote. */
  private readQuoted(at: number): { value: string; end: number } | undefined {
    const text = this.text;
    const quote = text.charCodeAt(at);
    if (quote === 0x27 /* ' */) {
      let value = '';
      let from = at + 1;
      for (;;) {
        const close = text.indexOf("'", from);
        if (close === -1 || close >= this.lineEnd) return undefined;
        value += text.slice(from, close);
        if (text.charCodeAt(close + 1) === 0x27) {
          value += "'";
          from = close + 2;
          continue;
        }
        return { value, end: close + 1 };
      }
    }
    const rest = text.slice(at + 1, this.lineEnd);
    const close = rest.indexOf('"');
    const backslash = rest.indexOf('\\');
    if (backslash === -1 || (close !== -1 && close < backslash)) return close === -1 ? undefined : { value: rest.slice(0, close), end: at + 2 + close };
    let value = '';
    let from = at + 1;
    for (let i = from; i < this.lineEnd; i++) {
      const c = text.charCodeAt(i);
      if (c === 0x22 /* " */) return { value: value + text.slice(from, i), end: i + 1 };
      if (c === 0x5c /* \ */) {
        value += text.slice(from, i);
        const e = this.readEscape(i);
        value += e.text;
        i = e.end - 1;
        from = e.end;
      }
    }
    return undefined;
  }

  /** The escape starting with the backslash at `at`. */
  private readEscape(at: number): { text: string; end: number } {
    const c = this.text[at + 1];
    if (c === undefined || at + 1 >= this.lineEnd) outside();
    const simple = DOUBLE_QUOTED_ESCAPES[c];
    if (simple !== undefined) return { text: simple, end: at + 2 };
    const digits = c === 'x' ? 2 : c === 'u' ? 4 : c === 'U' ? 8 : 0;
    if (digits === 0) outside();
    const hex = this.text.slice(at + 2, at + 2 + digits);
    if (hex.length !== digits || !/^[0-9A-Fa-f]+$/.test(hex) || at + 2 + digits > this.lineEnd) outside();
    const code = Number.parseInt(hex, 16);
    if (code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) outside();
    return { text: String.fromCodePoint(code), end: at + 2 + digits };
  }

  // ---- flow collections (on one line) ---------------------------------------------

  private readFlow(at: number, depth: number): { value: unknown; end: number } {
    if (depth > this.maxDepth) outside();
    const text = this.text;
    const open = text[at];
    const out: unknown[] | Record<string, unknown> = open === '[' ? [] : {};
    this.count();
    if (this.positions) setContainerPosition(out, this.position(at));
    const close = open === '[' ? ']' : '}';
    let i = this.skipSpaces(at + 1);
    if (text[i] === close) return { value: out, end: i + 1 };
    for (;;) {
      if (Array.isArray(out)) {
        const item = this.readFlowValue(i, depth);
        if (this.positions) setEntryPosition(out, out.length, { value: this.position(i) });
        out.push(item.value);
        i = item.end;
      } else {
        const keyAt = i;
        const key = this.readFlowKey(i);
        if (has(out, key.text)) outside();
        const valueAt = this.skipSpaces(key.end);
        const item = this.readFlowValue(valueAt, depth);
        put(out, key.text, item.value);
        if (this.positions) setEntryPosition(out, key.text, { key: this.position(keyAt), value: this.position(valueAt) });
        i = item.end;
      }
      i = this.skipSpaces(i);
      if (text[i] === close && i < this.lineEnd) return { value: out, end: i + 1 };
      if (text[i] !== ',' || i >= this.lineEnd) outside();
      i = this.skipSpaces(i + 1);
      // A trailing comma, or an empty entry.
      if (text[i] === close || text[i] === ',') outside();
    }
  }

  /** `key:` inside a flow mapping; `end` is after the colon and the space that must follow it. */
  private readFlowKey(at: number): { text: string; end: number } {
    const text = this.text;
    const first = text[at];
    if (first === '"' || first === "'") {
      const q = this.readQuoted(at);
      if (q === undefined || text[q.end] !== ':' || text.charCodeAt(q.end + 1) !== SPACE || q.end + 1 >= this.lineEnd) outside();
      return { text: q.value, end: q.end + 1 };
    }
    const end = this.flowPlainEnd(at);
    if (text[end] !== ':' || text.charCodeAt(end + 1) !== SPACE || end + 1 >= this.lineEnd) outside();
    const source = text.slice(at, end);
    if (source === '<<') outside();
    return { text: String(plainScalarValue(source, false)), end: end + 1 };
  }

  private readFlowValue(at: number, depth: number): { value: unknown; end: number } {
    const text = this.text;
    if (at >= this.lineEnd) outside();
    const ch = text[at];
    if (ch === '[' || ch === '{') return this.readFlow(at, depth + 1);
    if (ch === '"' || ch === "'") {
      const q = this.readQuoted(at);
      if (q === undefined) outside();
      this.count();
      // `["a": b]` is a mapping inside the sequence.
      if (text[this.skipSpaces(q.end)] === ':') outside();
      return { value: q.value, end: q.end };
    }
    if (ch === '*') {
      let end = at + 1;
      while (end < this.lineEnd && text.charCodeAt(end) !== SPACE && !FLOW_INDICATORS.has(text[end]!)) end++;
      const value = this.dereference(text.slice(at + 1, end), depth + 1);
      if (text[this.skipSpaces(end)] === ':') outside();
      return { value, end };
    }
    const end = this.flowPlainEnd(at);
    if (text[end] === ':') outside();
    this.count();
    return { value: plainScalarValue(text.slice(at, end), true), end };
  }

  /** End of a plain scalar inside a flow collection: at `,` `]` `}` or a `:` that ends it. */
  private flowPlainEnd(at: number): number {
    const text = this.text;
    const first = text[at]!;
    if (NOT_PLAIN_START.has(first) || (first === '-' && (this.endsLineOrSpace(at + 1) || FLOW_INDICATORS.has(text[at + 1]!)))) outside();
    let i = at + 1;
    for (; i < this.lineEnd; i++) {
      const c = text[i]!;
      if (c === ',' || c === ']' || c === '}') break;
      if (c === '[' || c === '{') outside();
      if (c === '#' && text.charCodeAt(i - 1) === SPACE) outside();
      if (c === ':') {
        const next = text[i + 1];
        if (i + 1 >= this.lineEnd || next === ' ' || FLOW_INDICATORS.has(next!)) break;
      }
    }
    if (i >= this.lineEnd) outside();
    let end = i;
    while (text.charCodeAt(end - 1) === SPACE) end--;
    return end;
  }

  // ---- block scalars --------------------------------------------------------------

  /**
   * `|` or `>` with an optional `-` (strip) chomping indicator. Explicit indentation,
   * `+` (keep), leading blank lines, more-indented folded lines and trailing spaces in
   * folded text are left to the full path. Leaves the reader on the next content line.
   */
  private readBlockScalar(at: number, parentColumn: number): string {
    const text = this.text;
    const folded = text[at] === '>';
    let i = at + 1;
    let strip = false;
    if (text[i] === '-') {
      strip = true;
      i++;
    }
    if (!this.endsLineOrSpace(i) || !this.endsLine(i)) outside();
    if (!this.nextLine()) outside();
    const lines: string[] = [];
    let contentIndent = -1;
    let blanks = 0;
    for (;;) {
      const start = this.lineStart;
      let j = start;
      while (j < this.lineEnd && text.charCodeAt(j) === SPACE) j++;
      const blank = j === this.lineEnd;
      if (blank) {
        if (contentIndent === -1 || j - start > contentIndent) outside();
        blanks++;
      } else {
        const indent = j - start;
        if (contentIndent === -1) {
          if (indent <= parentColumn) outside();
          contentIndent = indent;
        } else if (indent < contentIndent) {
          break;
        }
        // The text must end with a line break for clipping to be unambiguous.
        if (this.lineEnd >= text.length) outside();
        for (let b = 0; b < blanks; b++) lines.push('');
        blanks = 0;
        lines.push(text.slice(start + contentIndent, this.lineEnd));
      }
      if (!this.nextLine()) break;
    }
    this.toContentLine();
    let body: string;
    if (folded) {
      body = '';
      let previousBlank = true;
      for (const line of lines) {
        if (line === '') {
          body += '\n';
          previousBlank = true;
          continue;
        }
        if (line.charCodeAt(0) === SPACE || line.charCodeAt(line.length - 1) === SPACE) outside();
        body += previousBlank ? line : ` ${line}`;
        previousBlank = false;
      }
    } else {
      body = lines.join('\n');
    }
    return strip ? body : `${body}\n`;
  }
}

function hasProps(props: Props): boolean {
  return props.anchor !== undefined || props.tag !== undefined;
}

const DOUBLE_QUOTED_ESCAPES: Record<string, string> = {
  '0': '\0', a: '\x07', b: '\b', t: '\t', n: '\n', v: '\v', f: '\f', r: '\r', e: '\x1b',
  ' ': ' ', '"': '"', '/': '/', '\\': '\\', N: '\u0085', _: '\u00a0', L: '\u2028', P: '\u2029',
};

const LEADING_ZERO_OCTAL = /^[-+]?0[0-7]+$/;

/**
 * A plain scalar by YAML 1.2's core schema, as the `yaml` library resolves it. Values
 * (not keys) written as leading-zero integers are octal, as parse.ts explains.
 */
function plainScalarValue(source: string, isValue: boolean): unknown {
  const c = source.charCodeAt(0);
  // Most scalars are words; only these first characters can start a non-string.
  if (!((c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2d || c === 0x2e || c === 0x7e || c === 0x6e || c === 0x4e || c === 0x74 || c === 0x54 || c === 0x66 || c === 0x46)) return source;
  if (/^(?:~|[Nn]ull|NULL)$/.test(source)) return null;
  if (/^(?:[Tt]rue|TRUE)$/.test(source)) return true;
  if (/^(?:[Ff]alse|FALSE)$/.test(source)) return false;
  if (isValue && LEADING_ZERO_OCTAL.test(source)) return Number.parseInt(source, 8);
  if (/^0o[0-7]+$/.test(source)) return Number.parseInt(source.substring(2), 8);
  if (/^[-+]?[0-9]+$/.test(source)) return Number.parseInt(source, 10);
  if (/^0x[0-9a-fA-F]+$/.test(source)) return Number.parseInt(source.substring(2), 16);
  if (/^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/.test(source)) {
    return source.slice(-3).toLowerCase() === 'nan' ? Number.NaN : source[0] === '-' ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  }
  if (/^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/.test(source)) return Number.parseFloat(source);
  if (/^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/.test(source)) return Number.parseFloat(source);
  return source;
}
