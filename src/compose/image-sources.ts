// Where `up` gets a missing image: the engine pulls it (`POST /images/create`) or builds
// it from the service's context sent as a tar (`POST /build`), both in Docker's API
// shapes. An engine without either answers 404; that is said plainly, naming the service.

import { resolve } from 'node:path';
import type { ApiClient } from '../client/api-client.js';
import { packBuildContext } from '../client/build-context.js';
import { NotFoundError, RuntimeFailure } from '../common/errors.js';
import type { Operation } from './plan.js';

/**
 * The user's registry logins as request headers, given by the CLI (which reads
 * ~/.docker/config.json): X-Registry-Auth for a pull, X-Registry-Config for a build's FROMs.
 * Without them the engine uses its own logins.
 */
export interface RegistryLogins {
  forPull(image: string): Promise<Record<string, string>>;
  forBuild(): Promise<Record<string, string>>;
}

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

export async function pullImage(client: ApiClient, op: Operation, onLine: (text: string) => void, logins?: RegistryLogins): Promise<void> {
  const ref = op.target;
  const at = ref.lastIndexOf(':');
  const tagged = at > ref.lastIndexOf('/');
  try {
    const headers = (await logins?.forPull(ref)) ?? {};
    const res = await client.open('POST', '/images/create', { query: { fromImage: tagged ? ref.slice(0, at) : ref, tag: tagged ? ref.slice(at + 1) : 'latest' }, headers });
    await readProgress(res, onLine);
  } catch (err) {
    if (err instanceof NotFoundError) throw new RuntimeFailure(`service ${op.service}: cannot pull image ${ref}: ${err.message}`, { cause: err });
    throw new RuntimeFailure(`service ${op.service}: pulling image ${ref} failed: ${(err as Error).message}`, { cause: err });
  }
}

export async function pushImage(client: ApiClient, image: string, service: string, onLine: (text: string) => void, logins?: RegistryLogins): Promise<void> {
  try {
    const headers = (await logins?.forPull(image)) ?? {};
    const res = await client.open('POST', `/images/${image}/push`, { headers });
    await readProgress(res, onLine);
  } catch (err) {
    throw new RuntimeFailure(`service ${service}: pushing image ${image} failed: ${(err as Error).message}`, { cause: err });
  }
}

export async function buildImage(client: ApiClient, op: Operation, onLine: (text: string) => void, logins?: RegistryLogins): Promise<void> {
  const build = op.build!;
  // The same packing as `stack build`: .dockerignore honoured, a Dockerfile outside the context sent along.
  const context = await packBuildContext(build.context, build.dockerfile === undefined ? undefined : resolve(build.context, build.dockerfile));
  const headers = (await logins?.forBuild()) ?? {};
  let res;
  try {
    const query = new URLSearchParams();
    for (const tag of [op.target, ...(build.tags ?? [])]) query.append('t', tag);
    query.set('dockerfile', context.dockerfile);
    if (build.args) query.set('buildargs', JSON.stringify(build.args));
    if (build.target) query.set('target', build.target);
    if (build.labels) query.set('labels', JSON.stringify(build.labels));
    if (build.noCache) query.set('nocache', '1');
    if (build.pull) query.set('pull', '1');
    res = await client.open('POST', `/build?${query.toString()}`, {
      headers,
      rawBody: { stream: context.tar, contentType: 'application/x-tar' },
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

