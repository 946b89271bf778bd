// `stack tag SOURCE TARGET`: another name for an image of the engine's store.

import type { Argv, CommandModule } from 'yargs';
import { UsageError } from '../common/errors.js';
import { parseReference } from '../image/reference.js';
import { engineClient } from './engine-client.js';
import type { GlobalArgs } from './global-options.js';
import type { CliIO } from './io.js';

interface TagArgs extends GlobalArgs {
  source: string;
  target: string;
}

export function tagCommand(io: CliIO): CommandModule<GlobalArgs, TagArgs> {
  return {
    command: 'tag <source> <target>',
    describe: 'Give an image another name (SOURCE and TARGET as IMAGE[:TAG])',
    builder: (y: Argv<GlobalArgs>) =>
      y.positional('source', { type: 'string', demandOption: true }).positional('target', { type: 'string', demandOption: true }) as unknown as Argv<TagArgs>,
    handler: async (args) => {
      let ref;
      try {
        ref = parseReference(args.target);
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
      if (ref.digest !== undefined) throw new UsageError(`"${args.target}": a tag cannot be a digest`);
      const client = await engineClient(io);
      const repo = args.target.slice(0, args.target.length - (/:[\w][\w.-]*$/.exec(args.target.slice(args.target.lastIndexOf('/') + 1))?.[0].length ?? 0));
      await client.call('POST', `/images/${args.source}/tag`, { query: { repo, tag: ref.tag ?? 'latest' } });
    },
  };
}
