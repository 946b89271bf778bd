// The peer of the benchmarks: Debian's dockerd started privately (its own data and exec
// roots and socket, no bridge, no iptables, so it touches no host networking), a busybox
// image imported into it, and the tiny Unix-socket HTTP client both daemons are pinged with.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { request, type IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const DOCKERD = '/usr/sbin/dockerd';
// Debian's client, matching its daemon; /usr/local/bin/docker is a different, newer CLI.
export const DOCKER_CLI = existsSync('/usr/bin/docker') ? '/usr/bin/docker' : 'docker';

export interface HttpReply {
  status: number;
  body: string;
}

export function http(socket: string, method: string, path: string, body?: unknown, timeoutMs = 30_000): Promise<HttpReply> {
  const data = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolvePromise, reject) => {
    const req = request({
      socketPath: socket,
      method,
      path,
      headers: data === undefined ? {} : { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) },
      timeout: timeoutMs,
    });
    req.once('timeout', () => req.destroy(new Error(`${method} ${path}: timed out`)));
    req.once('error', reject);
    req.once('response', (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.once('error', reject);
      res.once('end', () => resolvePromise({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.end(data);
  });
}

export async function ping(socket: string): Promise<boolean> {
  try {
    return (await http(socket, 'GET', '/_ping', undefined, 2_000)).status === 200;
  } catch {
    return false;
  }
}

export async function waitForPing(socket: string, child: ChildProcess, what: string, timeoutMs: number, logFile?: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${what} exited (${child.exitCode ?? child.signalCode}) before serving${logFile ? `: ${tail(logFile)}` : ''}`);
    }
    if (await ping(socket)) return;
    await sleep(25);
  }
  throw new Error(`${what} did not answer on ${socket} within ${timeoutMs} ms${logFile ? `: ${tail(logFile)}` : ''}`);
}

function tail(file: string, lines = 6): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

export function ensureDocker(): string | undefined {
  if (existsSync(DOCKERD) && existsSync('/usr/bin/containerd')) return undefined;
  console.log('docker.io is not installed: apt-get install -y docker.io ...');
  const r = spawnSync('apt-get', ['install', '-y', 'docker.io'], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, stdio: ['ignore', 'pipe', 'pipe'], timeout: 600_000 });
  if (r.status !== 0) return `apt-get install -y docker.io failed (exit ${r.status ?? r.signal}): ${String(r.stderr).trim().split('\n').slice(-3).join(' / ')}`;
  if (!existsSync(DOCKERD)) return `${DOCKERD} is still missing after installing docker.io`;
  return undefined;
}

/** A busybox rootfs tarball (busybox + applet symlinks), built with tar(1). */
function busyboxRootfsTar(base: string): string {
  const dir = join(base, 'bb-rootfs');
  for (const d of ['bin', 'etc', 'proc', 'sys', 'dev', 'tmp', 'root']) mkdirSync(join(dir, d), { recursive: true });
  copyFileSync('/bin/busybox', join(dir, 'bin/busybox'));
  const list = spawnSync('/bin/busybox', ['--list'], { encoding: 'utf8' });
  for (const applet of list.stdout.split('\n')) if (applet && applet !== 'busybox') symlinkSync('busybox', join(dir, 'bin', applet));
  writeFileSync(join(dir, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  writeFileSync(join(dir, 'etc/group'), 'root:x:0:\n');
  const out = join(base, 'bb-rootfs.tar');
  const r = spawnSync('tar', ['-C', dir, '--numeric-owner', '--owner=0', '--group=0', '-cf', out, '.'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tar failed: ${r.stderr}`);
  return out;
}

/** dockerd on private roots under `base`; resolves once it answers. */
export async function startPrivateDockerd(base: string): Promise<{ dockerd: ChildProcess; env: NodeJS.ProcessEnv; version: string }> {
  const dataRoot = join(base, 'data');
  const execRoot = join(base, 'exec');
  const socket = join(base, 'docker.sock');
  const config = join(base, 'daemon.json');
  const clientConfig = join(base, 'client');
  for (const d of [dataRoot, execRoot, clientConfig]) mkdirSync(d, { recursive: true });
  writeFileSync(config, '{}\n');
  const log = join(base, 'dockerd.log');
  const logFd = openSync(log, 'a');
  const dockerd = spawn(
    DOCKERD,
    [
      '--config-file', config,
      '--data-root', dataRoot,
      '--exec-root', execRoot,
      '--pidfile', join(base, 'dockerd.pid'),
      '-H', `unix://${socket}`,
      '--bridge=none',
      '--iptables=false',
      '--ip6tables=false',
      '--ip-forward=false',
      '--ip-masq=false',
    ],
    { stdio: ['ignore', logFd, logFd], env: { ...process.env, PATH: `/usr/sbin:/usr/bin:/sbin:/bin:${process.env.PATH ?? ''}` } },
  );
  closeSync(logFd);
  await waitForPing(socket, dockerd, 'dockerd', 60_000, log);

  const env: NodeJS.ProcessEnv = { ...process.env, DOCKER_HOST: `unix://${socket}`, DOCKER_CONFIG: clientConfig };
  delete env.DOCKER_CONTEXT;
  delete env.DOCKER_TLS_VERIFY;
  const version = spawnSync(DOCKER_CLI, ['version', '--format', 'client {{.Client.Version}}, server {{.Server.Version}}'], { env, encoding: 'utf8' }).stdout.trim();
  const info = spawnSync(DOCKER_CLI, ['info', '--format', '{{.Driver}} / cgroup {{.CgroupDriver}} v{{.CgroupVersion}}'], { env, encoding: 'utf8' }).stdout.trim();

  return { dockerd, env, version: `${version}${info ? ` (${info})` : ''}` };
}

/** The busybox rootfs imported into that dockerd as `name` (CMD sh, PATH=/bin). */
export function importBusyboxImage(env: NodeJS.ProcessEnv, base: string, name: string): void {
  const tarball = busyboxRootfsTar(base);
  const imported = spawnSync(DOCKER_CLI, ['import', '--change', 'CMD ["sh"]', '--change', 'ENV PATH=/bin', tarball, name], { env, encoding: 'utf8' });
  if (imported.status !== 0) throw new Error(`docker import failed: ${imported.stderr.trim()}`);

}

/** SIGTERM (dockerd stops its containerd), then SIGKILL after `graceMs`. */
export async function stopDockerd(dockerd: ChildProcess, graceMs = 15_000): Promise<void> {
  if (dockerd.exitCode !== null || dockerd.signalCode !== null) return;
  const gone = new Promise((r) => dockerd.once('exit', r));
  dockerd.kill('SIGTERM');
  if (await Promise.race([gone.then(() => true), sleep(graceMs).then(() => false)])) return;
  dockerd.kill('SIGKILL');
  await gone;
}
