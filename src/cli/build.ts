// `stack build [-t NAME] [-f Dockerfile] [--build-arg K=V] [--target T] [--no-cache]
// [--label K=V] [--pull] CONTEXT`: sends the context to the engine's `POST /build` and
// prints the build's output as it streams; the engine does the work. The user's registry
// logins go along (X-Registry-Config) for the FROMs the engine pulls.
// In a project, `stack build [SERVICE...]` builds the services' images as `docker compose
// build` does (see service-image-scope.ts for how the two are told apart).

import type { Argv, CommandModule } from 'yargs';
import { RuntimeFailure, UsageError } from '../common/errors.js';
import { engineClient, list } from './engine-client.js';
import type { GlobalArgs } from './global-options.js';
import type { CliIO } from './io.js';
import { keyValues } from './key-values.js';
import { registryConfigHeaders } from './registry-auth.js';

interface BuildArgs extends GlobalArgs {
  /** A context directory, or service names. */
  context?: string[] | undefined;
  tag?: string | string[] | undefined;
  dockerfile?: string | undefined;
  buildArg?: string | string[] | undefined;
  target?: string | undefined;
  noCache?: boolean | undefined;
  pull?: boolean | undefined;
  label?: string | string[] | undefined;
  quiet?: boolean | undefined;
}

export function buildCommand(io: CliIO): CommandModule<GlobalArgs, BuildArgs> {
  return {
    command: 'build [context..]',
    describe: 'Build an image from a Dockerfile in the engine; in a project, the services\' images',
    builder: (y: Argv<GlobalArgs>) =>
      y
        .positional('context', { type: 'string', array: true, description: 'The build context directory; in a project, services (default: all with build:)' })
        .option('tag', { alias: 't', type: 'string', description: 'Name the image NAME[:TAG] (repeatable)' })
        .option('dockerfile', { type: 'string', description: 'The Dockerfile (default CONTEXT/Dockerfile); -f after "build"' })
        .option('build-arg', { type: 'string', description: 'A build arg KEY=VALUE, or KEY to take it from the environment (repeatable)' })
        .option('target', { type: 'string', description: 'Build up to this stage' })
        .option('no-cache', { type: 'boolean', description: 'Run every step, not using the build cache' })
        .option('pull', { type: 'boolean', description: 'Pull base images even when the engine has them (missing ones are always pulled)' })
        .option('label', { type: 'string', description: 'A label KEY=VALUE for the image (repeatable)' })
        .option('quiet', { alias: 'q', type: 'boolean', description: 'Print only the image ID' }) as unknown as Argv<BuildArgs>,
    handler: async (args) => {
      const { imageCommandScope } = await import('./service-image-scope.js');
      const scope = await imageCommandScope(args, io, args.context ?? [], 'build', 'a context directory');
      if (scope.kind === 'services') await buildProjectServices(args, io, scope.loaded, scope.services);
      else {
        const { existsSync } = await import('node:fs');
        const { resolve } = await import('node:path');
        if (scope.loaded && !existsSync(resolve(io.cwd, scope.word))) {
          throw new UsageError(`"${scope.word}" is neither a service of project ${scope.loaded.project.name} (${Object.keys(scope.loaded.project.services).sort().join(', ')}) nor a context directory`);
        }
        await buildContext(args, io, scope.word);
      }
    },
  };
}

/** A build arg KEY=VALUE, or KEY taken from the environment (left out when unset). */
function buildArgsOf(args: BuildArgs, io: CliIO): Record<string, string> {
  const buildArgs: Record<string, string> = {};
  for (const entry of list(args.buildArg)) {
    const at = entry.indexOf('=');
    if (at === -1) {
      const value = io.env[entry];
      if (value !== undefined) buildArgs[entry] = value;
    } else {
      buildArgs[entry.slice(0, at)] = entry.slice(at + 1);
    }
  }
  return buildArgs;
}

async function buildProjectServices(args: BuildArgs, io: CliIO, loaded: import('../compose/load.js').LoadedProject, services: string[]): Promise<void> {
  for (const [given, flag] of [[args.tag, '--tag'], [args.dockerfile, '--dockerfile'], [args.target, '--target'], [args.label, '--label']] as const) {
    if (given !== undefined) throw new UsageError(`${flag} is for building a context directory; a service's is set under "build:" in the stack file`);
  }
  const { buildServices } = await import('../compose/service-images.js');
  const { rendererFor } = await import('./compose-project.js');
  const { registryLogins } = await import('./registry-auth.js');
  const renderer = rendererFor('plain', io);
  const buildArgs = buildArgsOf(args, io);
  const built = await buildServices(await engineClient(io), loaded.project, {
    services,
    emit: args.quiet ? (e) => (e.type === 'warning' || e.type === 'error' ? renderer.emit(e) : undefined) : renderer.emit,
    logins: registryLogins(io),
    ...(args.noCache ? { noCache: true } : {}),
    ...(args.pull ? { pull: true } : {}),
    ...(Object.keys(buildArgs).length ? { buildArgs } : {}),
  });
  if (built.length === 0 && !args.quiet) io.stderr.write(`nothing to build: ${services.length ? services.join(', ') : 'no service'} of project ${loaded.project.name} ha${services.length === 1 ? 's' : 've'} a "build:" section\n`);
}

async function buildContext(args: BuildArgs, io: CliIO, context: string): Promise<void> {
  const { resolve } = await import('node:path');
  const { packBuildContext } = await import('../client/build-context.js');
  const contextDir = resolve(io.cwd, context);
  const packed = await packBuildContext(contextDir, args.dockerfile === undefined ? undefined : resolve(io.cwd, args.dockerfile));
  const buildArgs = buildArgsOf(args, io);
  const labels = keyValues(list(args.label), '--label');
  const client = await engineClient(io);
  const query = new URLSearchParams();
  for (const t of list(args.tag)) query.append('t', t);
  query.set('dockerfile', packed.dockerfile);
  if (Object.keys(buildArgs).length) query.set('buildargs', JSON.stringify(buildArgs));
  if (Object.keys(labels).length) query.set('labels', JSON.stringify(labels));
  if (args.target) query.set('target', args.target);
  if (args.noCache) query.set('nocache', '1');
  if (args.pull) query.set('pull', '1');
  const headers = await registryConfigHeaders(io);
  const res = await client.open('POST', `/build?${query.toString()}`, { headers, rawBody: { stream: packed.tar, contentType: 'application/x-tar' } });
  let buffered = '';
  let failure: string | undefined;
  let id: string | undefined;
  const handle = (line: string): void => {
    if (line.trim() === '') return;
    const message = JSON.parse(line) as { stream?: string; error?: string; errorDetail?: { message?: string }; aux?: { ID?: string } };
    if (message.stream !== undefined && !args.quiet) io.stdout.write(message.stream);
    if (message.aux?.ID) id = message.aux.ID;
    if (message.error !== undefined) failure = message.errorDetail?.message ?? message.error;
  };
  for await (const chunk of res as AsyncIterable<Buffer>) {
    buffered += chunk.toString('utf8');
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) handle(line);
  }
  handle(buffered);
  if (failure !== undefined) throw new RuntimeFailure(failure);
  if (args.quiet && id) io.stdout.write(`${id}\n`);
}
