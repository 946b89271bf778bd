// `stack login [-u USER] [-p PASSWORD | --password-stdin] [REGISTRY]`: the engine checks the
// credentials against the registry (`POST /auth`), then they are written to
// ~/.docker/config.json's `auths` (mode 0600), where pulls and pushes find them.

import type { Argv, CommandModule } from 'yargs';
import { storeLogin } from '../common/docker-config.js';
import { UsageError } from '../common/errors.js';
import { engineClient } from './engine-client.js';
import type { GlobalArgs } from './global-options.js';
import type { CliIO } from './io.js';

interface LoginArgs extends GlobalArgs {
  registry?: string | undefined;
  username?: string | undefined;
  password?: string | undefined;
  passwordStdin: boolean;
}

async function readAll(input: AsyncIterable<Buffer | string>): Promise<string> {
  let text = '';
  for await (const chunk of input) text += chunk.toString();
  return text;
}

export function loginCommand(io: CliIO): CommandModule<GlobalArgs, LoginArgs> {
  return {
    command: 'login [registry]',
    describe: 'Log in to a registry (Docker Hub by default)',
    builder: (y: Argv<GlobalArgs>) =>
      y
        .positional('registry', { type: 'string', description: 'host[:port] of the registry' })
        .option('username', { alias: 'u', type: 'string' })
        .option('password', { type: 'string', description: 'The password (-p after login); --password-stdin keeps it out of the process list' })
        .option('password-stdin', { type: 'boolean', default: false, description: 'Read the password from stdin' }) as unknown as Argv<LoginArgs>,
    handler: async (args) => {
      const registry = args.registry ?? 'docker.io';
      if (!args.username) throw new UsageError('name the user with -u USER');
      let password = args.password;
      if (args.passwordStdin) {
        if (password !== undefined) throw new UsageError('--password and --password-stdin are exclusive');
        if (!io.stdin) throw new UsageError('--password-stdin: no standard input');
        password = (await readAll(io.stdin)).replace(/\r?\n$/, '');
      }
      if (password === undefined || password === '') throw new UsageError('give the password with --password-stdin (or -p PASSWORD)');
      const client = await engineClient(io);
      await client.call('POST', '/auth', { body: { username: args.username, password, serveraddress: registry } });
      const file = await storeLogin(io.env, registry, args.username, password);
      io.stderr.write(`credentials stored in ${file}\n`);
      io.stdout.write('Login Succeeded\n');
    },
  };
}
