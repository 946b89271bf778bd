// `/networks/...`: the network endpoints of the Docker Engine API, translated into calls
// on the engine's NetworkService (the networks) and ContainerService (joining and leaving).

import type { EndpointConfig, NetworkCreateBody, NetworkInspect } from '../common/api-types.js';
import type { Engine } from '../engine/engine.js';
import type { NetworkRecord } from '../engine/network-service.js';
import { HttpError, labelMatches, parseFilters, readJsonBody, Reply, type Router } from './router.js';

export function addNetworkRoutes(router: Router, engine: Engine): void {
  const { networks, networking, containers } = engine;
  const attached = (record: NetworkRecord): string[] => networking.attachedNames(record);

  router.add('GET', '/networks', ({ query }) => {
    const filters = parseFilters(query);
    return networks.all().filter((r) => matchesFilters(r, filters, engine)).map((r) => networks.inspect(r.Id)) satisfies NetworkInspect[];
  });

  router.add('GET', '/networks/:id', ({ params }) => networks.inspect(params.id!));

  router.add('POST', '/networks/create', async ({ req }) => new Reply(201, await networks.create((await readJsonBody(req)) as NetworkCreateBody)));

  router.add('DELETE', '/networks/:id', async ({ params }) => {
    await networks.remove(params.id!, attached);
    return new Reply(204);
  });

  router.add('POST', '/networks/prune', async () => networks.prune(attached));

  router.add('POST', '/networks/:id/connect', async ({ params, req }) => {
    const body = (await readJsonBody(req)) as { Container?: string; EndpointConfig?: EndpointConfig | null };
    if (!body.Container) throw new HttpError(400, 'the body needs "Container": the container to connect');
    await containers.connectNetwork(body.Container, networks.find(params.id!).Id, body.EndpointConfig ?? null);
    return new Reply(200);
  });

  router.add('POST', '/networks/:id/disconnect', async ({ params, req }) => {
    const body = (await readJsonBody(req)) as { Container?: string; Force?: boolean };
    if (!body.Container) throw new HttpError(400, 'the body needs "Container": the container to disconnect');
    await containers.disconnectNetwork(body.Container, networks.find(params.id!).Id);
    return new Reply(200);
  });

}

function matchesFilters(record: NetworkRecord, filters: Map<string, string[]>, engine: Engine): boolean {
  for (const [name, values] of filters) {
    if (values.length === 0) continue;
    // Docker: several labels must all match; several values of any other filter, any one.
    const ok = values[name === 'label' ? 'every' : 'some']((value) => {
      switch (name) {
        case 'id': return record.Id.startsWith(value);
        case 'name': return record.Name.includes(value);
        case 'driver': return record.Driver === value;
        case 'label': return labelMatches(record.Labels, value);
        case 'type': return value === 'builtin' ? engine.networks.isPredefined(record) : !engine.networks.isPredefined(record);
        case 'dangling': return (value === 'true' || value === '1') === (engine.networking.attachedNames(record).length === 0);
        case 'scope': return value === 'local';
        default: throw new HttpError(400, `invalid filter "${name}": use id, name, driver, label, type, dangling or scope`);
      }
    });
    if (!ok) return false;
  }
  return true;
}
