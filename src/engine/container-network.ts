// A container's networking: which networks it joins and with what (checked at create),
// the sandbox it gets at each start (a network namespace with a veth and an address per
// network, published ports held and forwarded, /etc/hosts, /etc/resolv.conf and
// /etc/hostname written for it), and the tear-down when it stops. Also the engine's DNS
// records: names and aliases of the running containers, per network.

import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ContainerConfig, EndpointConfig, EndpointSettings, HostConfig, PortBinding } from '../common/api-types.js';
import { ConflictError, NotFoundError, UsageError } from '../common/errors.js';
import { sideBySide } from '../common/side-by-side.js';
import type { DnsRecordSource } from '../network/dns-server.js';
import type { Firewall, PublishedPort } from '../network/firewall.js';
import { ipToNumber, isHostAddress, macForAddress, parseSubnet } from '../network/ipam.js';
import { bridgeName, hostVethName, removeVeths } from '../network/links.js';
import type { PortReservations, PortRequest } from '../network/port-reservations.js';
import type { ContainerMount, NetworkInterface } from '../runtime/bundle.js';
import type { ContainerRecord } from './container-record.js';
import { containerDir } from './container-record.js';
import { endpointId, type NetworkRecord, type NetworkService } from './network-service.js';

/** What the runtime needs for one start: the namespace to join (or a mode) and the /etc files to mount. */
export interface ContainerSandbox {
  network: 'none' | 'host' | { path: string; setup?: { interfaces: NetworkInterface[] } };
  mounts: ContainerMount[];
}

/** Who wires sandboxes in the kernel: the runtime (its shim speaks rtnetlink). */
export interface SandboxWiring {
  netAttach(netns: string, interfaces: readonly NetworkInterface[], options: { create: boolean }): Promise<void>;
  netDetach(netns: string, hostVeths: readonly string[]): Promise<void>;
}

export type NetworkModeKind = { kind: 'none' } | { kind: 'host' } | { kind: 'container'; ref: string } | { kind: 'networks'; primary: string };

/** `default`/`bridge`/'' -> the default bridge; `host`, `none`, `container:X`; anything else names a network. */
export function parseNetworkMode(mode: string | undefined): NetworkModeKind {
  if (!mode || mode === 'default' || mode === 'bridge') return { kind: 'networks', primary: 'bridge' };
  if (mode === 'host') return { kind: 'host' };
  if (mode === 'none') return { kind: 'none' };
  if (mode.startsWith('container:')) {
    const ref = mode.slice('container:'.length);
    if (!ref) throw new UsageError('network mode "container:" needs a container name (container:NAME)');
    return { kind: 'container', ref };
  }
  if (mode.startsWith('service:')) throw new UsageError(`network mode "${mode}" is resolved by "stack up"; the engine takes container:NAME`);
  return { kind: 'networks', primary: mode };
}

/** `"8080/udp"` -> port and protocol; the protocol defaults to tcp. */
export function parsePortKey(key: string): { port: number; protocol: 'tcp' | 'udp' } {
  const m = /^(\d{1,5})(?:\/(tcp|udp|sctp))?$/.exec(key);
  const port = m ? Number(m[1]) : NaN;
  if (!m || port < 1 || port > 65535) throw new UsageError(`port "${key}" is not a container port like 80 or 53/udp`);
  if (m[2] === 'sctp') throw new UsageError(`port "${key}": sctp is not supported (tcp and udp are)`);
  return { port, protocol: (m[2] as 'tcp' | 'udp' | undefined) ?? 'tcp' };
}

interface PortWish {
  containerPort: number;
  protocol: 'tcp' | 'udp';
  hostIp: string;
  hostPort: number;
}

/** Every published port a container asks for, checked; `PublishAllPorts` adds the exposed ones on free host ports. */
export function portWishes(config: ContainerConfig, host: HostConfig): PortWish[] {
  const wishes: PortWish[] = [];
  const bound = new Set<string>();
  for (const [key, bindings] of Object.entries(host.PortBindings ?? {})) {
    const { port, protocol } = parsePortKey(key);
    bound.add(`${port}/${protocol}`);
    for (const b of bindings ?? [{}]) wishes.push({ containerPort: port, protocol, ...hostSide(key, b) });
  }
  if (host.PublishAllPorts) {
    for (const key of Object.keys(config.ExposedPorts ?? {})) {
      const { port, protocol } = parsePortKey(key);
      if (!bound.has(`${port}/${protocol}`)) wishes.push({ containerPort: port, protocol, hostIp: '0.0.0.0', hostPort: 0 });
    }
  }
  const seen = new Map<string, PortWish>();
  for (const w of wishes) {
    if (w.hostPort === 0) continue;
    const key = `${w.hostIp}:${w.hostPort}/${w.protocol}`;
    const other = seen.get(key);
    if (other) throw new ConflictError(`host port ${key} is published twice (for container ports ${other.containerPort} and ${w.containerPort}): give each its own host port`);
    seen.set(key, w);
  }
  return wishes;
}

function hostSide(key: string, b: PortBinding): { hostIp: string; hostPort: number } {
  const hostIp = b.HostIp || '0.0.0.0';
  if (hostIp.includes(':')) throw new UsageError(`port ${key}: host address ${hostIp} is IPv6, which is not supported yet; use an IPv4 address or none`);
  ipToNumber(hostIp);
  const text = b.HostPort ?? '';
  if (text === '' || text === '0') return { hostIp, hostPort: 0 };
  if (!/^\d{1,5}$/.test(text) || Number(text) < 1 || Number(text) > 65535) {
    throw new UsageError(`port ${key}: host port "${text}" is not a port number (1-65535; ranges are expanded by the client)`);
  }
  return { hostIp, hostPort: Number(text) };
}

/** What the record keeps of a running container's ports, as inspect shows them. */
type PortMap = Record<string, PortBinding[] | null>;

export interface ContainerNetworkingOptions {
  root: string;
  runRoot: string;
  networks: NetworkService;
  firewall: Firewall;
  ports: PortReservations;
  wiring: SandboxWiring;
  /** The containers the engine knows, for container:NAME, DNS and in-use checks. */
  containers: () => ContainerRecord[];
  findContainer: (ref: string) => ContainerRecord;
  /** Whether the container's process runs now. */
  isRunning: (record: ContainerRecord) => boolean;
}

export class ContainerNetworking implements DnsRecordSource {
  constructor(private readonly options: ContainerNetworkingOptions) {}

  netnsPath(id: string): string {
    return join(this.options.runRoot, 'netns', id);
  }

  // ---- create -----------------------------------------------------------------------------

  /**
   * Checks the request and returns the attachments to record: one per network, keyed by
   * name, with what was asked (aliases, static address) and no address yet.
   */
  plan(config: ContainerConfig, host: HostConfig, endpoints: Record<string, EndpointConfig | null> | null | undefined): Record<string, EndpointSettings> {
    const mode = parseNetworkMode(host.NetworkMode);
    const wishes = portWishes(config, host);
    if (mode.kind !== 'networks') {
      if (wishes.length) throw new ConflictError(`published ports need a bridge network; network mode "${host.NetworkMode}" has none (drop the ports or the network mode)`);
      if (mode.kind === 'container') this.options.findContainer(mode.ref);
      const extra = Object.keys(endpoints ?? {}).filter((n) => n !== host.NetworkMode);
      if (extra.length) throw new ConflictError(`network mode "${host.NetworkMode}" cannot be combined with other networks (${extra.join(', ')})`);
      return {};
    }
    // Clients name the primary network as they named the mode: `default` (docker run) or its name.
    const primaryKeys = new Set([mode.primary, host.NetworkMode ?? 'default']);
    const names = [mode.primary, ...Object.keys(endpoints ?? {}).filter((n) => !primaryKeys.has(n))];
    const out: Record<string, EndpointSettings> = {};
    for (const name of names) {
      const network = this.options.networks.find(name);
      if (network.Driver !== 'bridge') throw new ConflictError(`container cannot be connected to network "${network.Name}" together with others (it is a mode: use network_mode)`);
      let asked = name === mode.primary ? [...primaryKeys].map((k) => endpoints?.[k]).find(Boolean) : endpoints?.[name];
      asked ??= endpoints?.[network.Id] ?? null;
      if (name === mode.primary && config.MacAddress && !asked?.MacAddress) asked = { ...asked, MacAddress: config.MacAddress };
      out[network.Name] = this.endpointFor(network, asked);
    }
    return out;
  }

  private endpointFor(network: NetworkRecord, asked: EndpointConfig | null): EndpointSettings {
    const ip = asked?.IPAMConfig?.IPv4Address;
    if (ip) {
      if (!network.FixedSubnet) throw new UsageError(`a static address (${ip}) needs a network with a configured subnet; network ${network.Name} has none`);
      if (!network.Subnet || !isHostAddress(parseSubnet(network.Subnet), ip)) throw new UsageError(`address ${ip} is not in network ${network.Name}'s subnet ${network.Subnet}`);
    }
    if (asked?.MacAddress && !/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(asked.MacAddress)) {
      throw new UsageError(`mac address "${asked.MacAddress}" is not like 02:42:ac:11:00:02`);
    }
    return {
      NetworkID: network.Id,
      EndpointID: '',
      Gateway: '',
      IPAddress: '',
      IPPrefixLen: 0,
      MacAddress: asked?.MacAddress ?? '',
      IPAMConfig: ip ? { IPv4Address: ip } : null,
      Aliases: asked?.Aliases ? [...asked.Aliases] : null,
      Links: asked?.Links ? [...asked.Links] : null,
      DNSNames: null,
    };
  }

  // ---- start ------------------------------------------------------------------------------

  /**
   * Everything the container's network needs before its process starts. Ports are held
   * first, so a port in use fails the start before anything else is made; on any failure
   * what was made is taken down again.
   */
  async attach(record: ContainerRecord): Promise<ContainerSandbox> {
    const mode = parseNetworkMode(record.HostConfig.NetworkMode);
    if (mode.kind === 'host') return { network: 'host', mounts: await this.writeEtcFiles(record, { hostNetwork: true }) };
    if (mode.kind === 'none') return { network: 'none', mounts: await this.writeEtcFiles(record, {}) };
    if (mode.kind === 'container') {
      const other = this.options.findContainer(mode.ref);
      if (!this.options.isRunning(other)) throw new ConflictError(`cannot join the network of container ${other.Name.slice(1)}: it is not running (start it first)`);
      const path = this.netnsPath(other.Id);
      const shared = parseNetworkMode(other.HostConfig.NetworkMode).kind === 'networks' && existsSync(path) ? path : `/proc/${other.State.Pid}/ns/net`;
      return { network: { path: shared }, mounts: etcMounts(containerDir(this.options.root, other.Id)) };
    }
    try {
      const interfaces = await this.attachNetworks(record);
      // The shim makes the namespace with these in it as it starts the container: no process of its own.
      return { network: { path: this.netnsPath(record.Id), setup: { interfaces } }, mounts: await this.writeEtcFiles(record, {}) };
    } catch (err) {
      await this.detach(record).catch(() => undefined);
      throw err;
    }
  }

  private async attachNetworks(record: ContainerRecord): Promise<NetworkInterface[]> {
    const endpoints = record.NetworkSettings?.Networks ?? {};
    const wishes = portWishes(record.Config, record.HostConfig);
    const held = await this.reservePorts(record, wishes);
    const interfaces: NetworkInterface[] = [];
    let index = 0;
    for (const [name, endpoint] of Object.entries(endpoints)) {
      const network = this.options.networks.find(endpoint.NetworkID || name);
      const address = await this.options.networks.allocate(network, record.Id, endpoint.IPAMConfig?.IPv4Address ?? undefined);
      interfaces.push(this.fillEndpoint(record, network, endpoint, address, index++));
    }
    const via = this.gatewayEndpoint(endpoints);
    if (via && held.length) await this.options.firewall.publish(held.map((h) => publishedPort(h, via.endpoint.IPAddress, bridgeName(via.network.Id))));
    record.NetworkSettings = { ...record.NetworkSettings, Networks: endpoints, Ports: portMap(record, held) };
    return interfaces;
  }

  private fillEndpoint(record: ContainerRecord, network: NetworkRecord, endpoint: EndpointSettings, address: string, index: number): NetworkInterface {
    const prefix = parseSubnet(network.Subnet).prefix;
    endpoint.NetworkID = network.Id;
    endpoint.EndpointID = endpointId(network.Id, record.Id);
    endpoint.IPAddress = address;
    endpoint.IPPrefixLen = prefix;
    endpoint.Gateway = network.Internal ? '' : network.Gateway;
    endpoint.MacAddress = endpoint.MacAddress || macForAddress(address);
    endpoint.DNSNames = [record.Name.slice(1), ...(endpoint.Aliases ?? []), record.Id.slice(0, 12)];
    return {
      hostVeth: hostVethName(record.Id, index),
      name: `eth${index}`,
      bridge: bridgeName(network.Id),
      address,
      prefix,
      mac: endpoint.MacAddress,
      ...(network.Internal ? {} : { gateway: network.Gateway }),
    };
  }

  private async reservePorts(record: ContainerRecord, wishes: PortWish[]): Promise<Array<PortWish & { hostPort: number }>> {
    if (wishes.length === 0) return [];
    const requests: PortRequest[] = wishes.map((w) => ({ protocol: w.protocol, hostIp: w.hostIp, hostPort: w.hostPort }));
    try {
      const got = await this.options.ports.reserve(record.Id, requests);
      return wishes.map((w, i) => ({ ...w, hostPort: got[i]!.hostPort }));
    } catch (err) {
      if (err instanceof ConflictError) {
        const service = record.Config.Labels?.['com.docker.compose.service'];
        throw new ConflictError(`${service ? `service ${service}` : `container ${record.Name.slice(1)}`}: ${err.message}: stop what uses it or publish another host port`, { cause: err });
      }
      throw err;
    }
  }

  /** Joins a network while running (veth added to the sandbox) or records it for the next start. */
  async connect(record: ContainerRecord, networkRef: string, asked: EndpointConfig | null): Promise<void> {
    const network = this.options.networks.find(networkRef);
    const mode = parseNetworkMode(record.HostConfig.NetworkMode);
    if (mode.kind !== 'networks' || network.Driver !== 'bridge') {
      throw new ConflictError(`container ${record.Name.slice(1)} (network mode ${record.HostConfig.NetworkMode}) cannot join network ${network.Name}`);
    }
    const networks = { ...(record.NetworkSettings?.Networks ?? {}) };
    if (networks[network.Name]) throw new ConflictError(`container ${record.Name.slice(1)} is already attached to network ${network.Name}`);
    const endpoint = this.endpointFor(network, asked);
    if (this.options.isRunning(record) && existsSync(this.netnsPath(record.Id))) {
      const address = await this.options.networks.allocate(network, record.Id, endpoint.IPAMConfig?.IPv4Address ?? undefined);
      const iface = this.fillEndpoint(record, network, endpoint, address, this.nextIndex(record));
      try {
        await this.options.wiring.netAttach(this.netnsPath(record.Id), [iface], { create: false });
      } catch (err) {
        await this.options.networks.release(network, record.Id);
        throw err;
      }
    }
    networks[network.Name] = endpoint;
    record.NetworkSettings = { ...(record.NetworkSettings ?? { Ports: {} }), Networks: networks };
    if (this.options.isRunning(record)) await this.writeEtcFiles(record, {});
  }

  async disconnect(record: ContainerRecord, networkRef: string): Promise<void> {
    const network = this.options.networks.find(networkRef);
    const networks = { ...(record.NetworkSettings?.Networks ?? {}) };
    const entry = Object.entries(networks).find(([, e]) => e.NetworkID === network.Id);
    if (!entry) throw new NotFoundError(`container ${record.Name.slice(1)} is not connected to network ${network.Name}`);
    const [name, endpoint] = entry;
    if (endpoint.IPAddress) {
      const index = Object.keys(networks).indexOf(name);
      // Only this veth goes (the namespace stays): rare enough for ip(8).
      await removeVeths([{ hostVeth: hostVethName(record.Id, index) }]);
      await this.options.networks.release(network, record.Id);
    }
    delete networks[name];
    record.NetworkSettings = { ...(record.NetworkSettings ?? { Ports: {} }), Networks: networks };
  }

  private nextIndex(record: ContainerRecord): number {
    return Object.keys(record.NetworkSettings?.Networks ?? {}).length;
  }

  // ---- stop -------------------------------------------------------------------------------

  /**
   * Takes down what attach made; safe to call again, and for a start that was cut short.
   * The record forgets its addresses and ports at once (DNS stops answering for it); the
   * kernel work (deleting a veth waits for the kernel's RCU grace periods, tens of ms)
   * goes on in the returned promise, which a new start of the container must await.
   * Order matters there: rules before the host ports they point at are let go, and both
   * the veths and the rules leading to an address before it can be handed to someone else.
   * The rules (iptables) and the veths (the shim) are taken down side by side.
   */
  detach(record: ContainerRecord): Promise<void> {
    const endpoints = record.NetworkSettings?.Networks ?? {};
    const ports = this.publishedPorts(record);
    const addressed = Object.values(endpoints).filter((e) => e.IPAddress);
    const netns = this.netnsPath(record.Id);
    const veths = Object.keys(endpoints).map((_, i) => hostVethName(record.Id, i));
    const networks = [...new Set(Object.values(endpoints).map((e) => e.NetworkID))].map((id) => this.tryFind(id)).filter((n): n is NetworkRecord => !!n);
    for (const endpoint of Object.values(endpoints)) {
      // A MAC made from the address goes with it (the address may be someone else's next);
      // one the user asked for stays.
      if (endpoint.IPAddress && endpoint.MacAddress === macForAddress(endpoint.IPAddress)) endpoint.MacAddress = '';
      endpoint.IPAddress = '';
      endpoint.IPPrefixLen = 0;
      endpoint.Gateway = '';
      endpoint.EndpointID = '';
      endpoint.DNSNames = null;
    }
    if (record.NetworkSettings) record.NetworkSettings.Ports = {};
    return (async () => {
      // Spawning a process blocks the event loop for milliseconds: let the caller record
      // and announce the exit first.
      await new Promise((resolve) => setImmediate(resolve));
      const unpublished = (async () => {
        if (ports.length) await this.options.firewall.unpublish(ports);
        await this.options.ports.release(record.Id);
      })();
      // A container that never started (or was taken down already) has nothing in the kernel: no processes to spend.
      const kernelWork = addressed.length > 0 || existsSync(netns);
      const unwired = kernelWork ? this.options.wiring.netDetach(netns, veths) : Promise.resolve();
      await sideBySide([unpublished, unwired]);
      if (!kernelWork) return;
      for (const network of networks) await this.options.networks.release(network, record.Id);
    })();
  }

  /** After an engine restart: hold the ports of a container still running again (the old engine's sockets died with it). */
  async adopt(record: ContainerRecord): Promise<void> {
    const ports = this.publishedPorts(record);
    if (ports.length === 0) return;
    await this.options.ports.reserve(record.Id, ports.map((p) => ({ protocol: p.protocol, hostIp: p.hostIp, hostPort: p.hostPort })));
    await this.options.firewall.publish(ports);
  }

  /**
   * Where published ports lead: the first of the container's networks that is not internal,
   * as Docker publishes through the endpoint that gives the container its default gateway.
   */
  private gatewayEndpoint(endpoints: Record<string, EndpointSettings>): { endpoint: EndpointSettings; network: NetworkRecord } | undefined {
    for (const endpoint of Object.values(endpoints)) {
      const network = endpoint.IPAddress ? this.tryFind(endpoint.NetworkID) : undefined;
      if (network && !network.Internal) return { endpoint, network };
    }
    return undefined;
  }

  private publishedPorts(record: ContainerRecord): PublishedPort[] {
    const via = this.gatewayEndpoint(record.NetworkSettings?.Networks ?? {});
    if (!via) return [];
    const primary = via.endpoint;
    const network = via.network;
    const out: PublishedPort[] = [];
    for (const [key, bindings] of Object.entries(record.NetworkSettings?.Ports ?? {})) {
      const { port, protocol } = parsePortKey(key);
      for (const b of bindings ?? []) {
        out.push({ protocol, hostIp: b.HostIp || '0.0.0.0', hostPort: Number(b.HostPort), containerIp: primary.IPAddress, containerPort: port, bridge: bridgeName(network.Id) });
      }
    }
    return out;
  }

  private tryFind(ref: string): NetworkRecord | undefined {
    try {
      return this.options.networks.find(ref);
    } catch {
      return undefined;
    }
  }

  /** Names of the containers attached to a network (running or not), to refuse removing it. */
  attachedNames(network: NetworkRecord): string[] {
    return this.options.containers()
      .filter((r) => Object.values(r.NetworkSettings?.Networks ?? {}).some((e) => e.NetworkID === network.Id))
      .map((r) => r.Name.slice(1));
  }

  // ---- /etc files -------------------------------------------------------------------------

  private async writeEtcFiles(record: ContainerRecord, options: { hostNetwork?: boolean }): Promise<ContainerMount[]> {
    const dir = containerDir(this.options.root, record.Id);
    const hostname = record.Config.Hostname || record.Id.slice(0, 12);
    const endpoints = Object.values(record.NetworkSettings?.Networks ?? {});
    const hostResolv = await readFile('/etc/resolv.conf', 'utf8').catch(() => '');
    let hosts: string;
    let resolv: string;
    if (options.hostNetwork) {
      hosts = await readFile('/etc/hosts', 'utf8').catch(() => '127.0.0.1\tlocalhost\n');
      resolv = hostResolv;
    } else {
      const lines = ['127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback', 'fe00::0\tip6-localnet', 'ff00::0\tip6-mcastprefix', 'ff02::1\tip6-allnodes', 'ff02::2\tip6-allrouters'];
      const first = endpoints.find((e) => e.IPAddress);
      if (first) lines.push(`${first.IPAddress}\t${hostname}`);
      for (const link of [...(record.HostConfig.Links ?? []), ...endpoints.flatMap((e) => e.Links ?? [])]) lines.push(...this.linkLines(link, endpoints));
      for (const extra of record.HostConfig.ExtraHosts ?? []) lines.push(extraHostLine(extra, endpoints));
      hosts = lines.join('\n') + '\n';
      const gateway = this.dnsAddress(endpoints);
      resolv = resolvConf(hostResolv, gateway, record.HostConfig);
    }
    await Promise.all([
      writeFile(join(dir, 'hosts'), hosts),
      writeFile(join(dir, 'resolv.conf'), resolv),
      writeFile(join(dir, 'hostname'), `${hostname}\n`),
    ]);
    return etcMounts(dir);
  }

  /** The gateway of the first attached network: the engine's DNS answers there. */
  private dnsAddress(endpoints: EndpointSettings[]): string | undefined {
    for (const e of endpoints) {
      const network = this.tryFind(e.NetworkID);
      if (network?.Gateway) return network.Gateway;
    }
    return undefined;
  }

  /** `name:alias` -> hosts lines for the linked container's address on a network both share. */
  private linkLines(link: string, endpoints: EndpointSettings[]): string[] {
    const [name = '', alias] = link.split(':');
    let target: ContainerRecord;
    try {
      target = this.options.findContainer(name.replace(/^\//, ''));
    } catch {
      throw new NotFoundError(`link ${link}: no container named ${name}: start it first, or drop the link`);
    }
    const mine = new Set(endpoints.map((e) => e.NetworkID));
    const shared = Object.values(target.NetworkSettings?.Networks ?? {}).find((e) => mine.has(e.NetworkID) && e.IPAddress);
    if (!shared) return [];
    const names = [alias, target.Name.slice(1), target.Config.Hostname].filter((n): n is string => !!n);
    return [`${shared.IPAddress}\t${[...new Set(names)].join(' ')}`];
  }

  // ---- DNS --------------------------------------------------------------------------------

  lookup(networkId: string, name: string, client?: string): string[] {
    const wanted = name.toLowerCase();
    // As Docker's DNS on user-defined networks: a link's alias is a name for the linking container alone.
    const linked = client === undefined ? [] : this.linkedAddresses(networkId, wanted, client);
    if (linked.length) return linked;
    const out: string[] = [];
    for (const record of this.options.containers()) {
      if (!this.options.isRunning(record)) continue;
      for (const e of Object.values(record.NetworkSettings?.Networks ?? {})) {
        if (e.NetworkID !== networkId || !e.IPAddress) continue;
        const names = [record.Name.slice(1), record.Id.slice(0, 12), ...(e.Aliases ?? [])];
        if (names.some((n) => n.toLowerCase() === wanted)) out.push(e.IPAddress);
      }
    }
    return out;
  }

  /** The address on the network of the container that the container at `client` links to as `alias`. */
  private linkedAddresses(networkId: string, alias: string, client: string): string[] {
    const onNetwork = (record: ContainerRecord): EndpointSettings | undefined =>
      Object.values(record.NetworkSettings?.Networks ?? {}).find((e) => e.NetworkID === networkId && e.IPAddress);
    const asking = this.options.containers().find((r) => this.options.isRunning(r) && onNetwork(r)?.IPAddress === client);
    if (!asking) return [];
    const links = [...(asking.HostConfig.Links ?? []), ...(onNetwork(asking)?.Links ?? [])];
    const out: string[] = [];
    for (const link of links) {
      const [target = '', linkAlias = target] = link.split(':');
      if (linkAlias.replace(/^\//, '').toLowerCase() !== alias) continue;
      let record: ContainerRecord;
      try {
        record = this.options.findContainer(target.replace(/^\//, ''));
      } catch {
        continue;
      }
      const address = this.options.isRunning(record) ? onNetwork(record)?.IPAddress : undefined;
      if (address) out.push(address);
    }
    return out;
  }

  reverse(networkId: string, ip: string): string[] {
    for (const record of this.options.containers()) {
      for (const e of Object.values(record.NetworkSettings?.Networks ?? {})) {
        if (e.NetworkID === networkId && e.IPAddress === ip) return [record.Name.slice(1), ...(e.Aliases ?? [])];
      }
    }
    return [];
  }
}

function publishedPort(h: PortWish, containerIp: string, bridge: string): PublishedPort {
  return { protocol: h.protocol, hostIp: h.hostIp, hostPort: h.hostPort, containerIp, containerPort: h.containerPort, bridge };
}

function portMap(record: ContainerRecord, held: PortWish[]): PortMap {
  const map: PortMap = {};
  for (const key of Object.keys(record.Config.ExposedPorts ?? {})) {
    const { port, protocol } = parsePortKey(key);
    map[`${port}/${protocol}`] = null;
  }
  for (const h of held) {
    const key = `${h.containerPort}/${h.protocol}`;
    (map[key] ??= []).push({ HostIp: h.hostIp, HostPort: String(h.hostPort) });
  }
  return map;
}

function etcMounts(dir: string): ContainerMount[] {
  return [
    { type: 'bind', source: join(dir, 'hosts'), target: '/etc/hosts' },
    { type: 'bind', source: join(dir, 'resolv.conf'), target: '/etc/resolv.conf' },
    { type: 'bind', source: join(dir, 'hostname'), target: '/etc/hostname' },
  ];
}

/** `host:ip` (Docker) or `host=ip` (Compose); `host-gateway` is the first network's gateway. */
function extraHostLine(extra: string, endpoints: EndpointSettings[]): string {
  const m = /^([^:=]+)[:=](.+)$/.exec(extra);
  if (!m) throw new UsageError(`extra host "${extra}" is not HOST:IP (e.g. db.local:10.0.0.5)`);
  let ip = m[2]!;
  if (ip === 'host-gateway') {
    const gw = endpoints.find((e) => e.Gateway)?.Gateway;
    if (!gw) throw new UsageError(`extra host "${extra}": host-gateway needs a bridge network with a gateway`);
    ip = gw;
  }
  if (ip.includes(':')) throw new UsageError(`extra host "${extra}": IPv6 addresses are not supported yet`);
  ipToNumber(ip);
  return `${ip}\t${m[1]}`;
}

/** Our nameserver (or the user's --dns), the host's search domains and options. */
function resolvConf(hostText: string, gateway: string | undefined, host: HostConfig): string {
  const lines: string[] = [];
  const search = host.DnsSearch?.length ? host.DnsSearch : [...hostText.matchAll(/^\s*search\s+(.+)$/gm)].flatMap((m) => m[1]!.trim().split(/\s+/));
  const options = host.DnsOptions?.length ? host.DnsOptions : [...hostText.matchAll(/^\s*options\s+(.+)$/gm)].flatMap((m) => m[1]!.trim().split(/\s+/));
  const servers = host.Dns?.length ? host.Dns : gateway ? [gateway] : [...hostText.matchAll(/^\s*nameserver\s+(\S+)/gm)].map((m) => m[1]!);
  for (const s of servers) lines.push(`nameserver ${s}`);
  if (search.length) lines.push(`search ${search.join(' ')}`);
  if (options.length) lines.push(`options ${options.join(' ')}`);
  return lines.join('\n') + '\n';
}
