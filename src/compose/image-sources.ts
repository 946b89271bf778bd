// Where `up` gets a missing image: the engine pulls it (`POST /images/create`) or builds
// it from the service's context sent as a tar (`POST /build`), both in Docker's API
// shapes. An engine without either answers 404; that is said plainly, naming the service.

import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join, relative } from 'node:path';
import tar from 'tar-stream';
import type { ApiClient } from '../client/api-client.js';
import { NotFoundError, RuntimeFailure } from '../common/errors.js';
import type { Operation } from './plan.js';

/** Reads Docker's JSON progress stream; the first `error` in it fails the pull or build. */
async function readProgress(res: AsyncIterable<Buffer>, onLine: (text: string) => void): Promise<void> {
  let buffered = '';
  const handle = (line: string): void => {
    if (line.trim() === '') return;
    let message: { error?: string; errorDetail?: { message?: string }; stream?: string; status?: string };
    try {
      message = JSON.parse(line) as typeof message;
    } catch {
      return;
    }
    if (message.error !== undefined) throw new RuntimeFailure(message.errorDetail?.message ?? message.error);
    const text = (message.stream ?? message.status ?? '').trimEnd();
    if (text) onLine(text);
  };
  for await (const chunk of res) {
    buffered += chunk.toString('utf8');
    const lines = buffered.split('\n');
    buffered = lines.pop()!;
    for (const line of lines) handle(line);
  }
  handle(buffered);
}

export async function pullImage(client: ApiClient, op: Operation, onLine: (text: string) => void): Promise<void> {
  const ref = op.target;
  const at = ref.lastIndexOf(':');
  const tagged = at > ref.lastIndexOf('/');
  try {
    const res = await client.open('POST', '/images/create', { query: { fromImage: tagged ? ref.slice(0, at) : ref, tag: tagged ? ref.slice(at + 1) : 'latest' } });
    await readProgress(res, onLine);
  } catch (err) {
    if (err instanceof NotFoundError) throw new RuntimeFailure(`service ${op.service}: cannot pull image ${ref}: ${err.message}`, { cause: err });
    throw new RuntimeFailure(`service ${op.service}: pulling image ${ref} failed: ${(err as Error).message}`, { cause: err });
  }
}

export async function buildImage(client: ApiClient, op: Operation, onLine: (text: string) => void): Promise<void> {
  const build = op.build!;
  const context = await tarDirectory(build.context);
  let res;
  try {
    res = await client.open('POST', '/build', {
      query: {
        t: op.target,
        dockerfile: build.dockerfile,
        buildargs: build.args ? JSON.stringify(build.args) : undefined,
        target: build.target,
      },
      raw: { contentType: 'application/x-tar', data: context },
    });
  } catch (err) {
    if (err instanceof NotFoundError && /page not found/.test(err.message)) {
      throw new RuntimeFailure(`service ${op.service}: this engine cannot build yet (POST /build is not served): build image ${op.target} another way, or remove "build:"`, { cause: err });
    }
    throw new RuntimeFailure(`service ${op.service}: building image ${op.target} failed: ${(err as Error).message}`, { cause: err });
  }
  try {
    await readProgress(res, onLine);
  } catch (err) {
    throw new RuntimeFailure(`service ${op.service}: building image ${op.target} failed: ${(err as Error).message}`, { cause: err });
  }
}

/** The build context as a tar: files, directories and symlinks, with their modes. */
export async function tarDirectory(root: string): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => { chunks.push(c as Buffer); });
  const ended = new Promise<void>((resolve, reject) => {
    pack.on('end', resolve);
    pack.on('error', reject);
  });
  const entry = (header: Parameters<tar.Pack['entry']>[0], body?: Buffer): Promise<void> =>
    new Promise((resolve, reject) => pack.entry(header, body ?? '', (err) => (err ? reject(err) : resolve())));
  const walk = async (dir: string): Promise<void> => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      const rel = relative(root, path);
      const st = lstatSync(path);
      const common = { name: rel, mode: st.mode & 0o7777, mtime: st.mtime, uid: 0, gid: 0 };
      if (st.isDirectory()) {
        await entry({ ...common, type: 'directory' });
        await walk(path);
      } else if (st.isSymbolicLink()) {
        await entry({ ...common, type: 'symlink', linkname: readlinkSync(path) });
      } else if (st.isFile()) {
        await entry({ ...common, type: 'file' }, readFileSync(path));
      }
    }
  };
  await walk(root);
  pack.finalize();
  await ended;
  return Buffer.concat(chunks);
}
