// The kernel objects of bridge networking, made with iproute2: a bridge per network with
// its gateway address, and per running container a network namespace (bound to a file so
// it outlives no process and any process can join it) with one veth per attached network.
//
// A sandbox costs two processes: `unshare --net=FILE ip -batch -` makes the namespace and,
// inside it, each veth pair (its host end sent back to our namespace), the addresses and
// routes; then one `ip -batch -` in our namespace puts the host ends on their bridges.

import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { runCommand, type CommandRunner } from './command.js';

/** One network a container joins: its veth ends and its address there. */
export interface SandboxInterface {
  /** The host end, on the bridge (at most 15 characters). */
  hostVeth: string;
  /** The name inside the container: eth0, eth1, ... */
  name: string;
  bridge: string;
  address: string;
  prefix: number;
  mac: string;
  /** The default route goes via the first interface that has a gateway (none on internal networks). */
  gateway?: string;
}

/** The interface names of the engine's networks fit IFNAMSIZ (15 characters). */
export function bridgeName(networkId: string): string {
  return `stk${networkId.slice(0, 8)}`;
}

export function hostVethName(containerId: string, index: number): string {
  return `stv${containerId.slice(0, 8)}${index}`;
}

export async function createBridge(name: string, gatewayCidr: string, run: CommandRunner = runCommand): Promise<void> {
  await run(['ip', '-batch', '-'], [
    `link add ${name} type bridge`,
    `addr add ${gatewayCidr} dev ${name}`,
    `link set ${name} up`,
  ].join('\n') + '\n');
}

/** Deleting a bridge detaches (not deletes) its ports; a missing bridge is fine. */
export async function deleteBridge(name: string, run: CommandRunner = runCommand): Promise<void> {
  await run(['ip', 'link', 'del', name]).catch((err: Error) => {
    if (!/Cannot find device|does not exist/.test(err.message)) throw err;
  });
}

/** The `ip -batch` lines, run inside the namespace, that make and configure each interface. */
function insideCommands(interfaces: readonly SandboxInterface[], withDefaultRoute: boolean): string {
  // The host ends are born in the engine's namespace; /proc/PID/ns/net names it from inside the new one.
  const home = `/proc/${process.pid}/ns/net`;
  const lines: string[] = [];
  for (const i of interfaces) {
    lines.push(`link add ${i.name} address ${i.mac} type veth peer name ${i.hostVeth} netns ${home}`);
    lines.push(`addr add ${i.address}/${i.prefix} dev ${i.name}`);
    lines.push(`link set ${i.name} up`);
  }
  const routed = interfaces.find((i) => i.gateway);
  if (withDefaultRoute && routed) lines.push(`route add default via ${routed.gateway} dev ${routed.name}`);
  return lines.join('\n') + '\n';
}

async function enslave(interfaces: readonly SandboxInterface[], run: CommandRunner): Promise<void> {
  if (interfaces.length === 0) return;
  // Hairpin: with br_netfilter loaded, a container's packet to its own published port is
  // DNATed at the bridge and must go back out the port it came in by.
  await run(['ip', '-batch', '-'], interfaces.map((i) => `link set ${i.hostVeth} master ${i.bridge} up\nlink set ${i.hostVeth} type bridge_slave hairpin on`).join('\n') + '\n');
}

/**
 * Makes the namespace bound at `path` with loopback up and every interface configured.
 * All or nothing: on failure whatever was made is removed again.
 */
export async function createSandbox(path: string, interfaces: readonly SandboxInterface[], run: CommandRunner = runCommand): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o711 });
  await writeFile(path, '', { flag: 'w' });
  try {
    await run(['unshare', `--net=${path}`, 'ip', '-batch', '-'], `link set lo up\n${insideCommands(interfaces, true)}`);
    await enslave(interfaces, run);
  } catch (err) {
    await destroySandbox(path, interfaces, run).catch(() => undefined);
    throw err;
  }
}

/** Adds interfaces to a sandbox that exists (a running container joining a network); the default route stays as it was. */
export async function addSandboxInterfaces(path: string, interfaces: readonly SandboxInterface[], run: CommandRunner = runCommand): Promise<void> {
  try {
    await run(['nsenter', `--net=${path}`, 'ip', '-batch', '-'], insideCommands(interfaces, false));
    await enslave(interfaces, run);
  } catch (err) {
    await removeVeths(interfaces, run).catch(() => undefined);
    throw err;
  }
}

/** Deleting either end of a veth deletes the pair, at once. Ends already gone are fine. */
export async function removeVeths(interfaces: readonly Pick<SandboxInterface, 'hostVeth'>[], run: CommandRunner = runCommand): Promise<void> {
  if (interfaces.length === 0) return;
  // -force: go on past veths already gone, so one missing end does not keep the rest.
  await run(['ip', '-force', '-batch', '-'], interfaces.map((i) => `link del ${i.hostVeth}`).join('\n') + '\n').catch((err: Error) => {
    if (!/Cannot find device/.test(err.message)) throw err;
  });
}

/**
 * Removes the veths (explicitly: a namespace with no users is freed by the kernel later,
 * and its veths with it) and the namespace's file. Missing pieces are
 * fine: this also finishes a teardown that was cut short.
 */
export async function destroySandbox(path: string, interfaces: readonly Pick<SandboxInterface, 'hostVeth'>[], run: CommandRunner = runCommand): Promise<void> {
  await removeVeths(interfaces, run);
  await run(['umount', path]).catch((err: Error) => {
    if (!/not mounted|no mount point|No such file/.test(err.message)) throw err;
  });
  await rm(path, { force: true });
}
