// Which services each service uses, read off the model for the graph stage:
// depends_on, links, volumes_from, and `service:NAME` modes of network_mode, ipc
// and pid. Positions come from the model, which keeps those of the stack file.

import type { GraphInput, ReferenceKind, ServiceReference } from './graph.js';
import type { Project, Service } from './model.js';
import { formatPath, locate, type PathSegment } from './positions.js';

export function serviceReferences(project: Project): GraphInput {
  const input: Record<string, ServiceReference[]> = {};
  for (const [name, service] of Object.entries(project.services)) {
    input[name] = referencesOf(project, name, service);
  }
  return input;
}

function referencesOf(project: Project, name: string, s: Service): ServiceReference[] {
  const refs: ServiceReference[] = [];
  const add = (service: string, kind: ReferenceKind, path: PathSegment[], required = true): void => {
    const position = locate(project, ['services', name, ...path], 'key');
    refs.push({ service, kind, path: formatPath(['services', name, ...path.slice(0, 1)]), required, ...(position ? { position } : {}) });
  };
  for (const [dep, d] of Object.entries(s.depends_on ?? {})) add(dep, 'depends_on', ['depends_on', dep], d.required);
  (s.links ?? []).forEach((link, i) => add(link.split(':')[0]!, 'links', ['links', i]));
  (s.volumes_from ?? []).forEach((from, i) => {
    // `container:NAME` names a container, not a service; `service:NAME` or a bare name is a service.
    if (from.startsWith('container:')) return;
    add(from.replace(/^service:/, '').split(':')[0]!, 'volumes_from', ['volumes_from', i]);
  });
  for (const kind of ['network_mode', 'ipc', 'pid'] as const) {
    const mode = s[kind];
    if (typeof mode === 'string' && mode.startsWith('service:')) add(mode.slice('service:'.length), kind, [kind]);
  }
  return refs;
}
