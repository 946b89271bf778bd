import t from 'tap';
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { runCli } from './run-cli.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const EXAMPLE = join(ROOT, 'examples/postgres-redis');

t.test('--version and --help', async (t) => {
  const v = await runCli(['--version'], { cwd: ROOT });
  t.equal(v.code, 0);
  t.match(v.stdout, /^\d+\.\d+\.\d+\n$/);
  const h = await runCli(['--help'], { cwd: ROOT });
  t.equal(h.code, 0);
  t.match(h.stdout, /stack config/);
  t.match(h.stdout, /--project-name/);
});

t.test('no command and unknown commands are usage errors', async (t) => {
  const none = await runCli([], { cwd: ROOT });
  t.equal(none.code, 2);
  t.match(none.stderr, /name a command/);
  const bad = await runCli(['confg'], { cwd: ROOT });
  t.equal(bad.code, 2);
  t.match(bad.stderr, /Unknown argument: confg/);
});

t.test('config of the default example is stable, in yaml and json', async (t) => {
  const a = await runCli(['config'], { cwd: EXAMPLE });
  t.equal(a.code, 0, a.stderr);
  t.equal(a.stderr, '');
  const b = await runCli(['config'], { cwd: EXAMPLE });
  t.equal(a.stdout, b.stdout, 'same input, same bytes');
  t.match(a.stdout, /^name: devdb\n/);
  const j = await runCli(['config', '--format', 'json'], { cwd: EXAMPLE });
  const doc = JSON.parse(j.stdout);
  t.same(Object.keys(doc.services), ['app', 'postgres', 'redis']);
  t.equal(doc.services.postgres.environment.POSTGRES_USER, 'dev');
  t.equal(doc.services.postgres.build.context, join(EXAMPLE, 'postgres'));
});

t.test('config listing flags', async (t) => {
  t.equal((await runCli(['config', '--services'], { cwd: EXAMPLE })).stdout, 'app\npostgres\nredis\n');
  t.equal((await runCli(['config', '--volumes'], { cwd: EXAMPLE })).stdout, 'pgdata\nredisdata\n');
  const q = await runCli(['config', '-q'], { cwd: EXAMPLE });
  t.same([q.code, q.stdout], [0, '']);
});

t.test('environment reaches interpolation; -p and --project-directory', async (t) => {
  const r = await runCli(['--project-directory', EXAMPLE, '-p', 'other', 'config', '--format', 'json'], {
    cwd: ROOT,
    env: { POSTGRES_USER: 'alice', HOME: '/home/tester' },
  });
  t.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  t.equal(doc.name, 'other');
  t.equal(doc.services.postgres.environment.POSTGRES_USER, 'alice');
});

t.test('config SERVICE prints only that service; unknown service is an error', async (t) => {
  const r = await runCli(['config', 'redis', '--format', 'json'], { cwd: EXAMPLE });
  t.same(Object.keys(JSON.parse(r.stdout).services), ['redis']);
  const bad = await runCli(['config', 'redis2'], { cwd: EXAMPLE });
  t.equal(bad.code, 1);
  t.equal(bad.stderr, 'error: no such service: "redis2"; the services are app, postgres, redis\n');
});

t.test('an invalid file: every problem, file:line:col, exit 15, no stack trace', async (t) => {
  const dir = t.testdir({
    'compose.yaml': 'services:\n  web:\n    image: nginx\n    enviroment:\n      A: b\n    ports:\n      - "80:80:80:80"\n',
  });
  const r = await runCli(['config'], { cwd: dir });
  t.equal(r.code, 15);
  t.equal(r.stdout, '');
  t.match(r.stderr, /^compose\.yaml:4:5: services\.web: unknown key "enviroment" \(did you mean "environment"\?\)$/m);
  t.match(r.stderr, /^compose\.yaml:7:9: services\.web\.ports\[0\]: /m);
  t.notMatch(r.stderr, /    at /, 'no stack trace');
  t.match(r.stderr, /stack file is invalid: 2 problems found\n$/);
});

t.test('discovery goes upward and merges the override file', async (t) => {
  const dir = t.testdir({
    'compose.yaml': 'services:\n  web:\n    image: nginx\n',
    'compose.override.yaml': 'services:\n  web:\n    environment:\n      DEBUG: "1"\n',
    sub: { deeper: {} },
  });
  const r = await runCli(['config', '--format', 'json'], { cwd: join(dir, 'sub/deeper') });
  t.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  t.same(doc.services.web.environment, { DEBUG: '1' });
  t.equal(doc.services.web.image, 'nginx');
});

t.test('no stack file anywhere', async (t) => {
  const dir = t.testdir({});
  const r = await runCli(['config'], { cwd: dir });
  t.equal(r.code, 1);
  t.match(r.stderr, /^error: no stack file found in .* or any parent directory: create a compose\.yaml \(or stack\.yaml\), or name one with -f\n$/);
  const missing = await runCli(['-f', 'nope.yaml', 'config'], { cwd: dir });
  t.equal(missing.code, 1);
  t.equal(missing.stderr, 'error: stack file nope.yaml not found: check the -f path\n');
});

t.test('shell completion script', async (t) => {
  const r = await runCli(['completion'], { cwd: ROOT });
  t.equal(r.code, 0);
  t.match(r.stdout, /complete -o bashdefault -o default -F _stack_yargs_completions stack/);
});

t.test('the launcher: real process, real exit codes', async (t) => {
  const ok = spawnSync(process.execPath, [join(ROOT, 'bin/stack.js'), 'config', '-q'], { cwd: EXAMPLE, encoding: 'utf8' });
  t.equal(ok.status, 0, ok.stderr);
  // A config process runs with V8 settings of its own (short-run.ts): same bytes as in-process.
  const env = { HOME: '/home/tester', PATH: process.env.PATH ?? '' };
  const printed = spawnSync(process.execPath, [join(ROOT, 'bin/stack.js'), 'config'], { cwd: EXAMPLE, encoding: 'utf8', env });
  t.equal(printed.status, 0, printed.stderr);
  t.equal(printed.stdout, (await runCli(['config'], { cwd: EXAMPLE, env })).stdout);
  const dir = t.testdir({ 'compose.yaml': 'services: [a]\n' });
  const bad = spawnSync(process.execPath, [join(ROOT, 'bin/stack.js'), 'config'], { cwd: dir, encoding: 'utf8' });
  t.equal(bad.status, 15);
  t.match(bad.stderr, /^compose\.yaml:1:11: services: /);
});

