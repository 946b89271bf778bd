// The engine API through SSH, as DOCKER_HOST=ssh:// does: one SSH connection per command,
// opened at the first request, and for each request (or upgraded stream) a channel that
// sshd forwards to the engine's Unix socket on the remote host (direct-streamlocal, what
// `ssh -L local:/run/stack/stack.sock` uses). ssh2 is loaded only here, by a command
// that names an ssh:// host: it is large, and local commands do not pay for it.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import type { AgentAuthMethod, Client, ConnectConfig, PublicKeyAuthMethod } from 'ssh2';
import { RuntimeFailure } from '../../common/errors.js';
import type { EngineTransport } from '../engine-transport.js';
import { checkHostKey, keyFingerprint, keyType, knownHostsName } from './known-hosts.js';
import { formatSshAddress, type SshAddress } from './ssh-address.js';
import { describeCredentials, findCredentials, sshDirectory, type SshCredentials } from './ssh-credentials.js';

type Environment = Readonly<Record<string, string | undefined>>;
type Ssh2 = typeof import('ssh2');

/** How long a host may take to answer and finish the handshake and login. */
const READY_TIMEOUT_MS = 20_000;
/** The machine-wide known hosts, which ssh also reads. */
const GLOBAL_KNOWN_HOSTS = '/etc/ssh/ssh_known_hosts';
/** SSH_OPEN_ADMINISTRATIVELY_PROHIBITED: sshd refuses forwarding to Unix sockets. */
const OPEN_PROHIBITED = 1;

export class SshTransport implements EngineTransport {
  readonly address: string;
  readonly onThisMachine = false;
  private connection: Promise<Client> | undefined;

  constructor(private readonly target: SshAddress, private readonly env: Environment) {
    this.address = formatSshAddress(target);
  }

  connectOptions() {
    return {
      // The callback form: node:http waits for the channel, and a failure is the request's error.
      createConnection: (_options: unknown, done: (err: Error | null, stream: Duplex) => void): undefined => {
        // (node:http reads no stream when there is an error: the types just do not say so.)
        this.openChannel().then((channel) => done(null, channel), (err: Error) => done(err, undefined as unknown as Duplex));
        return undefined;
      },
    };
  }

  close(): void {
    const connection = this.connection;
    this.connection = undefined;
    void connection?.then((client) => client.end(), () => {});
  }

  private async openChannel(): Promise<Duplex> {
    const client = await (this.connection ??= this.connect());
    return new Promise((resolve, reject) => {
      client.openssh_forwardOutStreamLocal(this.target.socket, (err, channel) => {
        if (!err) return resolve(channel);
        if ((err as Error & { reason?: number }).reason === OPEN_PROHIBITED) {
          return reject(new RuntimeFailure(`sshd on ${this.hostAndPort()} does not forward to Unix sockets: set "AllowStreamLocalForwarding yes" in its sshd_config and reload it`, { cause: err }));
        }
        // Nothing listens on the remote socket: the API client reports it as an engine that does not answer.
        reject(Object.assign(new Error(`${err.message} (${this.target.socket} on ${this.hostAndPort()})`), { code: 'ECONNREFUSED', cause: err }));
      });
    });
  }

  private connect(): Promise<Client> {
    const ssh2 = createRequire(import.meta.url)('ssh2') as Ssh2;
    const credentials = findCredentials(this.env, (key) => isEncryptedKey(ssh2, key));
    if (!credentials.agent && credentials.keys.length === 0) return Promise.reject(this.noCredentials(credentials));
    return new Promise((resolve, reject) => {
      const client = new ssh2.Client();
      let refusedHostKey: RuntimeFailure | undefined;
      let ready = false;
      client.once('ready', () => {
        ready = true;
        resolve(client);
      });
      client.on('error', (err: Error & { level?: string; code?: string }) => {
        // After the login an error ends the connection: the requests on it fail, and the next one connects again.
        if (ready) return;
        reject(refusedHostKey ?? this.connectFailure(err, credentials));
      });
      client.once('close', () => {
        if (this.connection && ready) this.connection = undefined;
        if (!ready) reject(refusedHostKey ?? new RuntimeFailure(`SSH connection to ${this.hostAndPort()} closed before login`));
      });
      const authMethods: (AgentAuthMethod | PublicKeyAuthMethod)[] = [
        ...(credentials.agent ? [{ type: 'agent' as const, username: this.target.user, agent: credentials.agent }] : []),
        ...credentials.keys.map((k) => ({ type: 'publickey' as const, username: this.target.user, key: k.key })),
      ];
      const config: ConnectConfig = {
        host: this.target.host,
        port: this.target.port,
        username: this.target.user,
        readyTimeout: READY_TIMEOUT_MS,
        authHandler: authMethods,
        hostVerifier: (key: Buffer): boolean => {
          refusedHostKey = this.hostKeyRefusal(key);
          return refusedHostKey === undefined;
        },
      };
      client.connect(config);
    });
  }

  private hostAndPort(): string {
    return `${this.target.host}:${this.target.port}`;
  }

  /** Undefined when known_hosts lists this key for the host; else why it is refused. */
  private hostKeyRefusal(key: Buffer): RuntimeFailure | undefined {
    const userFile = join(sshDirectory(this.env), 'known_hosts');
    // As ssh: the user's file, then the machine's; a key revoked in either is refused.
    const verdicts = [userFile, GLOBAL_KNOWN_HOSTS].map((file) => ({ file, ...checkHostKey(readIfPresent(file), this.target.host, this.target.port, key) }));
    const revoked = verdicts.find((v) => v.kind === 'revoked');
    if (!revoked && verdicts.some((v) => v.kind === 'known')) return undefined;
    const name = knownHostsName(this.target.host, this.target.port);
    const presented = `${keyType(key)} key ${keyFingerprint(key)}`;
    const keyscan = `ssh-keyscan${this.target.port === 22 ? '' : ` -p ${this.target.port}`} ${this.target.host} >> ${userFile}`;
    if (revoked?.kind === 'revoked') {
      return new RuntimeFailure(`the host key of ${name} (${presented}) is marked @revoked in ${revoked.file} line ${revoked.line}: refused`);
    }
    const changed = verdicts.find((v) => v.kind === 'changed');
    if (changed?.kind === 'changed') {
      return new RuntimeFailure(
        `the host key of ${name} has CHANGED (it now presents ${presented}, ${changed.file} line ${changed.line} lists another): someone may be intercepting the connection, or the host was reinstalled; ` +
        `if you are sure it is the latter, remove the old key with \`ssh-keygen -R '${name}' -f ${changed.file}\`, then \`${keyscan}\``,
      );
    }
    return new RuntimeFailure(`the host key of ${name} is not known (${presented}); if that fingerprint is the host's, add it with \`${keyscan}\` (or connect once with ssh) and try again`);
  }

  private noCredentials(credentials: SshCredentials): RuntimeFailure {
    if (credentials.encrypted.length) {
      const key = credentials.encrypted[0]!;
      return new RuntimeFailure(`cannot log in to ${this.target.user}@${this.hostAndPort()} over SSH: ${key} needs a passphrase and no ssh-agent runs (SSH_AUTH_SOCK is not set); add the key to an agent with \`eval "$(ssh-agent)" && ssh-add ${key}\` and try again`);
    }
    return new RuntimeFailure(`cannot log in to ${this.target.user}@${this.hostAndPort()} over SSH: no ssh-agent (SSH_AUTH_SOCK is not set) and no key in ${sshDirectory(this.env)} (id_ed25519, id_ecdsa, id_rsa); make one with ssh-keygen and add its .pub to ~${this.target.user}/.ssh/authorized_keys on ${this.target.host}`);
  }

  private connectFailure(err: Error & { level?: string; code?: string }, credentials: SshCredentials): RuntimeFailure {
    const where = this.hostAndPort();
    const fail = (text: string): RuntimeFailure => new RuntimeFailure(text, { cause: err });
    if (err.level === 'client-authentication') {
      const skipped = credentials.encrypted.length ? `; ${credentials.encrypted.join(', ')} needs a passphrase: add it to ssh-agent with ssh-add` : '';
      return fail(`SSH login as ${this.target.user} to ${where} refused (offered: ${describeCredentials(credentials)})${skipped}; add your public key to ~${this.target.user}/.ssh/authorized_keys there (ssh-copy-id${this.target.port === 22 ? '' : ` -p ${this.target.port}`} ${this.target.user}@${this.target.host})`);
    }
    if (err.code === 'ECONNREFUSED') return fail(`cannot reach ${where} over SSH: connection refused (is sshd running there, and is ${this.target.port} its port?)`);
    if (err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN') return fail(`cannot reach ${this.target.host} over SSH: its name does not resolve (${err.code})`);
    if (err.level === 'client-timeout') return fail(`cannot reach ${where} over SSH: no SSH answer within ${READY_TIMEOUT_MS / 1000} s`);
    return fail(`SSH connection to ${where} failed: ${err.message}`);
  }
}

/** A known_hosts file's text; none is an empty one. */
function readIfPresent(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** True for a key file ssh2 reads only with a passphrase. */
function isEncryptedKey(ssh2: Ssh2, key: Buffer): boolean {
  const parsed = ssh2.utils.parseKey(key);
  return parsed instanceof Error && /passphrase|encrypted/i.test(parsed.message);
}
