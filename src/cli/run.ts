// `stack run [options] IMAGE [CMD...]`: create and start a container through the engine;
// in the foreground it prints the output and exits with the container's code, with -d it
// prints the ID and leaves it running. `--runtime runc` runs the same OCI bundle under
// runc in this process instead (an escape hatch that needs no engine).

import type { Argv, CommandModule } from 'yargs';
import type { ContainerCreateBody, HostConfig, PortBinding, Ulimit } from '../common/api-types.js';
import { ContainerExit, NotFoundError, UsageError } from '../common/errors.js';
import type { ApiClient } from '../client/api-client.js';
import { engineClient, list } from './engine-client.js';
import type { GlobalArgs } from './global-options.js';
import type { EngineRootArgs } from './image.js';
import type { CliIO } from './io.js';
import { runTarget } from './run-target.js';

export interface RunArgs extends EngineRootArgs {
  _: Array<string | number>;
  image: string;
  cmd?: string[] | undefined;
  rm: boolean;
  detach: boolean;
  env?: string | string[] | undefined;
  volume?: string | string[] | undefined;
  label?: string | string[] | undefined;
  name?: string | undefined;
  restart?: string | undefined;
  entrypoint?: string | undefined;
  workdir?: string | undefined;
  user?: string | undefined;
  init: boolean;
  /** -t: the container's main process gets a terminal. */
  tty?: boolean | undefined;
  memory?: string | undefined;
  healthCmd?: string | undefined;
  healthInterval?: string | undefined;
  healthRetries?: number | undefined;
  publish?: string | string[] | undefined;
  publishAll?: boolean | undefined;
  network?: string | undefined;
  networkAlias?: string | string[] | undefined;
  ip?: string | undefined;
  macAddress?: string | undefined;
  hostname?: string | undefined;
  addHost?: string | string[] | undefined;
  dns?: string | string[] | undefined;
  link?: string | string[] | undefined;
  capAdd?: string | string[] | undefined;
  capDrop?: string | string[] | undefined;
  privileged?: boolean | undefined;
  readOnly?: boolean | undefined;
  tmpfs?: string | string[] | undefined;
  cpus?: number | undefined;
  shmSize?: string | undefined;
  ulimit?: string | string[] | undefined;
  sysctl?: string | string[] | undefined;
  groupAdd?: string | string[] | undefined;
  oomScoreAdj?: number | undefined;
  stopSignal?: string | undefined;
  stopTimeout?: number | undefined;
  runtime: 'shim' | 'runc';
  /** missing (the default): pull an image the engine does not have; never; always. */
  pull?: string | undefined;
  // Only for a service's one-off (see run-service.ts):
  /** --no-deps */
  deps?: boolean | undefined;
  servicePorts?: boolean | undefined;
  useAliases?: boolean | undefined;
  /** -T / --no-TTY: a one-off gets no terminal without -t, so these are accepted as they are. */
  T?: boolean | undefined;
  TTY?: boolean | undefined;
  interactive?: boolean | undefined;
  build?: boolean | undefined;
  quietPull?: boolean | undefined;
}

/** Options of `run` (and global ones) that take a value, so the image can be told apart. */
const OPTIONS_WITH_VALUE = new Set([
  '-e', '--env', '-v', '--volume', '-l', '--label', '--name', '--restart', '--entrypoint', '-w', '--workdir', '-u', '--user', '-m', '--memory',
  '--health-cmd', '--health-interval', '--health-retries', '--root', '--runtime', '-f', '--file', '-p', '--project-name', '--project-directory', '--env-file', '--profile', '-H', '--host',
  '--pull', '--publish', '--network', '--net', '--network-alias', '--ip', '--mac-address', '--hostname', '--add-host', '--dns', '--link',
  '--index', '--cap-add', '--cap-drop', '--tmpfs', '--cpus', '--shm-size', '--ulimit', '--sysctl', '--group-add', '--oom-score-adj',
  '--stop-signal', '--stop-timeout',
]);

/**
 * Everything after the image (run) or the container (exec) is the container's command,
 * options included, as in `docker run IMAGE sh -c ... -e`: mark the end of our options
 * with `--` before yargs parses the line.
 */
export function separateRunCommand(argv: readonly string[]): string[] {
  const run = argv.findIndex((a) => a === 'run' || a === 'exec');
  if (run === -1 || argv.slice(0, run).some((a) => !a.startsWith('-') && !OPTIONS_WITH_VALUE.has(argv[argv.indexOf(a) - 1] ?? ''))) return [...argv];
  for (let i = run + 1; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') return [...argv];
    if (a.startsWith('-')) {
      if (OPTIONS_WITH_VALUE.has(a)) i++;
      continue;
    }
    return [...argv.slice(0, i + 1), '--', ...argv.slice(i + 1)];
  }
  return [...argv];
}

/** Go-style durations of the health flags (`30s`, `1m30s`, `500ms`) in nanoseconds. */
function nanoseconds(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  const units: Record<string, number> = { ns: 1, us: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
  let total = 0;
  const rest = text.replace(/(\d+(?:\.\d+)?)(ns|us|ms|s|m|h)/g, (_all, n: string, unit: string) => {
    total += Number(n) * units[unit]!;
    return '';
  });
  if (rest !== '' || text === '') throw new UsageError(`${flag} "${text}" is not a duration like 30s or 1m30s`);
  return Math.round(total);
}

function sizeBytes(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  const m = /^(\d+)([bkmg]?)$/i.exec(text);
  if (!m) throw new UsageError(`${flag} "${text}" is not a size like 512m or 1g`);
  return Number(m[1]) * ({ '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 } as Record<string, number>)[m[2]!.toLowerCase()]!;
}

/** `--ulimit nofile=1024[:2048]` (soft[:hard]; -1 unlimited) as Docker's Ulimits entries. */
function ulimits(specs: readonly string[]): Ulimit[] {
  return specs.map((spec) => {
    const m = /^([a-z]+)=(-1|\d+)(?::(-1|\d+))?$/.exec(spec);
    if (!m) throw new UsageError(`--ulimit "${spec}" is not NAME=SOFT[:HARD], e.g. nofile=1024:2048 (-1 for unlimited)`);
    const soft = Number(m[2]);
    return { Name: m[1]!, Soft: soft, Hard: m[3] === undefined ? soft : Number(m[3]) };
  });
}

/** `--sysctl K=V` (repeatable) as Docker's Sysctls map. */
function sysctls(specs: readonly string[]): Record<string, string> {
  return Object.fromEntries(specs.map((spec) => {
    const at = spec.indexOf('=');
    if (at <= 0) throw new UsageError(`--sysctl "${spec}" is not KEY=VALUE, e.g. net.core.somaxconn=1024`);
    return [spec.slice(0, at), spec.slice(at + 1)];
  }));
}

/** `--tmpfs PATH[:OPTIONS]` (repeatable) as Docker's Tmpfs map. */
function tmpfsMounts(specs: readonly string[]): Record<string, string> {
  return Object.fromEntries(specs.map((spec) => {
    const at = spec.indexOf(':');
    return at === -1 ? [spec, ''] : [spec.slice(0, at), spec.slice(at + 1)];
  }));
}

/** The process and resource settings of docker run's flags, as HostConfig fields. */
function processSettings(args: RunArgs): Partial<HostConfig> {
  const host: Partial<HostConfig> = {};
  if (list(args.capAdd).length) host.CapAdd = list(args.capAdd);
  if (list(args.capDrop).length) host.CapDrop = list(args.capDrop);
  if (args.privileged) host.Privileged = true;
  if (args.readOnly) host.ReadonlyRootfs = true;
  if (list(args.tmpfs).length) host.Tmpfs = tmpfsMounts(list(args.tmpfs));
  if (args.cpus !== undefined) {
    if (!(args.cpus > 0)) throw new UsageError(`--cpus ${args.cpus} must be a number of CPUs above 0, e.g. 0.5`);
    host.NanoCpus = Math.round(args.cpus * 1e9);
  }
  if (args.memory) host.Memory = sizeBytes(args.memory, '--memory')!;
  if (args.shmSize) host.ShmSize = sizeBytes(args.shmSize, '--shm-size')!;
  if (list(args.ulimit).length) host.Ulimits = ulimits(list(args.ulimit));
  if (list(args.sysctl).length) host.Sysctls = sysctls(list(args.sysctl));
  if (list(args.groupAdd).length) host.GroupAdd = list(args.groupAdd);
  if (args.oomScoreAdj !== undefined) host.OomScoreAdj = args.oomScoreAdj;
  return host;
}

export function createBody(args: RunArgs, command: string[]): ContainerCreateBody {
  const labels = Object.fromEntries(list(args.label).map((l) => [l.split('=', 1)[0]!, l.includes('=') ? l.slice(l.indexOf('=') + 1) : '']));
  const [restartName = 'no', retries] = (args.restart ?? 'no').split(':');
  // `-v /data` alone asks for an anonymous volume there, which Docker's API spells as Config.Volumes.
  const volumes = list(args.volume);
  const anonymous = volumes.filter((v) => !v.includes(':'));
  const body: ContainerCreateBody = {
    Image: args.image,
    Env: list(args.env),
    Labels: labels,
    ...(command.length ? { Cmd: command } : {}),
    ...(args.entrypoint !== undefined ? { Entrypoint: args.entrypoint === '' ? [] : [args.entrypoint] } : {}),
    ...(args.workdir ? { WorkingDir: args.workdir } : {}),
    ...(args.user ? { User: args.user } : {}),
    ...(args.tty ? { Tty: true } : {}),
    ...(args.hostname ? { Hostname: args.hostname } : {}),
    ...(args.macAddress ? { MacAddress: args.macAddress } : {}),
    ...(args.stopSignal ? { StopSignal: args.stopSignal } : {}),
    ...(args.stopTimeout !== undefined ? { StopTimeout: args.stopTimeout } : {}),
    ...(anonymous.length ? { Volumes: Object.fromEntries(anonymous.map((v) => [v, {}])) } : {}),
    HostConfig: {
      Binds: volumes.filter((v) => v.includes(':')),
      ...publishing(list(args.publish), args.publishAll ?? false),
      ...(args.network ? { NetworkMode: args.network } : {}),
      ...(list(args.addHost).length ? { ExtraHosts: list(args.addHost) } : {}),
      ...(list(args.dns).length ? { Dns: list(args.dns) } : {}),
      ...(list(args.link).length ? { Links: list(args.link) } : {}),
      RestartPolicy: { Name: restartName as 'no', MaximumRetryCount: retries === undefined ? 0 : Number(retries) },
      Init: args.init,
      ...processSettings(args),
    },
  };
  const aliases = list(args.networkAlias);
  if (aliases.length || args.ip) {
    const network = args.network ?? 'bridge';
    body.NetworkingConfig = { EndpointsConfig: { [network]: { ...(aliases.length ? { Aliases: aliases } : {}), ...(args.ip ? { IPAMConfig: { IPv4Address: args.ip } } : {}) } } };
  }
  if (args.healthCmd !== undefined) {
    body.Healthcheck = {
      Test: ['CMD-SHELL', args.healthCmd],
      ...(args.healthInterval ? { Interval: nanoseconds(args.healthInterval, '--health-interval')! } : {}),
      ...(args.healthRetries !== undefined ? { Retries: args.healthRetries } : {}),
    };
  }
  return body;
}

export function runCommand(io: CliIO): CommandModule<GlobalArgs, RunArgs> {
  return {
    command: 'run <image> [cmd..]',
    describe: 'Run a command in a new container: a one-off of a service of the stack file, or from an image',
    builder: (y: Argv<GlobalArgs>) =>
      y
        .usage([
          '$0 run [options] SERVICE [CMD..]   a one-off container of a service, as docker compose run',
          '$0 run [options] IMAGE [CMD..]     a container from an image, as docker run',
          '',
          'The first word is a SERVICE when a stack file is in context (found from the working',
          'directory upward, or named with -f / --project-directory) and it names one of its',
          'services; otherwise it is an IMAGE. A service run starts the services it depends on',
          'first (and waits for their depends_on conditions) unless --no-deps; its container is',
          '<project>-<service>-run-<12 hex>, publishes no ports unless --service-ports or -p, has',
          'no restart policy, and is removed by "down --remove-orphans" (or at its exit with --rm).',
        ].join('\n'))
        .positional('image', { type: 'string', demandOption: true, description: 'A service of the stack file, or an image' })
        .positional('cmd', { type: 'string', array: true })
        .option('rm', { type: 'boolean', default: false, description: 'Remove the container when it exits' })
        .option('detach', { alias: 'd', type: 'boolean', default: false, description: 'Leave it running in the background; print its ID' })
        .option('env', { alias: 'e', type: 'string', description: 'K=V (repeatable)' })
        .option('volume', { alias: 'v', type: 'string', description: 'HOST_PATH:CONTAINER_PATH[:ro], VOLUME:CONTAINER_PATH[:ro|nocopy] or CONTAINER_PATH (repeatable)' })
        .option('label', { alias: 'l', type: 'string', description: 'K=V (repeatable)' })
        .option('name', { type: 'string' })
        .option('restart', { type: 'string', description: 'no, always, on-failure[:N], unless-stopped' })
        .option('entrypoint', { type: 'string' })
        .option('workdir', { alias: 'w', type: 'string' })
        .option('user', { alias: 'u', type: 'string' })
        .option('init', { type: 'boolean', default: false, description: 'Run an init as pid 1 that reaps and forwards signals' })
        .option('tty', { alias: 't', type: 'boolean', description: 'Give the main process a terminal, sized as ours (else 24x80); its output is then one stream, lines ending in \\r\\n; stdin is not relayed' })
        .option('memory', { alias: 'm', type: 'string', description: 'Memory limit, e.g. 512m' })
        .option('cpus', { type: 'number', description: 'CPU limit, e.g. 0.5' })
        .option('cap-add', { type: 'string', description: 'A capability to add, e.g. NET_ADMIN, or ALL (repeatable)' })
        .option('cap-drop', { type: 'string', description: 'A capability to drop, or ALL (repeatable)' })
        .option('privileged', { type: 'boolean', description: 'Every capability, devices and no masked paths' })
        .option('read-only', { type: 'boolean', description: 'Mount the root filesystem read-only' })
        .option('tmpfs', { type: 'string', description: 'PATH[:size=64m,mode=1777,...] a tmpfs (repeatable)' })
        .option('shm-size', { type: 'string', description: 'Size of /dev/shm, e.g. 256m (default 64m)' })
        .option('ulimit', { type: 'string', description: 'NAME=SOFT[:HARD], e.g. nofile=1024:2048, -1 unlimited (repeatable)' })
        .option('sysctl', { type: 'string', description: 'KEY=VALUE of net.*, kernel.shm*/msg*/sem, fs.mqueue.* (repeatable)' })
        .option('group-add', { type: 'string', description: 'Another group for the processes: a name or number (repeatable)' })
        .option('oom-score-adj', { type: 'number', description: 'OOM killer preference, -1000..1000' })
        .option('stop-signal', { type: 'string', description: 'Signal that stops the container (default SIGTERM)' })
        .option('stop-timeout', { type: 'number', description: 'Seconds to wait after the stop signal before SIGKILL' })
        .option('health-cmd', { type: 'string' })
        .option('health-interval', { type: 'string' })
        .option('health-retries', { type: 'number' })
        .option('publish', { type: 'string', description: '[IP:]HOST:CONTAINER[/udp], ranges too (repeatable; -p after run)' })
        .option('publish-all', { alias: 'P', type: 'boolean', description: 'Publish every exposed port on a free host port' })
        .option('network', { alias: 'net', type: 'string', description: 'A network name, or bridge, host, none, container:NAME' })
        .option('network-alias', { type: 'string', description: 'Another DNS name on the network (repeatable)' })
        .option('ip', { type: 'string', description: 'A fixed IPv4 address (the network needs a subnet)' })
        .option('mac-address', { type: 'string', description: 'The MAC on the first network, e.g. 02:42:ac:11:00:99' })
        .option('hostname', { type: 'string' })
        .option('add-host', { type: 'string', description: 'HOST:IP for /etc/hosts (repeatable; host-gateway works)' })
        .option('dns', { type: 'string', description: 'A nameserver instead of the engine\'s (repeatable)' })
        .option('link', { type: 'string', description: 'NAME[:ALIAS] of another container, in /etc/hosts (repeatable)' })
        .option('pull', { type: 'string', choices: ['missing', 'never', 'always'], description: 'Pull the image first: when missing (default; a service: its pull_policy), never, always' })
        .option('deps', { type: 'boolean', description: 'SERVICE: --no-deps: do not start the services it depends on' })
        .option('service-ports', { type: 'boolean', description: 'SERVICE: publish the service\'s ports (a one-off publishes none by default)' })
        .option('use-aliases', { type: 'boolean', description: 'SERVICE: give the container the service\'s network aliases' })
        .option('build', { type: 'boolean', description: 'SERVICE: build its image before running' })
        .option('quiet-pull', { type: 'boolean', description: 'SERVICE: pull without progress output' })
        .option('T', { type: 'boolean', description: 'SERVICE: no TTY (also --no-TTY; the default unless -t)' })
        .option('TTY', { type: 'boolean', hidden: true })
        .option('interactive', { alias: 'i', type: 'boolean', description: 'SERVICE: keep stdin open (not supported yet: stdin is not relayed to containers)' })
        .option('runtime', { type: 'string', choices: ['shim', 'runc'], default: 'shim', description: 'runc: the same OCI bundle under runc, in this process, without the engine' })
        .option('root', { type: 'string', description: 'Engine root directory, for --runtime runc (env STACK_ROOT; default /var/lib/stack)' }) as unknown as Argv<RunArgs>,
    // After `--` (see separateRunCommand) yargs leaves the command in `_`, after "run".
    handler: (args) => runContainer(io, args, [...(args.cmd ?? []), ...args._.slice(1)].map(String)),
  };
}

/** What `run` does once its command line is read (by yargs, or by run-fast-path.ts). */
export async function runContainer(io: CliIO, args: RunArgs & GlobalArgs, command: string[]): Promise<void> {
  const target = args.runtime === 'runc' ? { kind: 'image' as const, services: [] } : await runTarget(args, io);
  let code: number;
  if (target.kind === 'service') {
    const { runServiceOneOff } = await import('./run-service.js');
    code = await runServiceOneOff(io, args, command, target.loaded);
  } else {
    refuseServiceOptions(args);
    code = args.runtime === 'runc' ? await runUnderRunc(io, args, command) : await runInEngine(io, args, command, target.services);
  }
  if (code !== 0) throw new ContainerExit(code);
}

/** The options only a service's one-off has, named when given to an image run. */
function refuseServiceOptions(args: RunArgs): void {
  refuseInteractive(args);
  const given = ([['deps', '--no-deps'], ['servicePorts', '--service-ports'], ['useAliases', '--use-aliases'], ['build', '--build'], ['quietPull', '--quiet-pull'], ['T', '-T'], ['TTY', '--no-TTY']] as const)
    .filter(([key]) => args[key] !== undefined).map(([, flag]) => flag);
  if (given.length) {
    throw new UsageError(`${given.join(', ')}: only for a service of the stack file, and "${args.image}" is not one here; run "stack config --services" to list them`);
  }
}

/** -i, which neither kind of run honours yet. */
export function refuseInteractive(args: Pick<RunArgs, 'interactive'>): void {
  if (args.interactive) throw new UsageError('-i: stdin is not relayed to containers yet; run without -i (the command gets an empty stdin)');
}

/** Checks the -d/--rm pair that this command cannot honour. */
export function refuseDetachedRemoval(args: Pick<RunArgs, 'rm' | 'detach'>): void {
  if (args.rm && args.detach) throw new UsageError('--rm with -d is not supported yet: the removal is done by this command when the container exits');
}

async function runInEngine(io: CliIO, args: RunArgs, command: string[], services: readonly string[]): Promise<number> {
  refuseDetachedRemoval(args);
  const client = await engineClient(io);
  const pull = args.pull ?? 'missing';
  if (!['missing', 'never', 'always'].includes(pull)) throw new UsageError(`--pull "${pull}": use missing, never or always`);
  // pull.js (and what it loads) only for a pull: most runs find their image.
  const pullThroughEngine: typeof import('./pull.js').pullThroughEngine = async (...pullArgs) => (await import('./pull.js')).pullThroughEngine(...pullArgs);
  if (pull === 'always') await pullThroughEngine(io, args.image, { quiet: true });
  const body = createBody(args, command);
  // As docker run -t: the container's terminal starts the size of ours (24x80 when we have none).
  if (args.tty && io.stdout.isTTY && io.stdout.rows && io.stdout.columns) body.HostConfig = { ...body.HostConfig, ConsoleSize: [io.stdout.rows, io.stdout.columns] };
  const create = (): Promise<{ Id: string }> => client.call<{ Id: string }>('POST', '/containers/create', { query: { name: args.name }, body });
  let created: { Id: string };
  try {
    created = await create();
  } catch (err) {
    // As docker run: an image the engine lacks is pulled, its progress on stderr, then made.
    if (pull !== 'missing' || !(err instanceof NotFoundError) || !/^No such image/.test(err.message)) throw err;
    // A near miss of a service of the stack file here is a typo more likely than an image to pull.
    const { closestName } = await import('../common/did-you-mean.js');
    const guess = closestName(args.image, services);
    if (guess !== undefined) throw new NotFoundError(`no such service or image: "${args.image}"; did you mean the service "${guess}"? (the services are ${[...services].sort().join(', ')})`);
    io.stderr.write(`Unable to find image '${args.image}' locally\n`);
    await pullThroughEngine({ ...io, stdout: io.stderr }, args.image);
    created = await create();
  }
  return startAndFollow(io, client, created.Id, args);
}

/**
 * Starts a created container; in the foreground, prints its output as it comes and returns its
 * exit code, with -d prints its ID and leaves it running. --rm removes it once it exited.
 */
export async function startAndFollow(io: CliIO, client: ApiClient, Id: string, args: Pick<RunArgs, 'rm' | 'detach' | 'restart'>): Promise<number> {
  const path = `/containers/${Id}`;
  try {
    if (args.detach) {
      await client.call('POST', `${path}/start`);
      io.stdout.write(`${Id}\n`);
      return 0;
    }
    // The log reader loads while the engine starts the container.
    const [{ streamLogs }] = await Promise.all([import('../client/log-stream.js'), client.call('POST', `${path}/start`)]);
    // Asked after the start, `not-running` answers at once, with its code, for a container that
    // has already exited (and waits out restarts by its policy): the wait and the log are
    // asked together, not one round trip after the other.
    const exit = client.call<{ StatusCode: number }>('POST', `${path}/wait`, { query: { condition: 'not-running' } });
    exit.catch(() => undefined);
    const restarts = (args.restart ?? 'no').split(':')[0] !== 'no';
    const onSigint = (): void => void client.call('POST', `${path}/kill`, { query: { signal: 'SIGINT' } }).catch(() => undefined);
    process.once('SIGINT', onSigint);
    try {
      await streamLogs(client, Id, { follow: true, ...(restarts ? {} : { stopped: exit }) }, (line) => (line.stream === 'stderr' ? io.stderr : io.stdout).write(line.text));
      return (await exit).StatusCode;
    } finally {
      process.off('SIGINT', onSigint);
    }
  } finally {
    // As docker run --rm: the container's anonymous volumes go with it, named ones stay.
    if (args.rm) await client.call('DELETE', path, { query: { force: 1, v: 1 } }).catch(() => undefined);
  }
}

async function runUnderRunc(io: CliIO, args: RunArgs, command: string[]): Promise<number> {
  if (args.tty) throw new UsageError('-t with --runtime runc: a terminal for the main process needs the engine (runc would take this command\'s own terminal, or want a console socket); run without --runtime runc, or without -t');
  const [{ runImageOnce }, { engineRoot, openStore }] = await Promise.all([import('../image/run-once.js'), import('./image.js')]);
  const root = engineRoot(args, io);
  const store = await openStore(root);
  return runImageOnce(store, {
    image: args.image,
    command,
    env: list(args.env),
    ...(args.name !== undefined ? { name: args.name } : {}),
    root,
    runtime: 'runc',
    onLog: (entry) => (entry.stream === 'stdout' ? io.stdout : io.stderr).write(entry.log),
  });
}

/**
 * `-p` values as Docker reads them: `80`, `8080:80`, `127.0.0.1:8080:80`, `127.0.0.1::80`,
 * `8000-8001:80-81`, each with an optional `/udp`. Ranges become one binding per port.
 */
export function publishing(specs: readonly string[], all: boolean): Pick<HostConfig, 'PortBindings' | 'PublishAllPorts'> {
  const bindings: Record<string, PortBinding[]> = {};
  for (const spec of specs) {
    const m = /^(?:(?:(\d+\.\d+\.\d+\.\d+):)?(\d*(?:-\d+)?):)?(\d+(?:-\d+)?)(?:\/(tcp|udp))?$/.exec(spec);
    if (!m) throw new UsageError(`-p "${spec}" is not a port mapping like 8080:80, 127.0.0.1:8080:80 or 53:53/udp`);
    const [, ip = '', hostText = '', containerText = '', protocol = 'tcp'] = m;
    const containerPorts = portRange(containerText, spec);
    const hostPorts = hostText === '' || hostText === '0' ? containerPorts.map(() => 0) : portRange(hostText, spec);
    if (hostPorts.length !== containerPorts.length) {
      throw new UsageError(`-p "${spec}": the host range has ${hostPorts.length} ports and the container range ${containerPorts.length}; make them the same size`);
    }
    containerPorts.forEach((port, i) => {
      (bindings[`${port}/${protocol}`] ??= []).push({ HostIp: ip, HostPort: hostPorts[i] ? String(hostPorts[i]) : '' });
    });
  }
  return { ...(specs.length ? { PortBindings: bindings } : {}), ...(all ? { PublishAllPorts: true } : {}) };
}

function portRange(text: string, spec: string): number[] {
  const [first = '', last = first] = text.split('-');
  const a = Number(first);
  const b = Number(last);
  if (!(a >= 1 && b <= 65535 && a <= b)) throw new UsageError(`-p "${spec}": "${text}" is not a port or range within 1-65535`);
  return Array.from({ length: b - a + 1 }, (_, i) => a + i);
}
