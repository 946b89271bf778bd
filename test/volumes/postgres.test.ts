// A real Postgres data directory in a named volume: a row committed in one container is
// read back by a new container after the first is removed, after a clean stop (SIGTERM)
// and after a SIGKILL (crash recovery from the WAL in the volume). The Debian image with
// Postgres is made with mmdebstrap (SLOW the first time: the tarball is cached in
// /var/cache/stack-test/ and reused by every later run).
import t from 'tap';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ContainerInspect } from '../../src/common/api-types.js';
import { debianTarball, importRootfsTarball } from '../../src/image/bootstrap.js';
import { ImageStore } from '../../src/image/store.js';
import { engineSkipReason, makeEngineHarness } from '../api/engine-harness.js';
import { runCli } from '../cli/run-cli.js';

const DEBIAN_CACHE = '/var/cache/stack-test';
const skip = engineSkipReason() ?? (existsSync('/usr/bin/mmdebstrap') ? false : 'needs mmdebstrap to make the Postgres image');
const IMAGE = 'stack-test/postgres:bookworm';
const BIN = '/usr/lib/postgresql/15/bin';
// No networking: Postgres listens on its unix socket only, in /tmp of the container.
const SERVER = `set -e; test -s "$PGDATA/PG_VERSION" || ${BIN}/initdb -D "$PGDATA" --auth=trust -U postgres >/dev/null; exec ${BIN}/postgres -D "$PGDATA" -c listen_addresses= -c unix_socket_directories=/tmp`;

t.test('POSTGRES (mmdebstrap, cached): data in a named volume survives the container', { skip, timeout: 900_000 }, async (t) => {
  const engine = await makeEngineHarness('postgres');
  t.teardown(async () => {
    const all = await engine.client.call<Array<{ Id: string }>>('GET', '/containers/json', { query: { all: 1 } }).catch(() => []);
    for (const c of all) await engine.client.call('DELETE', `/containers/${c.Id}`, { query: { force: 1, v: 1 } }).catch(() => undefined);
    await engine.client.call('DELETE', '/volumes/pgdata').catch(() => undefined);
    await engine.cleanup();
  });
  const store = await new ImageStore(join(engine.paths.root, 'image')).init();
  const tarball = await debianTarball({ suite: 'bookworm', variant: 'minbase', packages: ['postgresql'], cacheDir: DEBIAN_CACHE }, engine.paths.root);
  await importRootfsTarball(store, tarball, IMAGE);
  const api = engine.client;
  const cli = (...argv: string[]) => runCli(argv, { cwd: engine.paths.root, env: engine.env });

  const startServer = async (name: string): Promise<string> => {
    const { Id } = await api.call<{ Id: string }>('POST', '/containers/create', {
      query: { name },
      body: { Image: IMAGE, User: 'postgres', Env: ['PGDATA=/var/lib/postgresql/data'], Cmd: ['sh', '-c', SERVER], HostConfig: { Binds: ['pgdata:/var/lib/postgresql'] } },
    });
    await api.call('POST', `/containers/${Id}/start`);
    for (let i = 0; i < 300; i++) {
      if ((await cli('exec', name, `${BIN}/pg_isready`, '-q', '-h', '/tmp')).code === 0) return Id;
      const state = (await api.call<ContainerInspect>('GET', `/containers/${Id}/json`)).State;
      if (!state.Running) throw new Error(`postgres exited (${state.ExitCode}): ${(await cli('logs', name)).stderr}`);
      await sleep(100);
    }
    throw new Error(`postgres did not get ready: ${(await cli('logs', name)).stderr}`);
  };
  const sql = (name: string, query: string) => cli('exec', '-u', 'postgres', name, `${BIN}/psql`, '-h', '/tmp', '-X', '-At', '-v', 'ON_ERROR_STOP=1', '-c', query);

  await startServer('pg1');
  const volume = await api.call<{ Mountpoint: string }>('GET', '/volumes/pgdata');
  t.ok(existsSync(join(volume.Mountpoint, '15', 'main', 'PG_VERSION')), 'the image\'s own cluster dir was copied into the new volume');
  t.ok(existsSync(join(volume.Mountpoint, 'data', 'PG_VERSION')), 'initdb made PGDATA in the volume');
  t.same(await sql('pg1', 'CREATE TABLE notes (id int PRIMARY KEY, body text)'), { code: 0, stdout: 'CREATE TABLE\n', stderr: '' });
  t.same(await sql('pg1', "INSERT INTO notes VALUES (1, 'kept across containers')"), { code: 0, stdout: 'INSERT 0 1\n', stderr: '' });

  await api.call('POST', '/containers/pg1/stop');
  const stopped = (await api.call<ContainerInspect>('GET', '/containers/pg1/json')).State;
  t.equal(stopped.ExitCode, 0, 'SIGTERM: Postgres shut down cleanly');
  t.match((await cli('logs', 'pg1')).stderr, /database system is shut down/);
  t.same(await cli('rm', 'pg1'), { code: 0, stdout: 'pg1\n', stderr: '' });

  await startServer('pg2');
  t.same(await sql('pg2', 'SELECT body FROM notes WHERE id = 1'), { code: 0, stdout: 'kept across containers\n', stderr: '' }, 'a new container reads the row');
  t.notMatch((await cli('logs', 'pg2')).stderr, /not properly shut down|automatic recovery/, 'no recovery was needed');

  t.same(await sql('pg2', "INSERT INTO notes VALUES (2, 'committed before the kill')"), { code: 0, stdout: 'INSERT 0 1\n', stderr: '' });
  await api.call('POST', '/containers/pg2/kill', { query: { signal: 'SIGKILL' } });
  const killed = await api.call<{ StatusCode: number }>('POST', '/containers/pg2/wait');
  t.equal(killed.StatusCode, 137, 'killed by SIGKILL');
  t.same(await cli('rm', 'pg2'), { code: 0, stdout: 'pg2\n', stderr: '' });

  await startServer('pg3');
  t.same(await sql('pg3', 'SELECT id, body FROM notes ORDER BY id'), { code: 0, stdout: '1|kept across containers\n2|committed before the kill\n', stderr: '' }, 'every committed row is there after the SIGKILL');
  t.match((await cli('logs', 'pg3')).stderr, /not properly shut down|interrupted/, 'Postgres recovered from its WAL in the volume');
  await api.call('POST', '/containers/pg3/stop');
  await cli('rm', 'pg3');
  t.notOk(readFileSync('/proc/self/mounts', 'utf8').includes(engine.paths.root), 'nothing left mounted under the engine root');
});
