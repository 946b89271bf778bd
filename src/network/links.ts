// The kernel objects of bridge networks made with iproute2: a bridge per network with its
// gateway address (made once per network, so a process or two is fine). A container's own
// namespace and veths are wired by the shim over rtnetlink (runtime/shim/netsetup.c), since
// that happens at every start; their names are chosen here.

import { runCommand, type CommandRunner } from './command.js';

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

/** Deleting either end of a veth deletes the pair, at once. Ends already gone are fine. */
export async function removeVeths(interfaces: readonly { hostVeth: string }[], run: CommandRunner = runCommand): Promise<void> {
  if (interfaces.length === 0) return;
  // -force: go on past veths already gone, so one missing end does not keep the rest.
  await run(['ip', '-force', '-batch', '-'], interfaces.map((i) => `link del ${i.hostVeth}`).join('\n') + '\n').catch((err: Error) => {
    if (!/Cannot find device/.test(err.message)) throw err;
  });
}
