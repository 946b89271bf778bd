// Registry authentication: the `WWW-Authenticate` challenge of a 401 read, Basic
// credentials, and Docker's token protocol (a Bearer challenge names a realm, service and
// scope; the realm is asked for a token, with Basic credentials when there are any, and
// answers `token` or `access_token` with an `expires_in`). Tokens are cached per scope until
// shortly before they expire.

import type { RegistryCredentials } from '../../common/docker-config.js';
import { readBody, type RegistryTransport } from './transport.js';

export class RegistryAuthError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RegistryAuthError';
  }
}

export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** `Bearer realm="https://a/token",service="reg",scope="repository:x:pull"` -> scheme and params. */
export function parseChallenge(header: string): Challenge {
  const m = /^\s*([A-Za-z]+)\s*(.*)$/.exec(header);
  if (!m) throw new RegistryAuthError(`cannot read the registry's WWW-Authenticate "${header}"`);
  const params: Record<string, string> = {};
  for (const p of (m[2] ?? '').matchAll(/([A-Za-z_]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g)) {
    params[p[1]!.toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : (p[3] ?? '');
  }
  return { scheme: m[1]!.toLowerCase(), params };
}

export function basicHeader(credentials: RegistryCredentials): string {
  return `Basic ${Buffer.from(`${credentials.username ?? ''}:${credentials.password ?? ''}`).toString('base64')}`;
}

interface CachedToken {
  token: string;
  expiresAt: number;
}

/** Tokens by realm, service, scope and user; one cache per engine. */
export class TokenCache {
  private readonly tokens = new Map<string, CachedToken>();
  /** Fetches under way: parallel requests that hit the same 401 share one token request. */
  readonly pending = new Map<string, Promise<string>>();
  constructor(private readonly now: () => number = Date.now) {}

  get(key: string): string | undefined {
    const hit = this.tokens.get(key);
    if (!hit) return undefined;
    if (hit.expiresAt <= this.now()) {
      this.tokens.delete(key);
      return undefined;
    }
    return hit.token;
  }

  set(key: string, token: string, expiresInSeconds: number, issuedAt?: number): void {
    // A little early, so a token is never sent in its last seconds.
    const start = issuedAt !== undefined && Number.isFinite(issuedAt) ? Math.min(issuedAt, this.now()) : this.now();
    this.tokens.set(key, { token, expiresAt: start + Math.max(expiresInSeconds - 10, 1) * 1000 });
  }

  /** What `now` says, for callers computing expiry. */
  clock(): number {
    return this.now();
  }
}

/**
 * Asks the challenge's realm for a token covering `scopes` (none for a login check).
 * With credentials it authenticates with Basic; without, it asks anonymously.
 */
export async function fetchToken(transport: RegistryTransport, cache: TokenCache, challenge: Challenge, scopes: string[], credentials: RegistryCredentials | undefined, registry: string): Promise<string> {
  const realm = challenge.params.realm;
  if (!realm) throw new RegistryAuthError(`${registry} asked for a Bearer token without naming a realm`);
  const key = [realm, challenge.params.service ?? '', scopes.join(' '), credentials?.username ?? ''].join('\0');
  const cached = cache.get(key);
  if (cached) return cached;
  const inFlight = cache.pending.get(key);
  if (inFlight) return inFlight;
  const work = requestToken(transport, cache, key, realm, challenge, scopes, credentials, registry).finally(() => cache.pending.delete(key));
  cache.pending.set(key, work);
  return work;
}

async function requestToken(transport: RegistryTransport, cache: TokenCache, key: string, realm: string, challenge: Challenge, scopes: string[], credentials: RegistryCredentials | undefined, registry: string): Promise<string> {
  const url = new URL(realm);
  if (challenge.params.service) url.searchParams.set('service', challenge.params.service);
  for (const scope of scopes) url.searchParams.append('scope', scope);
  const headers: Record<string, string> = {};
  if (credentials?.username !== undefined) headers.Authorization = basicHeader(credentials);
  const res = await transport.request({ method: 'GET', url, headers });
  const body = await readBody(res, 1 << 20);
  const status = res.statusCode ?? 0;
  if (status === 401 || status === 403) {
    throw new RegistryAuthError(credentials?.username !== undefined
      ? `${registry}: the token server ${url.host} refused user "${credentials.username}": wrong user name or password? (stack login ${registry})`
      : `${registry}: the token server ${url.host} wants credentials: log in with "stack login ${registry}"`);
  }
  if (status !== 200) throw new RegistryAuthError(`${registry}: the token server ${url.host} answered ${status}: ${body.toString('utf8').slice(0, 200)}`);
  let answer: { token?: string; access_token?: string; expires_in?: number; issued_at?: string };
  try {
    answer = JSON.parse(body.toString('utf8')) as typeof answer;
  } catch {
    throw new RegistryAuthError(`${registry}: the token server ${url.host} did not answer JSON`);
  }
  const token = answer.token ?? answer.access_token;
  if (!token) throw new RegistryAuthError(`${registry}: the token server ${url.host} answered without a token`);
  // The spec's default lifetime is 60 seconds.
  cache.set(key, token, typeof answer.expires_in === 'number' && answer.expires_in > 0 ? answer.expires_in : 60, answer.issued_at ? Date.parse(answer.issued_at) : undefined);
  return token;
}
