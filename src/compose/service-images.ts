// `stack build`, `stack pull` and `stack push` in a project, as `docker compose build|pull|push`:
// the images of the named services (all of them when none is named), built, pulled or
// pushed through the engine with the same operations and events `up` uses.
//   build: services with a `build:` section (others have nothing to build and are passed by);
//   pull:  services with an `image:`; one that also has `build:` may fail to pull (it can be
//          built instead), which is a warning, and --ignore-buildable leaves those out;
//   push:  services with both `build:` and `image:` (what the project makes and names).

import type { ApiClient } from '../client/api-client.js';
import { UsageError } from '../common/errors.js';
import { applyPlan } from './apply.js';
import type { EmitEvent } from './events.js';
import { pushImage, type RegistryLogins } from './image-sources.js';
import type { Project, Service } from './model.js';
import { buildOperation, type Operation } from './plan.js';
import { serviceImage } from './service-container.js';

export interface ServiceImagesRequest {
  /** The services named on the command line; all the project's when empty. */
  services: readonly string[];
  emit: EmitEvent;
  logins?: RegistryLogins;
  /** build: run every step (--no-cache); pull base images again (--pull). */
  noCache?: boolean;
  pull?: boolean;
  /** build: extra build args for every service (--build-arg), over the file's. */
  buildArgs?: Record<string, string>;
  /** pull / push: a failure is a warning, not an error. */
  ignoreFailures?: boolean;
  /** pull: leave out services that can be built. */
  ignoreBuildable?: boolean;
}

function chosenServices(project: Project, names: readonly string[]): Service[] {
  for (const name of names) {
    if (!project.services[name]) {
      throw new UsageError(project.disabledServices[name]
        ? `service "${name}" is disabled by its profiles: enable one with --profile`
        : `no such service: "${name}"; the services are ${Object.keys(project.services).sort().join(', ')}`);
    }
  }
  const all = Object.values(project.services).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return names.length ? all.filter((s) => names.includes(s.name)) : all;
}

/** One operation per image: services sharing an image build or pull it once. */
function onePerImage(ops: Operation[]): Operation[] {
  const seen = new Set<string>();
  return ops.filter((op) => !seen.has(op.id) && Boolean(seen.add(op.id)));
}

async function run(client: ApiClient, project: Project, operations: Operation[], request: ServiceImagesRequest): Promise<void> {
  await applyPlan(client, { project: project.name, operations, services: [], unchanged: [], orphans: [], problems: [] }, {
    emit: request.emit,
    ...(request.logins ? { logins: request.logins } : {}),
  });
}

export async function buildServices(client: ApiClient, project: Project, request: ServiceImagesRequest): Promise<string[]> {
  const ops = onePerImage(chosenServices(project, request.services).filter((s) => s.build).map((s) => {
    const build = { ...s.build!, ...(request.noCache ? { no_cache: true } : {}), ...(request.pull ? { pull: true } : {}) };
    if (request.buildArgs) build.args = { ...build.args, ...request.buildArgs };
    return buildOperation(serviceImage(project, s), s.name, build, 'build');
  }));
  await run(client, project, ops, request);
  return ops.map((o) => o.target);
}

export async function pullServices(client: ApiClient, project: Project, request: ServiceImagesRequest): Promise<string[]> {
  const services = chosenServices(project, request.services).filter((s) => s.image !== undefined && !(s.build && request.ignoreBuildable));
  const pulled: string[] = [];
  const byImage = new Map<string, Service>();
  for (const s of services) if (!byImage.has(s.image!)) byImage.set(s.image!, s);
  // Each image on its own, in parallel: one that cannot be pulled must not stop the others.
  const results = await Promise.allSettled([...byImage].map(async ([image, s]) => {
    await run(client, project, [{ id: `image:${image}`, kind: 'pull-image', target: image, cause: 'pull', after: [], service: s.name }], { ...request, emit: (e) => (e.type === 'error' ? undefined : request.emit(e)) });
    pulled.push(image);
  }));
  const failures: string[] = [];
  results.forEach((r, i) => {
    if (r.status === 'fulfilled') return;
    const [image, s] = [...byImage][i]!;
    const message = (r.reason as Error).message;
    if (s.build) request.emit({ type: 'warning', message: `${message} (service ${s.name} can be built instead: "stack build ${s.name}")` });
    else if (request.ignoreFailures) request.emit({ type: 'warning', message });
    else failures.push(`${image}: ${message}`);
  });
  if (failures.length) throw new UsageError(failures.length === 1 ? failures[0]! : `${failures.length} images could not be pulled:\n${failures.map((f) => `  ${f}`).join('\n')}`);
  return pulled.sort();
}

export async function pushServices(client: ApiClient, project: Project, request: ServiceImagesRequest): Promise<string[]> {
  const services = chosenServices(project, request.services).filter((s) => s.build && s.image !== undefined);
  const images = [...new Set(services.map((s) => s.image!))];
  const pushed: string[] = [];
  for (const image of images) {
    const service = services.find((s) => s.image === image)!.name;
    try {
      request.emit({ type: 'image-pushing', image, service });
      await pushImage(client, image, service, (detail) => request.emit({ type: 'image-pushing', image, service, detail }), request.logins);
      request.emit({ type: 'image-pushed', image, service });
      pushed.push(image);
    } catch (err) {
      if (!request.ignoreFailures) throw err;
      request.emit({ type: 'warning', message: (err as Error).message });
    }
  }
  return pushed;
}
