// Where a registry named in an image reference answers: Docker Hub's API host for
// `docker.io`, HTTPS for everything else except loopback hosts and the registries the
// engine was told are insecure (--insecure-registry, STACK_INSECURE_REGISTRIES), which
// get plain HTTP.

import { UsageError } from '../../common/errors.js';

export function isLoopbackRegistry(domain: string): boolean {
  const host = domain.startsWith('[') ? domain.slice(1, domain.indexOf(']')) : domain.replace(/:\d+$/, '');
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * One `--insecure-registry` value checked: `HOST` or `HOST:PORT`, as image names spell a
 * registry. A scheme or a path is refused (Docker refuses `://` too): the value is
 * compared with the registry part of image names, so either would never match.
 */
export function parseInsecureRegistry(text: string, source = '--insecure-registry'): string {
  const value = text.trim();
  if (value.includes('://')) throw new UsageError(`${source} "${text}": give HOST or HOST:PORT without a scheme (plain HTTP is what the option means)`);
  if (!/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?)(:\d{1,5})?$/.test(value)) {
    throw new UsageError(`${source} "${text}": not a registry HOST or HOST:PORT (e.g. 10.89.0.1:5000 or registry.lan)`);
  }
  return value;
}

/** `STACK_INSECURE_REGISTRIES="a:5000, b"` -> ['a:5000', 'b'], each checked. */
export function parseInsecureList(text: string | undefined): string[] {
  return (text ?? '').split(/[\s,]+/).filter((s) => s !== '').map((s) => parseInsecureRegistry(s, 'STACK_INSECURE_REGISTRIES'));
}

/** The base URL of `domain`'s registry API. A listed host without a port covers every port. */
export function registryBaseUrl(domain: string, insecure: readonly string[] = []): URL {
  if (domain === 'docker.io') return new URL('https://registry-1.docker.io');
  const host = domain.replace(/:\d+$/, '');
  const plain = isLoopbackRegistry(domain) || insecure.includes(domain) || insecure.includes(host);
  return new URL(`${plain ? 'http' : 'https'}://${domain}`);
}

/** TLS errors that mean the server at the other end answered the handshake in plain HTTP. */
const PLAIN_HTTP_ANSWER = /EPROTO|ERR_SSL_WRONG_VERSION_NUMBER|wrong version number|packet length too long/;

/**
 * An HTTPS request to `domain` whose handshake met plain HTTP gets the advice Docker
 * gives: a plain-HTTP registry must be named to the engine as insecure.
 */
export function explainTlsFailure(domain: string, base: URL, err: unknown): Error | undefined {
  if (base.protocol !== 'https:') return undefined;
  const causes: string[] = [];
  for (let e: unknown = err; e instanceof Error; e = e.cause) causes.push(`${(e as NodeJS.ErrnoException).code ?? ''} ${e.message}`);
  if (!causes.some((text) => PLAIN_HTTP_ANSWER.test(text))) return undefined;
  return new Error(`${domain}: the registry does not speak HTTPS (${(err as Error).message}); if it is a plain-HTTP registry you trust, start the engine with --insecure-registry ${domain}`, { cause: err });
}
