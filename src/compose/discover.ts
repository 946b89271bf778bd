// Which stack files a command reads when no -f is given: like Compose, the first
// directory from the working directory upward that holds one of the known names,
// plus its override file, merged after it.

import { basename, dirname, extname, join } from 'node:path';
import { NotFoundError } from '../common/errors.js';
import type { LoaderHost } from './host.js';

/** In order of preference when a directory holds several. */
export const STACK_FILE_NAMES = ['stack.yaml', 'stack.yml', 'compose.yaml', 'compose.yml', 'docker-compose.yaml', 'docker-compose.yml'] as const;

export interface DiscoveredFiles {
  files: string[];
  warnings: string[];
}

export function discoverStackFiles(host: LoaderHost, startDir: string = host.cwd): DiscoveredFiles {
  let dir = startDir;
  for (;;) {
    const present = STACK_FILE_NAMES.map((n) => join(dir, n)).filter((p) => host.isFile(p));
    const main = present[0];
    if (main !== undefined) {
      const warnings = present.length > 1
        ? [`found several stack files in ${dir}: ${present.map((p) => basename(p)).join(', ')}; using ${basename(main)}`]
        : [];
      const override = overrideFileOf(main);
      const files = host.isFile(override) ? [main, override] : [main];
      return { files, warnings };
    }
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new NotFoundError(
    `no stack file found in ${startDir} or any parent directory: create a compose.yaml (or stack.yaml), or name one with -f`,
  );
}

/** `compose.yaml` -> `compose.override.yaml`, keeping the extension as written. */
export function overrideFileOf(file: string): string {
  const ext = extname(file);
  return join(dirname(file), `${basename(file, ext)}.override${ext}`);
}
