// Service volumes: the short syntax `[SOURCE:]TARGET[:MODES]` and the long syntax, to
// VolumeMount. A source that starts with `.`, `/` or `~` (or a Windows drive) is a host
// path and becomes absolute; any other source is the name of a named volume; no source
// is an anonymous volume.

import { isAbsolute, resolve } from 'node:path';
import type { VolumeMount, VolumeType } from '../model.js';
import { parseBytes } from './units.js';
import { failed, parsed, type Parsed } from './parsed.js';
import { isMapping as isRecord } from '../mapping.js';

export interface HostPaths {
  /** Absolute; relative host paths are resolved against it. */
  projectDirectory: string;
  /** For `~`; undefined when HOME is not set. */
  home: string | undefined;
}

const PROPAGATION = ['shared', 'rshared', 'slave', 'rslave', 'private', 'rprivate'];
const CONSISTENCY = ['cached', 'delegated', 'consistent'];
const MODES = ['ro', 'rw', 'z', 'Z', 'nocopy', ...CONSISTENCY, ...PROPAGATION];
const TYPES: readonly VolumeType[] = ['bind', 'volume', 'tmpfs', 'npipe', 'image', 'cluster'];

export function parseVolumeShortSyntax(input: string, paths: HostPaths): Parsed<VolumeMount> {
  const parts = splitVolumeSpec(input);
  const malformed = `"${input}" is not a valid volume: use "SOURCE:TARGET[:MODE]" like "./data:/data:ro"`;
  let source: string | undefined;
  let target: string;
  let modes: string[] = [];
  if (parts.length === 1) {
    target = parts[0]!;
  } else if (parts.length === 2 && !looksLikePath(parts[1]!) && parts[1]!.split(',').every((m) => MODES.includes(m))) {
    // `/data:ro`: an anonymous volume with modes.
    target = parts[0]!;
    modes = parts[1]!.split(',');
  } else if (parts.length === 2 || parts.length === 3) {
    source = parts[0]!;
    target = parts[1]!;
    if (parts[2] !== undefined) modes = parts[2].split(',');
  } else {
    return failed(malformed);
  }
  if (source === '' || target === '') return failed(malformed);
  if (!target.startsWith('/') && !/^[A-Za-z]:[\\/]/.test(target)) {
    return failed(`"${input}" is not a valid volume: the container path "${target}" must be absolute`);
  }

  const mount: VolumeMount = source === undefined ? { type: 'volume', target } : looksLikePath(source) ? { type: 'bind', source, target } : { type: 'volume', source, target };
  if (mount.type === 'bind') {
    const abs = hostPath(source!, paths);
    if (!abs.ok) return failed(`"${input}" is not a valid volume: ${abs.error}`);
    mount.source = abs.value;
    // The short syntax has always created a missing host directory; the long syntax does not.
    mount.bind = { create_host_path: true };
  } else if (mount.source !== undefined) {
    mount.volume = {};
  }

  for (const mode of modes) {
    if (!MODES.includes(mode)) {
      return failed(
        `"${input}" is not a valid volume: unknown mode "${mode}", use ro, rw, z, Z, nocopy, cached, delegated, consistent, or a propagation (shared, slave, private and their r- forms)`,
      );
    }
    if (mode === 'ro') mount.read_only = true;
    else if (mode === 'z' || mode === 'Z') mount.bind = { ...mount.bind, selinux: mode };
    else if (mode === 'nocopy') mount.volume = { ...mount.volume, nocopy: true };
    else if (CONSISTENCY.includes(mode)) mount.consistency = mode;
    else if (PROPAGATION.includes(mode)) mount.bind = { ...mount.bind, propagation: mode };
  }
  return parsed(mount);
}

export function parseVolumeLongSyntax(entry: Record<string, unknown>, paths: HostPaths): Parsed<VolumeMount> {
  const type = entry.type;
  if (typeof type !== 'string' || !(TYPES as readonly string[]).includes(type)) {
    return failed(`unknown volume type ${JSON.stringify(type)}: use bind, volume, tmpfs, npipe or image`);
  }
  if (typeof entry.target !== 'string' || entry.target === '') return failed('a volume needs a "target" path in the container');
  const mount: VolumeMount = { type: type as VolumeType, target: entry.target };
  if (typeof entry.source === 'string' && entry.source !== '') {
    if (type === 'bind') {
      const abs = hostPath(entry.source, paths);
      if (!abs.ok) return failed(abs.error);
      mount.source = abs.value;
    } else {
      mount.source = entry.source;
    }
  } else if (type === 'bind') {
    return failed('a bind mount needs a "source" path on the host');
  }
  if (typeof entry.read_only === 'boolean') mount.read_only = entry.read_only;
  if (typeof entry.consistency === 'string') mount.consistency = entry.consistency;
  if (isRecord(entry.bind)) mount.bind = { ...entry.bind } as VolumeMount['bind'];
  if (isRecord(entry.volume)) mount.volume = { ...entry.volume } as VolumeMount['volume'];
  if (isRecord(entry.image)) mount.image = { ...entry.image } as VolumeMount['image'];
  if (isRecord(entry.tmpfs)) {
    const tmpfs: NonNullable<VolumeMount['tmpfs']> = {};
    if (entry.tmpfs.size !== undefined) {
      const size = parseBytes(entry.tmpfs.size as string | number);
      if (!size.ok) return failed(`tmpfs.size: ${size.error}`);
      tmpfs.size = size.value;
    }
    if (entry.tmpfs.mode !== undefined) tmpfs.mode = Number(entry.tmpfs.mode);
    mount.tmpfs = tmpfs;
  }
  return parsed(mount);
}

/** Absolute host path: `~` from HOME, relative paths from the project directory. */
export function hostPath(source: string, paths: HostPaths): Parsed<string> {
  if (source === '~' || source.startsWith('~/')) {
    if (paths.home === undefined) return failed(`"${source}" starts with ~ but HOME is not set`);
    return parsed(resolve(paths.home, source.slice(2)));
  }
  if (isAbsolute(source) || /^[A-Za-z]:[\\/]/.test(source) || source.startsWith('\\\\')) return parsed(source);
  return parsed(resolve(paths.projectDirectory, source));
}

function looksLikePath(text: string): boolean {
  return /^[./~]/.test(text) || /^[A-Za-z]:[\\/]/.test(text) || text.startsWith('\\\\');
}

/** Split on colons, keeping a Windows drive letter (`C:\data`) with its path. */
function splitVolumeSpec(text: string): string[] {
  const raw = text.split(':');
  const out: string[] = [];
  for (let i = 0; i < raw.length; i++) {
    const part = raw[i]!;
    const next = raw[i + 1];
    // Only a backslash marks a drive: `a:/b` is the named volume "a" mounted at /b.
    if (/^[A-Za-z]$/.test(part) && next !== undefined && next.startsWith('\\') && (i === 0 || out.length === 1)) {
      out.push(`${part}:${next}`);
      i++;
    } else {
      out.push(part);
    }
  }
  return out;
}

