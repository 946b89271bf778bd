// Where a registry named in an image reference answers: Docker Hub's API host for
// `docker.io`, HTTPS for everything else except loopback hosts and the registries the
// engine was told are insecure (--insecure-registry, STACK_INSECURE_REGISTRIES), which
// get plain HTTP.

export function isLoopbackRegistry(domain: string): boolean {
  const host = domain.startsWith('[') ? domain.slice(1, domain.indexOf(']')) : domain.replace(/:\d+$/, '');
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** `STACK_INSECURE_REGISTRIES="a:5000, b"` -> ['a:5000', 'b']. */
export function parseInsecureList(text: string | undefined): string[] {
  return (text ?? '').split(/[\s,]+/).filter((s) => s !== '');
}

/** The base URL of `domain`'s registry API. A listed host without a port covers every port. */
export function registryBaseUrl(domain: string, insecure: readonly string[] = []): URL {
  if (domain === 'docker.io') return new URL('https://registry-1.docker.io');
  const host = domain.replace(/:\d+$/, '');
  const plain = isLoopbackRegistry(domain) || insecure.includes(domain) || insecure.includes(host);
  return new URL(`${plain ? 'http' : 'https'}://${domain}`);
}
