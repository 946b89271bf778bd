// `stack save [-o FILE] [--format docker|oci] IMAGE...` (also `stack image save`): the
// engine writes the images as one tar (docker-archive, as `docker save` does, or an OCI
// image layout); this streams it to FILE (through a temp file renamed at the end, so a
// failed save leaves no half archive) or to stdout when that is not a terminal.

import type { Argv, CommandModule } from 'yargs';
import { UsageError } from '../common/errors.js';
import { engineClient } from './engine-client.js';
import type { GlobalArgs } from './global-options.js';
import type { CliIO } from './io.js';

interface SaveArgs extends GlobalArgs {
  images: string[];
  output?: string | undefined;
  format: string;
}

export function saveCommand(io: CliIO, command = 'save'): CommandModule<GlobalArgs, SaveArgs> {
  return {
    command: `${command} <images..>`,
    describe: 'Save images to a tar archive (docker-archive, or an OCI layout with --format oci)',
    builder: (y: Argv<GlobalArgs>) =>
      y
        .positional('images', { type: 'string', array: true, demandOption: true })
        .option('output', { alias: 'o', type: 'string', description: 'Write to this file instead of stdout' })
        .option('format', { type: 'string', default: 'docker', choices: ['docker', 'oci'], description: 'docker-archive (docker load, skopeo docker-archive:) or oci (an OCI image layout)' }) as unknown as Argv<SaveArgs>,
    handler: async (args) => {
      if (args.output === undefined && io.stdout.isTTY) throw new UsageError('refusing to write an archive to a terminal: use -o FILE or redirect stdout');
      const { createWriteStream } = await import('node:fs');
      const { rename, rm } = await import('node:fs/promises');
      const { resolve } = await import('node:path');
      const { pipeline } = await import('node:stream/promises');
      const { Writable } = await import('node:stream');
      const client = await engineClient(io);
      const query = new URLSearchParams();
      for (const image of args.images) query.append('names', image);
      if (args.format !== 'docker') query.set('format', args.format);
      const res = await client.open('GET', `/images/get?${query.toString()}`);
      // A stream the engine cuts (a failure after it began) must not pass for a whole archive.
      const cut = new Promise<never>((_, reject) => res.once('aborted', () => reject(new Error('the engine stopped sending the archive part-way'))));
      cut.catch(() => undefined);
      if (args.output === undefined) {
        const stdout = new Writable({ write: (chunk: Buffer, _enc, done) => { io.stdout.write(chunk); done(); } });
        await Promise.race([pipeline(res, stdout), cut]);
        return;
      }
      const target = resolve(io.cwd, args.output);
      const tmp = `${target}.part-${process.pid}`;
      try {
        await Promise.race([pipeline(res, createWriteStream(tmp, { mode: 0o644 })), cut]);
        if (!res.complete) throw new Error('the engine stopped sending the archive part-way');
        await rename(tmp, target);
      } catch (err) {
        await rm(tmp, { force: true });
        throw err;
      }
    },
  };
}
