// What a watch rule's action does to a service, through the engine API only: copy changed
// files into each running container and remove deleted ones (sync), restart the
// containers, run a hook in each (sync+exec), or build the image anew and recreate the
// containers through `up`'s own path (rebuild). Each reports what it did as watch events.

import { lstat } from 'node:fs/promises';
import type { ApiClient } from '../client/api-client.js';
import { execInContainer } from '../client/exec-attach.js';
import type { ContainerSummary } from '../common/api-types.js';
import { RuntimeFailure } from '../common/errors.js';
import { serviceContainers } from '../compose/apply.js';
import type { EmitEvent } from '../compose/events.js';
import type { LoadedProject } from '../compose/load.js';
import type { ServiceHook } from '../compose/model.js';
import { serviceImage } from '../compose/service-container.js';
import { rebuildServiceRequest, upProject, type UpRequest } from '../compose/up.js';
import { collectEntries, containerPathOf, hostPathOf, packEntries, type Owner, type SyncMapping } from './sync-archive.js';

export interface UpdateContext {
  client: ApiClient;
  loaded: LoadedProject;
  emit: EmitEvent;
  /** A path as the user knows it: relative to the project directory when inside it. */
  display(hostPath: string): string;
}

const nameOf = (c: ContainerSummary): string => (c.Names[0] ?? c.Id).replace(/^\//, '');

/** Each path once (two rules may cover one file), as the user knows it. */
function displayed(ctx: UpdateContext, mappings: readonly SyncMapping[]): string[] {
  return [...new Set(mappings.map((m) => ctx.display(hostPathOf(m))))];
}

async function runningContainers(ctx: UpdateContext, service: string): Promise<ContainerSummary[]> {
  return (await serviceContainers(ctx.client, ctx.loaded.project.name, service)).filter((c) => c.State === 'running');
}

/**
 * Copies the mappings whose host paths exist into every running container of the service
 * and removes the others there (`rm -rf` through exec, as Compose does).
 */
export async function syncService(ctx: UpdateContext, service: string, mappings: readonly SyncMapping[]): Promise<void> {
  const exists = await Promise.all(mappings.map(async (m) => (await lstat(hostPathOf(m)).catch(() => undefined)) !== undefined));
  const present = mappings.filter((_, i) => exists[i]);
  const gone = mappings.filter((_, i) => !exists[i]);
  const containers = await runningContainers(ctx, service);
  if (containers.length === 0) throw new RuntimeFailure(`no running container to sync ${mappings.length} changed path${mappings.length === 1 ? '' : 's'} into: start it (stack up ${service})`);
  const entries = await collectEntries(present);
  const owner = ownerOf(ctx.loaded.project.services[service]?.user);
  const removals = [...new Set(gone.map(containerPathOf))];
  await Promise.all(containers.map(async (c) => {
    if (removals.length > 0) {
      let output = '';
      const collect = { write: (d: string | Buffer) => (output += d.toString()) };
      const code = await execInContainer(ctx.client, c.Id, { cmd: ['rm', '-rf', ...removals] }, { stdout: collect, stderr: collect });
      if (code !== 0) throw new RuntimeFailure(`removing ${removals.join(', ')} in ${nameOf(c)} failed (rm exited with ${code}): ${output.trim()}`);
    }
    if (entries.length > 0) {
      await ctx.client.call('PUT', `/containers/${c.Id}/archive`, { query: { path: '/' }, rawBody: { stream: packEntries(entries, owner), contentType: 'application/x-tar' } });
    }
    ctx.emit({ type: 'watch-synced', service, container: nameOf(c), files: displayed(ctx, present), deleted: displayed(ctx, gone) });
  }));
}

/** Restarts the service's containers (its stop signal and grace period, as `stack restart`). */
export async function restartService(ctx: UpdateContext, service: string, timeout?: number): Promise<void> {
  const containers = (await serviceContainers(ctx.client, ctx.loaded.project.name, service)).filter((c) => c.State !== 'dead' && c.State !== 'removing');
  if (containers.length === 0) throw new RuntimeFailure(`no container to restart: start it (stack up ${service})`);
  await Promise.all(containers.map((c) => ctx.client.call('POST', `/containers/${c.Id}/restart`, { query: { t: timeout } })));
  ctx.emit({ type: 'watch-restarted', service, containers: containers.map(nameOf) });
}

/** Runs a sync+exec hook in each running container; its output comes out as the container's log lines. */
export async function execHook(ctx: UpdateContext, service: string, hook: ServiceHook): Promise<void> {
  const containers = await runningContainers(ctx, service);
  if (containers.length === 0) throw new RuntimeFailure(`no running container to run ${JSON.stringify(hook.command.join(' '))} in`);
  await Promise.all(containers.map(async (c) => {
    const container = nameOf(c);
    const lines = (stream: 'stdout' | 'stderr') => lineWriter((text) => ctx.emit({ type: 'log', service, container, stream, text }));
    const stdout = lines('stdout');
    const stderr = lines('stderr');
    const exitCode = await execInContainer(ctx.client, c.Id, {
      cmd: hook.command,
      ...(hook.user ? { user: hook.user } : {}),
      ...(hook.working_dir ? { workingDir: hook.working_dir } : {}),
      ...(hook.privileged ? { privileged: true } : {}),
      ...(hook.environment ? { env: Object.entries(hook.environment).filter((e): e is [string, string] => e[1] !== null).map(([k, v]) => `${k}=${v}`) } : {}),
    }, { stdout, stderr });
    stdout.end();
    stderr.end();
    ctx.emit({ type: 'watch-exec', service, container, command: hook.command, exitCode });
  }));
}

/**
 * Builds the service's image anew and recreates its containers from it, as `up --build
 * --force-recreate --no-deps SERVICE` does. With `prune`, the image it replaced goes if
 * nothing else uses or names it (Compose prunes the project's dangling images after a
 * rebuild; removing just that one leaves the build cache and other projects alone).
 */
export async function rebuildService(ctx: UpdateContext, service: string, files: readonly string[], options: { base: Omit<UpRequest, 'emit'>; prune: boolean; signal?: AbortSignal }): Promise<void> {
  ctx.emit({ type: 'watch-rebuilding', service, files: [...files] });
  const image = serviceImage(ctx.loaded.project, ctx.loaded.project.services[service]!);
  const before = options.prune ? await imageId(ctx.client, image) : undefined;
  await upProject(ctx.client, ctx.loaded, rebuildServiceRequest({ ...options.base, emit: ctx.emit, ...(options.signal ? { signal: options.signal } : {}) }, service));
  ctx.emit({ type: 'watch-rebuilt', service });
  if (before !== undefined && (await imageId(ctx.client, image)) !== before) {
    // Refused while a container or another name still uses it: then it stays, as it should.
    await ctx.client.call('DELETE', `/images/${encodeURIComponent(before)}`).catch(() => undefined);
  }
}

async function imageId(client: ApiClient, image: string): Promise<string | undefined> {
  return (await client.call<{ Id: string }>('GET', `/images/${encodeURIComponent(image)}/json`).catch(() => undefined))?.Id;
}

/** A service's numeric `user` (uid or uid:gid) owns synced files, as Docker's copy with CopyUIDGID gives them the container's user. */
export function ownerOf(user: string | undefined): Owner | undefined {
  const m = /^(\d+)(?::(\d+))?$/.exec(user ?? '');
  return m ? { uid: Number(m[1]), gid: Number(m[2] ?? 0) } : undefined;
}

/** A writer that hands over whole lines (the rest at end()), so a hook's output reads as log lines. */
function lineWriter(onLine: (text: string) => void): { write(data: string | Buffer): void; end(): void } {
  let pending = '';
  return {
    write(data) {
      pending += data.toString();
      const cut = pending.lastIndexOf('\n');
      if (cut === -1) return;
      for (const line of pending.slice(0, cut).split('\n')) onLine(line);
      pending = pending.slice(cut + 1);
    },
    end() {
      if (pending !== '') onLine(pending);
      pending = '';
    },
  };
}
