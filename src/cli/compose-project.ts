// The project a compose command acts on: the stack file loaded with the global options,
// its warnings said on stderr, and the renderer --format asks for.

import { machineLoaderHost } from '../compose/host.js';
import { loadProject, type LoadedProject } from '../compose/load.js';
import type { GlobalArgs } from './global-options.js';
import { loadOptionsFrom } from './global-options.js';
import type { CliIO } from './io.js';
import { jsonRenderer, plainRenderer, type Renderer } from './render-plain.js';

export function loadComposeProject(args: GlobalArgs, io: CliIO): LoadedProject {
  const loaded = loadComposeProjectQuietly(args, io);
  sayLoadWarnings(loaded, io);
  return loaded;
}

/** The project without a word on stderr yet: `run` says the warnings only if it runs a service of it. */
export function loadComposeProjectQuietly(args: GlobalArgs, io: CliIO): LoadedProject {
  return loadProject(loadOptionsFrom(args), machineLoaderHost(io.cwd, io.env));
}

export function sayLoadWarnings(loaded: LoadedProject, io: CliIO): void {
  for (const w of loaded.warnings) io.stderr.write(`warning: ${w}\n`);
}

export function rendererFor(format: string | undefined, io: CliIO): Renderer {
  return format === 'json' ? jsonRenderer(io) : plainRenderer(io);
}
