// Whether `stack run WORD` runs a service's one-off (docker compose run) or an image (docker
// run). WORD is a service when a stack file is in context (found from the working directory
// upward, or named with -f / --project-directory) and it names one of its services. An image
// reference with a tag, digest or registry cannot be a service name, so those never touch
// the disk; otherwise finding the stack file is a few stat calls, and only when there is
// one is it loaded.

import type { LoadedProject } from '../compose/load.js';
import { NotFoundError } from '../common/errors.js';
import type { GlobalArgs } from './global-options.js';
import { foundStackFile } from './found-stack-file.js';
import type { CliIO } from './io.js';

export type RunTarget =
  | { kind: 'service'; loaded: LoadedProject }
  /** The services of the stack file in context, if any: a near miss of one is likely a typo. */
  | { kind: 'image'; services: string[] };

/** Compose's service names; `busybox:1.36`, `library/x` or `x@sha256:...` are images. */
const SERVICE_NAME = /^[a-zA-Z0-9][a-zA-Z0-9._-]*$/;

export async function runTarget(args: GlobalArgs & { image: string }, io: CliIO): Promise<RunTarget> {
  if (!SERVICE_NAME.test(args.image)) return { kind: 'image', services: [] };
  const named = args.file !== undefined || args.projectDirectory !== undefined;
  if (!named && !(await (await foundStackFile(io)) !== undefined)) return { kind: 'image', services: [] };
  const { loadComposeProjectQuietly, sayLoadWarnings } = await import('./compose-project.js');
  let loaded: LoadedProject;
  try {
    loaded = loadComposeProjectQuietly(args, io);
  } catch (err) {
    // Only a stack file named on the command line must exist.
    if (!named && err instanceof NotFoundError) return { kind: 'image', services: [] };
    throw err;
  }
  const disabled = loaded.project.disabledServices[args.image];
  if (disabled) {
    // As Compose: a service named on the command line runs even when its profile is not enabled.
    const profiles = [args.profile ?? []].flat();
    loaded = loadComposeProjectQuietly({ ...args, profile: [...profiles, disabled.profiles[0]!] }, io);
  }
  if (loaded.project.services[args.image]) {
    sayLoadWarnings(loaded, io);
    return { kind: 'service', loaded };
  }
  return { kind: 'image', services: Object.keys(loaded.project.services) };
}
