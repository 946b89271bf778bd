// Whether a stack file is in context for a command that works with or without one: the
// first file found from the working directory upward, as Compose looks for it.

import { NotFoundError } from '../common/errors.js';
import type { CliIO } from './io.js';

/** The stack file found (the first, when several would merge), or undefined when there is none. */
export async function foundStackFile(io: CliIO): Promise<string | undefined> {
  // Loaded here, not at the top: `stack run IMAGE` asks this on its fast path.
  const [{ discoverStackFiles }, { machineLoaderHost }] = await Promise.all([import('../compose/discover.js'), import('../compose/host.js')]);
  try {
    return discoverStackFiles(machineLoaderHost(io.cwd, io.env)).files[0];
  } catch (err) {
    if (err instanceof NotFoundError) return undefined;
    throw err;
  }
}
