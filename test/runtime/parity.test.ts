// One bundle, two runtimes: runc (Debian's, the reference) and our shim must show the
// process the same world: pid 1, hostname, capability sets, no_new_privs, the mount
// table's shape, /dev, its cgroups, network interfaces, user and exit code. (Their
// start times are compared in bench/runtime.ts.)
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { RLIM_INFINITY, writeBundle, type ContainerSpec } from '../../src/runtime/bundle.js';
import { RuncRuntime } from '../../src/runtime/shim-runtime.js';
import { leftoverCgroups, makeHarness, skipReason } from './fixtures.js';

const runcMissing = spawnSync('runc', ['--version']).status !== 0 ? 'parity needs runc (apt-get install runc)' : undefined;
const reason = skipReason() ?? runcMissing;
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
}
