// The netfilter rules of the engine's bridge networks: forwarding and masquerade for their
// containers, isolation between networks, and published ports by DNAT (127.0.0.1 included).
//
// Every rule lives in chains named after the engine's tag (STK-<tag>-FWD and so on), so several
// engines on one host (tests run private engines side by side) never touch each other's rules,
// and the only lines in built-in chains are one jump per chain. Each public call reads the
// rules once (iptables-save) and writes the difference once (iptables-restore --noflush), so a
// change costs two processes however many rules it touches, and it lands atomically per table.
// The state is the kernel's rules themselves, not a file of ours: an engine that restarts, or a
// Docker that rewrites FORWARD, is seen as it is at the next call.
//
// What the caller must do: make the bridge before addNetwork (route_localnet is set on it), and
// turn hairpin mode on for each container's bridge port (`bridge link set dev VETH hairpin on`):
// with br_netfilter loaded, a container reaching its own published port is DNATed inside the
// bridge and sent back out the port it came from, which a bridge refuses without hairpin mode.
import { isIPv4 } from 'node:net';
import { runCommand, type CommandRunner } from './command.js';

export interface BridgeNetwork {
  id: string;
  bridge: string;
  /** CIDR, e.g. 10.201.3.0/24. */
  subnet: string;
  gateway: string;
  internal: boolean;
}

export interface PublishedPort {
  protocol: 'tcp' | 'udp';
  /** '0.0.0.0' means every host address, 127.0.0.1 included. */
  hostIp: string;
  hostPort: number;
  containerIp: string;
  containerPort: number;
  bridge: string;
}

type Table = 'filter' | 'nat';

/** One rule as iptables-save prints it, so that "is it there?" is a string comparison. */
interface Rule {
  table: Table;
  chain: string;
  spec: string;
  /** Rules that must come before the others of their chain (isolation before any accept). */
  first?: boolean;
}

/** What iptables-save says about one table: its chains and its rules, in order. */
interface SavedTable {
  chains: Set<string>;
  rules: string[];
}

type Saved = Map<string, SavedTable>;

function parseSave(text: string): Saved {
  const tables: Saved = new Map();
  let current: SavedTable | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim().replace(/\s+/g, ' ');
    if (line.startsWith('*')) {
      current = { chains: new Set(), rules: [] };
      tables.set(line.slice(1), current);
    } else if (!current || line === '' || line.startsWith('#')) continue;
    else if (line.startsWith(':')) current.chains.add(line.slice(1).split(' ')[0] ?? '');
    else if (line.startsWith('-A ')) current.rules.push(line.slice(3));
    else if (line === 'COMMIT') current = undefined;
  }
  return tables;
}

/** The lines of one iptables-restore input, grouped by table because each table commits on its own. */
class RestoreBatch {
  private readonly lines = new Map<Table, string[]>();

  add(table: Table, line: string): void {
    const lines = this.lines.get(table) ?? [];
    lines.push(line);
    this.lines.set(table, lines);
  }

  get empty(): boolean {
    return this.lines.size === 0;
  }

  text(): string {
    let out = '';
    for (const [table, lines] of this.lines) out += `*${table}\n${lines.join('\n')}\nCOMMIT\n`;
    return out;
  }
}

const BRIDGE_NAME = /^[A-Za-z0-9_-]{1,15}$/;
const TAG = /^[a-z0-9]{1,8}$/;
/** Docker's bridges by their default names (iptables' `+` is a prefix wildcard). */
const FOREIGN_BRIDGES = ['docker0', 'br-+'];

function ipToNumber(ip: string): number {
  return ip.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

function parseSubnet(cidr: string): { base: number; bits: number } {
  const [ip, bitsText] = cidr.split('/');
  const bits = Number(bitsText);
  if (!ip || !isIPv4(ip) || !Number.isInteger(bits) || bits < 0 || bits > 32) throw new TypeError(`not an IPv4 subnet: ${cidr}`);
  return { base: ipToNumber(ip), bits };
}

function inSubnet(ip: string, cidr: string): boolean {
  const { base, bits } = parseSubnet(cidr);
  const size = 2 ** (32 - bits);
  return Math.floor(ipToNumber(ip) / size) === Math.floor(base / size);
}

function checkNetwork(n: BridgeNetwork): void {
  if (!BRIDGE_NAME.test(n.bridge)) throw new TypeError(`not a bridge name: ${JSON.stringify(n.bridge)}`);
  parseSubnet(n.subnet);
  if (!isIPv4(n.gateway)) throw new TypeError(`not an IPv4 gateway: ${n.gateway}`);
}

function checkPort(p: PublishedPort): void {
  if (p.protocol !== 'tcp' && p.protocol !== 'udp') throw new TypeError(`not a protocol: ${String(p.protocol)}`);
  if (!isIPv4(p.hostIp)) throw new TypeError(`not an IPv4 host address: ${p.hostIp}`);
  if (!isIPv4(p.containerIp)) throw new TypeError(`not an IPv4 container address: ${p.containerIp}`);
  for (const port of [p.hostPort, p.containerPort]) {
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new TypeError(`not a port: ${port}`);
  }
  if (!BRIDGE_NAME.test(p.bridge)) throw new TypeError(`not a bridge name: ${JSON.stringify(p.bridge)}`);
}

interface PortCall {
  kind: 'publish' | 'unpublish';
  ports: PublishedPort[];
  done: Promise<void>;
}

export class Firewall {
  private readonly run: CommandRunner;
  private readonly chain: { forward: string; isolation: string; dnat: string; postrouting: string };
  /** Calls run one after another: each one's diff is computed from the rules the previous one left. */
  private queue: Promise<unknown> = Promise.resolve();
  /** The last call queued, while it is a publish or unpublish that has not begun: later ones of its kind join it. */
  private tail: PortCall | undefined;

  constructor(options: { tag: string; run?: CommandRunner }) {
    if (!TAG.test(options.tag)) throw new TypeError(`a firewall tag is 1 to 8 of [a-z0-9], not ${JSON.stringify(options.tag)}`);
    this.run = options.run ?? runCommand;
    const prefix = `STK-${options.tag}`;
    this.chain = { forward: `${prefix}-FWD`, isolation: `${prefix}-ISO`, dnat: `${prefix}-DNAT`, postrouting: `${prefix}-POST` };
  }

  addNetwork(network: BridgeNetwork): Promise<void> {
    checkNetwork(network);
    return this.serial(async () => {
      // Forwarding is host-wide and never turned off again, as Docker does: other tools may rely on it.
      // route_localnet lets DNATed 127.0.0.1 traffic leave through the bridge instead of being dropped as martian.
      await this.run(['sh', '-c', 'for f; do echo 1 > "$f" || exit 1; done', 'sh',
        '/proc/sys/net/ipv4/ip_forward', `/proc/sys/net/ipv4/conf/${network.bridge}/route_localnet`]);
      const saved = await this.save();
      const batch = new RestoreBatch();
      this.ensureBase(saved, batch);
      this.addRules(saved, batch, this.networkRules(network));
      await this.restore(batch);
    });
  }

  removeNetwork(network: BridgeNetwork): Promise<void> {
    checkNetwork(network);
    return this.serial(async () => {
      const saved = await this.save();
      const left = this.networksIn(saved).filter((bridge) => bridge !== network.bridge);
      const batch = new RestoreBatch();
      if (left.length === 0) {
        this.removeEverything(saved, batch);
      } else {
        // Ports the caller forgot to unpublish would DNAT into a subnet that may be handed out again.
        const stale = this.dnatRules(saved).filter((r) => inSubnet(r.containerIp, network.subnet));
        this.removeRules(saved, batch, [...this.networkRules(network), ...stale.map((r) => r.rule)]);
        this.removeRules(saved, batch, this.unusedHairpins(saved, stale.map((r) => r.rule.spec)));
      }
      await this.restore(batch);
    });
  }

  publish(ports: PublishedPort[]): Promise<void> {
    ports.forEach(checkPort);
    return this.coalesced('publish', ports, async (all) => {
      const saved = await this.save();
      const batch = new RestoreBatch();
      this.ensureBase(saved, batch);
      const internal = new Set(this.networksIn(saved).filter((bridge) => this.isInternal(saved, bridge)));
      // Like Docker, ports of containers on internal networks are not published: the network
      // promises no traffic in or out, and a DNAT from the host's own OUTPUT would bypass FORWARD.
      const reachable = all.filter((p) => !internal.has(p.bridge));
      this.addRules(saved, batch, reachable.flatMap((p) => this.portRules(p)));
      await this.restore(batch);
    });
  }

  unpublish(ports: PublishedPort[]): Promise<void> {
    ports.forEach(checkPort);
    return this.coalesced('unpublish', ports, async (all) => {
      const saved = await this.save();
      const batch = new RestoreBatch();
      const dnats = all.map((p) => this.dnatRule(p));
      this.removeRules(saved, batch, dnats);
      this.removeRules(saved, batch, this.unusedHairpins(saved, dnats.map((r) => r.spec)));
      await this.restore(batch);
    });
  }

  /** iptables-save lines of this engine's chains and jumps (for tests and leak checks). */
  rules(): Promise<string[]> {
    return this.serial(async () => {
      const saved = await this.save();
      const ours = new Set(Object.values(this.chain));
      const lines: string[] = [];
      for (const table of saved.values()) {
        for (const chain of table.chains) if (ours.has(chain)) lines.push(`:${chain} - [0:0]`);
        for (const rule of table.rules) {
          const [chain] = rule.split(' ');
          const target = / -j (\S+)/.exec(rule)?.[1];
          if (ours.has(chain ?? '') || ours.has(target ?? '')) lines.push(`-A ${rule}`);
        }
      }
      return lines;
    });
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    this.tail = undefined;
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /**
   * Containers starting (or stopping) together each publish (or unpublish) their ports: a call
   * of the same kind as the last one queued, which has not begun, joins it, so they cost two
   * processes together instead of two each. Only the last: calls never overtake another kind.
   * Joined calls succeed or fail together, as the one batch they are.
   */
  private coalesced(kind: PortCall['kind'], ports: PublishedPort[], work: (all: PublishedPort[]) => Promise<void>): Promise<void> {
    const tail = this.tail;
    if (tail?.kind === kind) {
      tail.ports.push(...ports);
      return tail.done;
    }
    const call: PortCall = { kind, ports: [...ports], done: Promise.resolve() };
    call.done = this.serial(() => {
      // Begun: the batch is fixed, later calls queue anew.
      if (this.tail === call) this.tail = undefined;
      return work(call.ports);
    });
    this.tail = call;
    return call.done;
  }

  private async save(): Promise<Saved> {
    return parseSave(await this.run(['iptables-save']));
  }

  private async restore(batch: RestoreBatch): Promise<void> {
    // Nothing to change costs no process: the idempotent call is the common one at engine start.
    if (batch.empty) return;
    // -w: another tool (dockerd, a second engine) may hold the xtables lock for a moment.
    await this.run(['iptables-restore', '--noflush', '-w'], batch.text());
  }

  /** The chains and the jumps into them that every network and port rule hangs from. */
  private ensureBase(saved: Saved, batch: RestoreBatch): void {
    const { forward, isolation, dnat, postrouting } = this.chain;
    const filter = saved.get('filter');
    const nat = saved.get('nat');
    for (const [table, chain] of [['filter', forward], ['filter', isolation], ['nat', dnat], ['nat', postrouting]] as const) {
      if (!saved.get(table)?.chains.has(chain)) batch.add(table, `:${chain} - [0:0]`);
    }
    // Our jump must see forwarded packets before Docker's DOCKER-USER and its DROP policy, and
    // Docker re-inserts its own at the top when it restarts, so the place is checked every call.
    // Jumps of other engines above ours are fine: each only accepts its own bridges' traffic.
    const forwardRules = filter?.rules.filter((r) => r.startsWith('FORWARD ')) ?? [];
    const jump = `FORWARD -j ${forward}`;
    const at = forwardRules.indexOf(jump);
    const onTop = at >= 0 && forwardRules.slice(0, at).every((r) => /^FORWARD -j STK-[a-z0-9]+-FWD$/.test(r));
    if (!onTop) {
      for (const r of forwardRules) if (r === jump) batch.add('filter', `-D ${r}`);
      batch.add('filter', `-I FORWARD 1 -j ${forward}`);
    }
    // Docker guards its bridges with no rule of its own, only by never accepting new traffic
    // into them and leaving it to its FORWARD DROP policy; our jump comes first and accepts what
    // leaves our bridges, so without these our containers would reach Docker's containers by
    // address. Only its bridges' default names are known here (docker0, br-<id>); published
    // ports (DNATed by Docker) stay reachable, as ours are from Docker's side.
    for (const spec of FOREIGN_BRIDGES.map((name) => `-o ${name} -m conntrack ! --ctstate DNAT -j DROP`)) {
      if (!filter?.rules.includes(`${isolation} ${spec}`)) batch.add('filter', `-A ${isolation} ${spec}`);
    }
    const natJumps = [
      // PREROUTING for traffic from outside and from containers (hairpin), OUTPUT for the host's
      // own; 127.0.0.0/8 is not excluded, unlike Docker, because localhost must reach published ports.
      `PREROUTING -m addrtype --dst-type LOCAL -j ${dnat}`,
      `OUTPUT -m addrtype --dst-type LOCAL -j ${dnat}`,
      `POSTROUTING -j ${postrouting}`,
    ];
    for (const j of natJumps) if (!nat?.rules.includes(j)) batch.add('nat', `-A ${j}`);
  }

  /** Bridges with a network of this engine, known by their isolation rule (one per network). */
  private networksIn(saved: Saved): string[] {
    const prefix = `${this.chain.isolation} -o `;
    return (saved.get('filter')?.rules ?? [])
      .filter((r) => r.startsWith(prefix) && r.endsWith(' -j DROP'))
      .map((r) => r.slice(prefix.length, -' -j DROP'.length))
      // The foreign bridges' rules have a conntrack match; a network's rule is the bare name.
      .filter((bridge) => BRIDGE_NAME.test(bridge));
  }

  private isInternal(saved: Saved, bridge: string): boolean {
    return saved.get('filter')?.rules.includes(`${this.chain.forward} -i ${bridge} -j DROP`) ?? false;
  }

  private networkRules(n: BridgeNetwork): Rule[] {
    const { forward, isolation, postrouting } = this.chain;
    const b = n.bridge;
    const filter = (spec: string, first = false): Rule => ({ table: 'filter', chain: forward, spec, first });
    const rules: Rule[] = [
      // Two-stage isolation as Docker does it: leaving bridge b for another bridge of ours is
      // dropped in the isolation chain, which holds one DROP per network, so adding a network
      // is one rule here and one there instead of one per pair. Published ports of another
      // network are not reached through the host address either (Docker without userland proxy).
      filter(`-i ${b} ! -o ${b} -j ${isolation}`, true),
      { table: 'filter', chain: isolation, spec: `-o ${b} -j DROP` },
      filter(`-o ${b} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`),
      // Containers of one network talk across the bridge; with br_netfilter that traffic passes
      // FORWARD too and would meet Docker's DROP policy.
      filter(`-i ${b} -o ${b} -j ACCEPT`),
    ];
    if (n.internal) {
      // Dropped here rather than left to the FORWARD policy, which is often ACCEPT.
      rules.push(filter(`-i ${b} -j DROP`), filter(`-o ${b} -j DROP`));
    } else {
      rules.push(
        filter(`-o ${b} -m conntrack --ctstate DNAT -j ACCEPT`),
        filter(`-i ${b} -j ACCEPT`),
        // Containers are reached from outside only through published ports.
        filter(`-o ${b} -j DROP`),
        { table: 'nat', chain: postrouting, spec: `-s ${n.subnet} ! -o ${b} -j MASQUERADE` },
        // Published ports reached at 127.0.0.1 leave with that source; the container could not answer it.
        { table: 'nat', chain: postrouting, spec: `-s 127.0.0.0/8 -o ${b} -j MASQUERADE` },
      );
    }
    return rules;
  }

  private dnatRule(p: PublishedPort): Rule {
    const dst = p.hostIp === '0.0.0.0' ? '' : `-d ${p.hostIp}/32 `;
    return {
      table: 'nat',
      chain: this.chain.dnat,
      spec: `${dst}-p ${p.protocol} -m ${p.protocol} --dport ${p.hostPort} -j DNAT --to-destination ${p.containerIp}:${p.containerPort}`,
    };
  }

  /** A container reaching its own published port would otherwise get the answer from itself, not from the host address it asked. */
  private hairpinRule(protocol: string, ip: string, port: string | number): Rule {
    return {
      table: 'nat',
      chain: this.chain.postrouting,
      spec: `-s ${ip}/32 -d ${ip}/32 -p ${protocol} -m ${protocol} --dport ${port} -j MASQUERADE`,
    };
  }

  private portRules(p: PublishedPort): Rule[] {
    return [this.dnatRule(p), this.hairpinRule(p.protocol, p.containerIp, p.containerPort)];
  }

  /** The DNAT rules in place, with where they lead. */
  private dnatRules(saved: Saved): { rule: Rule; protocol: string; containerIp: string; containerPort: string }[] {
    const prefix = `${this.chain.dnat} `;
    const found = [];
    for (const r of saved.get('nat')?.rules ?? []) {
      if (!r.startsWith(prefix)) continue;
      const m = / -p (\w+) .* --to-destination ([\d.]+):(\d+)$/.exec(r);
      if (!m?.[1] || !m[2] || !m[3]) continue;
      found.push({ rule: { table: 'nat' as const, chain: this.chain.dnat, spec: r.slice(prefix.length) }, protocol: m[1], containerIp: m[2], containerPort: m[3] });
    }
    return found;
  }

  /** Hairpin rules no DNAT rule needs once `removed` are gone (several host ports may lead to one container port). */
  private unusedHairpins(saved: Saved, removed: string[]): Rule[] {
    const gone = new Set(removed);
    const kept = this.dnatRules(saved).filter((d) => !gone.has(d.rule.spec));
    const needed = new Set(kept.map((d) => this.hairpinRule(d.protocol, d.containerIp, d.containerPort).spec));
    return this.dnatRules(saved)
      .filter((d) => gone.has(d.rule.spec))
      .map((d) => this.hairpinRule(d.protocol, d.containerIp, d.containerPort))
      .filter((h) => !needed.has(h.spec));
  }

  private addRules(saved: Saved, batch: RestoreBatch, rules: Rule[]): void {
    const planned = new Set<string>();
    for (const r of rules) {
      const line = `${r.chain} ${r.spec}`;
      if (saved.get(r.table)?.rules.includes(line) || planned.has(`${r.table} ${line}`)) continue;
      planned.add(`${r.table} ${line}`);
      batch.add(r.table, r.first ? `-I ${r.chain} 1 ${r.spec}` : `-A ${line}`);
    }
  }

  private removeRules(saved: Saved, batch: RestoreBatch, rules: Rule[]): void {
    const planned = new Set<string>();
    for (const r of rules) {
      const line = `${r.chain} ${r.spec}`;
      // -D of a missing rule fails the whole batch, so only what is there is deleted.
      if (!saved.get(r.table)?.rules.includes(line) || planned.has(`${r.table} ${line}`)) continue;
      planned.add(`${r.table} ${line}`);
      batch.add(r.table, `-D ${line}`);
    }
  }

  /** The last network is gone: jumps first, because a chain still jumped to cannot be deleted. */
  private removeEverything(saved: Saved, batch: RestoreBatch): void {
    const ours = new Set(Object.values(this.chain));
    for (const table of ['filter', 'nat'] as const) {
      const t = saved.get(table);
      if (!t) continue;
      for (const r of t.rules) {
        const [chain] = r.split(' ');
        const target = / -j (\S+)$/.exec(r)?.[1];
        if (!ours.has(chain ?? '') && ours.has(target ?? '')) batch.add(table, `-D ${r}`);
      }
      const chains = [...t.chains].filter((c) => ours.has(c));
      for (const c of chains) batch.add(table, `-F ${c}`);
      for (const c of chains) batch.add(table, `-X ${c}`);
    }
  }
}
