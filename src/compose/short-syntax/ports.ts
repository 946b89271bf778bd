// Published ports: the short syntax `[[IP:]HOST:]CONTAINER[/PROTOCOL]` (each port may
// be a range, an IPv6 address is written in brackets) and the long syntax, both to a
// list of PortConfig with one entry per container port, as Compose expands them.

import { isIP } from 'node:net';
import type { PortConfig, PortProtocol } from '../model.js';
import { failed, parsed, type Parsed } from './parsed.js';

const PROTOCOLS: readonly PortProtocol[] = ['tcp', 'udp', 'sctp'];

interface PortRange {
  start: number;
  end: number;
}

export function parsePortShortSyntax(input: string | number): Parsed<PortConfig[]> {
  if (typeof input === 'number') {
    if (!validPort(input)) return failed(`${input} is not a valid port: use a number from 1 to 65535`);
    return parsed([{ target: input, protocol: 'tcp', mode: 'ingress' }]);
  }
  const spec = input.trim();
  const malformed = failed<PortConfig[]>(`"${input}" is not a valid port mapping: use "HOST:CONTAINER" like "8080:80"`);

  const slash = spec.split('/');
  if (slash.length > 2) return malformed;
  const protocol = slash[1] === undefined ? 'tcp' : slash[1].toLowerCase();
  if (!isProtocol(protocol)) {
    return failed(`"${input}" is not a valid port mapping: unknown protocol "${slash[1]}", use tcp, udp or sctp`);
  }

  const split = splitAddress(slash[0]!);
  if (!split) return malformed;
  const { ip, host, container } = split;
  if (ip !== undefined && ip !== '' && isIP(ip) === 0) {
    return failed(`"${input}" is not a valid port mapping: "${ip}" is not an IP address`);
  }

  const containerRange = parseRange(container);
  if (typeof containerRange === 'string') return failed(`"${input}" is not a valid port mapping: ${containerRange}`);
  const hostRange = host === undefined || host === '' ? undefined : parseRange(host);
  if (typeof hostRange === 'string') return failed(`"${input}" is not a valid port mapping: ${hostRange}`);

  const base = (target: number): PortConfig => {
    const port: PortConfig = { target, protocol, mode: 'ingress' };
    if (ip) port.host_ip = ip;
    return port;
  };
  const containerCount = containerRange.end - containerRange.start + 1;
  const out: PortConfig[] = [];
  if (!hostRange) {
    for (let p = containerRange.start; p <= containerRange.end; p++) out.push(base(p));
    return parsed(out);
  }
  const hostCount = hostRange.end - hostRange.start + 1;
  if (containerCount === 1 && hostCount > 1) {
    // One container port behind a range of host ports: the engine picks a free one.
    return parsed([{ ...base(containerRange.start), published: `${hostRange.start}-${hostRange.end}` }]);
  }
  if (hostCount !== containerCount) {
    return failed(
      `"${input}" maps ${hostCount} host ports to ${containerCount} container ports: the two ranges must be the same length`,
    );
  }
  for (let i = 0; i < containerCount; i++) {
    out.push({ ...base(containerRange.start + i), published: String(hostRange.start + i) });
  }
  return parsed(out);
}

/** `ip:host:container`, `host:container` or `container`; IPv6 addresses in brackets or, failing that, as everything before the last two parts. */
function splitAddress(text: string): { ip?: string; host?: string; container: string } | undefined {
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0 || text[close + 1] !== ':') return undefined;
    const rest = text.slice(close + 2).split(':');
    if (rest.length !== 2) return undefined;
    return { ip: text.slice(1, close), host: rest[0]!, container: rest[1]! };
  }
  const parts = text.split(':');
  if (parts.length === 1) return { container: parts[0]! };
  if (parts.length === 2) return { host: parts[0]!, container: parts[1]! };
  if (parts.length === 3) return { ip: parts[0]!, host: parts[1]!, container: parts[2]! };
  const ip = parts.slice(0, -2).join(':');
  if (isIP(ip) !== 6) return undefined;
  return { ip, host: parts[parts.length - 2]!, container: parts[parts.length - 1]! };
}

/** A range, or a sentence saying what is wrong with it. */
function parseRange(text: string): PortRange | string {
  const m = /^(\d+)(?:-(\d+))?$/.exec(text);
  if (!m) return `"${text}" is not a port or a port range`;
  const start = Number(m[1]);
  const end = m[2] === undefined ? start : Number(m[2]);
  for (const p of [start, end]) if (!validPort(p)) return `port ${p} is out of range 1-65535`;
  if (end < start) return `range ${text} ends before it starts`;
  return { start, end };
}

function validPort(p: number): boolean {
  return Number.isInteger(p) && p >= 1 && p <= 65535;
}

function isProtocol(p: string): p is PortProtocol {
  return (PROTOCOLS as readonly string[]).includes(p);
}

/** The long syntax; published may be a number, a string or a host range. */
export function parsePortLongSyntax(entry: Record<string, unknown>): Parsed<PortConfig> {
  const target = typeof entry.target === 'string' && /^\d+$/.test(entry.target) ? Number(entry.target) : entry.target;
  if (typeof target !== 'number' || !validPort(target)) {
    return failed(`target ${JSON.stringify(entry.target)} is not a valid port: use a number from 1 to 65535`);
  }
  const protocol = entry.protocol === undefined ? 'tcp' : String(entry.protocol).toLowerCase();
  if (!isProtocol(protocol)) return failed(`unknown protocol "${String(entry.protocol)}": use tcp, udp or sctp`);
  const mode = entry.mode === undefined ? 'ingress' : entry.mode;
  if (mode !== 'ingress' && mode !== 'host') return failed(`unknown port mode "${String(mode)}": use ingress or host`);
  const port: PortConfig = { target, protocol, mode };
  if (entry.published !== undefined && entry.published !== null && entry.published !== '') {
    const published = String(entry.published);
    const range = parseRange(published);
    if (typeof range === 'string') return failed(`published ${JSON.stringify(entry.published)} is not valid: ${range}`);
    port.published = published;
  }
  if (typeof entry.host_ip === 'string' && entry.host_ip !== '') {
    if (isIP(entry.host_ip) === 0) return failed(`host_ip "${entry.host_ip}" is not an IP address`);
    port.host_ip = entry.host_ip;
  }
  if (typeof entry.name === 'string') port.name = entry.name;
  if (typeof entry.app_protocol === 'string') port.app_protocol = entry.app_protocol;
  return parsed(port);
}
