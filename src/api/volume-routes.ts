// `/volumes/...`: the volume endpoints of the Docker Engine API (list with filters,
// create, inspect, remove, prune), translated into calls on the engine's VolumeService.

import type { VolumeCreateBody, VolumeListResponse, VolumePruneResponse } from '../common/volume-api-types.js';
import type { Engine } from '../engine/engine.js';
import type { VolumeFilters } from '../volumes/volume-store.js';
import { HttpError, parseFilters, queryFlag, readJsonBody, Reply, type Router } from './router.js';

export function addVolumeRoutes(router: Router, engine: Engine): void {
  const volumes = engine.volumes;

  router.add('GET', '/volumes', ({ query }) => ({
    Volumes: volumes.list(volumeFilters(parseFilters(query), ['name', 'label', 'driver', 'dangling'])),
    Warnings: [],
  }) satisfies VolumeListResponse);

  router.add('POST', '/volumes/create', async ({ req }) => {
    const body = (await readJsonBody(req)) as VolumeCreateBody;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new HttpError(400, 'the request body must be a JSON object ({"Name": ..., "Driver": ..., "DriverOpts": ..., "Labels": ...})');
    return new Reply(201, await volumes.create({
      ...(body.Name ? { name: body.Name } : {}),
      ...(body.Driver ? { driver: body.Driver } : {}),
      ...(body.Labels ? { labels: body.Labels } : {}),
      ...(body.DriverOpts ? { options: body.DriverOpts } : {}),
    }));
  });

  router.add('POST', '/volumes/prune', async ({ query }) => {
    const filters = parseFilters(query);
    const all = filters.get('all')?.some((v) => v === '1' || v.toLowerCase() === 'true') ?? false;
    filters.delete('all');
    return (await volumes.prune({ all, filters: volumeFilters(filters, ['label', 'label!']) })) satisfies VolumePruneResponse;
  });

  router.add('GET', '/volumes/:name', ({ params }) => volumes.inspect(params.name!));

  router.add('DELETE', '/volumes/:name', async ({ params, query }) => {
    await volumes.remove(params.name!, { force: queryFlag(query, 'force') });
    return new Reply(204);
  });
}

/** Docker's `filters` for volumes, refusing the ones this endpoint does not take. */
function volumeFilters(filters: Map<string, string[]>, allowed: string[]): VolumeFilters {
  const out: VolumeFilters = {};
  for (const [name, values] of filters) {
    if (!allowed.includes(name)) throw new HttpError(400, `invalid filter "${name}": use ${allowed.join(', ')}`);
    if (name === 'name') out.name = values;
    else if (name === 'label') out.label = values;
    else if (name === 'label!') out.labelNot = values;
    else if (name === 'driver') out.driver = values;
    else if (name === 'dangling') {
      const value = values[0] ?? '';
      if (!['true', 'false', '1', '0'].includes(value.toLowerCase())) throw new HttpError(400, `invalid filter dangling=${value}: use true or false`);
      out.dangling = value === '1' || value.toLowerCase() === 'true';
    }
  }
  return out;
}
