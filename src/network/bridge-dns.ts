// The engine's DNS server as its networks see it: listen on a bridge's gateway, stop
// listening there, close. The server itself (dns-server.ts, with dns-packet) is loaded when
// the first bridge network listens, so an engine with no bridge network never holds it; the
// host's resolvers it forwards to are read then too.

import { readFileSync } from 'node:fs';
import { ConflictError } from '../common/errors.js';
import type { DnsRecordSource, DnsServer } from './dns-server.js';

/** What a network service needs of a DNS server. */
export type GatewayDns = Pick<DnsServer, 'listen' | 'unlisten'>;

export class BridgeDns implements GatewayDns {
  private loaded: Promise<DnsServer> | undefined;
  private closed = false;

  constructor(private readonly records: DnsRecordSource) {}

  private server(): Promise<DnsServer> {
    return (this.loaded ??= import('./dns-server.js').then(({ DnsServer, resolvConfNameservers }) => new DnsServer({ records: this.records, upstreams: hostNameservers(resolvConfNameservers) })));
  }

  async listen(networkId: string, address: string, port?: number): Promise<{ port: number }> {
    if (this.closed) throw new ConflictError(`DNS server is closed; cannot listen on ${address}:${port ?? 53}`);
    return (await this.server()).listen(networkId, address, port);
  }

  async unlisten(address: string): Promise<void> {
    if (this.loaded) await (await this.loaded).unlisten(address);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.loaded) await (await this.loaded).close();
  }
}

/** Where the DNS server forwards names it does not know: the host's own resolvers. */
function hostNameservers(parse: (resolvConf: string) => string[]): string[] {
  try {
    return parse(readFileSync('/etc/resolv.conf', 'utf8'));
  } catch {
    return [];
  }
}
