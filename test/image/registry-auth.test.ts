// Registry authentication end to end: htpasswd Basic auth on Debian's docker-registry
// (wrong password refused clearly, `stack login` then pull works, `stack logout`), and
// Docker's Bearer token protocol. For the latter the registry is NOT configured with
// `auth: token` (that needs a certificate bundle to verify signed JWTs): a small fake
// distribution front in this test challenges with Bearer, checks the tokens its own token
// server issued and proxies to the real registry; it also redirects blob GETs to another
// origin (a stand-in for blob storage) that records any Authorization it is sent.
import t, { type Test } from 'tap';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { engineSkipReason, makeEngineHarness, type EngineHarness } from '../api/engine-harness.js';
import { runCli } from '../cli/run-cli.js';
import { busyboxLayers, writeImageLayout } from './oci-layout.js';
import { pushLayout, registrySkipReason, startRegistry, type TestRegistry } from './registry-server.js';

const skip = engineSkipReason() ?? registrySkipReason() ?? false;

function tempDir(t: Test, name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `stack-${name}-`));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function engineFor(t: Test, name: string): Promise<{ engine: EngineHarness; env: Record<string, string> }> {
  const engine = await makeEngineHarness(name);
  t.teardown(() => engine.cleanup());
  const home = tempDir(t, 'home');
  return { engine, env: { ...engine.env, HOME: home } };
}

async function listen(t: Test, handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ server: Server; port: number }> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => {
    server.closeAllConnections();
    server.close(() => r());
  }));
  return { server, port: (server.address() as { port: number }).port };
}

function proxyTo(port: number, req: IncomingMessage, res: ServerResponse, path = req.url ?? '/'): void {
  const headers = { ...req.headers };
  delete headers.authorization;
  const upstream = request({ host: '127.0.0.1', port, method: req.method, path, headers }, (answer) => {
    res.writeHead(answer.statusCode ?? 502, answer.headers);
    answer.pipe(res);
  });
  upstream.on('error', () => res.destroy());
  req.pipe(upstream);
}

t.test('htpasswd Basic auth: refused without login and with a wrong password; stack login, pull, logout', { skip }, async (t) => {
  const registry = await startRegistry({ htpasswd: { user: 'alice', password: 's3cret' } });
  t.teardown(() => registry.stop());
  const layout = tempDir(t, 'layout');
  await writeImageLayout(layout, 'v1', await busyboxLayers('behind basic auth'), ['cat', '/etc/greeting']);
  await pushLayoutWithCreds(layout, registry, 'private/app:v1', 'alice:s3cret');
  const { engine, env } = await engineFor(t, 'basic');
  const cwd = engine.paths.root;
  const image = `${registry.host}/private/app:v1`;

  const anonymous = await runCli(['pull', image], { cwd, env });
  t.equal(anonymous.code, 1);
  t.match(anonymous.stderr, `${registry.host} wants credentials for private/app: log in with "stack login ${registry.host}"`);

  const wrong = await runCli(['login', '-u', 'alice', '--password-stdin', registry.host], { cwd, env, stdin: 'wrong\n' });
  t.equal(wrong.code, 1);
  t.match(wrong.stderr, `refused user "alice"`);
  t.match(wrong.stderr, 'wrong user name or password');
  t.throws(() => statSync(join(env.HOME!, '.docker', 'config.json')), 'nothing written for a refused login');

  const right = await runCli(['login', '-u', 'alice', '--password-stdin', registry.host], { cwd, env, stdin: 's3cret\n' });
  t.equal(right.code, 0, right.stderr);
  t.equal(right.stdout, 'Login Succeeded\n');
  const file = join(env.HOME!, '.docker', 'config.json');
  t.equal(statSync(file).mode & 0o777, 0o600, 'config.json is 0600');
  const config = JSON.parse(readFileSync(file, 'utf8')) as { auths: Record<string, { auth: string }> };
  t.equal(Buffer.from(config.auths[registry.host]!.auth, 'base64').toString(), 'alice:s3cret');

  const pulled = await runCli(['pull', image], { cwd, env });
  t.equal(pulled.code, 0, pulled.stderr);
  const run = await runCli(['run', '--rm', image], { cwd, env });
  t.same(run, { code: 0, stdout: 'behind basic auth\n', stderr: '' });

  const out = await runCli(['logout', registry.host], { cwd, env });
  t.equal(out.stdout, `Removing login credentials for ${registry.host}\n`);
  t.same((JSON.parse(readFileSync(file, 'utf8')) as { auths: object }).auths, {});
});

t.test('stack build: FROM a private image pulls with the login sent as X-Registry-Config', { skip }, async (t) => {
  const registry = await startRegistry({ htpasswd: { user: 'carol', password: 'b4se' } });
  t.teardown(() => registry.stop());
  const layout = tempDir(t, 'layout');
  await writeImageLayout(layout, 'v1', await busyboxLayers('a private base'), ['cat', '/etc/greeting']);
  await pushLayoutWithCreds(layout, registry, 'private/base:v1', 'carol:b4se');
  const { engine, env } = await engineFor(t, 'build-auth');
  const cwd = engine.paths.root;
  const context = tempDir(t, 'context');
  writeFileSync(join(context, 'Dockerfile'), `FROM ${registry.host}/private/base:v1\nLABEL built=on-a-private-base\n`);

  const anonymous = await runCli(['build', '-t', 'derived:v1', context], { cwd, env });
  t.equal(anonymous.code, 1);
  t.match(anonymous.stderr, `Dockerfile:1: FROM ${registry.host}/private/base:v1: unauthorized: ${registry.host} wants credentials for private/base: log in with "stack login ${registry.host}"`);
  t.notMatch(anonymous.stderr, 'bootstrap', 'no advice beside the login one');

  const bad = await engine.client.open('POST', '/build', { headers: { 'X-Registry-Config': '%%%' }, rawBody: { stream: Readable.from([]), contentType: 'application/x-tar' } }).then(() => 'accepted', (err: Error) => err.message);
  t.match(bad, 'X-Registry-Config is not base64 JSON');

  const login = await runCli(['login', '-u', 'carol', '--password-stdin', registry.host], { cwd, env, stdin: 'b4se\n' });
  t.equal(login.code, 0, login.stderr);
  const built = await runCli(['build', '-t', 'derived:v1', context], { cwd, env });
  t.equal(built.code, 0, built.stderr);
  t.match(built.stdout, `Status: Downloaded newer image for ${registry.host}/private/base:v1`);
  const run = await runCli(['run', '--rm', 'derived:v1'], { cwd, env });
  t.same(run, { code: 0, stdout: 'a private base\n', stderr: '' });
  const labels = await engine.client.call<{ Config: { Labels: Record<string, string> } }>('GET', '/images/derived:v1/json');
  t.equal(labels.Config.Labels.built, 'on-a-private-base');
});

t.test('stack up: a private image pulled and a build FROM a private image, with the user\'s login sent', { skip }, async (t) => {
  const registry = await startRegistry({ htpasswd: { user: 'dora', password: 'c0mp0se' } });
  t.teardown(() => registry.stop());
  const layout = tempDir(t, 'layout');
  await writeImageLayout(layout, 'v1', await busyboxLayers('pulled for a service'), ['cat', '/etc/greeting']);
  await pushLayoutWithCreds(layout, registry, 'private/svc:v1', 'dora:c0mp0se');
  const { engine, env } = await engineFor(t, 'up-auth');
  const cwd = tempDir(t, 'project');
  mkdirSync(join(cwd, 'derived'));
  writeFileSync(join(cwd, 'derived', 'Dockerfile'), `FROM ${registry.host}/private/svc:v1\nLABEL built=from-private\n`);
  writeFileSync(join(cwd, 'compose.yaml'), `name: upauth
services:
  pulled:
    image: ${registry.host}/private/svc:v1
  built:
    build: ./derived
`);
  t.teardown(() => runCli(['down', '-t', '0'], { cwd, env }).then(() => undefined));

  const anonymous = await runCli(['up', '-d'], { cwd, env });
  t.equal(anonymous.code, 1, 'without a login the engine (which has none) cannot pull');
  t.match(anonymous.stderr, `log in with "stack login ${registry.host}"`);

  t.equal((await runCli(['login', '-u', 'dora', '--password-stdin', registry.host], { cwd, env, stdin: 'c0mp0se\n' })).code, 0);
  const up = await runCli(['up', '-d'], { cwd, env });
  t.equal(up.code, 0, `with the login in the user's config the pull and the build's FROM work: ${up.stderr}`);
  t.match(up.stdout, 'Container upauth-pulled-1  Started');
  t.match(up.stdout, 'Container upauth-built-1  Started');
  const greeting = await runCli(['logs', 'upauth-built-1'], { cwd, env });
  t.match(greeting.stdout, 'pulled for a service', 'the built image stands on the private one (its command prints the base\'s file)');
});

async function pushLayoutWithCreds(layout: string, registry: TestRegistry, target: string, creds: string): Promise<void> {
  const { skopeo } = await import('./registry-server.js');
  await skopeo(['copy', '--dest-tls-verify=false', '--dest-creds', creds, `oci:${layout}:v1`, `docker://${registry.host}/${target}`]);
}

t.test('Bearer tokens: a token server, tokens cached per scope, no Authorization sent to blob storage', { skip }, async (t) => {
  const registry = await startRegistry();
  t.teardown(() => registry.stop());
  const layout = tempDir(t, 'layout');
  await writeImageLayout(layout, 'v1', await busyboxLayers('behind a token server', 200_000), ['cat', '/etc/greeting']);
  await pushLayout(layout, 'v1', `${registry.host}/team/app:v1`);

  const tokens = new Map<string, string>();
  const tokenRequests: Array<{ scope: string; user: string | undefined }> = [];
  const tokenServer = await listen(t, (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const basic = req.headers.authorization?.startsWith('Basic ') ? Buffer.from(req.headers.authorization.slice(6), 'base64').toString() : undefined;
    const scope = url.searchParams.getAll('scope').join(' ');
    tokenRequests.push({ scope, user: basic?.split(':')[0] });
    if (url.pathname !== '/token' || url.searchParams.get('service') !== 'test-registry') return void res.writeHead(400).end();
    if (basic !== 'bob:hunter2') return void res.writeHead(401, { 'Content-Type': 'application/json' }).end('{"details":"bad credentials"}');
    const token = randomBytes(16).toString('hex');
    tokens.set(token, scope);
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ access_token: token, expires_in: 300 }));
  });
  const storageAuth: Array<string | undefined> = [];
  const storage = await listen(t, (req, res) => {
    storageAuth.push(req.headers.authorization);
    proxyTo(registry.port, req, res);
  });
  const front = await listen(t, (req, res) => {
    const path = req.url ?? '/';
    const repo = /^\/v2\/(.+?)\/(?:manifests|blobs|tags)\//.exec(path)?.[1];
    const action = req.method === 'GET' || req.method === 'HEAD' ? 'pull' : 'push';
    const token = req.headers.authorization?.startsWith('Bearer ') ? req.headers.authorization.slice(7) : undefined;
    const granted = token !== undefined ? tokens.get(token) : undefined;
    const allowed = granted !== undefined && (repo === undefined || granted.split(' ').some((s) => s.startsWith(`repository:${repo}:`) && s.split(':')[2]!.split(',').includes(action)));
    if (!allowed) {
      const scope = repo ? `,scope="repository:${repo}:${action}"` : '';
      res.writeHead(401, { 'WWW-Authenticate': `Bearer realm="http://127.0.0.1:${tokenServer.port}/token",service="test-registry"${scope}`, 'Content-Type': 'application/json' });
      return void res.end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
    }
    if (req.method === 'GET' && /\/blobs\/sha256:/.test(path)) {
      res.writeHead(307, { Location: `http://127.0.0.1:${storage.port}${path}` });
      return void res.end();
    }
    proxyTo(registry.port, req, res);
  });

  const { engine, env } = await engineFor(t, 'bearer');
  const cwd = engine.paths.root;
  const host = `127.0.0.1:${front.port}`;
  const anonymous = await runCli(['pull', `${host}/team/app:v1`], { cwd, env });
  t.equal(anonymous.code, 1);
  t.match(anonymous.stderr, `the token server 127.0.0.1:${tokenServer.port} wants credentials: log in with "stack login ${host}"`);

  const wrong = await runCli(['login', '-u', 'bob', '-p', 'nope', host], { cwd, env });
  t.equal(wrong.code, 1);
  t.match(wrong.stderr, 'refused user "bob": wrong user name or password?');
  const login = await runCli(['login', '-u', 'bob', '--password-stdin', host], { cwd, env, stdin: 'hunter2' });
  t.equal(login.code, 0, login.stderr);

  tokenRequests.length = 0;
  const pulled = await runCli(['pull', `${host}/team/app:v1`], { cwd, env });
  t.equal(pulled.code, 0, pulled.stderr);
  t.same(tokenRequests, [{ scope: 'repository:team/app:pull', user: 'bob' }], 'one token, for the pull scope, asked with the login, used for every request');
  t.ok(storageAuth.length >= 3, 'blobs were fetched from the storage origin');
  t.same(storageAuth.filter((a) => a !== undefined), [], 'blob storage never saw an Authorization header');
  const run = await runCli(['run', '--rm', `${host}/team/app:v1`], { cwd, env });
  t.same(run, { code: 0, stdout: 'behind a token server\n', stderr: '' });

  // A push asks for a pull,push token of its own; mounting the blobs from team/app (where
  // the pull found them) needs one that may also read team/app.
  const tag = await runCli(['tag', `${host}/team/app:v1`, `${host}/team/copy:v2`], { cwd, env });
  t.equal(tag.code, 0, tag.stderr);
  tokenRequests.length = 0;
  const pushed = await runCli(['push', `${host}/team/copy:v2`], { cwd, env });
  t.equal(pushed.code, 0, pushed.stderr);
  t.same(tokenRequests.map((r) => r.scope), ['repository:team/copy:pull,push', 'repository:team/copy:pull,push repository:team/app:pull']);
  t.equal(pushed.stdout.match(/Mounted from team\/app/g)?.length, 3, 'every layer mounted, none uploaded');
});
