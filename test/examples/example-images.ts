// The images of the default example stack (examples/postgres-redis), shared by its test and
// bench/compose: the Debian base imported from the cached mmdebstrap tarball, and the built
// Postgres and Redis images kept as a docker-archive in /var/cache/stack-test, keyed by the
// example's files, so Postgres is built from Debian's packages only when the example changed.

import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { debianTarball, importRootfsTarball } from '../../src/image/bootstrap.js';
import { ImageStore } from '../../src/image/store.js';

export const TEST_CACHE = '/var/cache/stack-test';
export const EXAMPLE = resolve(import.meta.dirname, '../../../examples/postgres-redis');
export const EXAMPLE_IMAGES = ['stack-examples/postgres:15', 'stack-examples/redis:7'];
export const DEBIAN_BASE_IMAGE = 'stack/debian:bookworm';
const DEBIAN_BASE = { suite: 'bookworm', variant: 'minbase' } as const;

/** A hash of an example's build contexts (directories, or single files of one): what its built images depend on. */
export function contextsKey(exampleDir: string, contexts: readonly string[]): string {
  const hash = createHash('sha256');
  const add = (path: string): void => {
    if (statSync(path).isDirectory()) for (const name of readdirSync(path).sort()) add(join(path, name));
    else hash.update(`${path.slice(exampleDir.length)}\0`).update(readFileSync(path));
  };
  for (const context of contexts) add(join(exampleDir, context));
  return hash.digest('hex').slice(0, 16);
}

/** The default example's key: its postgres/ and redis/ build contexts. */
export function exampleKey(): string {
  return contextsKey(EXAMPLE, ['postgres', 'redis']);
}

/** Where the built example images are cached; `flavour` tells apart archives made by other builders. */
export function exampleArchive(flavour = ''): string {
  return join(TEST_CACHE, `examples-postgres-redis${flavour ? `-${flavour}` : ''}-${exampleKey()}.tar`);
}

/** Where another example's built images are cached, keyed by its build contexts. */
export function builtImagesArchive(exampleDir: string, contexts: readonly string[]): string {
  return join(TEST_CACHE, `examples-${basename(exampleDir)}-${contextsKey(exampleDir, contexts)}.tar`);
}

/** The cached Debian base rootfs tarball (made with mmdebstrap the first time). */
export function debianBaseTarball(scratchDir: string): Promise<string> {
  return debianTarball({ ...DEBIAN_BASE, cacheDir: TEST_CACHE }, scratchDir);
}

/** The Debian base imported into an engine's store (under `root`) as stack/debian:bookworm. */
export async function importDebianBase(root: string): Promise<void> {
  const store = await new ImageStore(join(root, 'image')).init();
  await importRootfsTarball(store, await debianBaseTarball(root), DEBIAN_BASE_IMAGE);
}
