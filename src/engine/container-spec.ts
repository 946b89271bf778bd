// Turns what a client asked for (Docker's Config + HostConfig) and the image's config into
// the runtime's ContainerSpec: the command, environment, user, mounts and limits that go
// into the OCI bundle. Checked at create time so a bad request fails before anything is
// made; built again at each start so a restart gets a fresh bundle.

import { isAbsolute } from 'node:path';
import type { ContainerConfig, HostConfig } from '../common/api-types.js';
import { UsageError } from '../common/errors.js';
import type { ImageConfig } from '../image/store.js';
import type { ContainerSandbox } from './container-network.js';
import { validateRestartPolicy } from './restart-policy.js';
import { RLIM_INFINITY, resolveGroups, resolveUser, rootfsReader, type ContainerMount, type ContainerResources, type ContainerSpec, type Rlimit } from '../runtime/bundle.js';

/** Docker accepts a string for Cmd/Entrypoint in some clients; the engine wants lists. */
export function commandList(value: string[] | string | null | undefined): string[] | undefined {
  if (value === null || value === undefined) return undefined;
  return typeof value === 'string' ? ['/bin/sh', '-c', value] : value;
}

/** Entrypoint + Cmd of a config already merged with the image's (see mergeImageConfig). */
export function containerCommand(config: ContainerConfig): string[] {
  return [...(commandList(config.Entrypoint) ?? []), ...(commandList(config.Cmd) ?? [])];
}

/** Image env first, then the container's, a later NAME replacing an earlier one. */
export function mergeEnv(...lists: Array<readonly string[] | null | undefined>): string[] {
  const byName = new Map<string, string>();
  for (const list of lists) for (const entry of list ?? []) byName.set(entry.split('=', 1)[0]!, entry);
  return [...byName.values()];
}

const BIND_MODES = new Set(['ro', 'rw', 'z', 'Z', 'rprivate', 'private', 'rshared', 'shared', 'rslave', 'slave', 'nocopy']);

/** One `HostConfig.Binds` entry, checked: SOURCE:TARGET[:MODE,...]. A SOURCE without a leading slash names a volume. */
export function parseBind(bind: string): { source: string; target: string; modes: string[]; volume: boolean } {
  const parts = bind.split(':');
  const [source = '', target = '', mode = ''] = parts;
  if (parts.length < 2 || parts.length > 3 || target === '' || source === '') {
    throw new UsageError(`bind "${bind}" is not SOURCE:TARGET[:MODE] (e.g. /srv/data:/data:ro or a volume, data:/data)`);
  }
  if (!isAbsolute(target)) throw new UsageError(`bind "${bind}": the target "${target}" must be an absolute path in the container`);
  const modes = mode === '' ? [] : mode.split(',');
  for (const m of modes) if (!BIND_MODES.has(m)) throw new UsageError(`bind "${bind}": unknown mode "${m}" (use ro, rw or, for a volume, nocopy)`);
  return { source, target, modes, volume: !isAbsolute(source) };
}

function bindMount(bind: string): ContainerMount | undefined {
  const { source, target, modes, volume } = parseBind(bind);
  // Volumes are resolved by the engine at create (container-volumes.ts), not here.
  if (volume) return undefined;
  const propagation = modes.filter((m) => /private|shared|slave/.test(m));
  return { type: 'bind', source, target, readonly: modes.includes('ro'), ...(propagation.length ? { options: propagation } : {}) };
}

function tmpfsMount(target: string, options: string): ContainerMount {
  if (!isAbsolute(target)) throw new UsageError(`tmpfs "${target}" must be an absolute path in the container`);
  const mount: ContainerMount & { type: 'tmpfs' } = { type: 'tmpfs', target };
  const extra: string[] = [];
  for (const option of options.split(',').filter((o) => o !== '')) {
    const [key = '', value = ''] = option.split('=', 2);
    if (key === 'size') {
      const m = /^(\d+)([kmg]?)$/i.exec(value);
      if (!m) throw new UsageError(`tmpfs "${target}": size "${value}" is not a size like 64m`);
      mount.sizeBytes = Number(m[1]) * ({ '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 } as Record<string, number>)[m[2]!.toLowerCase()]!;
    } else if (key === 'mode') {
      if (!/^[0-7]{3,4}$/.test(value)) throw new UsageError(`tmpfs "${target}": mode "${value}" is not octal like 1777`);
      mount.mode = parseInt(value, 8);
    } else if (key === 'ro') mount.readonly = true;
    else if (['rw', 'noexec', 'exec', 'nosuid', 'suid', 'nodev', 'dev'].includes(key)) extra.push(key);
    else throw new UsageError(`tmpfs "${target}": unknown option "${option}"`);
  }
  if (extra.length) mount.options = extra;
  return mount;
}

export function containerMounts(host: HostConfig): ContainerMount[] {
  const mounts: ContainerMount[] = [];
  for (const bind of host.Binds ?? []) {
    const mount = bindMount(bind);
    if (mount) mounts.push(mount);
  }
  for (const m of host.Mounts ?? []) {
    if (m.Type === 'bind') {
      if (!m.Source || !isAbsolute(m.Source)) throw new UsageError(`mount at ${m.Target}: a bind needs an absolute Source`);
      mounts.push({ type: 'bind', source: m.Source, target: m.Target, readonly: m.ReadOnly ?? false });
    } else if (m.Type === 'tmpfs') {
      const t: ContainerMount & { type: 'tmpfs' } = { type: 'tmpfs', target: m.Target, readonly: m.ReadOnly ?? false };
      if (m.TmpfsOptions?.SizeBytes) t.sizeBytes = m.TmpfsOptions.SizeBytes;
      if (m.TmpfsOptions?.Mode) t.mode = m.TmpfsOptions.Mode;
      mounts.push(t);
    } else if (m.Type !== 'volume') {
      throw new UsageError(`mount at ${m.Target}: type "${m.Type}" is not supported by this engine (bind, volume and tmpfs are)`);
    }
  }
  for (const [target, options] of Object.entries(host.Tmpfs ?? {})) mounts.push(tmpfsMount(target, options));
  for (const m of mounts) if (!isAbsolute(m.target)) throw new UsageError(`mount target "${m.target}" must be an absolute path`);
  return mounts;
}

function containerResources(host: HostConfig): ContainerResources | undefined {
  const r: ContainerResources = {};
  if (host.Memory) r.memoryBytes = host.Memory;
  if (host.MemorySwap) r.memorySwapBytes = host.MemorySwap;
  if (host.MemoryReservation) r.memoryReservationBytes = host.MemoryReservation;
  if (host.CpuShares) r.cpuShares = host.CpuShares;
  if (host.NanoCpus) {
    r.cpuPeriodMicros = 100_000;
    r.cpuQuotaMicros = Math.round((host.NanoCpus / 1e9) * 100_000);
  }
  if (host.CpuQuota) r.cpuQuotaMicros = host.CpuQuota;
  if (host.CpuPeriod) r.cpuPeriodMicros = host.CpuPeriod;
  if (host.PidsLimit && host.PidsLimit > 0) r.pidsLimit = host.PidsLimit;
  return Object.keys(r).length ? r : undefined;
}

const ULIMIT_NAMES = ['as', 'core', 'cpu', 'data', 'fsize', 'locks', 'memlock', 'msgqueue', 'nice', 'nofile', 'nproc', 'rss', 'rtprio', 'rttime', 'sigpending', 'stack'];

/** `--ulimit nofile=1024:2048` as the runtime's rlimits; -1 is unlimited, as in Docker. */
export function containerRlimits(host: HostConfig): Rlimit[] {
  const seen = new Set<string>();
  return (host.Ulimits ?? []).map((u) => {
    const name = String(u?.Name ?? '').toLowerCase();
    if (!ULIMIT_NAMES.includes(name)) throw new UsageError(`ulimit "${u?.Name ?? ''}" is not a resource limit: use one of ${ULIMIT_NAMES.join(', ')}`);
    if (seen.has(name)) throw new UsageError(`ulimit ${name} is given twice: give it once`);
    seen.add(name);
    const value = (n: unknown, which: string): number | typeof RLIM_INFINITY => {
      if (n === -1) return RLIM_INFINITY;
      if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) throw new UsageError(`ulimit ${name}: the ${which} limit ${String(n)} is not a whole number (or -1 for unlimited)`);
      return n;
    };
    const soft = value(u.Soft, 'soft');
    const hard = value(u.Hard, 'hard');
    if (hard !== RLIM_INFINITY && (soft === RLIM_INFINITY || soft > hard)) {
      throw new UsageError(`ulimit ${name}: the soft limit ${u.Soft} is above the hard limit ${u.Hard}`);
    }
    return { type: `RLIMIT_${name.toUpperCase()}`, soft, hard };
  });
}

const IPC_SYSCTLS = ['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced'];

/**
 * Only sysctls of the container's own namespaces (IPC and network), as Docker allows:
 * any other would change the host. net.* needs a network namespace of the container's own.
 */
export function containerSysctls(host: HostConfig): Record<string, string> | undefined {
  const entries = Object.entries(host.Sysctls ?? {});
  for (const [key, value] of entries) {
    if (typeof value !== 'string') throw new UsageError(`sysctl ${key}: the value must be a string`);
    const net = key.startsWith('net.');
    if (!net && !IPC_SYSCTLS.includes(key) && !key.startsWith('fs.mqueue.')) {
      throw new UsageError(`sysctl ${key} is not namespaced, so setting it would change the host: only net.*, ${IPC_SYSCTLS.join(', ')} and fs.mqueue.* can be set for a container`);
    }
    const mode = host.NetworkMode ?? '';
    if (net && (mode === 'host' || mode.startsWith('container:'))) {
      throw new UsageError(`sysctl ${key}: the container shares ${mode === 'host' ? 'the host\'s' : `${mode.slice('container:'.length)}'s`} network namespace, so it cannot be set for this container alone`);
    }
  }
  return entries.length ? Object.fromEntries(entries) : undefined;
}

/** HostConfig.ConsoleSize `[height, width]` of a Tty container (docker run -t sends the caller's); none or zeros: 24 x 80. */
function consoleSize(config: ContainerConfig, host: HostConfig): { rows: number; cols: number } | undefined {
  const size = host.ConsoleSize;
  if (size === undefined || size === null) return undefined;
  const valid = (n: unknown): n is number => Number.isInteger(n) && (n as number) >= 0 && (n as number) <= 0xffff;
  if (!Array.isArray(size) || size.length !== 2 || !valid(size[0]) || !valid(size[1])) {
    throw new UsageError(`console size ${JSON.stringify(size)} is not [height, width] in characters (0 to 65535)`);
  }
  const [rows, cols] = size;
  return config.Tty && rows > 0 && cols > 0 ? { rows, cols } : undefined;
}

function checkProcessSettings(host: HostConfig): void {
  if (host.ShmSize !== undefined && (!Number.isSafeInteger(host.ShmSize) || host.ShmSize < 0)) {
    throw new UsageError(`shm size ${host.ShmSize} is not a size in bytes (0 or absent: 64 MiB)`);
  }
  if (host.OomScoreAdj !== undefined && (!Number.isInteger(host.OomScoreAdj) || host.OomScoreAdj < -1000 || host.OomScoreAdj > 1000)) {
    throw new UsageError(`oom score adjustment ${host.OomScoreAdj} is not between -1000 and 1000`);
  }
  for (const group of host.GroupAdd ?? []) {
    if (typeof group !== 'string' || group === '' || group.includes(':')) throw new UsageError(`group "${String(group)}" (group add) is not a group name or number`);
  }
  containerRlimits(host);
  containerSysctls(host);
}

/**
 * The container's config as Docker stores it: the image's defaults merged in (env,
 * command, working dir, user, labels, stop signal, health check), so inspect shows
 * what will run and a start needs nothing but the record and the layers.
 */
export function mergeImageConfig(config: ContainerConfig, image: ImageConfig['config']): ContainerConfig {
  const entrypoint = commandList(config.Entrypoint);
  const merged: ContainerConfig = {
    ...config,
    Env: mergeEnv(image.Env, config.Env),
    Entrypoint: entrypoint ?? image.Entrypoint ?? null,
    Cmd: commandList(config.Cmd) ?? (entrypoint !== undefined ? null : image.Cmd ?? null),
    WorkingDir: config.WorkingDir || image.WorkingDir || '',
    User: config.User || image.User || '',
    Labels: { ...(image.Labels ?? {}), ...(config.Labels ?? {}) },
    StopSignal: config.StopSignal || image.StopSignal || 'SIGTERM',
  };
  const imageHealth = (image as { Healthcheck?: ContainerConfig['Healthcheck'] }).Healthcheck;
  if (!config.Healthcheck && imageHealth) merged.Healthcheck = imageHealth;
  if (image.ExposedPorts || config.ExposedPorts) merged.ExposedPorts = { ...(image.ExposedPorts ?? {}), ...(config.ExposedPorts ?? {}) };
  if (image.Volumes || config.Volumes) merged.Volumes = { ...(image.Volumes ?? {}), ...(config.Volumes ?? {}) };
  return merged;
}

/** Checks what can be checked before anything is made; throws UsageError naming the field. */
export function validateContainerRequest(config: ContainerConfig, host: HostConfig): void {
  if (containerCommand(config).length === 0) {
    throw new UsageError(`image ${config.Image ?? ''} has no Cmd or Entrypoint: give a command`);
  }
  containerMounts(host);
  checkProcessSettings(host);
  consoleSize(config, host);
  if (host.RestartPolicy) validateRestartPolicy(host.RestartPolicy);
  const policy = host.RestartPolicy?.Name ?? '';
  if (host.AutoRemove && policy !== '' && policy !== 'no') {
    throw new UsageError(`auto-remove (--rm) cannot be combined with the restart policy "${policy}"`);
  }
}

/** Parents before children (a volume at /data before a bind at /data/cache), in a stable order otherwise. */
function byDepth(mounts: ContainerMount[]): ContainerMount[] {
  const depth = (m: ContainerMount): number => m.target.split('/').filter((c) => c !== '').length;
  return mounts.map((m, i) => ({ m, i })).sort((a, b) => depth(a.m) - depth(b.m) || a.i - b.i).map(({ m }) => m);
}

/** The runtime's spec for one start of the container (config already merged with the image's), its rootfs mounted at `rootfs`. */
export async function runtimeSpec(options: { id: string; rootfs: string; config: ContainerConfig; host: HostConfig; sandbox: ContainerSandbox; volumeMounts?: ContainerMount[] }): Promise<ContainerSpec> {
  const { id, rootfs, config, host, sandbox } = options;
  const hostname = config.Hostname || id.slice(0, 12);
  const userMounts = [...containerMounts(host), ...(options.volumeMounts ?? [])];
  const userTargets = new Set(userMounts.map((m) => m.target));
  const spec: ContainerSpec = {
    rootfs,
    args: containerCommand(config),
    env: mergeEnv([`HOSTNAME=${hostname}`], config.Env),
    cwd: config.WorkingDir || '/',
    hostname,
    // A user's bind of /etc/hosts (or of /etc) wins over the engine's file; parents mount before children.
    mounts: byDepth([...sandbox.mounts.filter((m) => !userTargets.has(m.target)), ...userMounts]),
    network: sandbox.network,
    cgroupsPath: `stack-${id.slice(0, 12)}`,
    readonlyRootfs: host.ReadonlyRootfs ?? false,
    privileged: host.Privileged ?? false,
    init: host.Init ?? false,
    capAdd: host.CapAdd ?? [],
    capDrop: host.CapDrop ?? [],
  };
  const read = rootfsReader(rootfs);
  if (config.User) {
    try {
      spec.user = await resolveUser(config.User, read);
    } catch (err) {
      throw new UsageError(`user "${config.User}": ${(err as Error).message}`, { cause: err });
    }
  }
  if (host.GroupAdd?.length) {
    let gids: number[];
    try {
      gids = await resolveGroups(host.GroupAdd, read);
    } catch (err) {
      throw new UsageError(`group add: ${(err as Error).message}`, { cause: err });
    }
    const user = spec.user ?? { uid: 0, gid: 0 };
    const additional = [...new Set([...(user.additionalGids ?? []), ...gids])].filter((g) => g !== user.gid);
    spec.user = additional.length ? { ...user, additionalGids: additional } : user;
  }
  const resources = containerResources(host);
  if (resources) spec.resources = resources;
  const rlimits = containerRlimits(host);
  if (rlimits.length) spec.rlimits = rlimits;
  const sysctls = containerSysctls(host);
  if (sysctls) spec.sysctls = sysctls;
  if (host.ShmSize) spec.shmSizeBytes = host.ShmSize;
  if (host.OomScoreAdj !== undefined) spec.oomScoreAdj = host.OomScoreAdj;
  if (config.Tty) {
    spec.terminal = true;
    const size = consoleSize(config, host);
    if (size) spec.consoleSize = size;
  }
  return spec;
}
