// A real OpenSSH server for a test: /usr/sbin/sshd in the foreground on 127.0.0.1 and a
// free port, with a temp host key, a temp client key in its authorized_keys, forwarding to
// Unix sockets allowed, and a temp HOME holding the client's key and known_hosts, so the
// test never reads or writes the real ~/.ssh. stop() ends it and removes its files.

import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../api/free-port.js';

export const SSHD = '/usr/sbin/sshd';
const START_TIMEOUT_MS = 10_000;

export interface SshdHarness {
  port: number;
  /** A HOME for the client: .ssh/id_ed25519 (authorized) and .ssh/known_hosts (listing this server). */
  home: string;
  /** The host key's line as ssh-keyscan would print it, for known_hosts. */
  hostKeyLine: string;
  /** The host's public key blob, base64. */
  hostKeyBase64: string;
  /** Makes a fresh key pair the server does not know, in `dir`; returns the private key's path. */
  makeKey(dir: string, passphrase?: string): string;
  /** What sshd has printed (for a failing test's message). */
  log(): string;
  stop(): Promise<void>;
}

export function sshdSkipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'sshd tests need root';
  if (!existsSync(SSHD)) return 'sshd tests need openssh-server (apt-get install openssh-server)';
  return undefined;
}

function makeKeyPair(path: string, passphrase = ''): string {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', passphrase, '-C', 'stack-test', '-f', path], { stdio: 'ignore' });
  return readFileSync(`${path}.pub`, 'utf8').trim();
}

export async function startSshd(name: string): Promise<SshdHarness> {
  const base = mkdtempSync(join(tmpdir(), `stack-sshd-${name}-`));
  const home = join(base, 'home');
  mkdirSync(join(home, '.ssh'), { recursive: true, mode: 0o700 });
  const hostKey = join(base, 'host_ed25519_key');
  const [, hostKeyBase64 = ''] = makeKeyPair(hostKey).split(' ');
  const clientPub = makeKeyPair(join(home, '.ssh', 'id_ed25519'));
  writeFileSync(join(base, 'authorized_keys'), `${clientPub}\n`, { mode: 0o600 });
  const port = await freePort();
  const hostKeyLine = `[127.0.0.1]:${port} ssh-ed25519 ${hostKeyBase64}`;
  writeFileSync(join(home, '.ssh', 'known_hosts'), `${hostKeyLine}\n`);
  const config = join(base, 'sshd_config');
  writeFileSync(config, [
    `Port ${port}`, 'ListenAddress 127.0.0.1', `HostKey ${hostKey}`, 'PidFile none',
    'UsePAM no', 'UseDNS no', 'StrictModes no', 'PermitRootLogin prohibit-password',
    'PubkeyAuthentication yes', 'PasswordAuthentication no', 'KbdInteractiveAuthentication no',
    `AuthorizedKeysFile ${join(base, 'authorized_keys')}`,
    'AllowStreamLocalForwarding yes', 'AllowTcpForwarding local', 'X11Forwarding no', 'PrintMotd no', 'LogLevel INFO', '',
  ].join('\n'));
  // The privilege separation directory sshd insists on (a system service would have made it).
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const child = spawn(SSHD, ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => {
    exited = true;
    resolve();
  }));
  const stop = async (): Promise<void> => {
    if (!exited) child.kill('SIGTERM');
    await exit;
    rmSync(base, { recursive: true, force: true });
  };
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`sshd did not start within ${START_TIMEOUT_MS / 1000} s:\n${log}`)), START_TIMEOUT_MS);
      child.stderr!.setEncoding('utf8').on('data', (text: string) => {
        log += text;
        if (log.includes('Server listening on')) {
          clearTimeout(timer);
          resolve();
        }
      });
      void exit.then(() => {
        clearTimeout(timer);
        reject(new Error(`sshd exited at start:\n${log}`));
      });
    });
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    port,
    home,
    hostKeyLine,
    hostKeyBase64,
    makeKey: (dir, passphrase) => {
      const path = join(dir, 'id_ed25519');
      makeKeyPair(path, passphrase);
      return path;
    },
    log: () => log,
    stop,
  };
}
