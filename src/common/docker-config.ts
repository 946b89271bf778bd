// Registry credentials as Docker keeps them in ~/.docker/config.json: `auths` entries
// (base64 "user:password" in `auth`), and `credHelpers`/`credsStore` naming a
// `docker-credential-<name>` program that answers `get` with JSON. Both sides read it: the
// CLI to send X-Registry-Auth, the engine when a request brings none. Only the CLI writes.

import { spawn } from 'node:child_process';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface RegistryCredentials {
  username?: string;
  password?: string;
  /** A refresh token from an earlier login (Docker's `identitytoken`). */
  identityToken?: string;
}

/** The JSON of X-Registry-Auth and `POST /auth`, as Docker sends it. */
export interface AuthConfig {
  username?: string;
  password?: string;
  serveraddress?: string;
  identitytoken?: string;
  auth?: string;
}

interface DockerConfigFile {
  auths?: Record<string, { auth?: string; identitytoken?: string; username?: string; password?: string }>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
  [other: string]: unknown;
}

type Environment = Readonly<Record<string, string | undefined>>;

/** Docker Hub's key in config.json, as `docker login` writes it. */
export const DOCKER_HUB_KEY = 'https://index.docker.io/v1/';

/** `$DOCKER_CONFIG`, else `$HOME/.docker`. */
export function dockerConfigDir(env: Environment): string {
  return env.DOCKER_CONFIG ?? join(env.HOME ?? '/root', '.docker');
}

/** A registry host as config.json keys name it: `docker.io` is Docker Hub's old URL. */
export function configKey(domain: string): string {
  return domain === 'docker.io' || domain === 'index.docker.io' || domain === 'registry-1.docker.io' ? DOCKER_HUB_KEY : domain;
}

/** `https://host:5000/v1/` and `host:5000` name the same registry. */
function hostOf(key: string): string {
  const host = key.replace(/^[a-z]+:\/\//, '').replace(/\/.*$/, '');
  return host === 'index.docker.io' || host === 'registry-1.docker.io' ? 'docker.io' : host;
}

async function readConfig(dir: string): Promise<DockerConfigFile> {
  try {
    return JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as DockerConfigFile;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new Error(`cannot read ${join(dir, 'config.json')}: ${(err as Error).message}`, { cause: err });
  }
}

/** The credentials config.json holds for `domain` (a host, `docker.io` for Docker Hub), if any. */
export async function findCredentials(env: Environment, domain: string): Promise<RegistryCredentials | undefined> {
  const config = await readConfig(dockerConfigDir(env));
  const host = hostOf(configKey(domain));
  const helper = Object.entries(config.credHelpers ?? {}).find(([k]) => hostOf(k) === host)?.[1] ?? config.credsStore;
  const entry = Object.entries(config.auths ?? {}).find(([k]) => hostOf(k) === host)?.[1];
  if (entry?.auth) {
    const text = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = text.indexOf(':');
    if (colon > 0) return { username: text.slice(0, colon), password: text.slice(colon + 1), ...(entry.identitytoken ? { identityToken: entry.identitytoken } : {}) };
  }
  if (entry?.username !== undefined) return { username: entry.username, password: entry.password ?? '' };
  if (helper) return credentialHelperGet(helper, configKey(domain), env);
  return undefined;
}

/**
 * Every login config.json names (its `auths` and `credHelpers` entries), by registry host:
 * what `docker build` sends as X-Registry-Config, since the client cannot know which
 * registries the build's FROMs will reach. A `credsStore`'s logins without an `auths`
 * entry are not listed (that needs the helper's `list`).
 */
export async function allCredentials(env: Environment): Promise<Map<string, RegistryCredentials>> {
  const config = await readConfig(dockerConfigDir(env));
  const out = new Map<string, RegistryCredentials>();
  for (const key of [...Object.keys(config.auths ?? {}), ...Object.keys(config.credHelpers ?? {})]) {
    const host = hostOf(key);
    if (out.has(host)) continue;
    const credentials = await findCredentials(env, host);
    if (credentials) out.set(host, credentials);
  }
  return out;
}

/** Runs `docker-credential-<helper> get` with the server URL on stdin. */
export async function credentialHelperGet(helper: string, server: string, env: Environment): Promise<RegistryCredentials | undefined> {
  const program = `docker-credential-${helper}`;
  const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(program, ['get'], { stdio: ['pipe', 'pipe', 'pipe'], env: { PATH: env.PATH ?? '/usr/local/bin:/usr/bin:/bin', HOME: env.HOME ?? '/root' } });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.once('error', (e) => reject(new Error(`cannot run the credential helper ${program} (named in config.json): ${e.message}`)));
    child.once('close', (c) => resolve({ code: c ?? 1, stdout: out, stderr: err }));
    child.stdin.end(server);
  });
  // Helpers say "credentials not found" on a non-zero exit when they have none.
  if (code !== 0) {
    if (/not found/i.test(stdout + stderr)) return undefined;
    throw new Error(`${program} get failed (exit ${code}): ${(stderr || stdout).trim()}`);
  }
  const answer = JSON.parse(stdout) as { Username?: string; Secret?: string };
  if (answer.Username === '<token>') return { identityToken: answer.Secret ?? '' };
  return { username: answer.Username ?? '', password: answer.Secret ?? '' };
}

async function writeConfig(dir: string, config: DockerConfigFile): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, 'config.json');
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, `${JSON.stringify(config, null, '\t')}\n`, { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, path);
}

/** Records a login in `auths` (mode 0600), keeping everything else the file has. */
export async function storeLogin(env: Environment, domain: string, username: string, password: string): Promise<string> {
  const dir = dockerConfigDir(env);
  const config = await readConfig(dir);
  const key = configKey(domain);
  config.auths = { ...(config.auths ?? {}), [key]: { auth: Buffer.from(`${username}:${password}`).toString('base64') } };
  await writeConfig(dir, config);
  return join(dir, 'config.json');
}

/** Forgets a login; false when there was none. */
export async function removeLogin(env: Environment, domain: string): Promise<boolean> {
  const dir = dockerConfigDir(env);
  const config = await readConfig(dir);
  const host = hostOf(configKey(domain));
  const keys = Object.keys(config.auths ?? {}).filter((k) => hostOf(k) === host);
  if (keys.length === 0) return false;
  for (const k of keys) delete config.auths![k];
  await writeConfig(dir, config);
  return true;
}

function authConfig(domain: string, credentials: RegistryCredentials): AuthConfig {
  const body: AuthConfig = { serveraddress: domain };
  if (credentials.username !== undefined) body.username = credentials.username;
  if (credentials.password !== undefined) body.password = credentials.password;
  if (credentials.identityToken !== undefined) body.identitytoken = credentials.identityToken;
  return body;
}

/** X-Registry-Auth's value: base64url of the JSON. */
export function encodeAuthHeader(domain: string, credentials: RegistryCredentials): string {
  return Buffer.from(JSON.stringify(authConfig(domain, credentials))).toString('base64url');
}

function decodeBase64Json(value: string, header: string): unknown {
  try {
    return JSON.parse(Buffer.from(value.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8'));
  } catch {
    throw new Error(`${header} is not base64 JSON`);
  }
}

/** X-Registry-Auth read back (base64 or base64url); undefined when absent or empty. */
export function decodeAuthHeader(value: string | undefined): RegistryCredentials | undefined {
  if (!value) return undefined;
  return authConfigCredentials(decodeBase64Json(value, 'X-Registry-Auth') as AuthConfig);
}

/** X-Registry-Config's value (POST /build): base64url of `{ "<registry>": AuthConfig, ... }`. */
export function encodeRegistryConfig(logins: ReadonlyMap<string, RegistryCredentials>): string {
  const body: Record<string, AuthConfig> = {};
  for (const [domain, credentials] of logins) body[configKey(domain)] = authConfig(domain, credentials);
  return Buffer.from(JSON.stringify(body)).toString('base64url');
}

/** X-Registry-Config read back: the logins by registry host (Docker Hub's as `docker.io`). */
export function decodeRegistryConfig(value: string | undefined): Map<string, RegistryCredentials> {
  const out = new Map<string, RegistryCredentials>();
  if (!value) return out;
  const parsed = decodeBase64Json(value, 'X-Registry-Config');
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('X-Registry-Config must be a JSON object of registry logins');
  for (const [key, entry] of Object.entries(parsed as Record<string, AuthConfig>)) {
    if (typeof entry !== 'object' || entry === null) continue;
    const credentials = authConfigCredentials(entry);
    if (credentials) out.set(hostOf(key), credentials);
  }
  return out;
}

export function authConfigCredentials(parsed: AuthConfig): RegistryCredentials | undefined {
  if (parsed.auth && parsed.username === undefined) {
    const text = Buffer.from(parsed.auth, 'base64').toString('utf8');
    const colon = text.indexOf(':');
    if (colon > 0) return { username: text.slice(0, colon), password: text.slice(colon + 1) };
  }
  if (parsed.identitytoken) return { identityToken: parsed.identitytoken, ...(parsed.username ? { username: parsed.username } : {}) };
  if (parsed.username === undefined && parsed.password === undefined) return undefined;
  return { username: parsed.username ?? '', password: parsed.password ?? '' };
}
