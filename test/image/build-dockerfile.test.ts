// The Dockerfile parser, the word rules and .dockerignore: pure, no engine.
import t from 'tap';
import {
  argDeclarations, commandOf, copyPaths, DockerfileError, exposedPorts, healthcheckOf, keyValues, parseDockerfile, parseGoDuration, runScript, stagesNeeded,
} from '../../src/image/build/dockerfile.js';
import { expandWord, expandWords } from '../../src/image/build/shell-words.js';
import { isIgnored, parseDockerignore } from '../../src/common/dockerignore.js';

const vars = (o: Record<string, string>) => (n: string) => o[n];
const error = (text: string): string => {
  try {
    parseDockerfile(text);
  } catch (err) {
    if (err instanceof DockerfileError) return err.message;
    throw err;
  }
  return 'no error';
};

t.test('stages, names, comments, continuations and forms', async (t) => {
  const df = parseDockerfile([
    '# syntax=docker/dockerfile:1',
    'ARG BASE=busybox',
    'FROM $BASE AS Build',
    '# a comment',
    'RUN echo one \\',
    '  # a comment inside is dropped',
    '  two',
    '',
    'CMD ["sh", "-c", "echo hi"]',
    'from build',
    'copy --from=build --chown=1:2 /a /b',
  ].join('\n'));
  t.equal(df.syntax, 'docker/dockerfile:1');
  t.equal(df.globalArgs.length, 1);
  t.equal(df.stages.length, 2);
  t.equal(df.stages[0]!.name, 'build', 'stage names are lower-cased');
  t.equal(df.stages[0]!.base, '$BASE');
  const [run, cmd] = df.stages[0]!.instructions;
  t.equal(run!.rest, 'echo one   two');
  t.equal(run!.line, 5);
  t.same(cmd!.json, ['sh', '-c', 'echo hi']);
  t.same(commandOf(run!, ['/bin/sh', '-c']), ['/bin/sh', '-c', 'echo one   two']);
  const copy = df.stages[1]!.instructions[0]!;
  t.equal(copy.keyword, 'COPY');
  t.same([...copy.flags], [['from', 'build'], ['chown', '1:2']]);
  t.same(copyPaths(copy, vars({}), '\\'), { sources: ['/a'], dest: '/b' });
  t.same(stagesNeeded(df, undefined, (s) => s.base.replace('$BASE', 'busybox')).map((s) => s.index), [0, 1]);
  t.same(stagesNeeded(df, 'build', (s) => s.base).map((s) => s.index), [0]);
});

t.test('the escape directive and Windows-style continuation', async (t) => {
  const df = parseDockerfile('# escape=`\nFROM x\nRUN a `\n  b\nCOPY c:\\dir d\n');
  t.equal(df.escape, '`');
  t.equal(df.stages[0]!.instructions[0]!.rest, 'a   b');
  t.same(copyPaths(df.stages[0]!.instructions[1]!, vars({}), '`').sources, ['c:\\dir']);
});

t.test('heredocs in RUN', async (t) => {
  const df = parseDockerfile('FROM x\nRUN <<EOF\necho $HOME\necho two\nEOF\nRUN cat > /f <<-"END"\n\tliteral $X\n\tEND\nRUN <<EOF\n#!/usr/bin/env python3\nprint(1)\nEOF\nCMD x\n');
  const [a, b, c, d] = df.stages[0]!.instructions;
  t.same(a!.heredocs, [{ name: 'EOF', body: 'echo $HOME\necho two\n', expand: true }]);
  t.equal(runScript(a!), 'echo $HOME\necho two\n', 'a bare heredoc is the script');
  t.same(b!.heredocs, [{ name: 'END', body: 'literal $X\n', expand: false }], '<<- strips leading tabs');
  t.equal(runScript(b!), 'cat > /f <<-"END"\nliteral $X\nEND\n');
  t.match(runScript(c!), /^f=\$\(mktemp\) && cat > "\$f" <<'STACK_HEREDOC_SCRIPT_END'\n#!\/usr\/bin\/env python3\nprint\(1\)\n/);
  t.equal(d!.keyword, 'CMD');
  t.equal(error('FROM x\nRUN <<EOF\necho\n'), 'Dockerfile:2: the heredoc <<EOF is not closed: end it with a line "EOF"');
});

t.test('variable substitution', async (t) => {
  const v = vars({ A: 'a', E: '', P: '/usr/bin' });
  t.equal(expandWord('$A-${A}-${B:-dflt}-${E:-empty}-${E-set}-${A:+alt}-${B:+alt}', v), 'a-a-dflt-empty--alt-');
  t.equal(expandWord("'$A' \"$A\" \\$A", v), '$A a $A');
  t.same(expandWords('x "y z" ${P}:/bin', v), ['x', 'y z', '/usr/bin:/bin']);
  t.throws(() => expandWord('${B:?must be set}', v), { message: 'B: must be set' });
  t.throws(() => expandWord('${A', v), { message: /missing "}"/ });
  t.throws(() => expandWord('${A/x/y}', v), { message: /unsupported modifier/ });
});

t.test('ENV, LABEL, ARG, EXPOSE, HEALTHCHECK', async (t) => {
  const df = parseDockerfile([
    'FROM x',
    'ENV A=1 B="two words" C=$A',
    'ENV OLD the rest of $A',
    'LABEL "com.example.a"="x y" b=$A',
    'ARG V=${A:-9} W',
    'EXPOSE 80 53/udp 8000-8001',
    'HEALTHCHECK --interval=5s --retries=3 CMD curl -f http://localhost/ || exit 1',
    'HEALTHCHECK NONE',
  ].join('\n'));
  const [env, old, label, arg, expose, hc, none] = df.stages[0]!.instructions;
  const v = vars({ A: '1' });
  t.same(keyValues(env!, v, '\\'), [['A', '1'], ['B', 'two words'], ['C', '1']]);
  t.same(keyValues(old!, v, '\\'), [['OLD', 'the rest of 1']]);
  t.same(keyValues(label!, v, '\\'), [['com.example.a', 'x y'], ['b', '1']]);
  t.same(argDeclarations(arg!, v, '\\'), [{ name: 'V', default: '1' }, { name: 'W' }]);
  t.same(exposedPorts(expandWords(expose!.rest, v)), ['80/tcp', '53/udp', '8000/tcp', '8001/tcp']);
  t.same(healthcheckOf(hc!), { Test: ['CMD-SHELL', 'curl -f http://localhost/ || exit 1'], Interval: 5e9, Retries: 3 });
  t.same(healthcheckOf(none!), { Test: ['NONE'] });
  t.equal(parseGoDuration('1m30s'), 90_000);
  t.equal(parseGoDuration('500ms'), 500);
  t.equal(parseGoDuration('5x'), undefined);
});

t.test('broken Dockerfiles: exact messages', async (t) => {
  const cases: Array<[string, string]> = [
    ['FROM x\nRUNN echo', 'Dockerfile:2: unknown instruction "RUNN" (did you mean "RUN"?)'],
    ['FROM x\nCOPPY a b', 'Dockerfile:2: unknown instruction "COPPY" (did you mean "COPY"?)'],
    ['FROM x\nFROBNICATE a', 'Dockerfile:2: unknown instruction "FROBNICATE"'],
    ['RUN echo\nFROM x', 'Dockerfile:1: RUN before the first FROM: only ARG may come before FROM'],
    ['# just a comment\n', 'Dockerfile:2: the Dockerfile has no FROM: a build needs at least one stage'],
    ['FROM x\nONBUILD RUN echo', 'Dockerfile:2: ONBUILD is not supported by this builder: put the instructions in the Dockerfile that builds FROM this image'],
    ['FROM x\nCOPY a', 'Dockerfile:2: COPY needs at least one source and a destination: "COPY SRC... DEST"'],
    ['FROM x\nCOPY --form=a b c', 'Dockerfile:2: unknown flag --form for COPY (did you mean --from? it takes --from, --chown, --chmod, --link)'],
    ['FROM x\nRUN --mount=type=cache,target=/x echo', 'Dockerfile:2: RUN --mount needs BuildKit, which this builder is not: copy what the step needs with COPY instead'],
    ['FROM x\nSHELL /bin/bash -c', 'Dockerfile:2: SHELL needs a JSON array of the shell and its options, like ["/bin/sh", "-c"]'],
    ['FROM x\nENV ONLYNAME', 'Dockerfile:2: ENV needs NAME=VALUE (or the old form NAME VALUE): "ENV ONLYNAME" has no value'],
    ['FROM x\nHEALTHCHECK --interval=5 CMD true', 'Dockerfile:2: HEALTHCHECK --interval must be a duration like 30s or 1m30s, not "5"'],
    ['FROM x\nHEALTHCHECK curl', 'Dockerfile:2: HEALTHCHECK takes "NONE" or "[OPTIONS] CMD command"'],
    ['FROM x AS a\nFROM y AS a', 'Dockerfile:2: the stage name "a" is already used by the stage at line 1'],
    ['FROM x AS 1bad', 'Dockerfile:1: invalid stage name "1bad": use letters, digits, "-", "_" and "." starting with a letter'],
    ['FROM x y', 'Dockerfile:1: FROM takes an image and optionally "AS name": "FROM x y"'],
    ['# escape=x\nFROM x', 'Dockerfile:1: invalid escape character "x": use \\ or `'],
    ['FROM x\nWORKDIR', 'Dockerfile:2: WORKDIR needs a path'],
    ['FROM x\nEXPOSE --x 80', 'Dockerfile:2: unknown flag --x for EXPOSE (it takes no flags)'],
  ];
  for (const [text, message] of cases) t.equal(error(text), message, message);
  const df = parseDockerfile('FROM x AS base\nFROM base');
  t.throws(() => stagesNeeded(df, 'bsae', (s) => s.base), { message: 'Dockerfile:1: target stage "bsae" could not be found (did you mean "base"?)' });
});

t.test('.dockerignore', async (t) => {
  const p = parseDockerignore('# comment\nnode_modules\n*.log\n!keep.log\n**/secret*\n/build/\ndocs/**/*.md\n!docs/README.md\n');
  const ignored = (path: string) => isIgnored(p, path);
  t.ok(ignored('node_modules'));
  t.ok(ignored('node_modules/x/y.js'), 'a matched directory takes everything under it');
  t.ok(ignored('debug.log'));
  t.notOk(ignored('keep.log'), '! takes a path back');
  t.notOk(ignored('sub/debug.log'), '* stays within one element');
  t.ok(ignored('secret.txt'));
  t.ok(ignored('a/b/secrets'), '** matches any depth');
  t.ok(ignored('build/out.o'));
  t.ok(ignored('docs/a/b/x.md'));
  t.ok(ignored('docs/x.md'), '**/ matches zero directories');
  t.notOk(ignored('docs/README.md'));
  t.notOk(ignored('src/index.ts'));
});
