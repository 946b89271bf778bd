// IPv4 address management for bridge networks: subnets carved out of an address pool
// (skipping any that overlap what the host already routes or uses), addresses handed out
// inside a subnet, and the MAC address that goes with one. Pure: the caller says what is
// taken and persists what it gets.

import { UsageError } from '../common/errors.js';

export interface Subnet {
  /** Network address as a 32-bit unsigned number. */
  base: number;
  prefix: number;
}

export function ipToNumber(ip: string): number {
  const parts = ip.split('.');
  if (parts.length !== 4) throw new UsageError(`"${ip}" is not an IPv4 address`);
  let n = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255) throw new UsageError(`"${ip}" is not an IPv4 address`);
    n = n * 256 + Number(part);
  }
  return n;
}

export function numberToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

function mask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** `10.89.0.0/24` -> its subnet; refuses host bits set and prefixes a bridge cannot use. */
export function parseSubnet(cidr: string): Subnet {
  const m = /^([\d.]+)\/(\d{1,2})$/.exec(cidr);
  if (!m) throw new UsageError(`"${cidr}" is not a subnet in CIDR form (e.g. 10.89.0.0/24)`);
  const prefix = Number(m[2]);
  if (prefix > 30 || prefix < 8) throw new UsageError(`subnet "${cidr}": the prefix must be between /8 and /30`);
  const base = ipToNumber(m[1]!);
  if ((base & mask(prefix)) >>> 0 !== base) {
    throw new UsageError(`subnet "${cidr}" has host bits set: did you mean ${numberToIp((base & mask(prefix)) >>> 0)}/${prefix}?`);
  }
  return { base, prefix };
}

export function formatSubnet(s: Subnet): string {
  return `${numberToIp(s.base)}/${s.prefix}`;
}

function size(s: Subnet): number {
  return 2 ** (32 - s.prefix);
}

export function overlaps(a: Subnet, b: Subnet): boolean {
  return a.base < b.base + size(b) && b.base < a.base + size(a);
}

export function contains(s: Subnet, ip: string): boolean {
  const n = ipToNumber(ip);
  return n >= s.base && n < s.base + size(s);
}

/**
 * The first `/size` subnet of `pool` that overlaps nothing in `taken`, starting the search
 * at `startIndex` (so concurrent engines spread out) and wrapping around.
 */
export function pickSubnet(pool: Subnet, subnetPrefix: number, taken: readonly Subnet[], startIndex = 0): Subnet | undefined {
  if (subnetPrefix < pool.prefix) return undefined;
  const count = 2 ** (subnetPrefix - pool.prefix);
  const step = 2 ** (32 - subnetPrefix);
  for (let i = 0; i < count; i++) {
    const candidate = { base: pool.base + ((startIndex + i) % count) * step, prefix: subnetPrefix };
    if (!taken.some((t) => overlaps(t, candidate))) return candidate;
  }
  return undefined;
}

/** The first address of the subnet after the network address: Docker's gateway choice. */
export function defaultGateway(s: Subnet): string {
  return numberToIp(s.base + 1);
}

/** The lowest free host address (network and broadcast excluded), or undefined when full. */
export function allocateAddress(s: Subnet, taken: ReadonlySet<string>): string | undefined {
  const last = s.base + size(s) - 1;
  for (let n = s.base + 1; n < last; n++) {
    const ip = numberToIp(n);
    if (!taken.has(ip)) return ip;
  }
  return undefined;
}

/** Whether `ip` can be given to a container in `s`: inside it, not its network or broadcast address. */
export function isHostAddress(s: Subnet, ip: string): boolean {
  const n = ipToNumber(ip);
  return n > s.base && n < s.base + size(s) - 1;
}

/** Docker's locally administered MAC for an address: 02:42 and the four address bytes. */
export function macForAddress(ip: string): string {
  const n = ipToNumber(ip);
  return ['02', '42', ...[n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].map((b) => b.toString(16).padStart(2, '0'))].join(':');
}
