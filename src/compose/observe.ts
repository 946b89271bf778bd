// Observe: what the engine has of a project, read through the API client and told apart
// by Compose's labels: its containers (service, number, config hash, state), networks and
// volumes; which images exist; and, for the planner's checks made before anything starts,
// which published host ports are taken and which build contexts are missing. The result
// is plain data, the planner's second input beside the Project.

import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import type { ApiClient } from '../client/api-client.js';
import type { ContainerStatusName, ContainerSummary, ImageSummary, NetworkInspect } from '../common/api-types.js';
import type { VolumeListResponse } from '../common/volume-api-types.js';
import { LABEL } from './labels.js';
import type { Project } from './model.js';
import { serviceImage } from './service-container.js';

export interface ObservedContainer {
  id: string;
  name: string;
  service: string;
  number: number;
  oneoff: boolean;
  configHash: string;
  state: ContainerStatusName;
  /** Known only for exited containers, read off the status text. */
  exitCode?: number;
  image: string;
  imageId: string;
  /** `ip:port/proto` of every host port it publishes. */
  hostPorts: string[];
  /** The engine's names of the networks it is attached to. */
  networks: string[];
  labels: Record<string, string>;
}

export interface ObservedNetwork {
  id: string;
  name: string;
  labels: Record<string, string>;
}

export interface ObservedVolume {
  name: string;
  labels: Record<string, string>;
}

export interface ObservedState {
  project: string;
  /** Containers labelled with the project (one-offs included), sorted by name. */
  containers: ObservedContainer[];
  /** Every network and volume of the engine, by name: a project's and the external ones it names. */
  networks: Record<string, ObservedNetwork>;
  volumes: Record<string, ObservedVolume>;
  /** Image references the engine has, to their IDs (read only when there is a project to plan). */
  images: Record<string, string>;
  /** `ip:port/proto` keys of published host ports something else holds. */
  hostPortsInUse: string[];
  /** Build contexts (absolute directories) that do not exist. */
  missingBuildContexts: string[];
  /** Files of `file:` secrets and configs that do not exist. */
  missingFiles: string[];
}

export interface ObserveHost {
  /** True when the port can be bound now (nobody holds it). */
  portFree(ip: string, port: number, protocol: string): Promise<boolean>;
  pathExists(path: string): boolean;
}

export const machineObserveHost: ObserveHost = {
  portFree: probePort,
  pathExists: existsSync,
};

/**
 * For an engine on another host (over SSH): its ports cannot be probed from here, so none is
 * reported taken and the engine refuses a taken one when it starts the container. Paths are
 * still looked up here: build contexts are read and uploaded from this machine.
 */
export const remoteObserveHost: ObserveHost = {
  portFree: () => Promise.resolve(true),
  pathExists: existsSync,
};

/**
 * Read the project's state. Without `project` (down works from labels alone) there is no
 * plan that needs images or free ports: they are not read, and down does not wait for the
 * image list, the slowest of these answers.
 */
export async function observeProject(client: ApiClient, projectName: string, project: Project | undefined, host: ObserveHost = machineObserveHost): Promise<ObservedState> {
  const filters = JSON.stringify({ label: [`${LABEL.project}=${projectName}`] });
  const [summaries, networks, volumes, images] = await Promise.all([
    client.call<ContainerSummary[]>('GET', '/containers/json', { query: { all: 1, filters } }),
    client.call<NetworkInspect[]>('GET', '/networks'),
    client.call<VolumeListResponse>('GET', '/volumes'),
    project ? client.call<ImageSummary[]>('GET', '/images/json') : [],
  ]);
  const containers = summaries.map(observedContainer).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const state: ObservedState = {
    project: projectName,
    containers,
    networks: Object.fromEntries(networks.map((n) => [n.Name, { id: n.Id, name: n.Name, labels: n.Labels ?? {} }])),
    volumes: Object.fromEntries(volumes.Volumes.map((v) => [v.Name, { name: v.Name, labels: v.Labels ?? {} }])),
    images: Object.fromEntries(images.flatMap((i) => (i.RepoTags ?? []).map((tag) => [tag, i.Id]))),
    hostPortsInUse: [],
    missingBuildContexts: [],
    missingFiles: [],
  };
  if (project) {
    state.hostPortsInUse = await portsInUse(project, containers, host);
    state.missingBuildContexts = Object.values(project.services)
      .map((s) => s.build?.context)
      .filter((c): c is string => c !== undefined && c.startsWith('/') && !host.pathExists(c))
      .sort();
    state.missingFiles = [...Object.values(project.secrets), ...Object.values(project.configs)]
      .map((d) => d.file)
      .filter((f): f is string => f !== undefined && !host.pathExists(f))
      .sort();
  }
  return state;
}

/** `busybox` means `busybox:latest`, as the engine's list spells tags. */
export function imageKey(ref: string): string {
  const lastPart = ref.slice(ref.lastIndexOf('/') + 1);
  return lastPart.includes(':') || ref.includes('@') ? ref : `${ref}:latest`;
}

export function imageOfService(project: Project, service: string): string {
  return imageKey(serviceImage(project, project.services[service]!));
}

function observedContainer(s: ContainerSummary): ObservedContainer {
  const labels = s.Labels ?? {};
  const exited = /^Exited \((-?\d+)\)/.exec(s.Status);
  return {
    id: s.Id,
    name: (s.Names[0] ?? s.Id).replace(/^\//, ''),
    service: labels[LABEL.service] ?? '',
    number: Number(labels[LABEL.number] ?? 0),
    oneoff: labels[LABEL.oneoff] === 'True',
    configHash: labels[LABEL.configHash] ?? '',
    state: s.State,
    ...(exited ? { exitCode: Number(exited[1]) } : {}),
    image: s.Image,
    imageId: s.ImageID,
    hostPorts: s.Ports.filter((p) => p.PublicPort).map((p) => `${p.IP || '0.0.0.0'}:${p.PublicPort}/${p.Type}`),
    networks: Object.keys(s.NetworkSettings?.Networks ?? {}).sort(),
    labels,
  };
}

/**
 * The fixed host ports the project publishes that something other than the project's own
 * containers holds (those are given back when they are recreated or left as they are).
 */
async function portsInUse(project: Project, containers: ObservedContainer[], host: ObserveHost): Promise<string[]> {
  const ours = new Set(containers.flatMap((c) => c.hostPorts));
  const wanted = new Set<string>();
  for (const s of Object.values(project.services)) {
    for (const p of s.ports) {
      if (!p.published || !/^\d+$/.test(p.published)) continue;
      wanted.add(`${p.host_ip || '0.0.0.0'}:${p.published}/${p.protocol}`);
    }
  }
  const taken: string[] = [];
  for (const key of [...wanted].sort()) {
    if (ours.has(key) || ours.has(`0.0.0.0:${key.slice(key.indexOf(':') + 1)}`)) continue;
    const m = /^(.*):(\d+)\/(\w+)$/.exec(key)!;
    if (!(await host.portFree(m[1]!, Number(m[2]), m[3]!))) taken.push(key);
  }
  return taken;
}

/** Bind the port for a moment: the surest test that nobody else has it. */
export function probePort(ip: string, port: number, protocol: string): Promise<boolean> {
  return new Promise((resolve) => {
    if (protocol === 'udp') {
      // Loaded only here: most stacks publish no UDP port.
      const socket = process.getBuiltinModule('node:dgram').createSocket(ip.includes(':') ? 'udp6' : 'udp4');
      socket.once('error', () => resolve(false));
      socket.bind(port, ip, () => socket.close(() => resolve(true)));
      return;
    }
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: ip, exclusive: true }, () => server.close(() => resolve(true)));
  });
}
