// Helpers for plan tests: a project from YAML in memory, an empty engine, and the state
// an engine would be in once a plan was applied (so a second plan can be made against it).
import { loadProject, type LoadedProject } from '../../src/compose/load.js';
import { memoryLoaderHost } from '../../src/compose/host.js';
import { LABEL } from '../../src/compose/labels.js';
import type { ObservedContainer, ObservedState } from '../../src/compose/observe.js';
import type { Plan } from '../../src/compose/plan.js';

export function loadYaml(yaml: string, files: Record<string, string> = {}): LoadedProject {
  return loadProject({}, memoryLoaderHost({ '/p/compose.yaml': yaml, ...files }, '/p'));
}

export function emptyEngine(project: string, images: Record<string, string> = { 'busybox:test': 'sha256:bb' }): ObservedState {
  return { project, containers: [], networks: {}, volumes: {}, images: { ...images }, hostPortsInUse: [], missingBuildContexts: [], missingFiles: [] };
}

/** What the engine holds after `plan` ran to the end on `before`. */
export function applied(before: ObservedState, plan: Plan): ObservedState {
  const after: ObservedState = structuredClone(before);
  for (const op of plan.operations) {
    switch (op.kind) {
      case 'create-network': after.networks[op.target] = { id: `id-${op.target}`, name: op.target, labels: { [LABEL.project]: plan.project } }; break;
      case 'create-volume': after.volumes[op.target] = { name: op.target, labels: { [LABEL.project]: plan.project } }; break;
      case 'pull-image': case 'build-image': after.images[op.target.includes(':') ? op.target : `${op.target}:latest`] ??= `sha256:${op.target}`; break;
      case 'remove-orphan': case 'remove-container': after.containers = after.containers.filter((c) => c.name !== op.target); break;
      case 'start-container': after.containers.find((c) => c.name === op.target)!.state = 'running'; break;
      case 'create-container': case 'recreate-container': {
        after.containers = after.containers.filter((c) => c.name !== op.target);
        const labels = op.create!.Labels!;
        const image = op.create!.Image!;
        const c: ObservedContainer = {
          id: `id-${op.target}`, name: op.target, service: op.service!, number: op.number!, oneoff: false, configHash: labels[LABEL.configHash]!, state: 'running',
          image, imageId: after.images[image.includes(':') ? image : `${image}:latest`] ?? '', hostPorts: [],
          networks: Object.keys(op.create!.NetworkingConfig?.EndpointsConfig ?? {}).sort(), labels,
        };
        after.containers.push(c);
        after.containers.sort((a, b) => (a.name < b.name ? -1 : 1));
        break;
      }
      case 'remove-network': delete after.networks[op.target]; break;
      case 'remove-volume': delete after.volumes[op.target]; break;
      case 'stop-container': after.containers.find((c) => c.name === op.target)!.state = 'exited'; break;
    }
  }
  return after;
}
