// OCI bundles for the runtime: a small typed ContainerSpec becomes an OCI runtime-spec
// config.json with Docker's defaults (capabilities, masked and read-only paths, the
// standard /proc /dev /sys mounts), so the same bundle runs under our shim or runc.

import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** What a container needs, in the engine's terms rather than the OCI spec's. */
export interface ContainerSpec {
  /** Absolute path of the root filesystem: a plain directory or an overlay the caller mounted. */
  rootfs: string;
  args: string[];
  /** `NAME=value` entries; PATH gets Docker's default when absent. */
  env?: string[];
  /** Working directory inside the container; `/` when absent. */
  cwd?: string;
  /** Numeric identity; resolve names with {@link resolveUser} first. */
  user?: ContainerUser;
  hostname?: string;
  readonlyRootfs?: boolean;
  mounts?: ContainerMount[];
  resources?: ContainerResources;
  /** Names with or without the CAP_ prefix; `ALL` adds or drops every capability. */
  capAdd?: string[];
  capDrop?: string[];
  /** Every capability, no masked or read-only paths (Docker's --privileged). */
  privileged?: boolean;
  /** Defaults to true: a setuid binary inside cannot gain privileges. */
  noNewPrivileges?: boolean;
  /** pid 1 is a minimal init that reaps orphans and forwards signals (Compose's `init: true`). */
  init?: boolean;
  /**
   * `none` (default) gives the container its own network namespace with only loopback;
   * `host` shares ours; `{ path }` joins a namespace the engine made and wired (a bridge
   * attachment), or one another container uses (`network_mode: container:NAME`).
   */
  network?: 'none' | 'host' | { path: string; setup?: NetworkAttachment };
  /** cgroup path relative to the runtime's own cgroup in every hierarchy; `stack-<id>` style. */
  cgroupsPath?: string;
  /** Extra device cgroup rules after Docker's defaults (like `--device-cgroup-rule`). */
  deviceCgroupRules?: OciDeviceRule[];
  /** Only what is listed is set: some hosts refuse raising NOFILE or NPROC. */
  rlimits?: Rlimit[];
  /** Size of /dev/shm; 64 MiB when absent. */
  shmSizeBytes?: number;
  /** Written under /proc/sys inside the container's namespaces before it runs. */
  sysctls?: Record<string, string>;
  oomScoreAdj?: number;
  /** pid 1 gets a terminal (Docker's Tty): its stdin, stdout and stderr, logged as stdout. */
  terminal?: boolean;
  /** The terminal's size; 24 x 80 when absent. */
  consoleSize?: { rows: number; cols: number };
}

/** One resource limit; `RLIM_INFINITY` for unlimited. */
export interface Rlimit {
  /** `RLIMIT_NOFILE` and the like. */
  type: string;
  soft: number | typeof RLIM_INFINITY;
  hard: number | typeof RLIM_INFINITY;
}

/** Unlimited: the OCI spec's uint64 maximum, which a JS number cannot hold, so written by {@link ociConfigJson}. */
export const RLIM_INFINITY = 'unlimited';

/**
 * A network namespace the shim makes at `path` before the container starts (and undoes if
 * the start fails): one veth per network, the host end on its bridge, the other inside with
 * the container's address; the default route via the first interface with a gateway.
 */
export interface NetworkAttachment {
  interfaces: NetworkInterface[];
}

export interface NetworkInterface {
  /** The host end, a bridge port (at most 15 characters). */
  hostVeth: string;
  /** The name inside: eth0, eth1, ... */
  name: string;
  bridge: string;
  address: string;
  prefix: number;
  mac: string;
  gateway?: string;
}

export interface ContainerUser {
  uid: number;
  gid: number;
  additionalGids?: number[];
}

export type ContainerMount =
  | { type: 'bind'; source: string; target: string; readonly?: boolean; options?: string[] }
  | { type: 'tmpfs'; target: string; readonly?: boolean; sizeBytes?: number; mode?: number; options?: string[] };

export interface ContainerResources {
  memoryBytes?: number;
  /** Memory plus swap, as OCI and cgroup v1 count it. */
  memorySwapBytes?: number;
  memoryReservationBytes?: number;
  cpuShares?: number;
  cpuQuotaMicros?: number;
  cpuPeriodMicros?: number;
  pidsLimit?: number;
}

/** The subset of the OCI runtime spec (1.0.2) we write. */
export interface OciSpec {
  ociVersion: string;
  process: {
    terminal: boolean;
    consoleSize?: { height: number; width: number };
    user: { uid: number; gid: number; additionalGids?: number[] };
    args: string[];
    env: string[];
    cwd: string;
    capabilities: Record<'bounding' | 'effective' | 'inheritable' | 'permitted' | 'ambient', string[]>;
    noNewPrivileges: boolean;
    rlimits?: Rlimit[];
    oomScoreAdj?: number;
  };
  root: { path: string; readonly: boolean };
  hostname?: string;
  /** `stack.init: "true"` asks our shim for its built-in init; other runtimes ignore it. */
  annotations?: Record<string, string>;
  mounts: OciMount[];
  linux: {
    namespaces: Array<{ type: string; path?: string }>;
    cgroupsPath?: string;
    resources?: {
      memory?: { limit?: number; swap?: number; reservation?: number };
      cpu?: { shares?: number; quota?: number; period?: number };
      pids?: { limit: number };
      devices?: OciDeviceRule[];
    };
    sysctl?: Record<string, string>;
    maskedPaths: string[];
    readonlyPaths: string[];
  };
}

export interface OciDeviceRule {
  allow: boolean;
  type?: 'a' | 'c' | 'b';
  major?: number;
  minor?: number;
  access: string;
}

/**
 * Docker's device cgroup rules: nothing but making nodes, then the usual character
 * devices. Without them a container with CAP_MKNOD could open the host's disks.
 */
export const DEFAULT_DEVICE_RULES: readonly OciDeviceRule[] = [
  { allow: false, access: 'rwm' },
  { allow: true, type: 'c', access: 'm' },
  { allow: true, type: 'b', access: 'm' },
  ...([[1, 3], [1, 5], [1, 7], [1, 8], [1, 9], [5, 0], [5, 1], [5, 2], [10, 200]] as const)
    .map(([major, minor]) => ({ allow: true, type: 'c' as const, major, minor, access: 'rwm' })),
  { allow: true, type: 'c', major: 136, access: 'rwm' },
];

export interface OciMount {
  destination: string;
  type: string;
  source: string;
  options: string[];
}

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Docker's default capability set (moby's oci/caps/defaults.go lists the same 14). */
export const DEFAULT_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW',
  'CAP_SETGID', 'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];

/** Every capability the kernel headers of Linux 5.9+ define, in bit order. */
export const ALL_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL',
  'CAP_SETGID', 'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST', 'CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER',
  'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE', 'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
];

export const DEFAULT_MASKED_PATHS: readonly string[] = [
  '/proc/asound', '/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats',
  '/proc/timer_list', '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware',
  '/sys/devices/virtual/powercap',
];

export const DEFAULT_READONLY_PATHS: readonly string[] = [
  '/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger',
];

const DEFAULT_SHM_BYTES = 64 * 1024 * 1024;

function defaultMounts(shmSizeBytes = DEFAULT_SHM_BYTES): OciMount[] {
  return [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', `size=${shmSizeBytes}`] },
  ];
}

function capabilityName(name: string): string {
  const upper = name.toUpperCase();
  return upper.startsWith('CAP_') ? upper : `CAP_${upper}`;
}

/** Docker's rule: start from the default set (or all when privileged), add, then drop; `ALL` works on either side. */
export function effectiveCapabilities(spec: Pick<ContainerSpec, 'capAdd' | 'capDrop' | 'privileged'>): string[] {
  const add = (spec.capAdd ?? []).map(capabilityName);
  const drop = (spec.capDrop ?? []).map(capabilityName);
  for (const name of [...add, ...drop]) {
    if (name !== 'CAP_ALL' && !ALL_CAPABILITIES.includes(name)) {
      throw new TypeError(`unknown capability ${name}`);
    }
  }
  let caps = new Set<string>(spec.privileged || add.includes('CAP_ALL') ? ALL_CAPABILITIES : DEFAULT_CAPABILITIES);
  for (const name of add) if (name !== 'CAP_ALL') caps.add(name);
  if (drop.includes('CAP_ALL')) caps = new Set(add.filter((n) => n !== 'CAP_ALL'));
  for (const name of drop) caps.delete(name);
  return ALL_CAPABILITIES.filter((name) => caps.has(name));
}

function userMount(mount: ContainerMount): OciMount {
  if (mount.type === 'bind') {
    return {
      destination: mount.target,
      type: 'bind',
      source: mount.source,
      options: ['rbind', mount.readonly ? 'ro' : 'rw', ...(mount.options ?? [])],
    };
  }
  const options = ['nosuid', 'nodev'];
  if (mount.readonly) options.push('ro');
  if (mount.sizeBytes !== undefined) options.push(`size=${mount.sizeBytes}`);
  if (mount.mode !== undefined) options.push(`mode=${mount.mode.toString(8)}`);
  return { destination: mount.target, type: 'tmpfs', source: 'tmpfs', options: [...options, ...(mount.options ?? [])] };
}

function resources(spec: ContainerSpec): NonNullable<OciSpec['linux']['resources']> {
  const r = spec.resources;
  const devices = spec.privileged ? [{ allow: true, access: 'rwm' }] : DEFAULT_DEVICE_RULES.map((d) => ({ ...d }));
  const out: NonNullable<OciSpec['linux']['resources']> = {
    devices: [...devices, ...(spec.deviceCgroupRules ?? []).map((d) => ({ ...d }))],
  };
  if (!r) return out;
  if (r.memoryBytes !== undefined || r.memorySwapBytes !== undefined || r.memoryReservationBytes !== undefined) {
    out.memory = {};
    if (r.memoryBytes !== undefined) out.memory.limit = r.memoryBytes;
    if (r.memorySwapBytes !== undefined) out.memory.swap = r.memorySwapBytes;
    if (r.memoryReservationBytes !== undefined) out.memory.reservation = r.memoryReservationBytes;
  }
  if (r.cpuShares !== undefined || r.cpuQuotaMicros !== undefined || r.cpuPeriodMicros !== undefined) {
    out.cpu = {};
    if (r.cpuShares !== undefined) out.cpu.shares = r.cpuShares;
    if (r.cpuQuotaMicros !== undefined) out.cpu.quota = r.cpuQuotaMicros;
    if (r.cpuPeriodMicros !== undefined) out.cpu.period = r.cpuPeriodMicros;
  }
  if (r.pidsLimit !== undefined) out.pids = { limit: r.pidsLimit };
  return out;
}

/** The OCI config for a container spec. Pure: the caller writes it. */
export function buildRuntimeSpec(spec: ContainerSpec): OciSpec {
  if (spec.args.length === 0) throw new TypeError('a container needs a program to run (args is empty)');
  const env = [...(spec.env ?? [])];
  if (!env.some((e) => e.startsWith('PATH='))) env.unshift(`PATH=${DEFAULT_PATH}`);
  const caps = effectiveCapabilities(spec);
  const namespaces: Array<{ type: string; path?: string }> = [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }];
  if (typeof spec.network === 'object') namespaces.splice(1, 0, { type: 'network', path: spec.network.path });
  else if (spec.network !== 'host') namespaces.splice(1, 0, { type: 'network' });

  const user: OciSpec['process']['user'] = { uid: spec.user?.uid ?? 0, gid: spec.user?.gid ?? 0 };
  if (spec.user?.additionalGids?.length) user.additionalGids = [...spec.user.additionalGids];

  const out: OciSpec = {
    ociVersion: '1.0.2',
    process: {
      terminal: spec.terminal ?? false,
      user,
      args: [...spec.args],
      env,
      cwd: spec.cwd ?? '/',
      // Inheritable and ambient stay empty as in Docker 23+: capabilities do not pass to non-root execs.
      capabilities: { bounding: caps, effective: caps, permitted: caps, inheritable: [], ambient: [] },
      noNewPrivileges: spec.noNewPrivileges ?? true,
    },
    root: { path: spec.rootfs, readonly: spec.readonlyRootfs ?? false },
    mounts: [...defaultMounts(spec.shmSizeBytes), ...(spec.mounts ?? []).map(userMount)],
    linux: {
      namespaces,
      maskedPaths: spec.privileged ? [] : [...DEFAULT_MASKED_PATHS],
      readonlyPaths: spec.privileged ? [] : [...DEFAULT_READONLY_PATHS],
    },
  };
  if (spec.hostname !== undefined) out.hostname = spec.hostname;
  if (spec.init) out.annotations = { 'stack.init': 'true' };
  if (typeof spec.network === 'object' && spec.network.setup) {
    out.annotations = { ...out.annotations, 'stack.network': JSON.stringify({ netns: spec.network.path, create: true, interfaces: spec.network.setup.interfaces }) };
  }
  if (spec.rlimits?.length) out.process.rlimits = spec.rlimits.map((r) => ({ ...r }));
  if (spec.oomScoreAdj !== undefined) out.process.oomScoreAdj = spec.oomScoreAdj;
  if (spec.terminal && spec.consoleSize) out.process.consoleSize = { height: spec.consoleSize.rows, width: spec.consoleSize.cols };
  if (spec.sysctls && Object.keys(spec.sysctls).length) out.linux.sysctl = { ...spec.sysctls };
  if (spec.cgroupsPath !== undefined) out.linux.cgroupsPath = spec.cgroupsPath;
  out.linux.resources = resources(spec);
  return out;
}

/** config.json's text: JSON, with an unlimited rlimit as the uint64 maximum runtimes expect. */
export function ociConfigJson(oci: OciSpec): string {
  const text = JSON.stringify(oci, null, 2).replace(/"(soft|hard)": "unlimited"/g, '"$1": 18446744073709551615');
  return `${text}\n`;
}

/** Writes <dir>/config.json (temp + rename, so a runtime never reads half of it). Returns dir. */
export async function writeBundle(dir: string, spec: ContainerSpec): Promise<string> {
  await mkdir(dir, { recursive: true });
  const config = join(dir, 'config.json');
  await writeFile(`${config}.tmp`, ociConfigJson(buildRuntimeSpec(spec)), { mode: 0o600 });
  await rename(`${config}.tmp`, config);
  return dir;
}

/** Reads a file of the image, or undefined when it has none. */
export type RootfsReader = (pathInRootfs: string) => Promise<string | undefined>;

export function rootfsReader(rootfs: string): RootfsReader {
  return async (path) => {
    try {
      return await readFile(join(rootfs, path), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  };
}

function table(text: string | undefined): string[][] {
  return (text ?? '').split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(':'));
}

const NUMERIC = /^\d+$/;

/**
 * Docker's `user` field (`name`, `uid`, `name:group`, `uid:gid`) resolved against the
 * image's /etc/passwd and /etc/group; supplementary groups are those listing the user.
 */
export async function resolveUser(user: string, read: RootfsReader): Promise<ContainerUser> {
  const [userPart = '', groupPart] = user.split(':', 2);
  if (userPart === '') throw new TypeError(`user "${user}" names no user`);
  const passwd = table(await read('/etc/passwd'));
  const groups = table(await read('/etc/group'));

  const entry = passwd.find((f) => (NUMERIC.test(userPart) ? f[2] === userPart : f[0] === userPart));
  if (!entry && !NUMERIC.test(userPart)) throw new TypeError(`user ${userPart} is not in the image's /etc/passwd`);
  const uid = Number(entry ? entry[2] : userPart);
  const name = entry?.[0];
  let gid = entry ? Number(entry[3]) : 0;
  if (groupPart !== undefined && groupPart !== '') {
    const group = groups.find((f) => (NUMERIC.test(groupPart) ? f[2] === groupPart : f[0] === groupPart));
    if (!group && !NUMERIC.test(groupPart)) throw new TypeError(`group ${groupPart} is not in the image's /etc/group`);
    gid = Number(group ? group[2] : groupPart);
  }
  const additionalGids = name === undefined
    ? []
    : groups.filter((f) => (f[3] ?? '').split(',').includes(name)).map((f) => Number(f[2])).filter((g) => g !== gid);
  return additionalGids.length ? { uid, gid, additionalGids } : { uid, gid };
}

/** Groups named (or numbered) for `--group-add`, as numbers from the image's /etc/group. */
export async function resolveGroups(names: readonly string[], read: RootfsReader): Promise<number[]> {
  const groups = table(await read('/etc/group'));
  return names.map((name) => {
    if (NUMERIC.test(name)) return Number(name);
    const group = groups.find((f) => f[0] === name);
    if (!group) throw new TypeError(`group ${name} is not in the image's /etc/group`);
    return Number(group[2]);
  });
}
