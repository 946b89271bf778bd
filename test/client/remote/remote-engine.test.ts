// The CLI against an engine reached over SSH: a real sshd on 127.0.0.1 forwarding to a
// private engine's socket, the client's key and known_hosts in a temp HOME. Containers run
// and stream back (run, exec, logs -f, events), a build context goes up, a compose project
// goes up and down, each command makes one SSH connection and closes it when it ends; the
// ssh-agent's keys log in; and every way of failing to get there (host key unknown or
// changed, key refused or encrypted, no sshd, no engine, a malformed address) says so in
// one line and exits non-zero. Local commands never load ssh2.
import t, { type Test } from 'tap';
import { execFile, execFileSync, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { ContainerSummary } from '../../../src/common/api-types.js';
import { engineSkipReason, makeEngineHarness, settled } from '../../api/engine-harness.js';
import { freePort } from '../../api/free-port.js';
import { runCli, type CliResult } from '../../cli/run-cli.js';
import { sshdSkipReason, startSshd, type SshdHarness } from './sshd-harness.js';

const skip = engineSkipReason() ?? sshdSkipReason() ?? false;
const MAIN = resolve(import.meta.dirname, '../../../src/cli/main.js');

/** Logins sshd accepted, and sessions that ended: equal once every command has closed its connection. */
function sessions(sshd: SshdHarness): { opened: number; closed: number } {
  const count = (re: RegExp): number => sshd.log().match(re)?.length ?? 0;
  return { opened: count(/Accepted publickey for root/g), closed: count(/Disconnected from user root/g) };
}

function assertOneLineError(t: Test, result: CliResult, expected: RegExp | string, code = 1): void {
  t.equal(result.code, code, `exit ${code}: ${result.stderr}`);
  t.match(result.stderr, expected);
  t.equal(result.stderr.trim().split('\n').length, 1, `one line: ${result.stderr}`);
  t.notMatch(result.stderr, /\n\s+at /, 'no stack trace');
}

t.test('over SSH: ps, run, exec, logs -f and events streams, a build context, compose up/ps/down, one connection per command', { skip, timeout: 120_000 }, async (t) => {
  const sshd = await startSshd('e2e');
  t.teardown(() => sshd.stop());
  const h = await makeEngineHarness('ssh-e2e');
  t.teardown(() => h.cleanup());
  const project = mkdtempSync(join(tmpdir(), 'stack-ssh-project-'));
  t.teardown(() => rmSync(project, { recursive: true, force: true }));
  const host = `ssh://root@127.0.0.1:${sshd.port}${h.paths.socket}`;
  // The harness's STACK_SOCKET names the local engine: --host must win over it.
  const env = { ...h.env, HOME: sshd.home };
  const stack = (...args: string[]): Promise<CliResult> => runCli(['--host', host, ...args], { cwd: project, env });

  const ps = await stack('ps');
  t.equal(ps.code, 0, ps.stderr);
  t.match(ps.stdout, /^CONTAINER ID\s+IMAGE/);
  t.same(await settled(() => sessions(sshd), (s) => s.closed === 1), { opened: 1, closed: 1 }, 'one connection, closed when the command ended');

  const hi = await stack('run', '--rm', 'busybox:test', 'echo', 'hi');
  t.equal(hi.code, 0, hi.stderr);
  t.equal(hi.stdout, 'hi\n', 'the output comes back through the tunnel');
  const fails = await stack('run', '--rm', 'busybox:test', 'sh', '-c', 'exit 3');
  t.equal(fails.code, 3, 'a container\'s exit code comes back too');

  const started = await stack('run', '-d', '--name', 'talker', 'busybox:test', 'sh', '-c', 'echo one; sleep 1; echo two >&2; sleep 1');
  t.equal(started.code, 0, started.stderr);
  const exec = await stack('exec', 'talker', 'sh', '-c', 'echo out; echo err >&2');
  t.equal(exec.code, 0, exec.stderr);
  t.equal(exec.stdout, 'out\n', 'exec stdout over the upgraded channel');
  t.equal(exec.stderr, 'err\n', 'exec stderr, demultiplexed');
  const execCode = await stack('exec', 'talker', 'sh', '-c', 'exit 5');
  t.equal(execCode.code, 5);
  const logs = await stack('logs', '-f', 'talker');
  t.equal(logs.code, 0, logs.stderr);
  t.equal(logs.stdout, 'one\n', 'logs -f follows to the end');
  t.equal(logs.stderr, 'two\n');
  t.equal((await stack('rm', 'talker')).code, 0);

  // STACK_HOST does the same as --host.
  const beforeEnv = sessions(sshd).opened;
  const viaEnv = await runCli(['ps', '-a'], { cwd: project, env: { ...env, STACK_SOCKET: undefined, STACK_HOST: host } });
  t.equal(viaEnv.code, 0, viaEnv.stderr);
  t.equal(sessions(sshd).opened, beforeEnv + 1, 'STACK_HOST goes over SSH');
  t.equal(viaEnv.stdout.trim().split('\n').length, 1, 'no containers left from the runs');

  // A build context goes up through the tunnel (bind mounts, by contrast, are the remote host's paths).
  const context = join(project, 'context');
  mkdirSync(context);
  writeFileSync(join(context, 'Dockerfile'), 'FROM busybox:test\nCOPY payload.txt /payload.txt\n');
  writeFileSync(join(context, 'payload.txt'), 'x'.repeat(300_000));
  const built = await stack('build', '-q', '-t', 'uploaded:1', context);
  t.equal(built.code, 0, built.stderr);
  const size = await stack('run', '--rm', 'uploaded:1', 'wc', '-c', '/payload.txt');
  t.equal(size.stdout, '300000 /payload.txt\n', 'the whole context arrived');

  // --host unix://PATH wins over STACK_SOCKET too.
  const unixFlag = await runCli(['--host', `unix://${h.paths.socket}`, 'ps'], { cwd: project, env: { ...env, STACK_SOCKET: join(project, 'nothing.sock') } });
  t.equal(unixFlag.code, 0, `--host unix://: ${unixFlag.stderr}`);

  writeFileSync(join(project, 'compose.yaml'), 'name: sshproj\nservices:\n  app:\n    image: busybox:test\n    command: ["sleep", "300"]\n    init: true\n');
  const before = sessions(sshd).opened;
  const upStarted = Math.floor(Date.now() / 1000) - 1;
  const up = await stack('up', '-d');
  t.equal(up.code, 0, up.stderr);
  t.equal(sessions(sshd).opened, before + 1, 'up makes all its requests on one connection');
  // The harness's engine is also reachable by its socket here: the count of SSH logins tells which way a command went.
  const composePs = await runCli(['ps', '-H', host], { cwd: project, env });
  t.equal(composePs.code, 0, `-H after the command word: ${composePs.stderr}`);
  t.equal(sessions(sshd).opened, before + 2, '-H after the command word goes over SSH');
  const afterFile = await runCli(['-f', 'compose.yaml', '--host', host, 'ps'], { cwd: project, env });
  t.match(afterFile.stdout, /sshproj-app-1/);
  t.equal(sessions(sshd).opened, before + 3, '--host after another global option goes over SSH');
  t.equal(composePs.code, 0, composePs.stderr);
  t.match(composePs.stdout, /sshproj-app-1/);
  t.match(composePs.stdout, /running|Up/i);
  const events = await stack('events', '--since', String(upStarted), '--until', String(Math.ceil(Date.now() / 1000) + 1));
  t.equal(events.code, 0, events.stderr);
  t.match(events.stdout, /start.*sshproj-app-1/, 'the event stream over SSH');
  const down = await stack('down', '-t', '1');
  t.equal(down.code, 0, down.stderr);
  t.same((await h.client.call<ContainerSummary[]>('GET', '/containers/json', { query: { all: 1 } })).map((c) => c.Names[0]), [], 'no containers left');
  t.same((await h.client.call<Array<{ Name: string }>>('GET', '/networks')).map((n) => n.Name).sort(), ['bridge', 'host', 'none'], 'no networks left');
  const all = await settled(() => sessions(sshd), (s) => s.closed === s.opened);
  t.equal(all.closed, all.opened, `every connection was closed when its command ended (${all.opened})`);
});

t.test('local commands do not load ssh2', { skip }, async (t) => {
  const h = await makeEngineHarness('ssh-local');
  t.teardown(() => h.cleanup());
  // Not execFileSync: the engine serves from this process and must answer meanwhile.
  const loadsSsh2 = async (argv: string[]): Promise<string> => (await promisify(execFile)(process.execPath, ['--input-type=module', '-e', `
    import { createRequire } from 'node:module';
    const { main } = await import(${JSON.stringify(MAIN)});
    const code = await main(${JSON.stringify(argv)}, { cwd: process.cwd(), env: process.env, stdout: { write() {} }, stderr: process.stderr });
    const loaded = Object.keys(createRequire(import.meta.url).cache).some((path) => path.includes('/node_modules/ssh2/'));
    process.stdout.write(code + ' ' + loaded);
  `], { env: { ...h.env }, encoding: 'utf8' })).stdout;
  t.equal(await loadsSsh2(['--version']), '0 false');
  t.equal(await loadsSsh2(['ps']), '0 false');
  t.equal(await loadsSsh2(['run', '--rm', 'busybox:test', 'true']), '0 false');
});

t.test('over SSH, refused: host key unknown or changed, key refused or encrypted, no sshd, no engine, malformed address', { skip, timeout: 60_000 }, async (t) => {
  const sshd = await startSshd('bad');
  t.teardown(() => sshd.stop());
  const scratch = mkdtempSync(join(tmpdir(), 'stack-ssh-bad-'));
  t.teardown(() => rmSync(scratch, { recursive: true, force: true }));
  const host = `ssh://root@127.0.0.1:${sshd.port}`;
  const fingerprint = `SHA256:${createHash('sha256').update(Buffer.from(sshd.hostKeyBase64, 'base64')).digest('base64').replace(/=+$/, '')}`;
  /** A HOME with .ssh made by `fill`. */
  const home = (name: string, fill: (ssh: string) => void): Record<string, string> => {
    const ssh = join(scratch, name, '.ssh');
    mkdirSync(ssh, { recursive: true, mode: 0o700 });
    fill(ssh);
    return { HOME: join(scratch, name), STACK_NO_AUTOSTART: '1', PATH: process.env.PATH ?? '/usr/bin:/bin' };
  };
  const stack = (env: Record<string, string>, ...args: string[]): Promise<CliResult> => runCli(args, { cwd: scratch, env });
  const goodKey = join(sshd.home, '.ssh', 'id_ed25519');
  const copyKey = (ssh: string): void => void execFileSync('cp', [goodKey, join(ssh, 'id_ed25519')]);

  const unknown = await stack(home('unknown', copyKey), '--host', `${host}/nowhere.sock`, 'ps');
  assertOneLineError(t, unknown, `the host key of [127.0.0.1]:${sshd.port} is not known (ssh-ed25519 key ${fingerprint})`);
  t.match(unknown.stderr, `ssh-keyscan -p ${sshd.port} 127.0.0.1 >> ${join(scratch, 'unknown', '.ssh', 'known_hosts')}`);

  const otherKey = execFileSync('ssh-keygen', ['-y', '-f', goodKey], { encoding: 'utf8' }).split(' ')[1];
  const changed = await stack(home('changed', (ssh) => {
    copyKey(ssh);
    writeFileSync(join(ssh, 'known_hosts'), `[127.0.0.1]:${sshd.port} ssh-ed25519 ${otherKey}\n`);
  }), '--host', host, 'ps');
  assertOneLineError(t, changed, `the host key of [127.0.0.1]:${sshd.port} has CHANGED (it now presents ssh-ed25519 key ${fingerprint}`);
  t.match(changed.stderr, `ssh-keygen -R '[127.0.0.1]:${sshd.port}'`);

  const withKnownHost = (ssh: string): void => writeFileSync(join(ssh, 'known_hosts'), `${sshd.hostKeyLine}\n`);
  const wrongKey = await stack(home('wrong', (ssh) => {
    withKnownHost(ssh);
    sshd.makeKey(ssh);
  }), '--host', host, 'ps');
  assertOneLineError(t, wrongKey, `SSH login as root to 127.0.0.1:${sshd.port} refused (offered: ${join(scratch, 'wrong', '.ssh', 'id_ed25519')})`);
  t.match(wrongKey.stderr, 'authorized_keys');

  const encrypted = await stack(home('encrypted', (ssh) => {
    withKnownHost(ssh);
    sshd.makeKey(ssh, 'secret phrase');
  }), '--host', host, 'ps');
  assertOneLineError(t, encrypted, `${join(scratch, 'encrypted', '.ssh', 'id_ed25519')} needs a passphrase and no ssh-agent runs`);
  t.match(encrypted.stderr, 'ssh-add');

  const good = home('good', (ssh) => {
    withKnownHost(ssh);
    copyKey(ssh);
  });
  const noEngine = await stack(good, '--host', `${host}/nowhere/stack.sock`, 'ps');
  assertOneLineError(t, noEngine, `no engine answers on /nowhere/stack.sock at root@127.0.0.1:${sshd.port} (over SSH): start one there with \`stack engine\``);
  const noEngineDefault = await stack({ ...good, STACK_HOST: host }, 'ps');
  assertOneLineError(t, noEngineDefault, `no engine answers on /run/stack/stack.sock at root@127.0.0.1:${sshd.port} (over SSH)`);

  const closedPort = await freePort();
  const noSshd = await stack(good, '--host', `ssh://root@127.0.0.1:${closedPort}`, 'ps');
  assertOneLineError(t, noSshd, `cannot reach 127.0.0.1:${closedPort} over SSH: connection refused`);

  assertOneLineError(t, await stack(good, '--host', 'ssh://', 'ps'), 'engine host "ssh://": no host', 2);
  assertOneLineError(t, await stack(good, '-H', 'ssh://root@127.0.0.1:99999', 'ps'), 'the port "99999" is not a number from 1 to 65535', 2);
  assertOneLineError(t, await stack({ ...good, STACK_HOST: 'ssh://127.0.0.1:x' }, 'images'), 'the port "x"', 2);
  assertOneLineError(t, await stack(good, 'ps', '--host', 'tcp://127.0.0.1:2375'), 'engine host "tcp://127.0.0.1:2375" (STACK_HOST or --host) is neither unix://PATH nor ssh://', 2);
  assertOneLineError(t, await stack(good, '--host'), '--host needs a value', 2);
  const all = await settled(() => sessions(sshd), (s) => s.closed === s.opened);
  t.equal(all.closed, all.opened, 'no connection left open');
});

t.test('over SSH, the ssh-agent\'s keys log in, even beside an encrypted key file', { skip, timeout: 30_000 }, async (t) => {
  const sshd = await startSshd('agent');
  t.teardown(() => sshd.stop());
  const scratch = mkdtempSync(join(tmpdir(), 'stack-ssh-agent-'));
  t.teardown(() => rmSync(scratch, { recursive: true, force: true }));
  const agentSocket = join(scratch, 'agent.sock');
  const agent = spawn('ssh-agent', ['-D', '-a', agentSocket], { stdio: 'ignore' });
  const agentExit = new Promise((r) => agent.once('exit', r));
  t.teardown(async () => {
    agent.kill('SIGTERM');
    await agentExit;
  });
  await settled(() => existsSync(agentSocket), (up) => up, 5000);
  await promisify(execFile)('ssh-add', [join(sshd.home, '.ssh', 'id_ed25519')], { env: { SSH_AUTH_SOCK: agentSocket } });
  const ssh = join(scratch, 'home', '.ssh');
  mkdirSync(ssh, { recursive: true, mode: 0o700 });
  writeFileSync(join(ssh, 'known_hosts'), `${sshd.hostKeyLine}\n`);
  sshd.makeKey(ssh, 'secret phrase');
  const env = { HOME: join(scratch, 'home'), SSH_AUTH_SOCK: agentSocket, STACK_NO_AUTOSTART: '1' };
  // No engine on that socket: getting as far as asking for it means the login worked.
  const result = await runCli(['--host', `ssh://root@127.0.0.1:${sshd.port}/nowhere.sock`, 'ps'], { cwd: scratch, env });
  assertOneLineError(t, result, `no engine answers on /nowhere.sock at root@127.0.0.1:${sshd.port} (over SSH)`);
  t.equal(sessions(sshd).opened, 1, 'logged in with the agent\'s key');
});
