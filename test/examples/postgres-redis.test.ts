// The default example stack (examples/postgres-redis) for real, on a private engine: the
// Debian base from the cached mmdebstrap tarball, Postgres and Redis built from Debian's
// packages by its Dockerfiles (SLOW the first time; the built images are then kept as a
// docker-archive in /var/cache/stack-test, keyed by the example's files, and loaded by
// later runs), `stack up -d --wait`, real psql and redis-cli on the published 127.0.0.1
// ports, data kept across down/up, and down -v leaving nothing.
import t from 'tap';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { engineSkipReason, makeEngineHarness } from '../api/engine-harness.js';
import { runCli } from '../cli/run-cli.js';
import { EXAMPLE, EXAMPLE_IMAGES, exampleArchive, importDebianBase } from './example-images.js';
import { freePort } from '../api/free-port.js';

const run = promisify(execFile);

const skip = engineSkipReason()
  ?? (existsSync('/usr/bin/mmdebstrap') ? undefined : 'needs mmdebstrap')
  ?? (existsSync('/usr/bin/psql') ? undefined : 'needs psql (postgresql-client)')
  ?? (existsSync('/usr/bin/redis-cli') ? false : 'needs redis-cli (redis-tools)');

t.test('EXAMPLE: the Postgres + Redis stack comes up healthy, real clients use it, data survives down/up', { skip, timeout: 900_000 }, async (t) => {
  const h = await makeEngineHarness('example');
  const [pgPort, redisPort] = [await freePort(), await freePort()];
  const env = { ...h.env, POSTGRES_PORT: String(pgPort), REDIS_PORT: String(redisPort) };
  const stack = (...args: string[]) => runCli(['--project-directory', EXAMPLE, ...args], { cwd: EXAMPLE, env });
  t.teardown(async () => {
    await stack('down', '-v');
    await h.cleanup();
  });
  await importDebianBase(h.paths.root);
  const archive = exampleArchive();
  if (existsSync(archive)) {
    const loaded = await runCli(['load', '-i', archive], { cwd: EXAMPLE, env });
    t.equal(loaded.code, 0, loaded.stderr);
  }

  const up = await stack('up', '-d', '--wait');
  t.equal(up.code, 0, up.stderr);
  t.match(up.stdout, /Container devdb-postgres-1\s+Healthy/);
  t.match(up.stdout, /Container devdb-redis-1\s+Healthy/);
  t.match(up.stdout, /Container devdb-app-1\s+Healthy/);
  t.ok(up.stdout.indexOf('devdb-app-1  Started') > up.stdout.indexOf('devdb-postgres-1  Healthy'), 'the app started after Postgres was healthy');
  const appLog = await stack('logs', 'app');
  t.match(appLog.stdout, /visit recorded: 1 in postgres, redis counter 1/, 'the app used both by their service names');
  if (!existsSync(archive)) {
    const saved = await runCli(['save', '-o', `${archive}.partial`, ...EXAMPLE_IMAGES], { cwd: EXAMPLE, env });
    t.equal(saved.code, 0, saved.stderr);
    await run('mv', [`${archive}.partial`, archive]);
  }

  const psql = (sql: string) => run('psql', ['-h', '127.0.0.1', '-p', String(pgPort), '-U', 'dev', '-d', 'app', '-qtAc', sql], { env: { PGPASSWORD: 'dev', PATH: process.env.PATH ?? '/usr/bin:/bin' }, timeout: 20_000 });
  const redis = (...args: string[]) => run('redis-cli', ['-h', '127.0.0.1', '-p', String(redisPort), ...args], { timeout: 20_000 });
  t.equal((await psql('create table visits (n int); insert into visits values (1), (2); select sum(n) from visits;')).stdout.trim(), '3', 'psql on the published port');
  t.equal((await redis('set', 'greeting', 'hello')).stdout.trim(), 'OK');
  t.equal((await redis('get', 'greeting')).stdout.trim(), 'hello', 'redis-cli on the published port');

  const down = await stack('down');
  t.equal(down.code, 0, down.stderr);
  const again = await stack('up', '-d', '--wait');
  t.equal(again.code, 0, again.stderr);
  t.equal((await psql('select sum(n) from visits;')).stdout.trim(), '3', 'the Postgres data survived down and up (named volume)');
  t.equal((await redis('get', 'greeting')).stdout.trim(), 'hello', 'so did Redis\'s (append-only file in its volume)');
  t.match((await stack('logs', 'app')).stdout, /visit recorded: 2 in postgres, redis counter 2/, 'the new app container counts on from the kept data');

  const gone = await stack('down', '-v');
  t.equal(gone.code, 0, gone.stderr);
  t.equal((await runCli(['volume', 'ls', '-q'], { cwd: EXAMPLE, env })).stdout, '', 'down -v removed the volumes');
  t.equal((await runCli(['ps', '-aq'], { cwd: EXAMPLE, env })).stdout, '', 'no containers left');
});
