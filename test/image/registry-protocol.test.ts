// The registry client's pure parts and its HTTP behaviour against small local servers:
// reference normalisation, challenges, the token cache, platform choice, plain HTTP only
// where allowed, config.json credentials (auths and a credential helper), retries on 5xx
// and dropped connections, and redirects that leave Authorization behind.
import t, { type Test } from 'tap';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeAuthHeader, encodeAuthHeader, findCredentials } from '../../src/common/docker-config.js';
import { normalizeReference, parseReference } from '../../src/image/reference.js';
import { parseChallenge, TokenCache } from '../../src/image/registry/auth.js';
import { registryBaseUrl } from '../../src/image/registry/endpoint.js';
import { selectPlatform } from '../../src/image/registry/platform.js';
import { readBody, RegistryTransport } from '../../src/image/registry/transport.js';

t.test('references are normalised as Docker does', async (t) => {
  t.equal(normalizeReference('redis'), 'docker.io/library/redis:latest');
  t.equal(normalizeReference('bitnami/redis:7'), 'docker.io/bitnami/redis:7');
  t.equal(normalizeReference('localhost:5000/x'), 'localhost:5000/x:latest');
  t.same(parseReference(`127.0.0.1:5000/a/b@sha256:${'a'.repeat(64)}`), { domain: '127.0.0.1:5000', path: 'a/b', digest: `sha256:${'a'.repeat(64)}` });
  t.throws(() => parseReference('Bad/Name'), /bad repository component/);
});

t.test('challenges, the token cache and platform choice', async (t) => {
  t.same(parseChallenge('Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push"'), {
    scheme: 'bearer',
    params: { realm: 'https://auth.example/token', service: 'registry.example', scope: 'repository:a/b:pull,push' },
  });
  t.same(parseChallenge('Basic realm="x"'), { scheme: 'basic', params: { realm: 'x' } });
  let now = 1_000_000;
  const cache = new TokenCache(() => now);
  cache.set('k', 'tok', 60);
  t.equal(cache.get('k'), 'tok');
  now += 49_000;
  t.equal(cache.get('k'), 'tok', 'still valid 11 s before expiry');
  now += 2_000;
  t.equal(cache.get('k'), undefined, 'dropped in its last 10 s');

  const entries = [
    { mediaType: 'm', digest: 'sha256:1', size: 1, platform: { os: 'linux', architecture: 'amd64' } },
    { mediaType: 'm', digest: 'sha256:2', size: 1, platform: { os: 'linux', architecture: 'arm', variant: 'v6' } },
    { mediaType: 'm', digest: 'sha256:3', size: 1, platform: { os: 'linux', architecture: 'arm', variant: 'v7' } },
    { mediaType: 'm', digest: 'sha256:4', size: 1, platform: { os: 'linux', architecture: 'arm64' } },
    { mediaType: 'm', digest: 'sha256:5', size: 1, platform: { os: 'unknown', architecture: 'unknown' } },
  ];
  t.equal(selectPlatform(entries, { os: 'linux', architecture: 'arm', variant: 'v7' }, 'x').digest, 'sha256:3');
  t.equal(selectPlatform(entries, { os: 'linux', architecture: 'arm64', variant: 'v8' }, 'x').digest, 'sha256:4', 'arm64 without a variant is v8');
  t.throws(() => selectPlatform(entries, { os: 'linux', architecture: 's390x' }, 'img'), /img has no image for linux\/s390x: it has linux\/amd64, linux\/arm\/v6, linux\/arm\/v7, linux\/arm64$/);
});

t.test('plain HTTP only for loopback and listed registries', async (t) => {
  t.equal(registryBaseUrl('docker.io').href, 'https://registry-1.docker.io/');
  t.equal(registryBaseUrl('localhost:5000').protocol, 'http:');
  t.equal(registryBaseUrl('127.0.0.1:5000').protocol, 'http:');
  t.equal(registryBaseUrl('registry.lan:5000').protocol, 'https:');
  t.equal(registryBaseUrl('registry.lan:5000', ['registry.lan']).protocol, 'http:');
  t.equal(registryBaseUrl('registry.lan:5000', ['registry.lan:5000']).protocol, 'http:');
});

t.test('credentials from config.json: auths, a credential helper, X-Registry-Auth', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'stack-creds-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const helper = join(dir, 'docker-credential-fake');
  writeFileSync(helper, '#!/bin/sh\nread server\nif [ "$server" = "helped.example" ]; then echo "{\\"ServerURL\\":\\"$server\\",\\"Username\\":\\"hu\\",\\"Secret\\":\\"hs\\"}"; else echo "credentials not found in native keychain"; exit 1; fi\n');
  chmodSync(helper, 0o755);
  writeFileSync(join(dir, 'config.json'), JSON.stringify({
    auths: { 'https://index.docker.io/v1/': { auth: Buffer.from('hub:pw').toString('base64') }, 'reg.example:5000': { auth: Buffer.from('u:p:with:colons').toString('base64') } },
    credHelpers: { 'helped.example': 'fake' },
  }));
  const env = { DOCKER_CONFIG: dir, PATH: `${dir}:/usr/bin:/bin` };
  t.same(await findCredentials(env, 'docker.io'), { username: 'hub', password: 'pw' });
  t.same(await findCredentials(env, 'reg.example:5000'), { username: 'u', password: 'p:with:colons' });
  t.same(await findCredentials(env, 'helped.example'), { username: 'hu', password: 'hs' });
  t.equal(await findCredentials(env, 'other.example'), undefined);
  t.same(decodeAuthHeader(encodeAuthHeader('r', { username: 'a', password: 'b' })), { username: 'a', password: 'b' });
});

async function serve(t: Test, handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<number> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => {
    server.closeAllConnections();
    server.close(() => r());
  }));
  return (server.address() as { port: number }).port;
}

t.test('retries 5xx and dropped connections with backoff, then gives up', async (t) => {
  let calls = 0;
  const port = await serve(t, (req, res) => {
    calls++;
    if (req.url === '/flaky' && calls < 3) return void res.writeHead(503).end();
    if (req.url === '/drop') return void req.socket.destroy();
    res.end('ok');
  });
  const waits: number[] = [];
  const transport = new RegistryTransport({ attempts: 4, backoffMs: 100, sleep: async (ms) => void waits.push(ms) });
  t.teardown(() => transport.close());
  const res = await transport.request({ method: 'GET', url: new URL(`http://127.0.0.1:${port}/flaky`) });
  t.equal(res.statusCode, 200);
  t.equal((await readBody(res, 100)).toString(), 'ok');
  t.same(waits, [100, 200], 'two retries, the second waited twice as long');
  waits.length = 0;
  await t.rejects(transport.request({ method: 'GET', url: new URL(`http://127.0.0.1:${port}/drop`) }), /cannot reach 127\.0\.0\.1:\d+: socket hang up/);
  t.same(waits, [100, 200, 400], 'tried four times in all');
});

t.test('a redirect to another origin drops Authorization; to the same origin keeps it', async (t) => {
  const seen: Array<{ url: string; auth: string | undefined }> = [];
  const storage = await serve(t, (req, res) => {
    seen.push({ url: `storage${req.url}`, auth: req.headers.authorization });
    res.end('blob');
  });
  const registry = await serve(t, (req, res) => {
    seen.push({ url: `registry${req.url}`, auth: req.headers.authorization });
    if (req.url === '/away') return void res.writeHead(307, { Location: `http://127.0.0.1:${storage}/data` }).end();
    if (req.url === '/here') return void res.writeHead(302, { Location: '/final' }).end();
    res.end('final');
  });
  const transport = new RegistryTransport();
  t.teardown(() => transport.close());
  const headers = { Authorization: 'Bearer secret' };
  (await transport.request({ method: 'GET', url: new URL(`http://127.0.0.1:${registry}/away`), headers })).resume();
  (await transport.request({ method: 'GET', url: new URL(`http://127.0.0.1:${registry}/here`), headers })).resume();
  t.same(seen, [
    { url: 'registry/away', auth: 'Bearer secret' },
    { url: 'storage/data', auth: undefined },
    { url: 'registry/here', auth: 'Bearer secret' },
    { url: 'registry/final', auth: 'Bearer secret' },
  ]);
});
