// `stack pull IMAGE`: the engine pulls (it owns the store); this shows its progress.
// In a project, `stack pull [SERVICE...]` pulls the services' images, as `docker compose pull`.

import type { Argv, CommandModule } from 'yargs';
import { UsageError } from '../common/errors.js';
import { engineClient } from './engine-client.js';
import type { GlobalArgs } from './global-options.js';
import type { CliIO } from './io.js';
import { registryAuthHeaders } from './registry-auth.js';
import { showTransferProgress } from './transfer-progress.js';

interface PullArgs extends GlobalArgs {
  /** An image, or service names. */
  image?: string[] | undefined;
  ignoreBuildable?: boolean | undefined;
  ignorePullFailures?: boolean | undefined;
  platform?: string | undefined;
  quiet: boolean;
}

/** Asks the engine to pull `image`, showing progress; shared with `stack run` of a missing image. */
export async function pullThroughEngine(io: CliIO, image: string, options: { platform?: string | undefined; quiet?: boolean } = {}): Promise<void> {
  const client = await engineClient(io);
  const res = await client.open('POST', '/images/create', {
    query: { fromImage: image, ...(options.platform ? { platform: options.platform } : {}) },
    headers: await registryAuthHeaders(io, image),
  });
  await showTransferProgress(res, io, options.quiet ?? false);
}

export function pullCommand(io: CliIO): CommandModule<GlobalArgs, PullArgs> {
  return {
    command: 'pull [image..]',
    describe: 'Pull an image from a registry; in a project, the services\' images',
    builder: (y: Argv<GlobalArgs>) =>
      y
        .positional('image', { type: 'string', array: true, description: 'An image; in a project, services (default: all with image:)' })
        .option('platform', { type: 'string', description: 'OS/ARCH[/VARIANT] to pull from a multi-platform image (default: this host\'s)' })
        .option('quiet', { alias: 'q', type: 'boolean', default: false, description: 'Print nothing but errors' })
        .option('ignore-buildable', { type: 'boolean', description: 'Project: leave out services that have a build: section' })
        .option('ignore-pull-failures', { type: 'boolean', description: 'Project: pull what can be pulled; failures are warnings' }) as unknown as Argv<PullArgs>,
    handler: async (args) => {
      const { imageCommandScope } = await import('./service-image-scope.js');
      const scope = await imageCommandScope(args, io, args.image ?? [], 'pull', 'an image');
      if (scope.kind === 'single') {
        await pullThroughEngine(io, scope.word, { platform: args.platform, quiet: args.quiet });
        if (args.quiet) io.stdout.write(`${scope.word}\n`);
        return;
      }
      if (args.platform !== undefined) throw new UsageError('--platform is for pulling one image; a service\'s is set with "platform:" in the stack file');
      const { pullServices } = await import('../compose/service-images.js');
      const { rendererFor } = await import('./compose-project.js');
      const { registryLogins } = await import('./registry-auth.js');
      const renderer = rendererFor('plain', io);
      await pullServices(await engineClient(io), scope.loaded.project, {
        services: scope.services,
        emit: args.quiet ? (e) => (e.type === 'warning' ? renderer.emit(e) : undefined) : renderer.emit,
        logins: registryLogins(io),
        ...(args.ignoreBuildable ? { ignoreBuildable: true } : {}),
        ...(args.ignorePullFailures ? { ignoreFailures: true } : {}),
      });
    },
  };
}
