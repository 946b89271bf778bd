// What the engine knows of each container, persisted as one JSON file per container
// (<root>/containers/<id>/container.json), written atomically so a crash leaves the old
// or the new record, never a torn one. The shim's own state file says whether the
// process runs; this record says what the user asked for and what happened before.

import { mkdir, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ContainerConfig, ContainerStatusName, EndpointSettings, HealthState, HostConfig, PortBinding } from '../common/api-types.js';
import { writeFileAtomic } from '../image/store.js';
import type { MountPoint } from './container-volumes.js';

export interface ContainerRecord {
  Id: string;
  /** With Docker's leading slash: `/web-1`. */
  Name: string;
  Created: string;
  /** The image ID (its config digest) the container was created from. */
  Image: string;
  /** The reference the user gave (`busybox:latest`), shown by `ps`. */
  ImageRef: string;
  Path: string;
  Args: string[];
  Config: ContainerConfig;
  HostConfig: HostConfig;
  /** Volumes (and VolumesFrom binds) resolved at create, so every start mounts the same ones. */
  MountPoints?: MountPoint[];
  State: {
    Status: ContainerStatusName;
    Pid: number;
    ExitCode: number;
    Error: string;
    OOMKilled: boolean;
    StartedAt: string;
    FinishedAt: string;
    Health?: HealthState;
  };
  RestartCount: number;
  /** A user stop (stop, kill, or the engine asked to) is never undone by a restart policy. */
  ManuallyStopped: boolean;
  /** The networks joined (keyed by name; addresses only while running) and the host ports held while running. */
  NetworkSettings?: { Networks: Record<string, EndpointSettings>; Ports: Record<string, PortBinding[] | null> };
}

export function containerDir(root: string, id: string): string {
  return join(root, 'containers', id);
}

function recordPath(root: string, id: string): string {
  return join(containerDir(root, id), 'container.json');
}

/** The container's json-file log; it lives beside the record so it survives restarts. */
export function containerLogPath(root: string, id: string): string {
  return join(containerDir(root, id), 'container.log');
}

export async function saveRecord(root: string, record: ContainerRecord): Promise<void> {
  await mkdir(containerDir(root, record.Id), { recursive: true });
  await writeFileAtomic(recordPath(root, record.Id), JSON.stringify(record));
}

/**
 * Every record on disk, plus the ids of container directories that have none: the
 * leftovers of a create the engine did not finish (killed mid-way), to be cleaned up.
 */
export async function loadRecords(root: string): Promise<{ records: ContainerRecord[]; orphans: string[] }> {
  const dir = join(root, 'containers');
  await mkdir(dir, { recursive: true });
  const records: ContainerRecord[] = [];
  const orphans: string[] = [];
  for (const id of await readdir(dir)) {
    try {
      records.push(JSON.parse(await readFile(recordPath(root, id), 'utf8')) as ContainerRecord);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') orphans.push(id);
      else throw new Error(`cannot read the record of container ${id} (${recordPath(root, id)}): ${(err as Error).message}`, { cause: err });
    }
  }
  return { records, orphans };
}
