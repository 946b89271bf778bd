// `stack run SERVICE [CMD..]`: a one-off container of a service (compose/one-off.ts makes it,
// after the service's dependencies), then started and followed as any `stack run` container:
// its output on ours, its exit code ours, removed after with --rm. Progress of the
// dependencies goes to stderr so stdout is the command's alone.

import { randomBytes } from 'node:crypto';
import type { LoadedProject } from '../compose/load.js';
import { UsageError } from '../common/errors.js';
import { engineClient, list } from './engine-client.js';
import type { CliIO } from './io.js';
import { plainRenderer } from './render-plain.js';
import { refuseDetachedRemoval, refuseInteractive, startAndFollow, type RunArgs } from './run.js';

/** Options of an image run that Compose's run does not have. */
const IMAGE_ONLY: ReadonlyArray<readonly [keyof RunArgs, string]> = [
  ['restart', '--restart'], ['memory', '--memory'], ['healthCmd', '--health-cmd'], ['healthInterval', '--health-interval'], ['healthRetries', '--health-retries'],
  ['publishAll', '--publish-all'], ['network', '--network'], ['networkAlias', '--network-alias'], ['ip', '--ip'], ['macAddress', '--mac-address'],
  ['hostname', '--hostname'], ['addHost', '--add-host'], ['dns', '--dns'], ['link', '--link'],
];

export async function runServiceOneOff(io: CliIO, args: RunArgs, command: string[], loaded: LoadedProject): Promise<number> {
  const given = IMAGE_ONLY.filter(([key]) => args[key] !== undefined && args[key] !== false && !(Array.isArray(args[key]) && (args[key] as unknown[]).length === 0)).map(([, flag]) => flag);
  if (args.init) given.push('--init');
  if (given.length) throw new UsageError(`${given.join(', ')}: not an option of a service's one-off ("${args.image}" is a service of ${loaded.project.composeFiles[0]}); set it in the stack file instead`);
  refuseInteractive(args);
  if (args.servicePorts && list(args.publish).length) throw new UsageError('--service-ports and -p cannot be used together: choose one');
  const pull = args.pull;
  if (pull !== undefined && pull !== 'missing' && pull !== 'never' && pull !== 'always') throw new UsageError(`--pull "${pull}": use missing, never or always`);
  refuseDetachedRemoval(args);
  const labels = Object.fromEntries(list(args.label).map((l) => {
    const at = l.indexOf('=');
    if (at <= 0) throw new UsageError(`-l "${l}" is not KEY=VALUE`);
    return [l.slice(0, at), l.slice(at + 1)];
  }));
  const renderer = plainRenderer({ ...io, stdout: io.stderr });
  const emit = args.quietPull ? (e: Parameters<typeof renderer.emit>[0]): void => (e.type === 'image-pulling' ? undefined : renderer.emit(e)) : renderer.emit;
  const client = await engineClient(io);
  const { createOneOff } = await import('../compose/one-off.js');
  const { registryLogins } = await import('./registry-auth.js');
  const created = await createOneOff(client, loaded, {
    service: args.image,
    command,
    env: list(args.env),
    labels,
    volumes: list(args.volume),
    publish: list(args.publish),
    servicePorts: args.servicePorts ?? false,
    workdir: args.workdir,
    user: args.user,
    entrypoint: args.entrypoint,
    tty: args.tty,
    name: args.name,
    useAliases: args.useAliases ?? false,
    noDeps: args.deps === false,
    pull,
    build: args.build ?? false,
    emit,
    logins: registryLogins(io),
    environment: io.env,
    slug: randomBytes(32).toString('hex'),
  });
  return startAndFollow(io, client, created.id, args);
}
