// Which manifest of an image index fits a machine: os, architecture and (for arm) the
// variant, as the OCI image spec names them. This host's platform by default.

import { arch } from 'node:os';

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

export interface IndexEntry {
  mediaType: string;
  digest: string;
  size: number;
  platform?: Platform & { 'os.version'?: string };
}

/** Node's `process.arch` in the OCI spelling (GOARCH). */
export function hostPlatform(): Platform {
  const names: Record<string, string> = { x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64', loong64: 'loong64' };
  const architecture = names[arch()] ?? arch();
  if (architecture === 'arm64') return { os: 'linux', architecture, variant: 'v8' };
  if (architecture === 'arm') {
    const version = (process.config.variables as Record<string, unknown>).arm_version;
    return { os: 'linux', architecture, variant: `v${typeof version === 'string' || typeof version === 'number' ? version : '7'}` };
  }
  return { os: 'linux', architecture };
}

/** `linux/arm64/v8` -> a Platform; refuses anything else. */
export function parsePlatform(text: string): Platform {
  const [os, architecture, variant, extra] = text.split('/');
  if (!os || !architecture || extra !== undefined) throw new Error(`platform "${text}" is not OS/ARCH[/VARIANT], e.g. linux/amd64 or linux/arm64/v8`);
  return variant ? { os, architecture, variant } : { os, architecture };
}

export function formatPlatform(p: Platform): string {
  return `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`;
}

// arm64's variant is v8 when absent, as the spec's table of architectures has it.
function variantOf(p: Platform): string | undefined {
  return p.variant ?? (p.architecture === 'arm64' ? 'v8' : undefined);
}

/**
 * The entry of `entries` for `wanted`, or an error naming every platform the index has.
 * An entry without a variant fits a wanted variant (many indexes leave it out).
 */
export function selectPlatform(entries: readonly IndexEntry[], wanted: Platform, what: string): IndexEntry {
  const candidates = entries.filter((e) => e.platform && e.platform.os === wanted.os && e.platform.architecture === wanted.architecture);
  const exact = candidates.find((e) => variantOf(e.platform!) === variantOf(wanted));
  const loose = candidates.find((e) => e.platform!.variant === undefined || wanted.variant === undefined);
  const chosen = exact ?? loose;
  if (chosen) return chosen;
  // Attestation manifests are listed as unknown/unknown: they are not platforms a user can pick.
  const available = entries.filter((e) => e.platform && e.platform.os !== 'unknown').map((e) => formatPlatform(e.platform!));
  throw new Error(`${what} has no image for ${formatPlatform(wanted)}: it has ${available.length ? available.join(', ') : 'no platform-specific images'}`);
}
