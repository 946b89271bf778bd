// Reaches an engine on another host over SSH. Unlike a local one it is never started on
// demand: the engine there is the remote host's to run.

import { userInfo } from 'node:os';
import { RuntimeFailure } from '../../common/errors.js';
import { ApiClient } from '../api-client.js';
import { parseSshAddress } from './ssh-address.js';
import { SshTransport } from './ssh-transport.js';

type Environment = Readonly<Record<string, string | undefined>>;

/** A client whose requests go through one SSH connection; close its transport when the command ends. */
export async function connectRemoteEngine(host: string, env: Environment): Promise<ApiClient> {
  const target = parseSshAddress(host, userInfo().username);
  const transport = new SshTransport(target, env);
  const client = new ApiClient(transport);
  let answers: boolean;
  try {
    answers = await client.ping();
  } catch (err) {
    transport.close();
    throw err;
  }
  if (answers) return client;
  transport.close();
  throw new RuntimeFailure(`no engine answers on ${target.socket} at ${target.user}@${target.host}:${target.port} (over SSH): start one there with \`stack engine\``);
}
