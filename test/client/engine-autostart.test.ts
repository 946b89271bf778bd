// The CLI starts an engine when none answers, as a user's first command does, and the
// engine gets the environment the user set: bin/stack.js starts the CLI itself without
// NODE_EXTRA_CA_CERTS (Node 20 would load it at start) and hands it on.

import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { engineSkipReason } from '../api/engine-harness.js';

const STACK = resolve(import.meta.dirname, '../../../bin/stack.js');
const MISSING_CA = '/nonexistent/stack-test-ca.pem';
const NODE_CA_WARNING = `Ignoring extra certs from \`${MISSING_CA}\``;

t.test('node itself warns about a missing NODE_EXTRA_CA_CERTS file (what the checks below look for)', async (t) => {
  const r = spawnSync(process.execPath, ['-e', ''], { env: { ...process.env, NODE_EXTRA_CA_CERTS: MISSING_CA }, encoding: 'utf8' });
  t.match(r.stderr, NODE_CA_WARNING);
});

t.test('the CLI starts without the extra CA file', async (t) => {
  const r = spawnSync(STACK, ['--version'], { env: { ...process.env, NODE_EXTRA_CA_CERTS: MISSING_CA }, encoding: 'utf8' });
  t.equal(r.status, 0, r.stderr);
  t.equal(r.stderr, '');
});

t.test('the first command starts an engine, which gets NODE_EXTRA_CA_CERTS back', { skip: engineSkipReason() }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'stack-autostart-'));
  const env = {
    ...process.env,
    NODE_EXTRA_CA_CERTS: MISSING_CA,
    STACK_ROOT: join(dir, 'root'),
    STACK_RUN_ROOT: join(dir, 'run'),
    STACK_SOCKET: join(dir, 'run/stack.sock'),
  };
  t.teardown(() => {
    spawnSync(STACK, ['engine', 'stop'], { env, encoding: 'utf8' });
    rmSync(dir, { recursive: true, force: true });
  });
  const ps = spawnSync(STACK, ['ps', '-a'], { env, encoding: 'utf8' });
  t.equal(ps.status, 0, ps.stderr);
  t.match(ps.stderr, /^stack: started the engine \(pid \d+, socket .*run\/stack\.sock, log .*\)\n$/);
  t.notMatch(ps.stderr, NODE_CA_WARNING, 'the CLI did not load it');
  t.match(ps.stdout, /^CONTAINER ID/);
  const log = /log (\S+)\)/.exec(ps.stderr)?.[1] ?? '';
  t.match(readFileSync(log, 'utf8'), NODE_CA_WARNING, 'the engine loaded it');
  const again = spawnSync(STACK, ['ps'], { env, encoding: 'utf8' });
  t.equal(again.status, 0, again.stderr);
  t.equal(again.stderr, '', 'said once: the second command finds the engine running');
  const stop = spawnSync(STACK, ['engine', 'stop'], { env, encoding: 'utf8' });
  t.equal(stop.status, 0, stop.stderr);
  t.equal(spawnSync(STACK, ['engine', 'status'], { env, encoding: 'utf8' }).status === 0 ? 'running' : 'stopped', 'stopped');
});
