import t from 'tap';
import { parseStackFile, MAX_FILE_BYTES } from '../../src/compose/parse.js';
import { entryPosition, locate } from '../../src/compose/positions.js';
import { RESET, isOverride } from '../../src/compose/tags.js';
import { formatProblem } from '../../src/common/errors.js';

const enc = (s: string) => new TextEncoder().encode(s);
const parse = (s: string) => parseStackFile(enc(s), 'compose.yaml');
const messages = (s: string | Uint8Array) => parseStackFile(typeof s === 'string' ? enc(s) : s, 'compose.yaml').problems.map(formatProblem);

t.test('plain document with positions of keys and values', async (t) => {
  const r = parse('services:\n  web:\n    image: nginx\n    ports:\n      - "8080:80"\n      - 443\n');
  t.same(r.problems, []);
  t.same(r.value, { services: { web: { image: 'nginx', ports: ['8080:80', 443] } } });
  const doc = r.value as Record<string, any>;
  t.same(entryPosition(doc.services.web, 'image'), { key: { file: 'compose.yaml', line: 3, col: 5 }, value: { file: 'compose.yaml', line: 3, col: 12 } });
  t.same(locate(doc, ['services', 'web', 'ports', 1]), { file: 'compose.yaml', line: 6, col: 9 });
  t.same(locate(doc, ['services', 'web', 'ports'], 'key'), { file: 'compose.yaml', line: 4, col: 5 });
  // A path that goes past what exists falls back to the deepest known position.
  t.same(locate(doc, ['services', 'web', 'nope', 3]), { file: 'compose.yaml', line: 3, col: 5 });
});

t.test('a key with no value is null, positioned at the key', async (t) => {
  const r = parse('services:\n  db:\n    volumes:\n');
  const doc = r.value as Record<string, any>;
  t.equal(doc.services.db.volumes, null);
  t.same(locate(doc, ['services', 'db', 'volumes']), { file: 'compose.yaml', line: 3, col: 5 });
});

t.test('anchors, aliases and merge keys are expanded', async (t) => {
  const r = parse([
    'x-common: &common',
    '  restart: always',
    '  environment: &env',
    '    A: "1"',
    'services:',
    '  a:',
    '    <<: *common',
    '    image: a',
    '  b:',
    '    <<: [*common]',
    '    restart: "no"',
    '    environment: *env',
  ].join('\n'));
  t.same(r.problems, []);
  const doc = r.value as Record<string, any>;
  t.same(doc.services.a, { image: 'a', restart: 'always', environment: { A: '1' } });
  t.same(doc.services.b, { restart: 'no', environment: { A: '1' } }, 'keys written in the mapping win over merged ones');
  t.same(locate(doc, ['services', 'a', 'restart']), { file: 'compose.yaml', line: 2, col: 12 }, 'merged keys keep the anchor position');
});

t.test('!reset and !override become merge markers', async (t) => {
  const r = parse('services:\n  web:\n    ports: !reset []\n    environment: !override\n      A: b\n');
  const web = (r.value as Record<string, any>).services.web;
  t.equal(web.ports, RESET);
  t.ok(isOverride(web.environment));
  t.same(web.environment, { A: 'b' });
});

t.test('YAML 1.2 scalars: yes/no stay strings, numbers and booleans are typed', async (t) => {
  const r = parse('a: yes\nb: true\nc: 010\nd: 1.5\ne: ~\nf: "8080:80"\ng: 22:22\nh: 0o17\ni: "0400"\nj: 0400\nk: 089\n');
  t.same(r.value, { a: 'yes', b: true, c: 8, d: 1.5, e: null, f: '8080:80', g: '22:22', h: 15, i: '0400', j: 256, k: 89 },
    'a plain leading-zero integer is octal, as Compose reads file modes');
});

t.test('syntax errors name the line and column', async (t) => {
  t.same(messages('services:\n  web:\n    image: "abc\n'), ['compose.yaml:4:1: YAML syntax error: missing closing "quote']);
  t.same(messages('services:\n  web:\n  image: a\n   ports: []\n'), messages('services:\n  web:\n  image: a\n   ports: []\n'), 'stable');
  t.same(messages('services:\n  web:\n  image: a\n   ports: []\n'), [
    'compose.yaml:3:10: YAML syntax error: nested mappings are not allowed in compact mappings (check the indentation of this line and the lines above it)',
  ]);
});

t.test('tabs used for indentation', async (t) => {
  const m = messages('services:\n\tweb:\n\t\timage: x\n');
  t.equal(m[0], 'compose.yaml:2:1: tabs are not allowed for indentation in YAML: indent with spaces');
  t.ok(m.length <= 20);
});

t.test('duplicate keys', async (t) => {
  t.same(messages('services:\n  web:\n    image: a\n    image: b\n'), [
    'compose.yaml:4:5: duplicate key: "image" is already set earlier in the same mapping; remove one of them',
  ]);
});

t.test('non-mapping top level and empty files', async (t) => {
  t.same(messages('- a\n- b\n'), ['compose.yaml:1:1: the top level must be a mapping with keys like "services:", but the file holds a list']);
  t.same(messages('just text\n'), ['compose.yaml:1:1: the top level must be a mapping with keys like "services:", but the file holds the value "just text"']);
  t.same(messages(''), ['compose.yaml:1:1: the file is empty: a stack file needs at least a "services:" mapping']);
  t.same(messages('# only a comment\n'), ['compose.yaml:1:1: the file is empty: a stack file needs at least a "services:" mapping']);
});

t.test('several documents in one file', async (t) => {
  t.match(messages('a: 1\n---\nb: 2\n')[0], /^compose\.yaml:2:1: the file holds several YAML documents/);
});

t.test('binary and non-UTF-8 content is refused before parsing', async (t) => {
  t.same(messages(new Uint8Array([0x61, 0x3a, 0x20, 0x00, 0x01])), ['compose.yaml:1:4: the file holds binary data (a NUL byte), not YAML text: check that -f names the stack file']);
  t.same(messages(new Uint8Array([...enc('services:\n  caf'), 0xe9, ...enc(':\n')])), ['compose.yaml:2:6: the file is not UTF-8 text (byte 0xE9): save it as UTF-8']);
  t.same(parse('\ufeffa: 1\n').value, { a: 1 }, 'a UTF-8 byte order mark is accepted');
});

t.test('files over the size limit are refused', async (t) => {
  const big = new Uint8Array(MAX_FILE_BYTES + 1).fill(0x61);
  t.match(messages(big)[0], /over the 4194304-byte limit/);
});

t.test('alias bombs are refused quickly', async (t) => {
  const lines = ['a: &a [x,x,x,x,x,x,x,x,x]'];
  const names = 'abcdefghi';
  for (let i = 1; i < names.length; i++) lines.push(`${names[i]}: &${names[i]} [${Array(9).fill(`*${names[i - 1]}`).join(',')}]`);
  const start = performance.now();
  const m = messages(lines.join('\n') + '\n');
  t.ok(performance.now() - start < 2000, 'finished within two seconds');
  t.equal(m.length, 1);
  t.match(m[0], /aliases expand to more than 250000 values \(a "billion laughs" pattern\)/);
});

t.test('deep nesting is refused quickly, flow and block', async (t) => {
  const flow = 'x: ' + '['.repeat(5000) + ']'.repeat(5000) + '\n';
  t.same(messages(flow), ['compose.yaml:1:68: values are nested more than 64 levels deep: no stack file needs that, check the file\'s brackets and indentation']);
  const block = Array.from({ length: 200 }, (_, i) => ' '.repeat(i) + 'k:').join('\n') + ' 1\n';
  const m = messages(block);
  t.equal(m.length, 1);
  t.match(m[0], /nested more than 64 levels deep/);
  t.same(parse('a: "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["\n').problems, [], 'brackets inside quotes do not count');
});

t.test('complex keys are refused', async (t) => {
  t.match(messages('? [a, b]\n: 1\n')[0], /a mapping key must be a plain value/);
});

t.test('a key named __proto__ is an ordinary key, never a prototype', async (t) => {
  const r = parse('services:\n  __proto__:\n    image: evil\n  web:\n    <<: { __proto__: { polluted: true } }\n    image: a\n');
  const services = (r.value as Record<string, any>).services;
  t.same(Object.keys(services), ['__proto__', 'web']);
  t.equal(Object.getPrototypeOf(services), Object.prototype);
  t.equal(({} as Record<string, unknown>).polluted, undefined);
  t.equal(services.web.polluted, undefined);
});
