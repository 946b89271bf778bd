// Reads an engine address of the form ssh://[USER@]HOST[:PORT][/PATH/TO/stack.sock], as
// DOCKER_HOST=ssh://... reads, with OpenSSH's defaults for what it leaves out.

import { UsageError } from '../../common/errors.js';

export interface SshAddress {
  user: string;
  /** A name or an address; an IPv6 address without its brackets. */
  host: string;
  port: number;
  /** The engine's socket on the remote host. */
  socket: string;
}

export const DEFAULT_REMOTE_SOCKET = '/run/stack/stack.sock';
const FORM = 'ssh://[USER@]HOST[:PORT][/PATH/TO/stack.sock]';

export function isSshAddress(text: string): boolean {
  return text.startsWith('ssh://');
}

/** `localUser`: the user name when the address names none, as ssh does. */
export function parseSshAddress(text: string, localUser: string): SshAddress {
  const bad = (why: string): UsageError => new UsageError(`engine host "${text}": ${why}; write it as ${FORM}`);
  if (!isSshAddress(text)) throw bad('not an ssh:// address');
  const m = /^ssh:\/\/(?:([^@/]*)@)?(\[[^\]/]*\]|[^:/@[\]]*)(?::([^/]*))?(\/.*)?$/.exec(text);
  if (!m) throw bad('it cannot be read');
  const [, user, bracketedHost = '', portText, path] = m;
  const host = bracketedHost.startsWith('[') ? bracketedHost.slice(1, -1) : bracketedHost;
  if (host === '') throw bad('no host');
  if (user === '') throw bad('an empty user name before "@"');
  let port = 22;
  if (portText !== undefined) {
    port = /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
    if (!(port >= 1 && port <= 65535)) throw bad(`the port "${portText}" is not a number from 1 to 65535`);
  }
  const decode = (part: string): string => {
    try {
      return decodeURIComponent(part);
    } catch {
      throw bad(`it cannot be read (a "%" not followed by two hex digits in "${part}")`);
    }
  };
  const socket = path === undefined || path === '/' ? DEFAULT_REMOTE_SOCKET : decode(path);
  return { user: user === undefined ? localUser : decode(user), host, port, socket };
}

/** The address written out in full, for messages. */
export function formatSshAddress(address: SshAddress): string {
  const host = address.host.includes(':') ? `[${address.host}]` : address.host;
  return `ssh://${address.user}@${host}:${address.port}${address.socket}`;
}
