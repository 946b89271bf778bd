// The tar a sync sends into a container (PUT /containers/{id}/archive at `/`): each changed
// file or directory under its container path, with its mode and time, and the directories
// between the rule's target and it, so a file in a new nested directory lands with that
// directory's own mode. A directory that changed goes whole, less what its rule ignores.
// Entries are named from the container's root, as Compose's sync names them.

import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { Stats } from 'node:fs';
import tar from 'tar-stream';

export interface SyncMapping {
  /** The rule's path on the host (absolute) and its target in the container. */
  rulePath: string;
  target: string;
  /** The changed path relative to rulePath, `/`-separated; '' for rulePath itself. */
  rel: string;
  /** Whether a path found under a changed directory belongs to the rule (what it ignores does not). */
  accepts(hostPath: string, isDirectory: boolean): boolean;
}

export interface ArchiveEntry {
  /** Path in the container, without the leading `/`. */
  name: string;
  hostPath: string;
  stats: Stats;
}

/** Who owns what is written: the service's numeric user when it has one, else each file's owner on the host. */
export interface Owner {
  uid: number;
  gid: number;
}

export function containerPathOf(mapping: Pick<SyncMapping, 'target' | 'rel'>): string {
  return mapping.rel === '' ? mapping.target : posix.join(mapping.target, mapping.rel);
}

/**
 * The entries for mappings whose host paths exist (others are skipped: they went while
 * the batch waited), deduplicated, parents before children. A changed directory goes
 * with what is under it that its rule accepts; a rule's own directory is never an entry
 * itself, so the target keeps its owner and mode in the container.
 */
export async function collectEntries(mappings: readonly SyncMapping[]): Promise<ArchiveEntry[]> {
  const entries = new Map<string, ArchiveEntry>();
  const add = (mapping: SyncMapping, rel: string, hostPath: string, stats: Stats): void => {
    const name = nameOf(containerPathOf({ target: mapping.target, rel }));
    entries.delete(name);
    entries.set(name, { name, hostPath, stats });
  };
  for (const mapping of mappings) {
    const hostPath = hostPathOf(mapping);
    const stats = await lstat(hostPath).catch(() => undefined);
    if (!stats) continue;
    const parts = mapping.rel === '' ? [] : mapping.rel.split('/');
    for (let i = 1; i < parts.length; i++) {
      const prefix = parts.slice(0, i).join('/');
      const parent = await lstat(join(mapping.rulePath, prefix)).catch(() => undefined);
      if (parent?.isDirectory()) add(mapping, prefix, join(mapping.rulePath, prefix), parent);
    }
    if (!(mapping.rel === '' && stats.isDirectory())) add(mapping, mapping.rel, hostPath, stats);
    if (!stats.isDirectory()) continue;
    for (const found of await walkTree(hostPath, mapping.accepts)) {
      add(mapping, mapping.rel === '' ? found.rel : `${mapping.rel}/${found.rel}`, found.hostPath, found.stats);
    }
  }
  return [...entries.values()];
}

export interface FoundPath {
  /** Relative to the walked directory, `/`-separated. */
  rel: string;
  hostPath: string;
  stats: Stats;
}

/** What is under `dir`, parents first and in name order, less what `accepts` refuses (a refused directory is not entered). */
export async function walkTree(dir: string, accepts: (hostPath: string, isDirectory: boolean) => boolean): Promise<FoundPath[]> {
  const out: FoundPath[] = [];
  const walk = async (at: string, rel: string): Promise<void> => {
    for (const name of (await readdir(at).catch(() => [] as string[])).sort()) {
      const hostPath = join(at, name);
      const stats = await lstat(hostPath).catch(() => undefined);
      if (!stats || !accepts(hostPath, stats.isDirectory())) continue;
      const childRel = rel === '' ? name : `${rel}/${name}`;
      out.push({ rel: childRel, hostPath, stats });
      if (stats.isDirectory()) await walk(hostPath, childRel);
    }
  };
  await walk(dir, '');
  return out;
}

export function hostPathOf(mapping: Pick<SyncMapping, 'rulePath' | 'rel'>): string {
  return mapping.rel === '' ? mapping.rulePath : join(mapping.rulePath, mapping.rel);
}

/** The tar of these entries; made anew for each container, from the files as they are then. */
export function packEntries(entries: readonly ArchiveEntry[], owner?: Owner): NodeJS.ReadableStream {
  const pack = tar.pack();
  const add = (header: Parameters<tar.Pack['entry']>[0], body?: Buffer): Promise<void> =>
    new Promise((resolve, reject) => {
      pack.entry(header, body ?? '', (err) => (err ? reject(err) : resolve()));
    });
  void (async () => {
    for (const entry of entries) {
      const s = entry.stats;
      const base = { name: entry.name, mode: s.mode & 0o7777, mtime: s.mtime, uid: owner?.uid ?? s.uid, gid: owner?.gid ?? s.gid };
      if (s.isDirectory()) {
        await add({ ...base, type: 'directory' });
      } else if (s.isSymbolicLink()) {
        const target = await readlink(entry.hostPath).catch(() => undefined);
        if (target !== undefined) await add({ ...base, type: 'symlink', linkname: target });
      } else if (s.isFile()) {
        // Read whole, so the size in the header is the size sent even if the file is being written.
        const body = await readFile(entry.hostPath).catch(() => undefined);
        if (body) await add({ ...base, type: 'file', size: body.length }, body);
      }
      // Sockets, fifos and devices have no place in a sync: skipped, as Compose skips them.
    }
    pack.finalize();
  })().catch((err: unknown) => pack.destroy(err as Error));
  return pack as unknown as NodeJS.ReadableStream;
}

function nameOf(containerPath: string): string {
  return containerPath.replace(/^\/+/, '');
}
