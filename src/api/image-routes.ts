// `/images/...`: list, inspect and remove images of the engine's store. Pull, push,
// build and load come with the images issue.

import type { Engine } from '../engine/engine.js';
import { familiarName, imageId } from '../engine/image-service.js';
import { HttpError, queryFlag, type Router } from './router.js';

export function addImageRoutes(router: Router, engine: Engine): void {
  router.add('GET', '/images/json', () => engine.images.list());

  router.add('GET', '/images/*name/json', async ({ params }) => {
    const image = await engine.images.find(params.name!);
    const id = imageId(image);
    const tags = (await engine.images.all()).filter((i) => imageId(i) === id).map((i) => familiarName(i.reference));
    return engine.images.inspect(image, tags);
  });

  router.add('DELETE', '/images/*name', async ({ params, query }) =>
    engine.images.remove(params.name!, (id) => engine.containers.usersOfImage(id), queryFlag(query, 'force')));

  router.add('POST', '/images/create', ({ query }) => {
    // Pulling comes with the registry client; say so rather than pretend.
    throw new HttpError(404, `No such image: ${query.get('fromImage') ?? ''}${query.get('tag') ? `:${query.get('tag')}` : ''} (this engine cannot pull from registries yet: make it with "stack image bootstrap" or "stack image import")`);
  });
}
