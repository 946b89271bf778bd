// A real registry for tests: Debian's docker-registry (the reference distribution
// implementation) on 127.0.0.1 and a free port, its storage in a temp dir, optionally
// behind htpasswd Basic auth; and skopeo, an independent tool, to put images into it and
// look at what is there. Every test starts its own and stops it in t.teardown.

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { freePort } from '../api/free-port.js';

const run = promisify(execFile);
const REGISTRY = '/usr/bin/docker-registry';

/** Why registry tests cannot run here, or undefined when they can. */
export function registrySkipReason(): string | undefined {
  if (!existsSync(REGISTRY)) return 'needs docker-registry (apt-get install docker-registry)';
  if (!existsSync('/usr/bin/skopeo')) return 'needs skopeo (apt-get install skopeo)';
  if (!existsSync('/usr/bin/htpasswd')) return 'needs htpasswd (apt-get install apache2-utils)';
  return undefined;
}

export interface TestRegistry {
  /** `ADDRESS:PORT` (127.0.0.1 by default), as image names spell it. */
  host: string;
  port: number;
  /** The storage root: blobs are under docker/registry/v2/blobs/sha256/<2>/<hex>/data. */
  storage: string;
  stop(): Promise<void>;
}

/** The answer to `GET /v2/`, or undefined while nothing listens. */
function probe(address: string, port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = request({ host: address, port, path: '/v2/', timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('error', () => resolve(undefined));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

/**
 * `address` is 127.0.0.1 unless a test binds the registry to a bridge gateway its engine
 * made (a non-loopback registry, which the engine reaches over HTTPS unless told otherwise).
 */
export async function startRegistry(options: { htpasswd?: { user: string; password: string }; address?: string } = {}): Promise<TestRegistry> {
  const address = options.address ?? '127.0.0.1';
  const dir = mkdtempSync(join(tmpdir(), 'stack-registry-'));
  const storage = join(dir, 'storage');
  const port = await freePort();
  let auth = '';
  if (options.htpasswd) {
    const { stdout } = await run('htpasswd', ['-Bbn', options.htpasswd.user, options.htpasswd.password]);
    writeFileSync(join(dir, 'htpasswd'), stdout);
    auth = `auth:\n  htpasswd:\n    realm: stack-test\n    path: ${join(dir, 'htpasswd')}\n`;
  }
  const config = [
    'version: 0.1',
    'log:',
    '  level: error',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${storage}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: ${address}:${port}`,
    auth,
  ].join('\n');
  writeFileSync(join(dir, 'config.yml'), config);
  const child: ChildProcess = spawn(REGISTRY, ['serve', join(dir, 'config.yml')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([gone, sleep(5000).then(() => child.kill('SIGKILL'))]);
      await gone;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  for (let i = 0; i < 200 && child.exitCode === null; i++) {
    if ((await probe(address, port)) !== undefined) return { host: `${address}:${port}`, port, storage, stop };
    await sleep(25);
  }
  await stop();
  throw new Error(`docker-registry did not start on ${address}:${port}: ${stderr.trim()}`);
}

/** skopeo, with no signature policy to satisfy and plain HTTP to the test registry. */
export async function skopeo(args: string[]): Promise<string> {
  try {
    const { stdout } = await run('skopeo', ['--insecure-policy', ...args], { maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  } catch (err) {
    throw new Error(`skopeo ${args.join(' ')} failed: ${(err as { stderr?: string }).stderr ?? (err as Error).message}`);
  }
}

/** Copies the OCI layout image `dir:tag` to `docker://host/repo` (every platform of an index). */
export async function pushLayout(dir: string, tag: string, target: string): Promise<void> {
  await skopeo(['copy', '--all', '--dest-tls-verify=false', `oci:${dir}:${tag}`, `docker://${target}`]);
}

/** The path of a blob's data in the registry's storage. */
export function registryBlobPath(registry: TestRegistry, digest: string): string {
  const hex = digest.replace(/^sha256:/, '');
  return join(registry.storage, 'docker', 'registry', 'v2', 'blobs', 'sha256', hex.slice(0, 2), hex, 'data');
}

export interface CountedRequest {
  method: string;
  /** The path without its query. */
  path: string;
  query: URLSearchParams;
  status: number;
}

export interface CountingProxy {
  /** `127.0.0.1:PORT`: image names spelled with it reach the registry through the proxy. */
  host: string;
  /** Every request answered so far, in order. */
  requests: CountedRequest[];
  stop(): Promise<void>;
}

/**
 * A plain HTTP proxy on 127.0.0.1 in front of a test registry that notes each request and
 * its answer. Host headers pass unchanged, so the registry's Location headers point back at
 * the proxy and a whole push goes through it. `addAnswerHeaders` adds headers to answers
 * (what a registry other than docker-registry would say, e.g. OCI-Chunk-Min-Length).
 */
export async function startCountingProxy(registry: TestRegistry, addAnswerHeaders: (method: string, path: string) => Record<string, string> = () => ({})): Promise<CountingProxy> {
  const requests: CountedRequest[] = [];
  const server = createHttpServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://proxy');
    const upstream = request({ host: '127.0.0.1', port: registry.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      requests.push({ method: req.method ?? '', path: url.pathname, query: url.searchParams, status: answer.statusCode ?? 0 });
      res.writeHead(answer.statusCode ?? 502, { ...answer.headers, ...addAnswerHeaders(req.method ?? '', url.pathname) });
      answer.pipe(res);
    });
    upstream.on('error', (err) => res.destroy(err));
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    host: `127.0.0.1:${port}`,
    requests,
    stop: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
