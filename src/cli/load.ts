// `stack load [-i FILE] [-q]` (also `stack image load`): sends a docker-archive or OCI
// layout tar (plain or gzip) to the engine, which checks it whole and stores it or
// nothing, and prints what it loaded (`Loaded image: NAME`).

import type { Argv, CommandModule } from 'yargs';
import { RuntimeFailure, UsageError } from '../common/errors.js';
import { engineClient } from './engine-client.js';
import type { GlobalArgs } from './global-options.js';
import type { CliIO } from './io.js';

interface LoadArgs extends GlobalArgs {
  input?: string | undefined;
  quiet: boolean;
}

export function loadCommand(io: CliIO, command = 'load'): CommandModule<GlobalArgs, LoadArgs> {
  return {
    command,
    describe: 'Load images from a tar archive (docker-archive or OCI layout) from a file or stdin',
    builder: (y: Argv<GlobalArgs>) =>
      y
        .option('input', { alias: 'i', type: 'string', description: 'Read from this file instead of stdin' })
        .option('quiet', { alias: 'q', type: 'boolean', default: false, description: 'Print nothing but errors' }) as unknown as Argv<LoadArgs>,
    handler: async (args) => {
      const { createReadStream } = await import('node:fs');
      const { resolve } = await import('node:path');
      const { Readable } = await import('node:stream');
      let source: NodeJS.ReadableStream;
      if (args.input !== undefined) {
        const path = resolve(io.cwd, args.input);
        const { stat } = await import('node:fs/promises');
        await stat(path).catch(() => {
          throw new UsageError(`cannot read ${args.input}: no such file`);
        });
        source = createReadStream(path);
      } else {
        if (!io.stdin || (io.stdin as { isTTY?: boolean }).isTTY) throw new UsageError('no archive to load: give -i FILE or pipe one to stdin');
        source = Readable.from(io.stdin);
      }
      const client = await engineClient(io);
      const res = await client.open('POST', '/images/load', { query: { quiet: args.quiet ? 1 : 0 }, rawBody: { stream: source, contentType: 'application/x-tar' } }).catch((err: unknown) => {
        // The engine answers a refused archive with 400; the archive is at fault, not the command line.
        throw err instanceof UsageError ? new RuntimeFailure(err.message) : err;
      });
      let text = '';
      for await (const chunk of res as AsyncIterable<Buffer>) text += chunk.toString('utf8');
      let failure: string | undefined;
      for (const line of text.split('\n')) {
        if (line.trim() === '') continue;
        const message = JSON.parse(line) as { stream?: string; error?: string; errorDetail?: { message?: string } };
        if (message.error !== undefined) failure = message.errorDetail?.message ?? message.error;
        else if (message.stream !== undefined && !args.quiet) io.stdout.write(message.stream);
      }
      if (failure !== undefined) throw new RuntimeFailure(failure);
    },
  };
}
