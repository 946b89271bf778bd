import t from 'tap';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { normalizeReference } from '../../src/image/reference.js';
import { MEDIA_LAYER_TAR, type ImageConfig } from '../../src/image/store.js';
import { findLayer, unpackLayer } from '../../src/image/unpack.js';
import { makeTar, sha256, tempStore } from './support.js';

t.test('references are normalised like Docker does', async (t) => {
  t.equal(normalizeReference('debian:bookworm'), 'docker.io/library/debian:bookworm');
  t.equal(normalizeReference('busybox'), 'docker.io/library/busybox:latest');
  t.equal(normalizeReference('me/app:1'), 'docker.io/me/app:1');
  t.equal(normalizeReference('localhost:5000/app'), 'localhost:5000/app:latest');
  t.equal(normalizeReference('ghcr.io/o/r/x:v2'), 'ghcr.io/o/r/x:v2');
  t.throws(() => normalizeReference('Bad/Name'), { message: 'invalid image reference "Bad/Name": bad repository component "Bad"' });
});

function configFor(diffIds: string[]): ImageConfig {
  return { architecture: 'amd64', os: 'linux', config: { Env: ['PATH=/bin'], Cmd: ['sh'] }, rootfs: { type: 'layers', diff_ids: diffIds } };
}

t.test('round trip, list, remove with garbage collection', async (t) => {
  const { store, cleanup } = await tempStore('store');
  t.teardown(cleanup);
  t.same(JSON.parse(readFileSync(join(store.root, 'oci-layout'), 'utf8')), { imageLayoutVersion: '1.0.0' });
  const layerA = await makeTar([{ name: 'a.txt', body: 'A' }]);
  const layerB = await makeTar([{ name: 'b.txt', body: 'B' }]);
  const blobA = await store.putBlob(layerA);
  const blobB = await store.putBlobStream(Readable.from([layerB]), sha256(layerB));
  t.equal(blobA.digest, sha256(layerA));
  await t.rejects(store.putBlobStream(Readable.from([Buffer.from('x')]), sha256(layerA)), { message: /^blob digest mismatch: expected sha256:/ });
  t.same(readdirSync(store.tmpDir), [], 'a rejected blob leaves no temp file');

  const one = await store.putImage([{ mediaType: MEDIA_LAYER_TAR, ...blobA }], configFor([sha256(layerA)]), 'one');
  await store.putImage([{ mediaType: MEDIA_LAYER_TAR, ...blobA }, { mediaType: MEDIA_LAYER_TAR, ...blobB }], configFor([sha256(layerA), sha256(layerB)]), 'two:v1');
  t.equal(one.reference, 'docker.io/library/one:latest');
  const index = JSON.parse(readFileSync(join(store.root, 'index.json'), 'utf8')) as { manifests: { annotations: Record<string, string> }[] };
  t.same(index.manifests.map((m) => m.annotations['org.opencontainers.image.ref.name']), ['docker.io/library/one:latest', 'docker.io/library/two:v1']);
  const two = await store.resolve('two:v1');
  t.same(two.config.config.Cmd, ['sh']);
  t.same(two.layers.map((l) => l.diffId), [sha256(layerA), sha256(layerB)]);
  t.same((await store.list()).map((i) => i.reference), ['docker.io/library/one:latest', 'docker.io/library/two:v1']);

  await unpackLayer(store, blobB.digest, sha256(layerB));
  t.ok(await findLayer(store, sha256(layerB)));
  await store.remove('two:v1');
  t.notOk(existsSync(store.blobPath(blobB.digest)), 'layer only two used is collected');
  t.ok(existsSync(store.blobPath(blobA.digest)), 'layer one still uses is kept');
  t.notOk(await findLayer(store, sha256(layerB)), 'unpacked layer is collected');
  t.same(readdirSync(join(store.layerDir, 'l')), [], 'its short link is gone too');
  await t.rejects(store.resolve('two:v1'), { name: 'NotFoundError', message: 'no such image: two:v1 (docker.io/library/two:v1); see "stack image ls"' });
  await t.rejects(store.remove('two:v1'), { name: 'NotFoundError', message: 'no such image: two:v1 (docker.io/library/two:v1)' });
  await store.remove('one');
  t.same(readdirSync(store.blobDir), []);
});
