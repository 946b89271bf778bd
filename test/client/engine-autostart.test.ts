// The CLI starts an engine when none answers, as a user's first command does, and the
// engine gets the environment the user set: bin/stack.js starts the CLI itself without
// NODE_EXTRA_CA_CERTS (Node 20 would load it at start) and hands it on; the engine starts
// without Node loading it too and trusts it at its first TLS connection (that part is
// test/image/registry-extra-ca.test.ts).

import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { engineSkipReason } from '../api/engine-harness.js';
import { holdCaCertificates, restoreHeldCaCertificates } from '../../src/common/held-ca-certificates.js';

const STACK = resolve(import.meta.dirname, '../../../bin/stack.js');
const STACKD = resolve(import.meta.dirname, '../../../bin/stackd.js');
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

t.test('the engine starts without the extra CA file', async (t) => {
  const r = spawnSync(STACKD, ['--no-such-option'], { env: { ...process.env, NODE_EXTRA_CA_CERTS: MISSING_CA }, encoding: 'utf8' });
  t.equal(r.status, 2, r.stderr);
  t.match(r.stderr, /stackd: unknown option "--no-such-option"/);
  t.notMatch(r.stderr, NODE_CA_WARNING);
});

t.test('a held NODE_EXTRA_CA_CERTS comes back as the user set it, and only then', async (t) => {
  const held = holdCaCertificates({ PATH: '/bin', NODE_EXTRA_CA_CERTS: MISSING_CA });
  t.strictSame(held, { PATH: '/bin', STACK_HELD_NODE_EXTRA_CA_CERTS: MISSING_CA });
  restoreHeldCaCertificates(held);
  t.strictSame(held, { PATH: '/bin', NODE_EXTRA_CA_CERTS: MISSING_CA });
  const none = { PATH: '/bin' };
  t.equal(holdCaCertificates(none), none);
  // What the shebangs pass when the user had none: an empty held value, which stays unset.
  const empty: NodeJS.ProcessEnv = { STACK_HELD_NODE_EXTRA_CA_CERTS: '' };
  restoreHeldCaCertificates(empty);
  t.strictSame(empty, {});
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
  t.notMatch(readFileSync(log, 'utf8'), NODE_CA_WARNING, 'nor did the engine, at its start');
  const pid = /pid (\d+)/.exec(ps.stderr)?.[1] ?? '';
  const started = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
  t.ok(started.includes(`STACK_HELD_NODE_EXTRA_CA_CERTS=${MISSING_CA}`), 'it was handed the value to restore');
  t.notOk(started.some((e) => e.startsWith('NODE_EXTRA_CA_CERTS=')));
  const again = spawnSync(STACK, ['ps'], { env, encoding: 'utf8' });
  t.equal(again.status, 0, again.stderr);
  t.equal(again.stderr, '', 'said once: the second command finds the engine running');
  const stop = spawnSync(STACK, ['engine', 'stop'], { env, encoding: 'utf8' });
  t.equal(stop.status, 0, stop.stderr);
  t.equal(spawnSync(STACK, ['engine', 'status'], { env, encoding: 'utf8' }).status === 0 ? 'running' : 'stopped', 'stopped');
});
