// The engine: one object that owns the image store, the containers, exec instances and
// the event stream of one engine root. The API server (src/api) translates HTTP into
// calls on it; nothing here knows about HTTP.

import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { arch, cpus, hostname, release, totalmem } from 'node:os';
import { join } from 'node:path';
import type { EnginePaths } from '../common/engine-paths.js';
import { ImageStore } from '../image/store.js';
import { ShimRuntime } from '../runtime/shim-runtime.js';
import { containerLogPath } from './container-record.js';
import { ContainerService, type Clock } from './container-service.js';
import { EventBus } from './event-bus.js';
import { ExecService } from './exec-service.js';
import { ImageService } from './image-service.js';
import { BuildService } from './build-service.js';
import { ContainerNetworking } from './container-network.js';
import { firewallTag, NetworkService } from './network-service.js';
import { BridgeDns } from '../network/bridge-dns.js';
import { Firewall } from '../network/firewall.js';
import { PortReservations } from '../network/port-reservations.js';
import { ContainerVolumes } from './container-volumes.js';
import { VolumeService } from './volume-service.js';
import { VolumeStore } from '../volumes/volume-store.js';

export interface EngineOptions {
  paths: EnginePaths;
  version: string;
  clock?: Clock;
  /** The shim binary; the built one by default. */
  shimPath?: string;
  /** Bridge subnets are /24s out of this pool (STACK_ADDRESS_POOL; 10.89.0.0/16 by default). */
  addressPool?: string;
  /** How long the default bridge stays after its last container left (STACK_DEFAULT_BRIDGE_LINGER_MS; 30 s by default). */
  defaultBridgeLingerMs?: number;
  /** Registries reached over plain HTTP besides loopback ones (STACK_INSECURE_REGISTRIES). */
  insecureRegistries?: string[];
  /** The build cache is kept under this many bytes (least recently used evicted after builds). */
  buildCacheMax?: number;
  /** The engine's environment: its ~/.docker/config.json holds registry logins. */
  env?: Readonly<Record<string, string | undefined>>;
}

export class Engine {
  readonly events: EventBus;
  readonly images: ImageService;
  readonly containers: ContainerService;
  readonly execs: ExecService;
  readonly networks: NetworkService;
  readonly networking: ContainerNetworking;
  readonly volumes: VolumeService;
  readonly builds: BuildService;
  readonly startedAt = new Date();
  private readonly dns: BridgeDns;
  private readonly ports = new PortReservations();

  private constructor(readonly options: EngineOptions, store: ImageStore, volumeStore: VolumeStore) {
    const { paths } = options;
    const runtime = new ShimRuntime({
      stateRoot: join(paths.runRoot, 'runtime'),
      ...(options.shimPath ? { shimPath: options.shimPath } : {}),
      logPath: (id) => containerLogPath(paths.root, id),
    });
    this.events = new EventBus();
    this.images = new ImageService(store, {
      insecure: options.insecureRegistries ?? [],
      ...(options.env ? { env: options.env } : {}),
      ...(options.shimPath ? { shimPath: options.shimPath } : {}),
    });
    const firewall = new Firewall({ tag: firewallTag(paths.root) });
    this.volumes = new VolumeService(volumeStore, () => this.containers.all(), this.events);
    // Filled in below: the DNS answers from the containers, which need the networking first.
    let containers: ContainerService | undefined;
    this.dns = new BridgeDns({ lookup: (n, name, client) => this.networking.lookup(n, name, client), reverse: (n, ip) => this.networking.reverse(n, ip) });
    this.networks = new NetworkService({
      root: paths.root,
      events: this.events,
      firewall,
      dns: this.dns,
      ...(options.addressPool ? { addressPool: options.addressPool } : {}),
      ...(options.defaultBridgeLingerMs !== undefined ? { defaultBridgeLingerMs: options.defaultBridgeLingerMs } : {}),
      containerName: (id) => containers?.all().find((r) => r.Id === id)?.Name.slice(1),
    });
    this.networking = new ContainerNetworking({
      root: paths.root,
      runRoot: paths.runRoot,
      networks: this.networks,
      firewall,
      ports: this.ports,
      wiring: runtime,
      containers: () => containers?.all() ?? [],
      findContainer: (ref) => containers!.find(ref),
      isRunning: (record) => record.State.Status === 'running' || record.State.Status === 'paused',
    });
    containers = new ContainerService({
      root: paths.root,
      runtime,
      images: this.images,
      events: this.events,
      networking: this.networking,
      volumes: new ContainerVolumes(this.volumes),
      ...(options.clock ? { clock: options.clock } : {}),
    });
    this.containers = containers;
    this.execs = new ExecService(this.containers, runtime);
    this.builds = new BuildService({ root: paths.root, images: this.images, containers: this.containers, ...(options.buildCacheMax !== undefined ? { cacheMax: options.buildCacheMax } : {}) });
  }

  /** Opens the engine root (made if new) and reconciles it with the containers still running. */
  static async open(options: EngineOptions): Promise<Engine> {
    await mkdir(options.paths.root, { recursive: true, mode: 0o711 });
    await mkdir(options.paths.runRoot, { recursive: true, mode: 0o711 });
    // Containers' network namespaces are bound to files here (the shim makes them).
    await mkdir(join(options.paths.runRoot, 'netns'), { recursive: true, mode: 0o711 });
    const store = await new ImageStore(join(options.paths.root, 'image')).init();
    const volumeStore = await new VolumeStore(join(options.paths.root, 'volumes')).init();
    const engine = new Engine(options, store, volumeStore);
    await engine.networks.open();
    await engine.containers.recover();
    await engine.networks.releaseUnknown(new Set(engine.containers.all().map((r) => r.Id)));
    return engine;
  }

  /** Stops serving DNS and holding ports; containers, bridges in use and rules stay (the next engine picks them up). */
  async close(): Promise<void> {
    this.containers.close();
    await this.networks.close();
    await this.dns.close();
    await this.ports.close();
  }

  version(): Record<string, unknown> {
    return {
      Platform: { Name: 'stack' },
      // `docker version` prints the Engine component's Details (not the top-level fields):
      // without MinAPIVersion & co. it shows "(minimum version )" and empty lines.
      Components: [{
        Name: 'Engine',
        Version: this.options.version,
        Details: { ApiVersion: '1.41', MinAPIVersion: '1.24', GitCommit: '', GoVersion: `node ${process.version}`, Os: 'linux', Arch: goArch(), KernelVersion: release(), Experimental: 'false', BuildTime: '' },
      }],
      Version: this.options.version,
      ApiVersion: '1.41',
      MinAPIVersion: '1.24',
      GitCommit: '',
      GoVersion: `node ${process.version}`,
      Os: 'linux',
      Arch: goArch(),
      KernelVersion: release(),
      BuildTime: '',
    };
  }

  async info(): Promise<Record<string, unknown>> {
    const all = this.containers.all();
    const count = (status: string): number => all.filter((r) => r.State.Status === status).length;
    return {
      ID: hostname(),
      Name: hostname(),
      Containers: all.length,
      ContainersRunning: count('running'),
      ContainersPaused: count('paused'),
      ContainersStopped: all.length - count('running') - count('paused'),
      Images: (await this.images.list()).length,
      Driver: 'overlay2',
      DriverStatus: [['Backing Filesystem', 'overlayfs']],
      DockerRootDir: this.options.paths.root,
      ServerVersion: this.options.version,
      OperatingSystem: operatingSystem(),
      OSType: 'linux',
      Architecture: arch() === 'x64' ? 'x86_64' : arch(),
      KernelVersion: release(),
      NCPU: cpus().length,
      MemTotal: totalmem(),
      CgroupDriver: 'cgroupfs',
      CgroupVersion: cgroupVersion(),
      DefaultRuntime: 'stack-shim',
      Runtimes: { 'stack-shim': { path: 'stack-shim' } },
      LoggingDriver: 'json-file',
      Plugins: { Volume: ['local'], Network: [], Authorization: null, Log: ['json-file'] },
      MemoryLimit: true,
      SwapLimit: true,
      CpuCfsPeriod: true,
      CpuCfsQuota: true,
      CPUShares: true,
      PidsLimit: true,
      IPv4Forwarding: true,
      Debug: false,
      SystemTime: new Date().toISOString(),
      Swarm: { LocalNodeState: 'inactive', ControlAvailable: false, NodeID: '', NodeAddr: '' },
      SecurityOptions: ['name=no-new-privileges'],
      Warnings: [],
      Labels: [],
      ExperimentalBuild: false,
      HttpProxy: '',
      HttpsProxy: '',
      NoProxy: '',
      IndexServerAddress: 'https://index.docker.io/v1/',
      RegistryConfig: registryConfig(this.options.insecureRegistries ?? []),
    };
  }
}

/**
 * Docker's RegistryConfig: loopback is always plain HTTP (127.0.0.0/8, as Docker lists it),
 * and each --insecure-registry is an index that is not Secure; `docker info` prints both
 * under "Insecure Registries".
 */
function registryConfig(insecure: readonly string[]): Record<string, unknown> {
  const index = (name: string, secure: boolean): Record<string, unknown> => ({ Name: name, Mirrors: [], Secure: secure, Official: name === 'docker.io' });
  const IndexConfigs: Record<string, unknown> = { 'docker.io': index('docker.io', true) };
  for (const name of insecure) IndexConfigs[name] = index(name, false);
  return { AllowNondistributableArtifactsCIDRs: null, AllowNondistributableArtifactsHostnames: null, IndexConfigs, InsecureRegistryCIDRs: ['127.0.0.0/8', '::1/128'], Mirrors: [] };
}

function goArch(): string {
  return arch() === 'x64' ? 'amd64' : arch();
}

function operatingSystem(): string {
  try {
    return /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? 'Linux';
  } catch {
    return 'Linux';
  }
}

/** `1` on a v1 or hybrid host (the controllers are v1), `2` on a pure v2 host. */
function cgroupVersion(): string {
  try {
    const mounts = readFileSync('/proc/self/mounts', 'utf8');
    return / \/sys\/fs\/cgroup cgroup2 /.test(mounts) ? '2' : '1';
  } catch {
    return '1';
  }
}
