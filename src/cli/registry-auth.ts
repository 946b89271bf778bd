// The X-Registry-Auth header a pull or push sends: the logins of ~/.docker/config.json (or
// its credential helper) for the registry an image name points at, as docker does; and
// the X-Registry-Config header of a build: every login, for whatever its FROMs pull.

import { allCredentials, encodeAuthHeader, encodeRegistryConfig, findCredentials } from '../common/docker-config.js';
import { parseReference } from '../image/reference.js';
import type { RegistryLogins } from '../compose/image-sources.js';
import type { CliIO } from './io.js';

export async function registryAuthHeaders(io: CliIO, image: string): Promise<Record<string, string>> {
  const { domain } = parseReference(image);
  const credentials = await findCredentials(io.env, domain);
  return credentials ? { 'X-Registry-Auth': encodeAuthHeader(domain, credentials) } : {};
}

export async function registryConfigHeaders(io: CliIO): Promise<Record<string, string>> {
  const logins = await allCredentials(io.env);
  return logins.size > 0 ? { 'X-Registry-Config': encodeRegistryConfig(logins) } : {};
}

/** Both, for what `up` and `run SERVICE` pull and build. */
export function registryLogins(io: CliIO): RegistryLogins {
  return { forPull: (image) => registryAuthHeaders(io, image), forBuild: () => registryConfigHeaders(io) };
}
