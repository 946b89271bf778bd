// How the API client's HTTP requests reach the engine: straight to its Unix socket here,
// or through a channel of an SSH connection to a remote host (remote/ssh-transport.ts).
// Every request, and every stream a request upgrades (exec), goes the transport's way.

import type { ClientRequestArgs } from 'node:http';

export interface EngineTransport {
  /** Where the engine is, as messages name it: a socket path, or ssh://user@host:port/socket. */
  readonly address: string;
  /** True when the engine runs on this machine: its ports and paths are this machine's. */
  readonly onThisMachine: boolean;
  /** The part of node:http's request options that routes one request there. */
  connectOptions(): Pick<ClientRequestArgs, 'socketPath' | 'createConnection'>;
  /** Ends whatever the transport keeps open between requests, so the process can exit. */
  close(): void;
}

export function unixSocketTransport(socket: string): EngineTransport {
  return { address: socket, onThisMachine: true, connectOptions: () => ({ socketPath: socket }), close: () => {} };
}
