// The fast path of the parse stage (yaml-subset.ts) must read every file it accepts
// exactly as the full path (the `yaml` library and the converter) does: values, key
// order, positions and merge marks. Checked on every fixture, on hand-picked corners of
// YAML, and on seeded random documents and mutants of the fixtures. Whatever it refuses
// goes to the full path, so refusing is always allowed; accepting wrongly is the bug.
import t from 'tap';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { MAX_DEPTH, MAX_EXPANDED_NODES, parseStackFile, parseWithYamlLibrary } from '../../src/compose/parse.js';
import { readYamlSubset } from '../../src/compose/yaml-subset.js';
import { containerPosition, positionedEntryCount } from '../../src/compose/positions.js';
import { isOverride } from '../../src/compose/tags.js';
import { largeStackFile } from '../../bench/large-stack-file.js';
import { firstDifference } from './support/same-document.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const LIMITS = { maxDepth: MAX_DEPTH, maxExpandedValues: MAX_EXPANDED_NODES };

/** Undefined when the fast path refuses `text` or reads it as the full path does; otherwise what differs. */
function mismatch(text: string): string | undefined {
  const fast = readYamlSubset(text, 'compose.yaml', LIMITS);
  if (fast === undefined) return undefined;
  const full = parseWithYamlLibrary(text, 'compose.yaml');
  if (full.problems.length > 0) return `accepted, but the full path finds: ${full.problems.map((p) => p.message).join('; ')}`;
  return firstDifference(fast, full.value);
}

function yamlFilesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return yamlFilesUnder(path);
    return /\.ya?ml$/.test(name) ? [path] : [];
  });
}

const FIXTURES = [...yamlFilesUnder(join(ROOT, 'test/fixtures')), ...yamlFilesUnder(join(ROOT, 'examples'))].sort();
const fixtureText = (path: string) => readFileSync(path, 'utf8').replace(/^\ufeff/, '');

t.test('every fixture: refused, or read as the full path reads it', async (t) => {
  for (const file of FIXTURES) t.equal(mismatch(fixtureText(file)), undefined, file.slice(ROOT.length + 1));
});

t.test('the common files take the fast path', async (t) => {
  const corpus = FIXTURES.filter((f) => f.includes('/corpus/') && /(compose|docker-compose|stack)[^/]*\.ya?ml$/.test(f));
  t.ok(corpus.length >= 40);
  for (const file of corpus) t.not(readYamlSubset(fixtureText(file), 'compose.yaml', LIMITS), undefined, file.slice(ROOT.length + 1));
  t.not(readYamlSubset(largeStackFile(200), 'compose.yaml', LIMITS), undefined, 'the benchmark file');
  t.equal(mismatch(largeStackFile(200)), undefined);
});

/** Where `bare` (read without positions) differs from `positioned` other than by having none; undefined when only so. */
function differenceBesidesPositions(bare: unknown, positioned: unknown, path = '$'): string | undefined {
  if (typeof bare !== 'object' || bare === null || typeof positioned !== 'object' || positioned === null) {
    return Object.is(bare, positioned) ? undefined : `${path}: ${String(bare)} vs ${String(positioned)}`;
  }
  if (containerPosition(bare) !== undefined || positionedEntryCount(bare) !== 0) return `${path}: has positions`;
  if (isOverride(bare) !== isOverride(positioned)) return `${path}: !override marker`;
  if (Array.isArray(bare) !== Array.isArray(positioned)) return `${path}: list vs mapping`;
  const keys = Object.keys(bare);
  if (JSON.stringify(keys) !== JSON.stringify(Object.keys(positioned))) return `${path}: keys differ`;
  for (const k of keys) {
    const d = differenceBesidesPositions((bare as Record<string, unknown>)[k], (positioned as Record<string, unknown>)[k], `${path}.${k}`);
    if (d) return d;
  }
  return undefined;
}

t.test('without positions: the same values, marks and key order, and no positions', async (t) => {
  for (const text of [...FIXTURES.map(fixtureText), largeStackFile(20)]) {
    const positioned = readYamlSubset(text, 'compose.yaml', LIMITS);
    const bare = readYamlSubset(text, 'compose.yaml', LIMITS, false);
    t.equal(bare === undefined, positioned === undefined, 'accepted or refused alike');
    if (positioned !== undefined) t.equal(differenceBesidesPositions(bare, positioned), undefined);
  }
});

t.test('mistakes and hostile input are left to the full path, which words them', async (t) => {
  const refused: Record<string, string> = {
    'tabs': 'services:\n\tweb:\n\t\timage: x\n',
    'a tab after a value': 'a: x\t\n',
    'duplicate keys': 'services:\n  web:\n    image: a\n    image: b\n',
    'duplicate keys in a flow mapping': 'a: {x: 1, x: 2}\n',
    'an unknown tag': 'a: !include x.yaml\n',
    'a standard tag': 'a: !!str 1\n',
    'an undefined alias': 'a: *nope\n',
    'a recursive alias': 'a: &x\n  b: *x\n',
    'an alias with properties': 'x: &x 1\na: &y *x\n',
    'deep flow nesting': `a: ${'['.repeat(100)}${']'.repeat(100)}\n`,
    'an alias bomb': ['a: &a [x,x,x,x,x,x,x,x,x]', ...'bcdefghi'.split('').map((n, i) => `${n}: &${n} [${Array(9).fill(`*${'abcdefghi'[i]}`).join(',')}]`)].join('\n'),
    'a merge of a list': 'x: &x [1]\ny:\n  <<: *x\n',
    'an empty file': '',
    'only comments': '# nothing\n',
    'a top-level list': '- a\n',
    'a top-level scalar': 'just text\n',
    'several documents': 'a: 1\n---\nb: 2\n',
    'a directive': '%YAML 1.2\n---\na: 1\n',
    'bad indentation': 'services:\n  web:\n  image: a\n   ports: []\n',
    'an unclosed quote': 'a: "abc\n',
    'a multi-line plain scalar': 'a: b\n  c\n',
    'a nested mapping on one line': 'a: b: c\n',
    'a complex key': '? a\n: b\n',
    'CR line ends': 'a: 1\r\nb: 2\r\n',
    'an empty sequence entry': 'a:\n  -\n  - b\n',
    'a keep-chomped block scalar': 'a: |+\n  x\n\n',
  };
  for (const [what, text] of Object.entries(refused)) t.equal(readYamlSubset(text, 'compose.yaml', LIMITS), undefined, what);
  t.match(parseStackFile(new TextEncoder().encode(refused['duplicate keys']!), 'compose.yaml').problems[0]?.message ?? '', /duplicate key/);
});

t.test('keys named like Object members stay plain data', async (t) => {
  const doc = readYamlSubset('__proto__: 1\nconstructor: 2\nx: {__proto__: 3}\n', 'compose.yaml', LIMITS) as Record<string, unknown>;
  t.equal(Object.getPrototypeOf(doc), Object.prototype);
  t.same(Object.keys(doc), ['__proto__', 'constructor', 'x']);
  t.equal(mismatch('__proto__: 1\nconstructor: 2\nx: {__proto__: 3}\n'), undefined);
});

const CORNERS = [
  'a: 1\n', 'a: 0755\n', 'a: 08\n', 'a: -012\n', 'a: +12\n', 'a: 0o17\n', 'a: 0x1F\n', 'a: 1e3\n', 'a: .5\n', 'a: 1.\n', 'a: -.inf\n', 'a: .NaN\n',
  'a: ~\n', 'a: Null\n', 'a: TRUE\n', 'a: yes\n', 'a: 1_000\n', 'a: 12:30\n', 'a: -1\n', 'a: -x\n', 'a: http://x:80/y\n', 'a: b#c\n', 'a:  1  # c\n',
  '1: a\n010: b\n0x10: c\ntrue: d\nnull: e\n1.50: f\n', '"a b": 1\n\'c\'\'d\': 2\n', 'a : 1\n', 'a: "x" # c\n', "a: 'it''s'\n", 'é: ü 😀\n',
  'a: "\\t\\n\\u00e9\\x41\\U0001F600\\\\ \\" \\/ \\N \\_ \\0 \\e"\n',
  'a: [b, c:d, "e", \'f\', 1, 010, -2, ~]\n', 'a: [ ]\n', 'a: {}\n', 'a: { x: 1, "y": 2, z: [1, {q: r}] }\n', 'a: [a b, c ]\n', 'a: x, y\n',
  'a: |\n  x\n  y\n', 'a: |-\n  x\n\n  y\n\n', 'a: >\n  x\n  y\n\n  z\n', 'a: |\n  # not a comment\n  x\nb: 1\n', 'a: | # c\n  x\n',
  'l:\n  - |\n    x\n  - >\n    y\n    z\n', 'a: |\n  x\n \n  y\n', 'a: >-\n  x\n\n', 'a: >\n  x\n\n\n  y\n',
  'a:\n- 1\n- 2\nb: 3\n', 'a:\n  - b: 1\n    c: 2\n  - d\n', 'a:\n  -\n    b: 1\n', 'a:\n  - b:\n    - 1\n', 'a:\n  - b:\n    c: 1\n',
  'x: &x 1\ny: *x\n', 'x: &x {a: 1}\ny: *x\n', 'x: &x\n  a: 1\ny:\n  <<: *x\n  b: 2\n', 'x: &x\n  a: 1\nx2: &y\n  a: 2\n  c: 3\ny:\n  <<: [*x, *y]\n  b: 2\n',
  'y:\n  <<: {a: 1}\n', 'x: &x\n  a: &x 2\nb: *x\n', 'x: &x 1\ny: &y\n  a: *x\nz: &x 2\nw: *y\n', 'k: &a\n  - &a 1\n  - 2\nl: *a\n',
  'a: !reset\nb: !reset [1]\nc: !override\n  - 1\nd: !override {a: 1}\ne: !override x\nf: !override 0755\ng: !override\n',
  'a: &x !override\n  - 1\nb: *x\n', 'a: !override &x\n  - 1\nb: *x\n', 'x-common:\n  &common\n  a: 1\ns:\n  <<: *common\n', 'a:\n  !override\n  - 1\n',
  '---\na: 1\n', '--- # c\na: 1\n', 'a: 1 # c\n# c2\n  # c3\nb: 2\n', 'a:\n    # c\n  b: 1\n', 'a:\n  - x # c\n  # c\n  - y\n',
];

t.test('corners of YAML: refused, or read as the full path reads them', async (t) => {
  let accepted = 0;
  for (const text of CORNERS) {
    t.equal(mismatch(text), undefined, JSON.stringify(text));
    if (readYamlSubset(text, 'compose.yaml', LIMITS) !== undefined) accepted++;
  }
  t.ok(accepted >= CORNERS.length - 5, `most corners take the fast path (${accepted} of ${CORNERS.length})`);
});

/** mulberry32: a small seeded generator, so a failure can be replayed. */
function random(seed: number): (n: number) => number {
  let state = seed;
  return (n) => {
    state = (state + 0x6d2b79f5) | 0;
    let x = Math.imul(state ^ (state >>> 15), 1 | state);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) % n;
  };
}

/** Random documents made of the constructs the subset reads, and some it does not. */
function randomDocument(rnd: (n: number) => number): string {
  const pick = <T>(a: readonly T[]): T => a[rnd(a.length)]!;
  const words = ['a', 'web', 'x-y', 'A_B', '80', '0755', '1.5', 'true', 'no', '~', 'null', 'http://h:1/p', 'a b', 'é', '-x', '1e3', '0x1f', '.inf', 'a:b', 'a#b', '<<', '__proto__', '$VAR', '${A:-b}', 'k=v', '-1', '+2', '0o7', ''];
  const anchors: string[] = [];
  const scalar = (flow: boolean): string => {
    const w = pick(words);
    const r = rnd(10);
    if (r < 5 && w !== '' && !/^[-?:,[\]{}#&*!|>'"%@`~ ]/.test(w) && !(flow && /[,[\]{}:#]/.test(w))) return w;
    if (r < 7) return `"${w.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}${pick(['', '\\t', '\\u00e9', '\\n', ' '])}"`;
    return `'${w.replace(/'/g, "''")}'`;
  };
  const key = () => (rnd(6) === 0 ? `"${pick(words)}"` : pick(['a', 'b', 'c', 'web', 'db', 'x', '1', 'true', 'ports', 'image', 'k-1', 'k.2', 'null', '010']));
  const flow = (d: number): string => {
    if (d > 3 || rnd(3) === 0) return rnd(8) === 0 && anchors.length ? `*${pick(anchors)}` : scalar(true);
    const sp = pick(['', ' ']);
    if (rnd(2)) return `[${sp}${Array.from({ length: rnd(4) }, () => flow(d + 1)).join(pick([', ', ',', ' , ']))}${sp}]`;
    const keys = [...new Set(Array.from({ length: rnd(4) }, key))];
    return `{${sp}${keys.map((k) => `${k}: ${flow(d + 1)}`).join(', ')}${sp}}`;
  };
  const props = (): string => {
    let p = '';
    if (rnd(8) === 0) {
      const a = pick(['a1', 'a2', 'base', 'x.y']);
      p += `&${a} `;
      anchors.push(a);
    }
    if (rnd(15) === 0) p += pick(['!reset ', '!override ']);
    return p;
  };
  const blockScalar = (indent: number): string => {
    const lines = Array.from({ length: 1 + rnd(4) }, () => pick(['x', 'y z', '# h', '', '  more', 'a: b', 'tail ']));
    while (lines[0] === '') lines.shift();
    if (lines.length === 0) lines.push('x');
    const pad = ' '.repeat(indent + 2);
    return `${pick(['|', '>', '|-', '>-'])}${pick(['', ' # c'])}\n${lines.map((l) => (l === '' ? pad.slice(0, rnd(pad.length + 1)) : pad + l)).join('\n')}`;
  };
  const comment = (indent: number): string => (rnd(6) === 0 ? `${' '.repeat(rnd(indent + 3))}# note${rnd(2) ? ': x' : ''}\n` : rnd(8) === 0 ? '\n' : '');
  const value = (indent: number, d: number, inMapping: boolean): string => {
    const r = rnd(10);
    if (d > 4 || r < 4) {
      const p = props();
      const s = rnd(6) === 0 && anchors.length ? `*${pick(anchors)}` : rnd(8) === 0 ? blockScalar(indent) : rnd(5) === 0 ? flow(0) : scalar(false);
      return ` ${p}${s}${rnd(5) === 0 && !/^[|>]/.test(s) ? ' # c' : ''}\n`;
    }
    const p = props();
    const sameColumn = inMapping && rnd(3) === 0;
    const child = sameColumn ? indent : indent + pick([2, 2, 4, 1]);
    const head = p ? (rnd(3) === 0 ? `\n${' '.repeat(child === indent ? indent + 2 : child)}${p.trim()}` : ` ${p.trim()}`) : '';
    return r < 7 || sameColumn ? `${head}\n${sequence(child, d + 1)}` : `${head}\n${mapping(child, d + 1)}`;
  };
  const mapping = (indent: number, d: number): string => {
    let out = '';
    const keys = [...new Set(Array.from({ length: 1 + rnd(4) }, key))];
    if (rnd(6) === 0 && anchors.length) keys.unshift('<<');
    for (const k of keys) {
      out += comment(indent);
      if (k === '<<') out += `${' '.repeat(indent)}<<: ${rnd(2) ? `*${pick(anchors)}` : `[*${pick(anchors)}, *${pick(anchors)}]`}\n`;
      else out += `${' '.repeat(indent)}${k}:${rnd(12) === 0 ? '\n' : value(indent, d, true)}`;
    }
    return out;
  };
  const sequence = (indent: number, d: number): string => {
    let out = '';
    for (let i = 0; i < 1 + rnd(3); i++) {
      out += comment(indent);
      if (rnd(4) === 0 && d < 5) out += `${' '.repeat(indent)}- ${mapping(indent + 2, d + 1).replace(/^ +/, '')}`;
      else out += `${' '.repeat(indent)}-${value(indent, d, false)}`;
    }
    return out;
  };
  return (rnd(10) === 0 ? '---\n' : '') + mapping(0, 0);
}

/** A few random edits: characters YAML cares about inserted or removed, lines moved, re-indented, repeated. */
function mutate(text: string, rnd: (n: number) => number): string {
  const chars = [' ', ' ', '-', ':', '#', '"', "'", '[', ']', '{', '}', ',', '&', '*', '!', '|', '>', '\n', 'a', '0', '.', '~', '<', '\\', '?', '%', '@', 'x', '1'];
  let out = text;
  for (let edits = 1 + rnd(3); edits > 0; edits--) {
    const lines = out.split('\n');
    const at = rnd(out.length + 1);
    const line = rnd(lines.length);
    switch (rnd(8)) {
      case 0: out = out.slice(0, at) + out.slice(at + 1); break;
      case 1:
      case 2: out = out.slice(0, at) + chars[rnd(chars.length)] + out.slice(at); break;
      case 3: lines.splice(line, 0, lines[rnd(lines.length)]!); out = lines.join('\n'); break;
      case 4: lines[line] = ' '.repeat(1 + rnd(2)) + lines[line]; out = lines.join('\n'); break;
      case 5: lines[line] = lines[line]!.replace(/^ {1,2}/, ''); out = lines.join('\n'); break;
      case 6: lines.splice(line, 1); out = lines.join('\n'); break;
      default: {
        const other = rnd(lines.length);
        [lines[line], lines[other]] = [lines[other]!, lines[line]!];
        out = lines.join('\n');
      }
    }
  }
  return out;
}

t.test('random documents: refused, or read as the full path reads them', async (t) => {
  const rnd = random(20251123);
  let accepted = 0;
  let failures = 0;
  for (let i = 0; i < 1500 && failures < 3; i++) {
    const text = randomDocument(rnd);
    const m = mismatch(text);
    if (m !== undefined) {
      failures++;
      t.fail(`${m}\n${text}`);
    } else if (readYamlSubset(text, 'compose.yaml', LIMITS) !== undefined) accepted++;
  }
  t.equal(failures, 0);
  t.ok(accepted > 300, `a good share took the fast path (${accepted})`);
});

t.test('mutants of the fixtures: refused, or read as the full path reads them', async (t) => {
  const rnd = random(7);
  const texts = FIXTURES.map(fixtureText);
  let failures = 0;
  for (let i = 0; i < 1500 && failures < 3; i++) {
    const text = mutate(texts[rnd(texts.length)]!, rnd);
    const m = mismatch(text);
    if (m !== undefined) {
      failures++;
      t.fail(`${m}\n${text}`);
    }
  }
  t.equal(failures, 0);
});
