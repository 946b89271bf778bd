// Scratch network namespaces for the firewall tests: a "host" namespace with bridges, container
// namespaces joined to them by veths, an "outside" namespace behind the host, and busybox
// servers and clients in them. Nothing here touches the real host's links or rules, and
// cleanup() leaves no namespace file, mount, veth or process behind.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCommand, type CommandRunner } from '../../src/network/command.js';

export const BUSYBOX = '/bin/busybox';

/** Why these tests cannot run here, or undefined when they can. */
export function skipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'firewall tests need root (network namespaces)';
  if (!existsSync(BUSYBOX)) return `firewall tests need busybox-static at ${BUSYBOX}`;
  for (const tool of ['/usr/sbin/iptables-restore', '/usr/sbin/iptables-save', '/usr/bin/nsenter', '/usr/bin/unshare']) {
    if (!existsSync(tool)) return `firewall tests need ${tool} (apt-get install iptables util-linux)`;
  }
  return undefined;
}

const UDP_ECHO = `
const s = require('node:dgram').createSocket('udp4');
s.on('message', (m, r) => s.send(process.argv[2] + ' ' + r.address, r.port, r.address));
s.bind(Number(process.argv[1]));`;

// One datagram a second for at most three seconds: the first can be lost to ARP.
const UDP_ASK = `
const s = require('node:dgram').createSocket('udp4');
let tries = 0;
const ask = () => { if (tries++ === 3) { process.exitCode = 1; s.close(); return; } s.send('?', Number(process.argv[2]), process.argv[1]); };
s.on('message', (m) => { process.stdout.write(m.toString()); s.close(); clearInterval(timer); });
const timer = setInterval(ask, 1000); ask();`;

function hostLinks(): Set<string> {
  const text = execFileSync('ip', ['-o', 'link'], { encoding: 'utf8' });
  return new Set([...text.matchAll(/^\d+: ([^@:]+)/gm)].map((m) => m[1] ?? ''));
}

export class ScratchNet {
  readonly dir: string;
  private readonly namespaces: string[] = [];
  private readonly children: ChildProcess[] = [];
  private readonly linkNames: string[] = [];
  /** The real host's links before, so a name it already had (eth0) is not taken for a leak. */
  private readonly hostLinksBefore = hostLinks();

  constructor(name: string) {
    this.dir = mkdtempSync(join(tmpdir(), `stack-fw-${name}-`));
  }

  /** A new persistent network namespace bound at a file, with lo up. */
  namespace(name: string): string {
    const file = join(this.dir, `ns-${name}`);
    writeFileSync(file, '');
    execFileSync('unshare', [`--net=${file}`, 'true']);
    this.namespaces.push(file);
    this.sh(file, ['ip', 'link', 'set', 'lo', 'up']);
    return file;
  }

  sh(ns: string, argv: string[]): string {
    return execFileSync('nsenter', [`--net=${ns}`, ...argv], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  }

  /** The firewall's runner for this namespace; `onCall` sees every program it starts. */
  runner(ns: string, onCall?: (argv: string[]) => void): CommandRunner {
    return (argv, input) => {
      onCall?.(argv);
      return runCommand(['nsenter', `--net=${ns}`, ...argv], input);
    };
  }

  /** A veth pair between two namespaces, each end addressed and up. */
  link(a: string, aName: string, aCidr: string, b: string, bName: string, bCidr: string): void {
    this.sh(a, ['ip', 'link', 'add', aName, 'type', 'veth', 'peer', 'name', bName, 'netns', b]);
    this.linkNames.push(aName, bName);
    this.sh(a, ['ip', 'addr', 'add', aCidr, 'dev', aName]);
    this.sh(a, ['ip', 'link', 'set', aName, 'up']);
    this.sh(b, ['ip', 'addr', 'add', bCidr, 'dev', bName]);
    this.sh(b, ['ip', 'link', 'set', bName, 'up']);
  }

  bridge(host: string, name: string, gatewayCidr: string): void {
    this.sh(host, ['ip', 'link', 'add', name, 'type', 'bridge']);
    this.linkNames.push(name);
    this.sh(host, ['ip', 'addr', 'add', gatewayCidr, 'dev', name]);
    this.sh(host, ['ip', 'link', 'set', name, 'up']);
  }

  /** A container namespace on a bridge of `host`, as the engine would make it (hairpin on, see firewall.ts). */
  container(host: string, name: string, bridge: string, cidr: string, gateway: string): string {
    const ns = this.namespace(name);
    const hostEnd = `v${name}`;
    this.sh(host, ['ip', 'link', 'add', hostEnd, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
    this.linkNames.push(hostEnd);
    this.sh(host, ['ip', 'link', 'set', hostEnd, 'master', bridge, 'up']);
    this.sh(host, ['bridge', 'link', 'set', 'dev', hostEnd, 'hairpin', 'on']);
    this.sh(ns, ['ip', 'addr', 'add', cidr, 'dev', 'eth0']);
    this.sh(ns, ['ip', 'link', 'set', 'eth0', 'up']);
    this.sh(ns, ['ip', 'route', 'add', 'default', 'via', gateway]);
    return ns;
  }

  /** busybox httpd on port 80 whose /cgi-bin/who answers "<name> <client address>". */
  async httpServer(ns: string, name: string): Promise<void> {
    const root = join(this.dir, `www-${name}`);
    mkdirSync(join(root, 'cgi-bin'), { recursive: true });
    const script = join(root, 'cgi-bin', 'who');
    // httpd listens on a dual-stack socket and says [::ffff:10.0.0.2]; the tests compare plain IPv4.
    writeFileSync(script, `#!/bin/sh\necho "Content-Type: text/plain"\necho\na=\${REMOTE_ADDR#[[]::ffff:}\necho "${name} \${a%]}"\n`);
    chmodSync(script, 0o755);
    this.background(ns, [BUSYBOX, 'httpd', '-f', '-p', '80', '-h', root]);
    for (let i = 0; i < 50; i++) {
      if ((await this.who(ns, 'http://127.0.0.1/cgi-bin/who', 1)) !== undefined) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`httpd in ${name} did not start`);
  }

  async udpServer(ns: string, name: string, port: number): Promise<void> {
    this.background(ns, [process.execPath, '-e', UDP_ECHO, String(port), name]);
    for (let i = 0; i < 20; i++) {
      if ((await this.udpWho(ns, '127.0.0.1', port)) !== undefined) return;
    }
    throw new Error(`udp echo in ${name} did not start`);
  }

  /** What a server answers to busybox wget from `ns`, or undefined when nothing answers in `timeoutSec`. */
  async who(ns: string, url: string, timeoutSec = 2): Promise<string | undefined> {
    try {
      // timeout(1) rather than wget -T, which makes this busybox-static (1.35) crash.
      return (await runCommand(['timeout', String(timeoutSec), 'nsenter', `--net=${ns}`, BUSYBOX, 'wget', '-q', '-O', '-', url])).trim();
    } catch {
      return undefined;
    }
  }

  async udpWho(ns: string, ip: string, port: number): Promise<string | undefined> {
    try {
      const out = (await runCommand(['timeout', '6', 'nsenter', `--net=${ns}`, process.execPath, '-e', UDP_ASK, ip, String(port)])).trim();
      return out || undefined;
    } catch {
      return undefined;
    }
  }

  private background(ns: string, argv: string[]): void {
    const child = spawn('nsenter', [`--net=${ns}`, ...argv], { stdio: 'ignore' });
    this.children.push(child);
  }

  /** What is left of this scratch set-up on the real host; empty after cleanup. */
  leftovers(): string[] {
    const left: string[] = [];
    if (existsSync(this.dir)) left.push(`directory ${this.dir}`);
    for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
      if (line.includes(this.dir)) left.push(`mount ${line}`);
    }
    const now = hostLinks();
    for (const name of this.linkNames) {
      if (now.has(name) && !this.hostLinksBefore.has(name)) left.push(`link ${name} in the host namespace`);
    }
    for (const child of this.children) if (child.exitCode === null && child.signalCode === null) left.push(`process ${child.pid}`);
    return left;
  }

  async cleanup(): Promise<void> {
    await Promise.all(this.children.map((child) => new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    })));
    // With no process left inside, unmounting the file frees the namespace and every veth in it.
    for (const file of this.namespaces) {
      try {
        execFileSync('umount', [file], { stdio: 'ignore' });
      } catch {
        // Already unmounted: a failed set-up may stop half way.
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
