// Host key checking as OpenSSH does it with StrictHostKeyChecking=yes: the key a host
// presents must be listed for its name in known_hosts (plain or hashed `|1|` names,
// `[host]:port` for a port other than 22, wildcards and negations), or it is refused.

import { createHash, createHmac } from 'node:crypto';

export type HostKeyVerdict =
  | { kind: 'known' }
  | { kind: 'unknown' }
  /** A different key of the same type is listed, on this line of the file. */
  | { kind: 'changed'; line: number }
  | { kind: 'revoked'; line: number };

/** The name known_hosts files list a host under. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** `SHA256:...`, as ssh and ssh-keygen -l print a key's fingerprint. */
export function keyFingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

/** The algorithm name a public key blob starts with (ssh-ed25519, ecdsa-sha2-nistp256, ssh-rsa). */
export function keyType(key: Buffer): string {
  if (key.length < 4) return 'unknown';
  const length = key.readUInt32BE(0);
  return key.subarray(4, 4 + length).toString('latin1');
}

/** What `knownHosts` (a file's text) says of `key` presented by `host` on `port`. */
export function checkHostKey(knownHosts: string, host: string, port: number, key: Buffer): HostKeyVerdict {
  const name = knownHostsName(host, port);
  const type = keyType(key);
  let changed: number | undefined;
  const lines = knownHosts.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const fields = lines[i]!.trim().split(/\s+/);
    if (fields[0] === '' || fields[0]!.startsWith('#')) continue;
    const marker = fields[0]!.startsWith('@') ? fields.shift() : undefined;
    if (marker === '@cert-authority') continue;
    const [patterns, entryType, entryKey] = fields;
    if (!patterns || !entryType || !entryKey || !namesMatch(patterns, name)) continue;
    const same = Buffer.from(entryKey, 'base64').equals(key);
    if (marker === '@revoked') {
      if (same) return { kind: 'revoked', line: i + 1 };
      continue;
    }
    if (same) return { kind: 'known' };
    if (entryType === type) changed ??= i + 1;
  }
  return changed === undefined ? { kind: 'unknown' } : { kind: 'changed', line: changed };
}

function namesMatch(patterns: string, name: string): boolean {
  if (patterns.startsWith('|1|')) {
    const [salt, hash] = patterns.slice(3).split('|');
    if (!salt || !hash) return false;
    return createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64') === hash;
  }
  let matched = false;
  for (const pattern of patterns.split(',')) {
    const negated = pattern.startsWith('!');
    if (!wildcardMatch(negated ? pattern.slice(1) : pattern, name)) continue;
    // A negated pattern that matches rules the line out, whatever else matches.
    if (negated) return false;
    matched = true;
  }
  return matched;
}

/** OpenSSH's patterns: `*` any run, `?` one character, host names compared without case. */
function wildcardMatch(pattern: string, name: string): boolean {
  const source = pattern.toLowerCase().replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${source}$`).test(name.toLowerCase());
}
