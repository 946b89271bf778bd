// `stack image ...`: make, import, list and remove images in the engine's store. Thin: the
// work is in src/image; these fill options and print. bootstrap, import, ls and rm open the
// store directly (they work without an engine); save, load, prune, inspect and remove (rmi)
// go through the engine's API.

import type { Argv, CommandModule } from 'yargs';
import type { GlobalArgs } from './global-options.js';
import type { CliIO } from './io.js';
import { imageInspectCommand } from './image-inspect.js';
import { imagePruneCommand } from './image-prune.js';
import { loadCommand } from './load.js';
import { rmiCommand } from './rmi.js';
import { saveCommand } from './save.js';

export interface EngineRootArgs extends GlobalArgs {
  root?: string | undefined;
}

export function engineRoot(args: EngineRootArgs, io: CliIO): string {
  return args.root ?? io.env.STACK_ROOT ?? '/var/lib/stack';
}

export async function openStore(root: string) {
  const { ImageStore } = await import('../image/store.js');
  const { join } = await import('node:path');
  return new ImageStore(join(root, 'image')).init();
}

interface ImageArgs extends EngineRootArgs {
  ref?: string | undefined;
  tarball?: string | undefined;
  suite: string;
  variant: string;
  package?: string | string[] | undefined;
}

function list(v: string | string[] | undefined): string[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

export function imageCommand(io: CliIO): CommandModule<GlobalArgs, ImageArgs> {
  return {
    command: 'image <command>',
    describe: 'Make, import, list and remove images',
    builder: (y: Argv<GlobalArgs>) =>
      y
        .option('root', { type: 'string', description: 'Engine root directory (env STACK_ROOT; default /var/lib/stack)' })
        .command({
          command: 'bootstrap [ref]',
          describe: 'Make a Debian base image from the host\'s Debian mirror with mmdebstrap',
          builder: (b) =>
            b
              .positional('ref', { type: 'string', description: 'Image name (default debian:<suite>)' })
              .option('suite', { type: 'string', default: 'bookworm' })
              .option('variant', { type: 'string', default: 'minbase', choices: ['minbase', 'required', 'important', 'standard', 'apt', 'buildd'] })
              .option('package', { type: 'string', description: 'Extra package to install (repeatable)' }),
          handler: async (args) => {
            const a = args as unknown as ImageArgs;
            const { bootstrapDebianImage } = await import('../image/bootstrap.js');
            const store = await openStore(engineRoot(a, io));
            const image = await bootstrapDebianImage(store, {
              suite: a.suite,
              variant: a.variant as 'minbase',
              packages: list(a.package),
              ...(a.ref !== undefined ? { ref: a.ref } : {}),
            });
            io.stdout.write(`${image.reference} ${image.manifestDigest}\n`);
          },
        })
        .command({
          command: 'import <tarball> <ref>',
          describe: 'Import a rootfs tarball (tar or tar.gz) as a one-layer image',
          handler: async (args) => {
            const a = args as unknown as ImageArgs;
            const { importRootfsTarball } = await import('../image/bootstrap.js');
            const { resolve } = await import('node:path');
            const store = await openStore(engineRoot(a, io));
            const image = await importRootfsTarball(store, resolve(io.cwd, a.tarball ?? ''), a.ref ?? '');
            io.stdout.write(`${image.reference} ${image.manifestDigest}\n`);
          },
        })
        .command({
          command: 'ls',
          describe: 'List images',
          handler: async (args) => {
            const store = await openStore(engineRoot(args as unknown as ImageArgs, io));
            for (const i of await store.list()) io.stdout.write(`${i.reference}\t${i.digest.slice(7, 19)}\t${i.size}\n`);
          },
        })
        .command({
          command: 'rm <ref>',
          describe: 'Remove an image and whatever only it used',
          handler: async (args) => {
            const a = args as unknown as ImageArgs;
            const store = await openStore(engineRoot(a, io));
            await store.remove(a.ref ?? '');
            io.stdout.write(`removed ${a.ref}\n`);
          },
        })
        .command(saveCommand(io) as unknown as CommandModule)
        .command(loadCommand(io) as unknown as CommandModule)
        .command(imagePruneCommand(io) as unknown as CommandModule)
        .command(imageInspectCommand(io) as unknown as CommandModule)
        .command(rmiCommand(io, 'remove') as unknown as CommandModule)
        .demandCommand(1, 'name an image command: bootstrap, import, ls, rm, remove, save, load, prune, inspect') as unknown as Argv<ImageArgs>,
    handler: () => undefined,
  };
}
