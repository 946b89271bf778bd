// The engine's networks: bridge networks with their subnets, addresses, netfilter rules
// and DNS, plus Docker's three predefined ones (`bridge`, `host`, `none`). Each network is
// one JSON record under <root>/networks/, written atomically; the kernel objects (bridge,
// rules, DNS listener) exist while the network does. The default `bridge` network is the
// exception: its kernel bridge is made when the first container joins it and removed a
// while after the last one leaves (so back-to-back `run --rm`s do not each make and unmake
// it) or when the engine stops, so an engine that runs nothing leaves nothing in the kernel.
// A removed network leaves the API at once and the kernel just after (see remove).

import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, readFile, readdir, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { NetworkCreateBody, NetworkInspect } from '../common/api-types.js';
import { ConflictError, NotFoundError, UsageError } from '../common/errors.js';
import { sideBySide } from '../common/side-by-side.js';
import { writeFileAtomic } from '../image/store.js';
import { runCommand, type CommandRunner } from '../network/command.js';
import type { GatewayDns } from '../network/bridge-dns.js';
import type { BridgeNetwork, Firewall } from '../network/firewall.js';
import { hostSubnets } from '../network/host-subnets.js';
import {
  allocateAddress, contains, defaultGateway, formatSubnet, isHostAddress, overlaps, parseSubnet, pickSubnet, type Subnet,
} from '../network/ipam.js';
import { bridgeName, createBridge, deleteBridge } from '../network/links.js';
import type { EventBus } from './event-bus.js';

export const DEFAULT_ADDRESS_POOL = '10.89.0.0/16';
const SUBNET_PREFIX = 24;
const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
/** Names Docker reserves: `bridge` is our default bridge; `host` and `none` are modes, not bridges. */
export const PREDEFINED = ['bridge', 'host', 'none'] as const;

export interface NetworkRecord {
  Id: string;
  Name: string;
  Created: string;
  Driver: 'bridge' | 'host' | 'null';
  Internal: boolean;
  Attachable: boolean;
  Labels: Record<string, string>;
  Options: Record<string, string>;
  /** Empty for the default bridge until its first container joins (and again after the last leaves). */
  Subnet: string;
  Gateway: string;
  /** Whether the subnet was asked for (kept across the default bridge's comings and goings). */
  FixedSubnet: boolean;
  /** Address -> the container holding it. */
  Addresses: Record<string, string>;
}

export interface NetworkServiceOptions {
  root: string;
  events: EventBus;
  firewall: Firewall;
  dns: GatewayDns;
  /** Subnets are /24s out of this pool. */
  addressPool?: string;
  run?: CommandRunner;
  /** Who holds which address, for inspect: container id -> name. */
  containerName?: (id: string) => string | undefined;
  /** How long the default bridge stays in the kernel after its last container left (0: not at all). */
  defaultBridgeLingerMs?: number;
}

export const DEFAULT_BRIDGE_LINGER_MS = 30_000;

export class NetworkService {
  private readonly networks = new Map<string, NetworkRecord>();
  /** One kernel set-up or tear-down at a time per network. */
  private readonly locks = new Map<string, Promise<unknown>>();
  private readonly pool: Subnet;
  private readonly run: CommandRunner;
  /** The default bridge's pending removal, while it lingers unused. */
  private lingering: NodeJS.Timeout | undefined;
  /** Kernel tear-downs of removed networks still under way (see remove). */
  private readonly departing = new Set<Promise<void>>();

  constructor(private readonly options: NetworkServiceOptions) {
    this.pool = parseSubnet(options.addressPool ?? DEFAULT_ADDRESS_POOL);
    this.run = options.run ?? runCommand;
  }

  private get dir(): string {
    return join(this.options.root, 'networks');
  }

  /** Loads the records, makes the predefined ones, and brings back what a reboot took (bridges, rules, DNS). */
  async open(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const files = await readdir(this.dir);
    // Removals a previous engine did not see through: their bridges and rules go now (or,
    // should the kernel refuse, at the next start: the engine starts all the same).
    for (const file of files.filter((f) => f.endsWith(REMOVING))) {
      const record = await readRecord(join(this.dir, file));
      await (record ? this.dematerialize(record) : Promise.resolve())
        .then(() => unlink(join(this.dir, file)))
        .catch(() => undefined);
    }
    for (const file of files) {
      if (!file.endsWith('.json')) continue;
      const record = await readRecord(join(this.dir, file));
      if (record) this.networks.set(record.Id, record);
    }
    for (const name of PREDEFINED) {
      if (this.byName(name)) continue;
      const record = newRecord(name, { Driver: name === 'bridge' ? 'bridge' : name === 'host' ? 'host' : 'null' });
      this.networks.set(record.Id, record);
      await this.save(record);
    }
    for (const record of this.networks.values()) {
      if (record.Driver !== 'bridge' || !record.Subnet) continue;
      // A default bridge left lingering by an engine that died: nobody needs it.
      if (this.unusedDefaultBridge(record)) await this.dematerialize(record).then(() => this.save(record));
      else await this.ensureKernel(record);
    }
  }

  /** The engine stops: a default bridge lingering unused goes now rather than later. */
  async close(): Promise<void> {
    await this.departed();
    clearTimeout(this.lingering);
    this.lingering = undefined;
    const bridge = this.byName('bridge');
    if (bridge) await this.withLock(bridge, () => this.dematerializeIfUnused(bridge)).catch(() => undefined);
  }

  // ---- lookup -----------------------------------------------------------------------------

  private byName(name: string): NetworkRecord | undefined {
    for (const r of this.networks.values()) if (r.Name === name) return r;
    return undefined;
  }

  /** By name, full ID or unique ID prefix, as Docker finds them. */
  find(ref: string): NetworkRecord {
    const exact = this.networks.get(ref) ?? this.byName(ref);
    if (exact) return exact;
    const matches = [...this.networks.values()].filter((r) => r.Id.startsWith(ref));
    if (matches.length === 1) return matches[0]!;
    if (matches.length > 1) throw new ConflictError(`network ID prefix "${ref}" names ${matches.length} networks: give more of it`);
    throw new NotFoundError(`network ${ref} not found`);
  }

  all(): NetworkRecord[] {
    return [...this.networks.values()].sort((a, b) => a.Name.localeCompare(b.Name));
  }

  isPredefined(record: NetworkRecord): boolean {
    return (PREDEFINED as readonly string[]).includes(record.Name);
  }

  // ---- create / remove --------------------------------------------------------------------

  async create(body: NetworkCreateBody): Promise<{ Id: string; Warning: string }> {
    if (typeof body !== 'object' || body === null || typeof body.Name !== 'string') throw new UsageError('the request body must be a JSON object with "Name"');
    const name = body.Name;
    if (!NAME.test(name)) throw new UsageError(`invalid network name "${name}": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    if (this.byName(name)) throw new ConflictError(`network with name ${name} already exists`);
    const driver = body.Driver || 'bridge';
    if (driver !== 'bridge') throw new UsageError(`network ${name}: driver "${driver}" is not supported (use bridge)`);
    if (body.EnableIPv6) throw new UsageError(`network ${name}: IPv6 is not supported yet; leave enable_ipv6 off`);
    const ipamConfig = body.IPAM?.Config ?? [];
    if (ipamConfig.length > 1) throw new UsageError(`network ${name}: one IPAM config (subnet) per network is supported, ${ipamConfig.length} given`);
    const asked = ipamConfig[0] ?? {};
    const record = newRecord(name, {
      Driver: 'bridge',
      Internal: body.Internal ?? false,
      Attachable: body.Attachable ?? false,
      Labels: { ...(body.Labels ?? {}) },
      Options: { ...(body.Options ?? {}) },
    });
    if (asked.Subnet) {
      const subnet = parseSubnet(asked.Subnet);
      const gateway = asked.Gateway ?? defaultGateway(subnet);
      if (!isHostAddress(subnet, gateway)) throw new UsageError(`network ${name}: gateway ${gateway} is not a host address of ${asked.Subnet}`);
      for (const other of this.networks.values()) {
        if (other.Subnet && overlaps(parseSubnet(other.Subnet), subnet)) {
          throw new ConflictError(`network ${name}: subnet ${asked.Subnet} overlaps ${other.Subnet} of network ${other.Name}: pick another subnet`);
        }
      }
      record.Subnet = formatSubnet(subnet);
      record.Gateway = gateway;
      record.FixedSubnet = true;
    } else if (asked.Gateway) {
      throw new UsageError(`network ${name}: a gateway needs a subnet to go with it`);
    }
    await this.withLock(record, () => this.materialize(record));
    this.networks.set(record.Id, record);
    this.publish('create', record);
    return { Id: record.Id, Warning: '' };
  }

  /**
   * Refuses while containers are attached (naming them), and the predefined networks. The
   * network is gone from the API once this resolves; its bridge and rules follow in the
   * background, because deleting a bridge waits out the kernel's RCU grace periods (40-60 ms
   * here, most of a `down`'s last step). Whatever makes a bridge waits for them to be gone
   * (materialize), and so does close(). The record is renamed <id>.removing first: an engine
   * that dies before the kernel work is done finishes it at its next start, rather than
   * making the network again.
   */
  async remove(ref: string, attachedNames: (record: NetworkRecord) => string[]): Promise<void> {
    const record = this.find(ref);
    if (this.isPredefined(record)) throw new ConflictError(`${record.Name} is a pre-defined network and cannot be removed`);
    const users = attachedNames(record);
    if (users.length) throw new ConflictError(`network ${record.Name} has active endpoints (${users.join(', ')}): remove or disconnect them first`);
    await this.withLock(record, () => rename(this.recordPath(record), this.removingPath(record)));
    this.networks.delete(record.Id);
    this.publish('destroy', record);
    const departure: Promise<void> = this.withLock(record, () => this.dematerialize(record))
      .then(() => unlink(this.removingPath(record)))
      // Left as <id>.removing: the next engine start tries again.
      .catch(() => undefined)
      .finally(() => this.departing.delete(departure));
    this.departing.add(departure);
  }

  /** Resolves once the bridges and rules of every removed network have left the kernel. */
  async departed(): Promise<void> {
    while (this.departing.size > 0) await Promise.all(this.departing);
  }

  async prune(attachedNames: (record: NetworkRecord) => string[]): Promise<{ NetworksDeleted: string[] }> {
    const deleted: string[] = [];
    for (const record of this.all()) {
      if (this.isPredefined(record) || attachedNames(record).length) continue;
      await this.remove(record.Id, attachedNames);
      deleted.push(record.Name);
    }
    return { NetworksDeleted: deleted };
  }

  // ---- addresses --------------------------------------------------------------------------

  /**
   * Makes sure the network's bridge exists (the default bridge's first user) and hands an
   * address to `containerId`: `requested` when given (and free), the lowest free one otherwise.
   */
  async allocate(record: NetworkRecord, containerId: string, requested?: string): Promise<string> {
    if (record.Driver !== 'bridge') throw new UsageError(`network ${record.Name} has no addresses to give`);
    return this.withLock(record, async () => {
      if (record.Name === 'bridge') {
        clearTimeout(this.lingering);
        this.lingering = undefined;
      }
      if (!record.Subnet || !this.bridgeExists(record)) await this.materialize(record);
      const subnet = parseSubnet(record.Subnet);
      const taken = new Set([record.Gateway, ...Object.keys(record.Addresses)]);
      let address: string | undefined;
      if (requested) {
        if (!contains(subnet, requested) || !isHostAddress(subnet, requested)) {
          throw new UsageError(`address ${requested} is not in network ${record.Name}'s subnet ${record.Subnet}: pick one inside it`);
        }
        const holder = record.Addresses[requested];
        if (taken.has(requested) && holder !== containerId) {
          throw new ConflictError(`address ${requested} on network ${record.Name} is already in use${holder ? ` by ${this.options.containerName?.(holder) ?? holder.slice(0, 12)}` : ' (the gateway)'}`);
        }
        address = requested;
      } else {
        address = allocateAddress(subnet, taken);
        if (!address) throw new ConflictError(`network ${record.Name} (${record.Subnet}) has no free address left`);
      }
      record.Addresses[address] = containerId;
      await this.save(record);
      return address;
    });
  }

  /** Gives the addresses back; the default bridge goes from the kernel once nobody holds one. */
  async release(record: NetworkRecord, containerId: string): Promise<void> {
    await this.withLock(record, async () => {
      let changed = false;
      for (const [ip, holder] of Object.entries(record.Addresses)) {
        if (holder === containerId) {
          delete record.Addresses[ip];
          changed = true;
        }
      }
      if (changed) await this.save(record);
      if (!this.unusedDefaultBridge(record)) return;
      const linger = this.options.defaultBridgeLingerMs ?? DEFAULT_BRIDGE_LINGER_MS;
      if (linger <= 0) return this.dematerializeIfUnused(record);
      clearTimeout(this.lingering);
      this.lingering = setTimeout(() => {
        this.lingering = undefined;
        void this.withLock(record, () => this.dematerializeIfUnused(record)).catch(() => undefined);
      }, linger).unref();
    });
  }

  private unusedDefaultBridge(record: NetworkRecord): boolean {
    return record.Name === 'bridge' && record.Subnet !== '' && Object.keys(record.Addresses).length === 0;
  }

  private async dematerializeIfUnused(record: NetworkRecord): Promise<void> {
    if (!this.unusedDefaultBridge(record)) return;
    await this.dematerialize(record);
    await this.save(record);
  }

  /** Addresses held by containers the engine no longer knows (a crash between allocate and record). */
  async releaseUnknown(known: ReadonlySet<string>): Promise<void> {
    for (const record of this.networks.values()) {
      for (const holder of new Set(Object.values(record.Addresses))) if (!known.has(holder)) await this.release(record, holder);
    }
  }

  // ---- kernel objects ---------------------------------------------------------------------

  /**
   * Read in-process from /proc/self/net/dev, the links of the engine's own network namespace:
   * this runs at every container start, and an `ip link` process costs milliseconds. Not
   * getifaddrs (os.networkInterfaces): it leaves out links without carrier, which a bridge
   * with no container on it is. Not /sys/class/net: that shows the namespace /sys was mounted in.
   */
  private bridgeExists(record: NetworkRecord): boolean {
    return linkExists(bridgeName(record.Id));
  }

  /** Bridge, gateway address, rules and DNS for a network whose record may lack a subnet yet. */
  private async materialize(record: NetworkRecord): Promise<void> {
    // A removed network's bridge still holds its subnet (which may be the one asked for).
    await this.departed();
    const bridge = bridgeName(record.Id);
    for (let attempt = 0; ; attempt++) {
      if (!record.FixedSubnet) record.Subnet = formatSubnet(this.pickFreeSubnet(record));
      const subnet = parseSubnet(record.Subnet);
      if (!record.FixedSubnet || !record.Gateway) record.Gateway = defaultGateway(subnet);
      await createBridge(bridge, `${record.Gateway}/${subnet.prefix}`, this.run).catch(async (err: Error) => {
        // A bridge left by an engine that died half-way: made anew (one process less when there is none, the usual case).
        if (!/File exists/.test(err.message)) throw err;
        await deleteBridge(bridge, this.run);
        await createBridge(bridge, `${record.Gateway}/${subnet.prefix}`, this.run);
      });
      // Another engine may have taken the same subnet a moment ago: the kernel is the
      // referee, and the lower interface name keeps it.
      const rival = hostSubnets().find((s) => s.iface && s.iface !== bridge && overlaps(s, subnet));
      if (!rival || rival.iface! > bridge) break;
      await deleteBridge(bridge, this.run);
      if (record.FixedSubnet) throw new ConflictError(`network ${record.Name}: subnet ${record.Subnet} is already used by ${rival.iface} on this host: pick another subnet`);
      if (attempt >= 8) throw new ConflictError(`network ${record.Name}: no free subnet left in the address pool ${formatSubnet(this.pool)}`);
    }
    try {
      await this.ensureKernel(record);
      await this.save(record);
    } catch (err) {
      await this.dematerialize(record).catch(() => undefined);
      throw err;
    }
  }

  /** Rules and DNS for a network whose bridge exists (also after an engine restart, and to mend a bridge a reboot removed). */
  private async ensureKernel(record: NetworkRecord): Promise<void> {
    const bridge = bridgeName(record.Id);
    if (!this.bridgeExists(record)) await createBridge(bridge, `${record.Gateway}/${parseSubnet(record.Subnet).prefix}`, this.run);
    await this.options.firewall.addNetwork(this.firewallView(record));
    await this.options.dns.listen(record.Id, record.Gateway).catch(() => undefined);
  }

  private async dematerialize(record: NetworkRecord): Promise<void> {
    if (!record.Subnet) return;
    // The DNS server's socket is bound to the gateway address, which lives on the bridge.
    await this.options.dns.unlisten(record.Gateway).catch(() => undefined);
    // Nothing is attached any more and rules naming a bridge that is gone match nothing, so
    // rules and bridge go side by side (one process less to wait for). A crash between them
    // leaves the record, and the next engine start makes both again, to be removed whole.
    await sideBySide([this.options.firewall.removeNetwork(this.firewallView(record)), deleteBridge(bridgeName(record.Id), this.run)]);
    if (!record.FixedSubnet) {
      record.Subnet = '';
      record.Gateway = '';
    }
  }

  private pickFreeSubnet(record: NetworkRecord): Subnet {
    const taken: Subnet[] = [...hostSubnets()];
    for (const other of this.networks.values()) if (other !== record && other.Subnet) taken.push(parseSubnet(other.Subnet));
    const start = randomBytes(2).readUInt16BE() % 2 ** (SUBNET_PREFIX - this.pool.prefix);
    const subnet = pickSubnet(this.pool, SUBNET_PREFIX, taken, start);
    if (!subnet) throw new ConflictError(`network ${record.Name}: no free /${SUBNET_PREFIX} left in the address pool ${formatSubnet(this.pool)} (set STACK_ADDRESS_POOL to a larger or other range)`);
    return subnet;
  }

  firewallView(record: NetworkRecord): BridgeNetwork {
    return firewallView(record);
  }

  /** Removes every network's kernel objects and user networks' records (an engine being wiped, e.g. by a test). */
  async destroyAll(): Promise<void> {
    await this.departed();
    for (const record of [...this.networks.values()]) {
      await this.withLock(record, () => this.dematerialize(record)).catch(() => undefined);
      record.Addresses = {};
      if (!this.isPredefined(record)) {
        this.networks.delete(record.Id);
        await unlink(this.recordPath(record)).catch(() => undefined);
      } else await this.save(record);
    }
  }

  // ---- views ------------------------------------------------------------------------------

  inspect(ref: string): NetworkInspect {
    const record = this.find(ref);
    const containers: NetworkInspect['Containers'] = {};
    const prefix = record.Subnet ? `/${parseSubnet(record.Subnet).prefix}` : '';
    for (const [ip, id] of Object.entries(record.Addresses)) {
      containers[id] = { Name: this.options.containerName?.(id) ?? '', EndpointID: endpointId(record.Id, id), MacAddress: '', IPv4Address: `${ip}${prefix}`, IPv6Address: '' };
    }
    return {
      Name: record.Name,
      Id: record.Id,
      Created: record.Created,
      Scope: 'local',
      Driver: record.Driver,
      EnableIPv6: false,
      IPAM: { Driver: 'default', Options: {}, Config: record.Subnet ? [{ Subnet: record.Subnet, Gateway: record.Gateway }] : [] },
      Internal: record.Internal,
      Attachable: record.Attachable,
      Ingress: false,
      ConfigFrom: { Network: '' },
      ConfigOnly: false,
      Containers: containers,
      Options: record.Driver === 'bridge' ? { 'com.docker.network.bridge.name': bridgeName(record.Id), ...record.Options } : record.Options,
      Labels: record.Labels,
    };
  }

  // ---- internals --------------------------------------------------------------------------

  private recordPath(record: NetworkRecord): string {
    return join(this.dir, `${record.Id}.json`);
  }

  private removingPath(record: NetworkRecord): string {
    return join(this.dir, `${record.Id}${REMOVING}`);
  }

  private async save(record: NetworkRecord): Promise<void> {
    await writeFileAtomic(this.recordPath(record), JSON.stringify(record));
  }

  private withLock<T>(record: NetworkRecord, work: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(record.Id) ?? Promise.resolve();
    const next = previous.then(work);
    this.locks.set(record.Id, next.catch(() => undefined));
    return next;
  }

  private publish(action: string, record: NetworkRecord): void {
    this.options.events.publish('network', action, record.Id, { name: record.Name, type: record.Driver });
  }
}

/** The suffix of a removed network's record until its kernel objects are gone. */
const REMOVING = '.removing';

async function readRecord(path: string): Promise<NetworkRecord | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as NetworkRecord;
  } catch {
    // A temp file of an interrupted write, or a torn one from before atomic writes.
    return undefined;
  }
}

function linkExists(name: string): boolean {
  return readFileSync('/proc/self/net/dev', 'utf8').split('\n').some((line) => line.trimStart().startsWith(`${name}:`));
}

function newRecord(name: string, fields: Partial<NetworkRecord>): NetworkRecord {
  return {
    Id: randomBytes(32).toString('hex'),
    Name: name,
    Created: new Date().toISOString(),
    Driver: 'bridge',
    Internal: false,
    Attachable: false,
    Labels: {},
    Options: {},
    Subnet: '',
    Gateway: '',
    FixedSubnet: false,
    Addresses: {},
    ...fields,
  };
}

/** The tag in an engine's chain names: engines side by side (tests) never touch each other's rules. */
export function firewallTag(root: string): string {
  return createHash('sha256').update(root).digest('hex').slice(0, 6);
}

/** A stable endpoint ID for (network, container), as Docker shows one per attachment. */
export function endpointId(networkId: string, containerId: string): string {
  return createHash('sha256').update(`${networkId}/${containerId}`).digest('hex');
}

/** A network as the firewall sees it. */
function firewallView(record: NetworkRecord): BridgeNetwork {
  return { id: record.Id, bridge: bridgeName(record.Id), subnet: record.Subnet, gateway: record.Gateway, internal: record.Internal };
}

/**
 * Takes what an engine's networks made in the kernel (bridges, rules) out again, from its
 * records on disk, with no engine running: for a test or bench that stopped its engine, or
 * one that died half-way (removals under way included). The records stay.
 */
export async function sweepNetworkKernelObjects(root: string, firewall: Firewall): Promise<void> {
  const dir = join(root, 'networks');
  const files = await readdir(dir).catch(() => [] as string[]);
  for (const file of files.filter((f) => f.endsWith('.json') || f.endsWith(REMOVING))) {
    const record = await readRecord(join(dir, file));
    if (!record?.Subnet) continue;
    await firewall.removeNetwork(firewallView(record)).catch(() => undefined);
    await deleteBridge(bridgeName(record.Id)).catch(() => undefined);
  }
}
