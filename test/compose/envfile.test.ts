import t from 'tap';
import { parseEnvFile } from '../../src/compose/envfile.js';
import { formatProblem } from '../../src/common/errors.js';

const parse = (text: string, env: Record<string, string> = { HOME: '/home/ann', SHELL_ONLY: 'from-shell' }) => {
  const r = parseEnvFile(text, '.env', (n) => env[n]);
  return { vars: r.vars, problems: r.problems.map(formatProblem) };
};

t.test('plain, exported, commented and blank lines', async (t) => {
  const r = parse(['# a comment', '', 'A=1', 'export B=two', '  C = spaced  ', 'D=', 'E=x # trailing comment', 'F=a#b'].join('\n'));
  t.same(r.vars, { A: '1', B: 'two', C: 'spaced', D: '', E: 'x', F: 'a#b' });
  t.same(r.problems, []);
});

t.test('quotes', async (t) => {
  const r = parse([
    "S='literal $HOME \\n'",
    'D="tab\\there \\"q\\" ${HOME}"',
    'M="line one',
    'line two"',
    "E=''",
    'H="x" # comment after quotes',
  ].join('\n'));
  t.same(r.vars, { S: 'literal $HOME \\n', D: 'tab\there "q" /home/ann', M: 'line one\nline two', E: '', H: 'x' });
});

t.test('interpolation from earlier keys, then the environment', async (t) => {
  const r = parse(['BASE=/srv', 'DATA=${BASE}/data', 'LOGS=$BASE/logs', 'H=${HOME}', 'DEF=${NOPE:-fallback}', 'ESC=$$literal'].join('\n'));
  t.same(r.vars, { BASE: '/srv', DATA: '/srv/data', LOGS: '/srv/logs', H: '/home/ann', DEF: 'fallback', ESC: '$literal' });
});

t.test('a key alone takes its value from the environment, or is skipped', async (t) => {
  t.same(parse('SHELL_ONLY\nNOT_SET\n').vars, { SHELL_ONLY: 'from-shell' });
});

t.test('mistakes are reported with file:line:col, and the rest still loads', async (t) => {
  const r = parse(['GOOD=1', 'BAD KEY=x', 'Q="never closed', 'ALSO_GOOD=2'].join('\n'));
  t.same(r.vars, { GOOD: '1' });
  t.same(r.problems, [
    '.env:2:1: "BAD KEY" is not a valid variable name: use letters, digits and underscores, like MY_VAR=value',
    '.env:3:3: the value of Q has no closing ": close the quote',
  ]);
  const r2 = parse('X=${BROKEN\nY=after="quoted" junk\nZ="a" junk\n');
  t.same(r2.problems, [
    '.env:1:3: X: invalid interpolation format in "${BROKEN": write variables as $NAME or ${NAME}, and a literal $ as $$',
    '.env:3:1: unexpected text after the closing quote of Z: "junk"',
  ]);
  t.equal(r2.vars.Y, 'after="quoted" junk');
});

t.test('CRLF line endings and a byte order mark', async (t) => {
  t.same(parse('\ufeffA=1\r\nB=2\r\n').vars, { A: '1', B: '2' });
});

t.test('escapes, and which values are interpolated', async (t) => {
  const r = parse([
    'A="back\\\\slash and \\$HOME"',
    "B='${HOME} stays'",
    'C=${LATER:-not yet}',
    'LATER=now',
    'D=${LATER}',
    'export SHELL_ONLY',
    'E="${MISSING:?needed}"',
  ].join('\n'));
  t.same(r.vars, { A: 'back\\slash and $HOME', B: '${HOME} stays', C: 'not yet', LATER: 'now', D: 'now', SHELL_ONLY: 'from-shell' });
  t.same(r.problems, ['.env:7:3: E: required variable MISSING is missing a value: needed']);
});
