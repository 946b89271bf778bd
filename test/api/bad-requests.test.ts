// Bad requests over raw HTTP on the engine's socket: each gets Docker's status and a
// `{"message": ...}` body, and none leaves a container behind (the list of all
// containers is the same after it as before). The archive upload with a path-traversal
// entry must also write nothing outside the container's rootfs.
import t, { type Test } from 'tap';
import { existsSync, readdirSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { packTar } from '../../src/image/pack-tar.js';
import { BUSYBOX_IMAGE, engineSkipReason, makeEngineHarness } from './engine-harness.js';

const skip = engineSkipReason() ?? false;

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

interface RawRequest {
  method: string;
  path: string;
  body?: Buffer | string;
  headers?: Record<string, string>;
  /** Send the body chunked (no Content-Length), so the size limit is met while reading. */
  chunked?: boolean;
}

/** One request over the Unix socket with node:http, the answer read whole. */
function rawCall(socketPath: string, r: RawRequest): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...(r.headers ?? {}) };
    if (r.body !== undefined && !r.chunked) headers['Content-Length'] = String(Buffer.byteLength(r.body));
    const req = request({ socketPath, method: r.method, path: r.path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    // The engine may answer (413) before it has read the whole body; a write that then
    // fails is not the outcome under test, the response is.
    req.on('error', reject);
    if (r.body !== undefined && r.chunked) {
      const body = Buffer.from(r.body);
      for (let at = 0; at < body.length; at += 64 * 1024) req.write(body.subarray(at, at + 64 * 1024));
    } else if (r.body !== undefined) {
      req.write(r.body);
    }
    req.end();
  });
}

/** The `message` of a Docker-shaped error body (and that the body is JSON of that shape). */
function errorMessage(t: Test, res: RawResponse): string {
  t.match(String(res.headers['content-type']), /^application\/json/, 'errors are JSON');
  const parsed = JSON.parse(res.text) as { message?: unknown };
  t.type(parsed.message, 'string', 'with a message');
  return String(parsed.message);
}

/** Every file or directory below `dir` whose name starts with `prefix` (to find a stray write). */
function findNamed(dir: string, prefix: string): string[] {
  const found: string[] = [];
  const walk = (d: string): void => {
    let names: string[];
    try {
      names = readdirSync(d);
    } catch {
      return;
    }
    for (const name of names) {
      const path = join(d, name);
      if (name.startsWith(prefix)) found.push(path);
      walk(path);
    }
  };
  walk(dir);
  return found;
}

t.test('bad requests get Docker statuses and leave nothing behind', { skip }, async (t) => {
  const engine = await makeEngineHarness('bad-requests');
  t.teardown(() => engine.cleanup());
  const socket = engine.paths.socket;
  const call = (r: RawRequest): Promise<RawResponse> => rawCall(socket, r);
  const listAll = async (): Promise<string> => {
    const res = await call({ method: 'GET', path: '/v1.41/containers/json?all=1' });
    t.equal(res.status, 200);
    const ids = (JSON.parse(res.text) as Array<{ Id: string }>).map((c) => c.Id).sort();
    return JSON.stringify(ids);
  };
  const json = { 'Content-Type': 'application/json' };

  /** Runs one bad request and checks its status, its message and that the containers are the same. */
  const expectRefused = async (label: string, r: RawRequest, status: number, message: RegExp): Promise<void> => {
    await t.test(label, async (t) => {
      const before = await listAll();
      const res = await call(r);
      t.equal(res.status, status, res.text);
      t.match(errorMessage(t, res), message);
      t.equal(await listAll(), before, 'no container was made or removed');
    });
  };

  await expectRefused('unknown image on create', {
    method: 'POST', path: '/v1.41/containers/create?name=never', headers: json, body: JSON.stringify({ Image: 'no-such-image:1', Cmd: ['true'] }),
  }, 404, /^No such image: no-such-image:1/);

  // A container to conflict with, and to upload into.
  const created = await call({ method: 'POST', path: '/v1.41/containers/create?name=taken', headers: json, body: JSON.stringify({ Image: BUSYBOX_IMAGE, Cmd: ['sleep', '300'] }) });
  t.equal(created.status, 201, created.text);
  const id = (JSON.parse(created.text) as { Id: string }).Id;

  await expectRefused('a name already in use', {
    method: 'POST', path: '/v1.41/containers/create?name=taken', headers: json, body: JSON.stringify({ Image: BUSYBOX_IMAGE, Cmd: ['true'] }),
  }, 409, /already in use/);

  await expectRefused('malformed JSON', {
    method: 'POST', path: '/v1.41/containers/create?name=broken', headers: json, body: '{"Image": "busybox:test", "Cmd": [',
  }, 400, /not valid JSON/);

  await expectRefused('a JSON body that is not an object', {
    method: 'POST', path: '/v1.41/containers/create', headers: json, body: '["busybox:test"]',
  }, 400, /JSON object/);

  // A valid JSON document just over 1 MiB: refused for its size, not its content.
  const big = JSON.stringify({ Image: BUSYBOX_IMAGE, Cmd: ['true'], Labels: { pad: 'x'.repeat(1024 * 1024) } });
  await expectRefused('a body over 1 MiB (Content-Length)', { method: 'POST', path: '/v1.41/containers/create?name=big', headers: json, body: big }, 413, /limit/);
  await expectRefused('a body over 1 MiB (chunked)', { method: 'POST', path: '/v1.41/containers/create?name=big2', headers: json, body: big, chunked: true }, 413, /limit/);

  await expectRefused('an unknown route', { method: 'GET', path: '/v1.41/no/such/route' }, 404, /page not found/);
  await expectRefused('an unknown route without a version', { method: 'POST', path: '/containers/create/extra' }, 404, /page not found/);
  await expectRefused('a known path with the wrong method', { method: 'PUT', path: '/v1.41/containers/json' }, 405, /not allowed/);
  await expectRefused('an unknown container', { method: 'POST', path: '/v1.41/containers/no-such/start' }, 404, /^No such container: no-such/);

  await t.test('archive upload with a path-traversal entry', async (t) => {
    const before = await listAll();
    const marker = `escape-${randomBytes(6).toString('hex')}`;
    const tarball = await packTar([
      { name: 'fine.txt', body: 'fine\n' },
      { name: `../${marker}`, body: 'escaped\n' },
      { name: `../../../../../../../../../../${marker}-deep`, body: 'escaped\n' },
    ]);
    const res = await call({ method: 'PUT', path: `/v1.41/containers/${id}/archive?path=/tmp`, headers: { 'Content-Type': 'application/x-tar' }, body: tarball });
    t.equal(res.status, 400, res.text);
    t.match(errorMessage(t, res), /\.\./);
    t.equal(await listAll(), before, 'no container was made or removed');
    // Nowhere in the engine's directories (the container's dir around its rootfs
    // included), nor in the host's temp dir or at the host's root.
    const base = join(engine.paths.root, '..');
    t.same(findNamed(base, marker), [], 'nothing written under the engine dir');
    t.same(readdirSync(tmpdir()).filter((n) => n.startsWith(marker)), [], 'nothing written in the host temp dir');
    t.notOk(existsSync(`/${marker}-deep`), 'nothing written at the host root');

    // The bad entry first and megabytes after it: the refusal must still reach the client
    // that is still sending (not a reset connection).
    const early = await packTar([
      { name: `../${marker}-early`, body: 'escaped\n' },
      { name: 'padding.bin', body: Buffer.alloc(8 * 1024 * 1024, 1) },
    ]);
    const refused = await call({ method: 'PUT', path: `/v1.41/containers/${id}/archive?path=/tmp`, headers: { 'Content-Type': 'application/x-tar' }, body: early });
    t.equal(refused.status, 400, refused.text);
    t.same(findNamed(base, `${marker}-early`), [], 'nothing of it written under the engine dir');
    t.equal(await listAll(), before);
  });

  // After all of that the engine still serves, and the one container is the one made above.
  const ping = await call({ method: 'GET', path: '/_ping' });
  t.same([ping.status, ping.text], [200, 'OK']);
  t.equal(await listAll(), JSON.stringify([id]));
});
