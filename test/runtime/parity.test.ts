// One bundle, two runtimes: runc (Debian's, the reference) and our shim must show the
// process the same world: pid 1, hostname, capability sets, no_new_privs, the mount
// table's shape, /dev, its cgroups, network interfaces, user and exit code; and with a
// terminal for pid 1, the same terminal. (Their start times are compared in bench/runtime.ts.)
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { RLIM_INFINITY, writeBundle, type ContainerSpec } from '../../src/runtime/bundle.js';
import { RuncRuntime } from '../../src/runtime/shim-runtime.js';
import { leftoverCgroups, makeHarness, skipReason } from './fixtures.js';

const runcMissing = spawnSync('runc', ['--version']).status !== 0 ? 'parity needs runc (apt-get install runc)' : undefined;
const pythonMissing = spawnSync('python3', ['-c', 'import pty']).status !== 0 ? 'parity of terminals needs python3 (runc wants one of its own)' : undefined;
const reason = skipReason() ?? runcMissing ?? pythonMissing;
if (reason) {
  t.plan(0, reason);
} else {
  const h = makeHarness('parity');
  t.teardown(() => h.cleanup());
  const runcRoot = join(h.root, 'runc-state');
  mkdirSync(runcRoot);
  const runc = new RuncRuntime({ root: runcRoot });

  const probe = [
    'echo pid=$$',
    'hostname',
    'grep -E "^(Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs)" /proc/self/status | tr -d "\\t"',
    'echo mounts:; awk \'{print $2, $3}\' /proc/self/mounts',
    'echo dev: $(ls -A /dev)',
    'echo cgroups:; grep -E ":(memory|cpu|pids)(,[a-z]+)*:" /proc/self/cgroup | sed "s/^[0-9]*://"',
    'echo net: $(ls /sys/class/net)',
    'id',
    'echo umask=$(umask) cwd=$(pwd)',
    'echo limits: $(ulimit -c) $(ulimit -Hc) $(ulimit -n) $(ulimit -Hn)',
    'echo shm: $(grep " /dev/shm " /proc/mounts | grep -o "size=[0-9]*k")',
    'echo somaxconn=$(cat /proc/sys/net/core/somaxconn) oom=$(cat /proc/self/oom_score_adj)',
    'exit 5',
  ].join('; ');

  t.test('runc and the shim show the process the same world', async (t) => {
    const id = h.newId();
    const spec: Omit<ContainerSpec, 'rootfs'> = {
      args: ['sh', '-c', probe],
      hostname: 'parity',
      cwd: '/tmp',
      user: { uid: 1000, gid: 1000, additionalGids: [29] },
      capAdd: ['NET_ADMIN'],
      resources: { memoryBytes: 64 << 20, pidsLimit: 30, cpuShares: 256 },
      rlimits: [{ type: 'RLIMIT_CORE', soft: 0, hard: RLIM_INFINITY }, { type: 'RLIMIT_NOFILE', soft: 100, hard: 200 }],
      shmSizeBytes: 32 << 20,
      sysctls: { 'net.core.somaxconn': '333' },
      oomScoreAdj: 250,
      cgroupsPath: `stack-${id}`,
    };
    const asRoot = { ...spec, user: undefined };
    for (const [label, s] of [['as a user', spec], ['as root', asRoot]] as const) {
      const bundle = await writeBundle(join(h.root, 'bundles', `${id}-${label.replace(' ', '-')}`), { ...s, rootfs: h.rootfs });
      const underRunc = await runc.run(`${id}-runc`, bundle);
      await runc.delete(`${id}-runc`);
      t.equal(underRunc.stderr, '', `${label}: runc ran cleanly`);
      t.same(leftoverCgroups(id), [], `${label}: runc removed its cgroups, so the shim can use the same path`);

      const shimId = h.newId();
      await h.runtime.start(shimId, bundle);
      const state = await h.runtime.waitForExit(shimId, 10_000);
      const logs = await h.runtime.logs(shimId);
      const stdout = logs.filter((l) => l.stream === 'stdout').map((l) => l.log).join('');
      const stderr = logs.filter((l) => l.stream === 'stderr').map((l) => l.log).join('');
      await h.runtime.delete(shimId);

      t.equal(stderr, '', `${label}: the shim ran cleanly`);
      t.equal(stdout, underRunc.stdout, `${label}: the same view from inside`);
      t.equal(state.exitCode, underRunc.exitCode, `${label}: the same exit code`);
      t.equal(state.exitCode, 5);
      t.match(stdout, /^pid=1\nparity\n/);
      t.match(stdout, /\nlimits: 0 unlimited 100 200\nshm: size=32768k\nsomaxconn=333 oom=250\n/, `${label}: rlimits (one unlimited), /dev/shm size, a sysctl, the OOM score`);
      t.match(stdout, new RegExp(`\nmemory:/.*stack-${id}\n`), `${label}: in its own memory cgroup`);
    }
  });

  // runc in the foreground relays a terminal container to its own terminal, which it
  // must have: python's pty gives it one. Its size is the spec's consoleSize, which runc
  // sets before exec and then again from its own terminal's size, after a while: the two
  // agree, so no probe can see the change.
  const ON_A_TERMINAL = [
    'import os, pty, sys, fcntl, termios, struct, select',
    'pid, fd = pty.fork()',
    'if pid == 0:',
    '    fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))',
    '    os.execvp(sys.argv[1], sys.argv[1:])',
    'out = b""',
    'while True:',
    '    r, _, _ = select.select([fd], [], [], 10)',
    '    if not r: break',
    '    try: d = os.read(fd, 4096)',
    '    except OSError: break',
    '    if not d: break',
    '    out += d',
    '_, st = os.waitpid(pid, 0)',
    'sys.stdout.write(out.decode(errors="replace"))',
    'sys.stdout.write("EXIT=%d" % os.waitstatus_to_exitcode(st))',
  ].join('\n');

  t.test('process.terminal: runc and the shim give pid 1 the same terminal', async (t) => {
    const id = h.newId();
    const terminalProbe = [
      'tty', 'stty size', '[ -t 0 ] && [ -t 2 ] && echo stdio-on-it', 'ls -A /dev/pts | tr "\\n" " "; echo',
      'ls -l /dev/console | cut -c1-30', 'grep -E " /dev/(pts|console) " /proc/self/mountinfo | cut -d" " -f4-', 'stat -c "%u %g %a" $(tty)', 'exit 6',
    ].join('; ');
    const bundle = await writeBundle(join(h.root, 'bundles', `${id}-terminal`), {
      args: ['sh', '-c', terminalProbe], terminal: true, consoleSize: { rows: 30, cols: 100 }, user: { uid: 1000, gid: 1000 }, cgroupsPath: `stack-${id}`, rootfs: h.rootfs,
    });
    const underRunc = spawnSync('python3', ['-c', ON_A_TERMINAL, 'runc', '--root', runcRoot, 'run', '--bundle', bundle, `${id}-runc`], { encoding: 'utf8', timeout: 20_000 });
    await runc.delete(`${id}-runc`);
    t.equal(underRunc.stderr, '', 'runc ran cleanly');
    const shimId = h.newId();
    await h.runtime.start(shimId, bundle);
    const state = await h.runtime.waitForExit(shimId, 10_000);
    const shimOutput = (await h.runtime.logs(shimId)).map((l) => l.log).join('');
    await h.runtime.delete(shimId);
    t.equal(`${shimOutput}EXIT=${state.exitCode}`, underRunc.stdout, 'the same terminal from inside, the same exit code');
    t.match(shimOutput, /^\/dev\/pts\/0\r\n30 100\r\nstdio-on-it\r\n0 ptmx \r\n/);
    t.match(shimOutput, /\r\n1000 5 620\r\n$/, 'the terminal belongs to the process\'s user, group tty');
    t.same(leftoverCgroups(id), [], 'no cgroups left');
  });
}
