// What the host already uses, so a new bridge subnet never shadows it: the subnets of
// every interface address, every route but the default, and the nameservers containers'
// queries are forwarded to (often reached through the default route, so no route names them).
// Read from the kernel at the moment of asking: the kernel is the registry that other
// engines on this host (and Docker) also write to.

import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { ipToNumber, type Subnet } from './ipam.js';

export interface HostSubnet extends Subnet {
  /** The interface that holds it, when it is an interface address. */
  iface?: string;
}

/** Reads /proc/net/route: little-endian hex destination and mask per line. */
export function parseProcRoutes(text: string): Subnet[] {
  const out: Subnet[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    const dest = leHex(f[1]!);
    const maskBits = popcount(leHex(f[7]!));
    if (maskBits === 0) continue; // the default route
    out.push({ base: dest, prefix: maskBits });
  }
  return out;
}

function leHex(hex: string): number {
  const n = parseInt(hex, 16);
  return (((n & 0xff) << 24) | (((n >>> 8) & 0xff) << 16) | (((n >>> 16) & 0xff) << 8) | ((n >>> 24) & 0xff)) >>> 0;
}

function popcount(n: number): number {
  let c = 0;
  for (let v = n >>> 0; v; v >>>= 1) c += v & 1;
  return c;
}

export function resolvConfAddresses(text: string): Subnet[] {
  const out: Subnet[] = [];
  for (const m of text.matchAll(/^\s*nameserver\s+(\d+\.\d+\.\d+\.\d+)\s*$/gm)) out.push({ base: ipToNumber(m[1]!), prefix: 32 });
  return out;
}

/** Everything the host uses now; each interface subnet names its interface. */
export function hostSubnets(): HostSubnet[] {
  const out: HostSubnet[] = [];
  for (const [iface, addrs] of Object.entries(networkInterfaces())) {
    for (const a of addrs ?? []) {
      if (a.family !== 'IPv4' || !a.cidr) continue;
      const prefix = Number(a.cidr.split('/')[1]);
      const base = (ipToNumber(a.address) & (prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0)) >>> 0;
      out.push({ base, prefix, iface });
    }
  }
  try {
    out.push(...parseProcRoutes(readFileSync('/proc/net/route', 'utf8')));
  } catch {
    // No /proc/net/route (not Linux): interface addresses are all we know.
  }
  try {
    out.push(...resolvConfAddresses(readFileSync('/etc/resolv.conf', 'utf8')));
  } catch {
    // No resolv.conf: nothing to keep clear of.
  }
  return out;
}
