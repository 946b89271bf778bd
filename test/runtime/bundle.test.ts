// ContainerSpec -> OCI config.json: Docker's defaults, capability arithmetic, resources,
// and user/group names resolved from the image's own /etc files. Pure; runs as anyone.
import t from 'tap';
import {
  buildRuntimeSpec, DEFAULT_CAPABILITIES, DEFAULT_DEVICE_RULES, DEFAULT_MASKED_PATHS, DEFAULT_READONLY_PATHS,
  effectiveCapabilities, ociConfigJson, resolveGroups, resolveUser, RLIM_INFINITY, type RootfsReader,
} from '../../src/runtime/bundle.js';

t.test('defaults: namespaces, mounts, masked and read-only paths, default capabilities, no_new_privs', async (t) => {
  const spec = buildRuntimeSpec({ rootfs: '/r', args: ['sh'] });
  t.same(spec.linux.namespaces.map((n) => n.type), ['pid', 'network', 'ipc', 'uts', 'mount']);
  t.same(spec.mounts.map((m) => `${m.destination} ${m.type}`), [
    '/proc proc', '/dev tmpfs', '/dev/pts devpts', '/sys sysfs', '/dev/mqueue mqueue', '/dev/shm tmpfs',
  ]);
  t.same(spec.linux.maskedPaths, DEFAULT_MASKED_PATHS);
  t.same(spec.linux.readonlyPaths, DEFAULT_READONLY_PATHS);
  t.equal(spec.process.capabilities.effective.length, 14);
  t.same(new Set(spec.process.capabilities.bounding), new Set(DEFAULT_CAPABILITIES));
  t.same(spec.process.capabilities.inheritable, []);
  t.same(spec.process.capabilities.ambient, []);
  t.equal(spec.process.noNewPrivileges, true);
  t.same(spec.process.env, ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin']);
  t.equal(spec.process.cwd, '/');
  t.same(spec.process.user, { uid: 0, gid: 0 });
  t.same(spec.root, { path: '/r', readonly: false });
  t.notOk('rlimits' in spec.process, 'no rlimits unless asked: raising NOFILE/NPROC is refused on some hosts');
  t.same(spec.linux.resources, { devices: DEFAULT_DEVICE_RULES }, 'only device rules');
  t.same(spec.linux.resources?.devices?.[0], { allow: false, access: 'rwm' }, 'devices: deny all first');
  t.notOk('hostname' in spec);
  t.notOk('annotations' in spec);
  t.same(buildRuntimeSpec({ rootfs: '/r', args: ['a'], init: true }).annotations, { 'stack.init': 'true' });
});

t.test('host network, hostname, env with PATH kept, mounts, rlimits, cgroupsPath', async (t) => {
  const spec = buildRuntimeSpec({
    rootfs: '/r', args: ['a'], network: 'host', hostname: 'h', env: ['PATH=/x', 'A=1'],
    mounts: [{ type: 'bind', source: '/src', target: '/dst', readonly: true }, { type: 'tmpfs', target: '/t', sizeBytes: 1024, mode: 0o1777 }],
    rlimits: [{ type: 'RLIMIT_NOFILE', soft: 10, hard: 10 }], cgroupsPath: 'stack-x',
  });
  t.same(spec.linux.namespaces.map((n) => n.type), ['pid', 'ipc', 'uts', 'mount']);
  t.equal(spec.hostname, 'h');
  t.same(spec.process.env, ['PATH=/x', 'A=1']);
  t.same(spec.mounts.slice(-2), [
    { destination: '/dst', type: 'bind', source: '/src', options: ['rbind', 'ro'] },
    { destination: '/t', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'size=1024', 'mode=1777'] },
  ]);
  t.same(spec.process.rlimits, [{ type: 'RLIMIT_NOFILE', soft: 10, hard: 10 }]);
  t.equal(spec.linux.cgroupsPath, 'stack-x');
});

t.test('resources map to linux.resources', async (t) => {
  const spec = buildRuntimeSpec({
    rootfs: '/r', args: ['a'],
    resources: { memoryBytes: 100, memorySwapBytes: 200, cpuShares: 512, cpuQuotaMicros: 50000, cpuPeriodMicros: 100000, pidsLimit: 7 },
  });
  t.same(spec.linux.resources, {
    devices: DEFAULT_DEVICE_RULES,
    memory: { limit: 100, swap: 200 }, cpu: { shares: 512, quota: 50000, period: 100000 }, pids: { limit: 7 },
  });
});

t.test('capabilities: add, drop, ALL, privileged, unknown names', async (t) => {
  t.same(effectiveCapabilities({ capAdd: ['net_admin'], capDrop: ['CAP_CHOWN', 'MKNOD'] }).sort(),
    [...DEFAULT_CAPABILITIES.filter((c) => c !== 'CAP_CHOWN' && c !== 'CAP_MKNOD'), 'CAP_NET_ADMIN'].sort());
  t.same(effectiveCapabilities({ capDrop: ['ALL'], capAdd: ['NET_BIND_SERVICE'] }), ['CAP_NET_BIND_SERVICE']);
  t.equal(effectiveCapabilities({ capAdd: ['ALL'] }).length, 41);
  t.equal(effectiveCapabilities({ privileged: true, capDrop: ['SYS_ADMIN'] }).length, 40);
  t.throws(() => effectiveCapabilities({ capAdd: ['NET_ADMINN'] }), new TypeError('unknown capability CAP_NET_ADMINN'));
  const privileged = buildRuntimeSpec({ rootfs: '/r', args: ['a'], privileged: true });
  t.same(privileged.linux.maskedPaths, []);
  t.same(privileged.linux.readonlyPaths, []);
  t.same(privileged.linux.resources?.devices, [{ allow: true, access: 'rwm' }], 'every device');
});

t.test('an empty command is refused', async (t) => {
  t.throws(() => buildRuntimeSpec({ rootfs: '/r', args: [] }), new TypeError('a container needs a program to run (args is empty)'));
});

const files: Record<string, string> = {
  '/etc/passwd': 'root:x:0:0:root:/root:/bin/sh\n# comment\nwww:x:33:33:www:/var/www:/bin/false\napp:x:1000:1000::/home/app:/bin/sh\n',
  '/etc/group': 'root:x:0:\nwww:x:33:\naudio:x:29:app,www\nvideo:x:44:app\napp:x:1000:\n',
};
const read: RootfsReader = async (path) => files[path];
const empty: RootfsReader = async () => undefined;

t.test('resolveUser: names and numbers from the image', async (t) => {
  t.same(await resolveUser('app', read), { uid: 1000, gid: 1000, additionalGids: [29, 44] });
  t.same(await resolveUser('www', read), { uid: 33, gid: 33, additionalGids: [29] });
  t.same(await resolveUser('app:www', read), { uid: 1000, gid: 33, additionalGids: [29, 44] });
  t.same(await resolveUser('1000', read), { uid: 1000, gid: 1000, additionalGids: [29, 44] });
  t.same(await resolveUser('4242:4343', read), { uid: 4242, gid: 4343 }, 'unknown numbers pass through');
  t.same(await resolveUser('4242', empty), { uid: 4242, gid: 0 }, 'an image without /etc/passwd');
  await t.rejects(resolveUser('nobody', read), new TypeError("user nobody is not in the image's /etc/passwd"));
  await t.rejects(resolveUser('app:staff', read), new TypeError("group staff is not in the image's /etc/group"));
  await t.rejects(resolveUser(':1', read), new TypeError('user ":1" names no user'));
});

t.test('shm size, sysctls, oom score and an unlimited rlimit as runtimes read them', async (t) => {
  const plain = buildRuntimeSpec({ rootfs: '/r', args: ['sh'] });
  t.ok(plain.mounts.find((m) => m.destination === '/dev/shm')!.options.includes(`size=${64 * 1024 * 1024}`), '64 MiB by default, as Docker');
  t.notOk('sysctl' in plain.linux);
  t.notOk('oomScoreAdj' in plain.process);
  const spec = buildRuntimeSpec({
    rootfs: '/r', args: ['sh'], shmSizeBytes: 1 << 27, sysctls: { 'net.core.somaxconn': '1024' }, oomScoreAdj: -500,
    rlimits: [{ type: 'RLIMIT_MEMLOCK', soft: RLIM_INFINITY, hard: RLIM_INFINITY }, { type: 'RLIMIT_CORE', soft: 0, hard: RLIM_INFINITY }],
  });
  t.ok(spec.mounts.find((m) => m.destination === '/dev/shm')!.options.includes(`size=${1 << 27}`));
  t.same(spec.linux.sysctl, { 'net.core.somaxconn': '1024' });
  t.equal(spec.process.oomScoreAdj, -500);
  const text = ociConfigJson(spec);
  t.match(text, /"type": "RLIMIT_MEMLOCK",\s*"soft": 18446744073709551615,\s*"hard": 18446744073709551615/);
  t.match(text, /"type": "RLIMIT_CORE",\s*"soft": 0,\s*"hard": 18446744073709551615/);
  t.notMatch(text, 'unlimited', 'the JSON carries numbers only');
});

t.test('resolveGroups: names from the image\'s /etc/group, numbers as they are', async (t) => {
  const read: RootfsReader = async (path) => (path === '/etc/group' ? 'root:x:0:\nmail:x:8:\nstaff:x:50:alice\n' : undefined);
  t.same(await resolveGroups(['mail', '1234', 'staff'], read), [8, 1234, 50]);
  await t.rejects(resolveGroups(['nosuch'], read), /group nosuch is not in the image's \/etc\/group/);
});
