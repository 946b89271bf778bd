import t from 'tap';
import { parse } from 'yaml';
import { toYaml } from '../../src/cli/yaml-output.js';

const tricky = {
  plain: 'nginx:1.27',
  words: ['yes', 'no', 'on', 'off', 'y', 'n', 'true', 'False', 'null', '~', ''],
  numbers: ['1', '0755', '1.5', '1e3', '0x1F', '0o17', '.5', '.', '.inf', '-.nan', '12:30', '2001-12-14', '8080:80', '2s'],
  symbols: ['-U', '- x', 'a: b', 'a #b', '#x', '*ref', '&anchor', '!tag', '@at', '`tick`', '{x}', '[x]', '"q"', "'q'", '%d', '|', '>', '?', 'tab\there', 'line\nbreak', ' lead', 'trail ', 'ünïcode'],
  'key with space': 1,
  'a:b': 2,
  '123': 3,
  true: 4,
  nested: { list: [[1, 2], [], {}, { a: [ { b: null } ] }], empty: {}, none: null, yes: false },
};

t.test('printed YAML reads back as the same data for YAML 1.2 and 1.1 readers', async (t) => {
  const text = toYaml(tricky);
  t.same(parse(text), tricky);
  t.same(parse(text, { version: '1.1' }), tricky);
});

t.test('ordinary values stay readable', async (t) => {
  t.equal(toYaml({ image: 'nginx:1.27', ports: [{ target: 80, published: '8080' }], interval: '2s', cmd: ['-U', 'dev'] }),
    'image: nginx:1.27\nports:\n  - target: 80\n    published: "8080"\ninterval: 2s\ncmd:\n  - "-U"\n  - dev\n');
});
