// `stack push IMAGE`: the engine pushes from its store to the registry the name points at.
// In a project, `stack push [SERVICE...]` pushes the images its services build and name.

import type { Argv, CommandModule } from 'yargs';
import { engineClient } from './engine-client.js';
import type { GlobalArgs } from './global-options.js';
import type { CliIO } from './io.js';
import { registryAuthHeaders } from './registry-auth.js';
import { showTransferProgress } from './transfer-progress.js';

interface PushArgs extends GlobalArgs {
  /** An image, or service names. */
  image?: string[] | undefined;
  ignorePushFailures?: boolean | undefined;
  quiet: boolean;
}

export function pushCommand(io: CliIO): CommandModule<GlobalArgs, PushArgs> {
  return {
    command: 'push [image..]',
    describe: 'Push an image to a registry; in a project, the images its services build',
    builder: (y: Argv<GlobalArgs>) =>
      y
        .positional('image', { type: 'string', array: true, description: 'An image; in a project, services (default: all with build: and image:)' })
        .option('quiet', { alias: 'q', type: 'boolean', default: false })
        .option('ignore-push-failures', { type: 'boolean', description: 'Project: push what can be pushed; failures are warnings' }) as unknown as Argv<PushArgs>,
    handler: async (args) => {
      const { imageCommandScope } = await import('./service-image-scope.js');
      const scope = await imageCommandScope(args, io, args.image ?? [], 'push', 'an image');
      const client = await engineClient(io);
      if (scope.kind === 'single') {
        const res = await client.open('POST', `/images/${scope.word}/push`, { headers: await registryAuthHeaders(io, scope.word) });
        await showTransferProgress(res, io, args.quiet);
        return;
      }
      const { pushServices } = await import('../compose/service-images.js');
      const { rendererFor } = await import('./compose-project.js');
      const { registryLogins } = await import('./registry-auth.js');
      const renderer = rendererFor('plain', io);
      const pushed = await pushServices(client, scope.loaded.project, {
        services: scope.services,
        emit: args.quiet ? (e) => (e.type === 'warning' ? renderer.emit(e) : undefined) : renderer.emit,
        logins: registryLogins(io),
        ...(args.ignorePushFailures ? { ignoreFailures: true } : {}),
      });
      if (pushed.length === 0 && !args.quiet) io.stderr.write(`nothing to push: no service of project ${scope.loaded.project.name}${scope.services.length ? ` among ${scope.services.join(', ')}` : ''} has both "build:" and "image:"\n`);
    },
  };
}
