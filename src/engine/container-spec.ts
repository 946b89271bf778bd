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
import { resolveUser, rootfsReader, type ContainerMount, type ContainerResources, type ContainerSpec } from '../runtime/bundle.js';

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
  if (config.Tty) throw new UsageError('a TTY for the main process (-t) is not supported by this engine yet; use "exec -it" for a shell');
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
  if (config.User) {
    try {
      spec.user = await resolveUser(config.User, rootfsReader(rootfs));
    } catch (err) {
      throw new UsageError(`user "${config.User}": ${(err as Error).message}`, { cause: err });
    }
  }
  const resources = containerResources(host);
  if (resources) spec.resources = resources;
  return spec;
}
