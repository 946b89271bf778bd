// Whether `stack build|pull|push` act on a project's services, as `docker compose build` does,
// or on a context directory or an image, as `docker build|pull|push` do.
//
// Services when every word names a service of the stack file in scope, or when no word is
// given and a stack file is in scope (named with -f / --project-directory / COMPOSE_FILE, or
// found from the working directory upward). A service name wins over a directory of the same
// name (`stack build app` in a project with an `app` service builds the service); `.` or a
// path with a slash is never a service. Otherwise docker-style, with exactly one word.

import { InvalidStackFileError, UsageError } from '../common/errors.js';
import type { LoadedProject } from '../compose/load.js';
import { loadComposeProject, loadComposeProjectQuietly, sayLoadWarnings } from './compose-project.js';
import { foundStackFile } from './found-stack-file.js';
import type { GlobalArgs } from './global-options.js';
import type { CliIO } from './io.js';

export type ImageScope = { kind: 'services'; loaded: LoadedProject; services: string[] } | { kind: 'single'; word: string; loaded: LoadedProject | undefined };

/** `what` names the docker-style word in messages: "a context directory", "an image". */
export async function imageCommandScope(args: GlobalArgs, io: CliIO, words: readonly string[], command: string, what: string): Promise<ImageScope> {
  const named = args.file !== undefined || args.projectDirectory !== undefined || Boolean(io.env.COMPOSE_FILE);
  let loaded: LoadedProject | undefined;
  if (named) {
    loaded = loadComposeProject(args, io);
  } else if ((await foundStackFile(io)) !== undefined) {
    try {
      loaded = loadComposeProjectQuietly(args, io);
    } catch (err) {
      // A broken stack file matters only when nothing else was asked for.
      if (words.length === 0 || !(err instanceof InvalidStackFileError || err instanceof UsageError)) throw err;
    }
  }
  const services = loaded ? words.filter((w) => loaded!.project.services[w] !== undefined || loaded!.project.disabledServices[w] !== undefined) : [];
  if (loaded && (words.length === 0 || services.length === words.length)) {
    sayLoadWarnings(loaded, io);
    return { kind: 'services', loaded, services: [...words] };
  }
  if (words.length === 1) return { kind: 'single', word: words[0]!, loaded };
  if (words.length === 0) throw new UsageError(`"stack ${command}" needs ${what}, or a stack file here (compose.yaml) to ${command} its services`);
  const strangers = loaded ? words.filter((w) => !services.includes(w)) : words;
  throw new UsageError(loaded
    ? `${strangers.map((w) => `"${w}"`).join(', ')}: no such service; the services are ${Object.keys(loaded.project.services).sort().join(', ')}`
    : `"stack ${command}" takes one ${what.replace(/^an? /, '')} (or, in a project, service names)`);
}
