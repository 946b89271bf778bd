// Coexistence with a running Docker, for real: Debian's dockerd with its iptables rules (FORWARD
// policy DROP, DOCKER-USER, DOCKER-ISOLATION-*) and our engine share one scratch network
// namespace, so neither touches the host's links or rules. With real traffic, inside that
// namespace only: our containers reach each other and our published ports answer; Docker's
// published port and docker0 still work; the two sides cannot reach each other's container
// addresses; after dockerd restarts (and re-inserts its jumps on top of FORWARD) our traffic
// still flows; and when we are gone, only Docker's rules are left, as Docker left them.
import t from 'tap';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readlinkSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiClient } from '../../src/client/api-client.js';
import type { ContainerInspect } from '../../src/common/api-types.js';
import { makeBusyboxImage } from '../../src/image/bootstrap.js';
import { packTar, type TarEntry } from '../../src/image/pack-tar.js';
import { ImageStore } from '../../src/image/store.js';
import { runCommand } from '../../src/network/command.js';
import { BUSYBOX_IMAGE, engineSkipReason, settled } from '../api/engine-harness.js';
import { runCli } from '../cli/run-cli.js';

const DOCKERD = '/usr/sbin/dockerd';
// Debian's client, matching its daemon.
const DOCKER = '/usr/bin/docker';
const DOCKER_IMAGE = 'stack-coexist-busybox:latest';
const DOCKER_PORT = 8081;
const STACKD = resolve(import.meta.dirname, '../../../bin/stackd.js');

function skipReason(): string | false {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces, iptables, dockerd)';
  if (!existsSync(DOCKERD) || !existsSync(DOCKER)) return `needs Debian's docker.io (${DOCKERD}, ${DOCKER}): apt-get install docker.io`;
  return engineSkipReason() ?? false;
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Everything this test starts, so that teardown can stop it whatever step failed. */
class Coexistence {
  readonly base = mkdtempSync(join(tmpdir(), 'stack-coexist-'));
  readonly netns = join(this.base, 'netns');
  readonly stack = { root: join(this.base, 'stack', 'root'), runRoot: join(this.base, 'stack', 'run'), socket: join(this.base, 'stack', 'run', 'stack.sock') };
  readonly docker = {
    dataRoot: join(this.base, 'docker', 'data'),
    execRoot: join(this.base, 'docker', 'exec'),
    pidfile: join(this.base, 'docker', 'dockerd.pid'),
    socket: join(this.base, 'docker', 'docker.sock'),
    config: join(this.base, 'docker', 'daemon.json'),
    clientConfig: join(this.base, 'docker', 'client'),
    log: join(this.base, 'docker', 'dockerd.log'),
  };
  readonly client = new ApiClient(this.stack.socket);
  private nsMounted = false;
  readonly hadRunDocker = existsSync('/run/docker');
  stackd?: ChildProcess;
  dockerd?: ChildProcess;

  /** The scratch namespace: a file bound to a new network namespace, lo up. */
  makeNamespace(): void {
    writeFileSync(this.netns, '');
    execFileSync('unshare', [`--net=${this.netns}`, 'true']);
    this.nsMounted = true;
    this.inNs(['ip', 'link', 'set', 'lo', 'up']);
  }

  /** The scratch namespace's inode, as /proc/PID/ns/net names it. */
  nsId(): string {
    return `net:[${statSync(this.netns).ino}]`;
  }

  inNs(argv: string[]): string {
    return execFileSync('nsenter', [`--net=${this.netns}`, ...argv], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  }

  /** What an HTTP server answers to busybox wget run in the scratch namespace, or undefined. */
  async fetchInNs(url: string): Promise<string | undefined> {
    try {
      // timeout(1), not wget -T, which crashes Debian's busybox-static.
      return (await runCommand(['timeout', '3', 'nsenter', `--net=${this.netns}`, '/bin/busybox', 'wget', '-q', '-O', '-', url])).trim();
    } catch {
      return undefined;
    }
  }

  /** The same, asked a few times while a server comes up: bounded. */
  async fetchInNsSoon(url: string): Promise<string | undefined> {
    for (let i = 0; i < 20; i++) {
      const got = await this.fetchInNs(url);
      if (got !== undefined) return got;
      await sleep(150);
    }
    return undefined;
  }

  async startDockerd(): Promise<void> {
    for (const d of [this.docker.dataRoot, this.docker.execRoot, this.docker.clientConfig]) mkdirSync(d, { recursive: true });
    // An empty config file, so no /etc/docker/daemon.json of the machine applies.
    writeFileSync(this.docker.config, '{}\n');
    const logFd = openSync(this.docker.log, 'a');
    // dockerd starts and supervises its own containerd under the exec root (nothing listens on
    // /run/containerd here), so that containerd is in the scratch namespace and stops with it.
    this.dockerd = spawn('nsenter', [
      `--net=${this.netns}`, DOCKERD,
      '--config-file', this.docker.config,
      '--data-root', this.docker.dataRoot,
      '--exec-root', this.docker.execRoot,
      '--pidfile', this.docker.pidfile,
      '--host', `unix://${this.docker.socket}`,
      '--iptables=true',
      '--ip6tables=false',
    ], { stdio: ['ignore', logFd, logFd] });
    closeSync(logFd);
    for (let i = 0; i < 240; i++) {
      if (this.dockerd.exitCode !== null) throw new Error(`dockerd exited (${this.dockerd.exitCode}): ${this.dockerLog()}`);
      if ((await this.dockerCli(['version', '--format', '{{.Server.Version}}'])).code === 0) return;
      await sleep(250);
    }
    throw new Error(`dockerd did not answer within 60 s: ${this.dockerLog()}`);
  }

  async stopDockerd(): Promise<void> {
    const d = this.dockerd;
    this.dockerd = undefined;
    if (!d || d.exitCode !== null || d.signalCode !== null) return;
    const gone = new Promise((r) => d.once('exit', r));
    d.kill('SIGTERM');
    // The grace timer is cancelled once dockerd is gone: a pending one would keep this process alive.
    const grace = new AbortController();
    const stopped = await Promise.race([gone.then(() => true), sleep(20_000, false, { signal: grace.signal }).catch(() => false)]);
    grace.abort();
    if (!stopped) {
      d.kill('SIGKILL');
      await gone;
    }
  }

  dockerLog(): string {
    try {
      return readFileSync(this.docker.log, 'utf8').trim().split('\n').slice(-8).join('\n');
    } catch {
      return '(no log)';
    }
  }

  dockerCli(args: string[], timeoutMs = 60_000): Promise<Run> {
    return new Promise((resolvePromise) => {
      const child = spawn(DOCKER, args, {
        env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', DOCKER_HOST: `unix://${this.docker.socket}`, DOCKER_CONFIG: this.docker.clientConfig },
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: timeoutMs,
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (code) => resolvePromise({ code: code ?? 1, stdout, stderr }));
    });
  }

  async startStackd(): Promise<void> {
    mkdirSync(this.stack.runRoot, { recursive: true });
    const store = await new ImageStore(join(this.stack.root, 'image')).init();
    await makeBusyboxImage(store, BUSYBOX_IMAGE);
    this.stackd = spawn('nsenter', [`--net=${this.netns}`, process.execPath, STACKD, '--root', this.stack.root, '--run-root', this.stack.runRoot, '--socket', this.stack.socket], { stdio: ['ignore', 'ignore', 'inherit'] });
    for (let i = 0; i < 200 && !(await this.client.ping()); i++) await sleep(25);
    if (!(await this.client.ping())) throw new Error('our engine did not start');
  }

  async stopStackd(): Promise<void> {
    const s = this.stackd;
    this.stackd = undefined;
    if (!s || s.exitCode !== null || s.signalCode !== null) return;
    const gone = new Promise((r) => s.once('exit', r));
    s.kill('SIGTERM');
    await gone;
  }

  stackCli(...args: string[]): Promise<Run> {
    const env = { STACK_ROOT: this.stack.root, STACK_RUN_ROOT: this.stack.runRoot, STACK_SOCKET: this.stack.socket, STACK_NO_AUTOSTART: '1', PATH: process.env.PATH ?? '/usr/bin:/bin' };
    return runCli(args, { cwd: this.base, env });
  }

  inspect(name: string): Promise<ContainerInspect> {
    return this.client.call<ContainerInspect>('GET', `/containers/${name}/json`);
  }

  /** Our containers and networks, removed through the engine. */
  async removeOurs(): Promise<void> {
    const all = await this.client.call<Array<{ Id: string }>>('GET', '/containers/json', { query: { all: 1 } });
    for (const c of all) await this.client.call('DELETE', `/containers/${c.Id}`, { query: { force: 1 } }).catch(() => undefined);
    const networks = await this.client.call<Array<{ Id: string; Name: string }>>('GET', '/networks');
    for (const n of networks) if (!['bridge', 'host', 'none'].includes(n.Name)) await this.client.call('DELETE', `/networks/${n.Id}`).catch(() => undefined);
  }

  /** Processes started for this test that are still alive: by their command line or their network namespace. */
  survivors(nsId: string): string[] {
    const left: string[] = [];
    for (const pid of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
      if (Number(pid) === process.pid) continue;
      try {
        const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
        const ns = readlinkSync(`/proc/${pid}/ns/net`);
        if (cmdline.includes(this.base) || ns === nsId) left.push(`${pid} ${cmdline}`);
      } catch {
        // Gone meanwhile.
      }
    }
    return left;
  }

  mountsUnder(): string[] {
    return readFileSync('/proc/self/mounts', 'utf8').split('\n')
      .map((l) => (l.split(' ')[1] ?? '').replace(/\\040/g, ' '))
      .filter((m) => m === this.base || m.startsWith(`${this.base}/`));
  }

  /** Teardown, once, step by step, each step tolerant of what an earlier failure left. */
  private cleaned?: Promise<{ mounts: string[]; survivors: string[] }>;

  cleanup(): Promise<{ mounts: string[]; survivors: string[] }> {
    this.cleaned ??= this.tearDown();
    return this.cleaned;
  }

  private async tearDown(): Promise<{ mounts: string[]; survivors: string[] }> {
    const nsId = this.nsMounted ? this.nsId() : '';
    if (this.stackd) await this.removeOurs().catch(() => undefined);
    await this.stopStackd().catch(() => undefined);
    if (this.dockerd) {
      const ids = (await this.dockerCli(['ps', '-aq'], 15_000)).stdout.split('\n').filter(Boolean);
      if (ids.length) await this.dockerCli(['rm', '-f', ...ids], 30_000);
    }
    await this.stopDockerd().catch(() => undefined);
    // A containerd or shim dockerd failed to stop: by its namespace or its path, nothing else.
    for (const line of nsId ? this.survivors(nsId) : []) {
      try {
        process.kill(Number(line.split(' ')[0]), 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    await sleep(100);
    for (let pass = 0; pass < 3; pass++) for (const m of this.mountsUnder().reverse()) spawnUmount(m);
    const mounts = this.mountsUnder();
    const survivors = nsId ? this.survivors(nsId) : [];
    rmSync(this.base, { recursive: true, force: true, maxRetries: 3 });
    // dockerd makes its plugin directory at a fixed place, whatever its roots; only empty ones we caused go.
    if (!this.hadRunDocker) for (const dir of ['/run/docker/plugins', '/run/docker']) removeEmptyDir(dir);
    return { mounts, survivors };
  }
}

function spawnUmount(path: string): void {
  try {
    execFileSync('umount', ['-l', path], { stdio: 'ignore' });
  } catch {
    // Already gone (a lazy unmount of a parent took it).
  }
}

function removeEmptyDir(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    // Not there, or something else put files in it: not ours to remove.
  }
}

/** A rootfs tarball of busybox and its applets, for `docker import`. */
async function busyboxRootfsTar(file: string): Promise<void> {
  const applets = execFileSync('/bin/busybox', ['--list'], { encoding: 'utf8' }).split('\n').filter((a) => a && a !== 'busybox');
  const dirs = ['bin', 'etc', 'proc', 'sys', 'dev', 'tmp'].map((d): TarEntry => ({ name: `${d}/`, type: 'directory', mode: 0o755 }));
  const entries: TarEntry[] = [
    ...dirs,
    { name: 'bin/busybox', mode: 0o755, body: readFileSync('/bin/busybox') },
    ...applets.map((a): TarEntry => ({ name: `bin/${a}`, type: 'symlink', linkname: 'busybox' })),
    { name: 'etc/passwd', mode: 0o644, body: 'root:x:0:0:root:/:/bin/sh\n' },
    { name: 'etc/group', mode: 0o644, body: 'root:x:0:\n' },
  ];
  writeFileSync(file, await packTar(entries));
}

/** iptables-save in the namespace without counters or comments, split into ours and the rest. */
function rulesIn(c: Coexistence): { ours: string[]; others: string[] } {
  const lines = c.inNs(['iptables-save']).split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.replace(/\[\d+:\d+\]/g, '[0:0]'));
  return { ours: lines.filter((l) => l.includes('STK-')), others: lines.filter((l) => !l.includes('STK-')) };
}

const skip = skipReason();

t.test('our engine and Debian\'s dockerd in one network namespace: both sides\' traffic flows, neither reaches the other\'s containers', { skip, timeout: 110_000 }, async (t) => {
  const started = Date.now();
  const c = new Coexistence();
  // On failure the teardown cleans up; on success the test's last step does, and checks it.
  t.teardown(() => c.cleanup());
  c.makeNamespace();
  // A new namespace copies the host's ip_forward (1 here). dockerd sets FORWARD DROP only when
  // it is the one that turns forwarding on, as on a machine where Docker was just installed.
  c.inNs(['sh', '-c', 'echo 0 > /proc/sys/net/ipv4/ip_forward']);

  // --- Docker first, as on a machine where it is installed ---------------------------------
  await c.startDockerd();
  t.match(c.inNs(['iptables', '-S', 'FORWARD']), /^-P FORWARD DROP$/m, 'dockerd set the FORWARD policy to DROP in the scratch namespace');
  t.match(c.inNs(['iptables', '-S', 'FORWARD']), /-j DOCKER-USER/, 'and jumps to DOCKER-USER');
  const tarball = join(c.base, 'busybox-rootfs.tar');
  await busyboxRootfsTar(tarball);
  const imported = await c.dockerCli(['import', '--change', 'ENV PATH=/bin', tarball, DOCKER_IMAGE]);
  t.equal(imported.code, 0, imported.stderr);
  const dweb = await c.dockerCli(['run', '-d', '--name', 'dweb', '--init', '-p', `${DOCKER_PORT}:80`, DOCKER_IMAGE, 'httpd', '-f', '-p', '80', '-h', '/etc']);
  t.equal(dweb.code, 0, dweb.stderr);
  const dockerIp = (await c.dockerCli(['inspect', '-f', '{{.NetworkSettings.IPAddress}}', 'dweb'])).stdout.trim();
  t.match(dockerIp, /^172\.17\.\d+\.\d+$/, 'the docker container is on docker0');

  // --- then our engine -------------------------------------------------------------------------
  await c.startStackd();
  t.equal((await c.stackCli('network', 'create', 'front')).code, 0);
  const web = await c.stackCli('run', '-d', '--name', 'web', '--network', 'front', '-p', '80', 'busybox:test', 'httpd', '-f', '-p', '80', '-h', '/etc');
  t.equal(web.code, 0, web.stderr);
  const info = await c.inspect('web');
  const ourIp = info.NetworkSettings.Networks.front!.IPAddress;
  const gateway = info.NetworkSettings.Networks.front!.Gateway;
  const port = Number(info.NetworkSettings.Ports['80/tcp']![0]!.HostPort);
  const hostname = info.Config.Hostname;
  const dockerHostname = (await c.dockerCli(['inspect', '-f', '{{.Config.Hostname}}', 'dweb'])).stdout.trim();

  // 1. Our containers reach each other, by name, through a DROP policy.
  const byName = await c.stackCli('run', '--rm', '--network', 'front', 'busybox:test', 'sh', '-c',
    'ip=$(nslookup web | sed -n \'s/^Address: *//p\' | tail -n 1) && timeout 5 wget -q -O - "http://$ip/hostname"');
  t.equal(byName.code, 0, byName.stderr);
  t.equal(byName.stdout.trim(), hostname, '1. our containers on one network reach each other by name');

  // 2. Our published port, from the namespace's host side.
  t.equal(await c.fetchInNsSoon(`http://127.0.0.1:${port}/hostname`), hostname, '2. our published port answers at 127.0.0.1');
  t.equal(await c.fetchInNs(`http://${gateway}:${port}/hostname`), hostname, '2. and at our bridge\'s gateway address');

  // 3. Docker's traffic is not broken.
  t.equal(await c.fetchInNsSoon(`http://127.0.0.1:${DOCKER_PORT}/hostname`), dockerHostname, '3. Docker\'s published port answers at 127.0.0.1');
  const dclient = await c.dockerCli(['run', '--rm', '--init', DOCKER_IMAGE, 'timeout', '5', 'wget', '-q', '-O', '-', `http://${dockerIp}/hostname`]);
  t.equal(dclient.stdout.trim(), dockerHostname, `3. another docker container reaches it on docker0 (${dclient.stderr.trim()})`);

  // 4. Neither side reaches the other's container addresses directly.
  const oursToDocker = await c.stackCli('run', '--rm', '--init', '--network', 'front', 'busybox:test', 'timeout', '3', 'wget', '-q', '-O', '-', `http://${dockerIp}/hostname`);
  t.not(oursToDocker.code, 0, `4. our container cannot reach the docker container at ${dockerIp} (got ${JSON.stringify(oursToDocker.stdout.trim())})`);
  const dockerToOurs = await c.dockerCli(['run', '--rm', '--init', DOCKER_IMAGE, 'timeout', '3', 'wget', '-q', '-O', '-', `http://${ourIp}/hostname`]);
  t.not(dockerToOurs.code, 0, `4. a docker container cannot reach our container at ${ourIp} (got ${JSON.stringify(dockerToOurs.stdout.trim())})`);

  // 5. dockerd restarts and puts its jumps back on top of FORWARD.
  await c.stopDockerd();
  await c.startDockerd();
  const forward = c.inNs(['iptables', '-S', 'FORWARD']).split('\n').filter((l) => l.startsWith('-A FORWARD'));
  t.match(forward[0] ?? '', /DOCKER/, `5. after its restart Docker's jump is first in FORWARD (${forward.slice(0, 3).join(' | ')})`);
  const restarted = await c.dockerCli(['start', 'dweb']);
  t.equal(restarted.code, 0, restarted.stderr);
  const web2 = await c.stackCli('run', '-d', '--name', 'web2', '--network', 'front', '-p', '80', 'busybox:test', 'httpd', '-f', '-p', '80', '-h', '/etc');
  t.equal(web2.code, 0, web2.stderr);
  const info2 = await c.inspect('web2');
  const forwardAfter = c.inNs(['iptables', '-S', 'FORWARD']).split('\n').filter((l) => l.startsWith('-A FORWARD'));
  t.match(forwardAfter[0] ?? '', /^-A FORWARD -j STK-[a-z0-9]+-FWD$/, '5. our container start put our jump back on top');
  const port2 = Number(info2.NetworkSettings.Ports['80/tcp']![0]!.HostPort);
  t.equal(await c.fetchInNsSoon(`http://127.0.0.1:${port2}/hostname`), info2.Config.Hostname, '5. the new container\'s published port answers');
  const peer = await c.stackCli('run', '--rm', '--init', '--network', 'front', 'busybox:test', 'timeout', '5', 'wget', '-q', '-O', '-', `http://${info2.NetworkSettings.Networks.front!.IPAddress}/hostname`);
  t.equal(peer.stdout.trim(), info2.Config.Hostname, `5. and a container of ours reaches it across the bridge (${peer.stderr.trim()})`);
  t.equal(await c.fetchInNsSoon(`http://127.0.0.1:${DOCKER_PORT}/hostname`), dockerHostname, '5. Docker\'s published port still answers');

  // When all of ours is gone, Docker's rules are as Docker left them and none of ours remain.
  const dockerRules = rulesIn(c).others;
  await c.removeOurs();
  const after = await settled(() => rulesIn(c), (rules) => rules.ours.length === 0);
  t.same(after.ours, [], '5. no STK- chain or rule is left');
  t.same(after.others, dockerRules, '5. Docker\'s rules are as Docker left them');
  t.match(c.inNs(['iptables', '-S', 'FORWARD']), /^-P FORWARD DROP$/m, 'the FORWARD policy is still Docker\'s DROP');

  const left = await c.cleanup();
  t.same(left.mounts, [], 'no mounts left under the test\'s directory');
  t.same(left.survivors, [], 'no shim, engine, dockerd, containerd or container process of this test left');
  t.notOk(existsSync(c.base), 'the test\'s directory is gone');
  if (!c.hadRunDocker) t.notOk(existsSync('/run/docker'), 'nor dockerd\'s plugin directory, when it was not there before');
  t.comment(`took ${((Date.now() - started) / 1000).toFixed(1)} s`);
});
