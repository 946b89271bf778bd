// Which credentials an SSH login offers, in OpenSSH's order: the keys of a running
// ssh-agent (SSH_AUTH_SOCK) first, then the default key files that need no passphrase.
// An encrypted key is never prompted for: it is named, so the user can add it to an agent.

import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const DEFAULT_KEY_NAMES = ['id_ed25519', 'id_ecdsa', 'id_rsa'];

export interface KeyFile {
  path: string;
  key: Buffer;
}

export interface SshCredentials {
  /** The ssh-agent's socket, when one is set. */
  agent: string | undefined;
  /** Default key files readable without a passphrase. */
  keys: KeyFile[];
  /** Default key files that need a passphrase (skipped). */
  encrypted: string[];
}

type Environment = Readonly<Record<string, string | undefined>>;

/** The directory holding known_hosts and the default keys. */
export function sshDirectory(env: Environment): string {
  return join(env.HOME || homedir(), '.ssh');
}

/**
 * `isEncrypted` tells a key that needs a passphrase from one that does not (ssh2's key
 * parser, passed in so this module does not load ssh2 itself).
 */
export function findCredentials(env: Environment, isEncrypted: (key: Buffer) => boolean): SshCredentials {
  const credentials: SshCredentials = { agent: env.SSH_AUTH_SOCK || undefined, keys: [], encrypted: [] };
  for (const name of DEFAULT_KEY_NAMES) {
    const path = join(sshDirectory(env), name);
    let key: Buffer;
    try {
      key = readFileSync(path);
    } catch {
      continue;
    }
    if (isEncrypted(key)) credentials.encrypted.push(path);
    else credentials.keys.push({ path, key });
  }
  return credentials;
}

/** What was offered, for a refused login's message: "ssh-agent, ~/.ssh/id_ed25519". */
export function describeCredentials(credentials: SshCredentials): string {
  return [...(credentials.agent ? ['the ssh-agent\'s keys'] : []), ...credentials.keys.map((k) => k.path)].join(', ');
}
