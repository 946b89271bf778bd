// A client of one repository of an OCI distribution registry (the `/v2/` API): manifests
// fetched and put, blobs checked, downloaded (resumed with Range after a dropped
// connection), mounted from another repository, and uploaded (POST, then one PUT with the
// digest, or PATCHes in chunks for big blobs). Authentication is
// answered when challenged and then sent up front; see auth.ts.

import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import type { RegistryCredentials } from '../../common/docker-config.js';
import { NotFoundError } from '../../common/errors.js';
import { basicHeader, fetchToken, parseChallenge, RegistryAuthError, TokenCache, type Challenge } from './auth.js';
import { explainTlsFailure, registryBaseUrl } from './endpoint.js';
import { MANIFEST_ACCEPT } from './media-types.js';
import { isConnectionError, readBody, RegistryTransport, type TransportRequest } from './transport.js';

const MANIFEST_LIMIT = 4 * 1024 * 1024;
/** How many times one blob download is resumed after its connection drops. */
const MAX_RESUMES = 5;

export interface RegistryClientOptions {
  credentials?: RegistryCredentials | undefined;
  insecure?: readonly string[];
  /** `pull`, or `pull,push` for a push. */
  actions?: string;
  transport?: RegistryTransport;
  tokens?: TokenCache;
  /** NODE_EXTRA_CA_CERTS, for the transport made here (see extra-ca.ts). */
  extraCaFile?: string | undefined;
}

export interface FetchedManifest {
  mediaType: string;
  digest: string;
  bytes: Buffer;
}

/** Blobs over this size are uploaded in chunks. */
export const DEFAULT_CHUNK_THRESHOLD = 16 * 1024 * 1024;
export const DEFAULT_CHUNK_SIZE = 8 * 1024 * 1024;

export interface UploadOptions {
  chunkThreshold?: number;
  chunkSize?: number;
  /** A repository of the same registry known to hold the blob. */
  mountFrom?: string | undefined;
}

/** `chunks` is 0 for a monolithic PUT. */
export type UploadOutcome = { kind: 'mounted'; from: string } | { kind: 'uploaded'; chunks: number };

type AuthState = { scheme: 'none' } | { scheme: 'basic' } | { scheme: 'bearer'; challenge: Challenge };


export class RegistryClient {
  readonly base: URL;
  private readonly transport: RegistryTransport;
  private readonly ownsTransport: boolean;
  private readonly tokens: TokenCache;
  private readonly credentials: RegistryCredentials | undefined;
  private readonly actions: string;
  private auth: AuthState = { scheme: 'none' };

  constructor(readonly domain: string, readonly repository: string, options: RegistryClientOptions = {}) {
    this.base = registryBaseUrl(domain, options.insecure ?? []);
    this.ownsTransport = options.transport === undefined;
    this.transport = options.transport ?? new RegistryTransport({ extraCaFile: options.extraCaFile });
    this.tokens = options.tokens ?? new TokenCache();
    this.credentials = options.credentials;
    this.actions = options.actions ?? 'pull';
  }

  private get scope(): string {
    return `repository:${this.repository}:${this.actions}`;
  }

  private url(path: string): URL {
    return new URL(`/v2/${this.repository}${path}`, this.base);
  }

  private async authorization(scopes: string[]): Promise<string | undefined> {
    if (this.auth.scheme === 'basic') return this.credentials ? basicHeader(this.credentials) : undefined;
    if (this.auth.scheme === 'bearer') return `Bearer ${await fetchToken(this.transport, this.tokens, this.auth.challenge, scopes, this.credentials, this.domain)}`;
    return undefined;
  }

  /** Sends a request with whatever authorization is known; on a 401, answers the challenge once and sends it again. */
  private async send(req: TransportRequest, scopes = [this.scope]): Promise<IncomingMessage> {
    for (let round = 0; ; round++) {
      const authorization = await this.authorization(scopes);
      const headers = { ...(req.headers ?? {}), ...(authorization ? { Authorization: authorization } : {}) };
      const res = await this.transport.request({ ...req, headers }).catch((err: unknown) => {
        throw explainTlsFailure(this.domain, this.base, err) ?? err;
      });
      if (res.statusCode !== 401) return res;
      res.resume();
      const header = res.headers['www-authenticate'];
      if (round > 0 || !header) throw this.unauthorized(header !== undefined);
      const challenge = parseChallenge(Array.isArray(header) ? header[0]! : header);
      if (challenge.scheme === 'basic') {
        if (!this.credentials?.username) throw this.unauthorized(false);
        this.auth = { scheme: 'basic' };
      } else if (challenge.scheme === 'bearer') {
        this.auth = { scheme: 'bearer', challenge };
      } else {
        throw new RegistryAuthError(`${this.domain} asks for "${challenge.scheme}" authentication, which stack does not speak (Basic and Bearer only)`);
      }
    }
  }

  private unauthorized(afterTrying: boolean): RegistryAuthError {
    if (this.credentials?.username !== undefined && afterTrying) {
      return new RegistryAuthError(`unauthorized: ${this.domain} refused user "${this.credentials.username}" for ${this.repository}: wrong user name or password? (stack login ${this.domain})`);
    }
    return new RegistryAuthError(`unauthorized: ${this.domain} wants credentials for ${this.repository}: log in with "stack login ${this.domain}"`);
  }

  private async failure(res: IncomingMessage, what: string): Promise<Error> {
    const text = (await readBody(res, 64 * 1024).catch(() => Buffer.alloc(0))).toString('utf8');
    let detail = text.trim().slice(0, 300);
    try {
      const parsed = JSON.parse(text) as { errors?: Array<{ code?: string; message?: string }> };
      if (parsed.errors?.length) detail = parsed.errors.map((e) => `${e.code ?? ''}: ${e.message ?? ''}`).join('; ');
    } catch {
      // Not the spec's error JSON: the text is the detail.
    }
    const message = `${what}: ${this.domain} answered ${res.statusCode}${detail ? ` (${detail})` : ''}`;
    if (res.statusCode === 403) return new RegistryAuthError(`${message}: the credentials used do not allow it`);
    return res.statusCode === 404 ? new NotFoundError(message) : new Error(message);
  }

  /** `GET /v2/`: checks the registry answers and (with credentials) that they are accepted. */
  async checkLogin(): Promise<void> {
    const res = await this.send({ method: 'GET', url: new URL('/v2/', this.base) }, []);
    if (res.statusCode !== 200) throw await this.failure(res, `logging in to ${this.domain}`);
    res.resume();
  }

  /** A manifest or index by tag or digest; a digest reference is checked against the bytes. */
  async getManifest(reference: string): Promise<FetchedManifest> {
    const res = await this.send({ method: 'GET', url: this.url(`/manifests/${reference}`), headers: { Accept: MANIFEST_ACCEPT } });
    if (res.statusCode !== 200) {
      const err = await this.failure(res, `manifest ${this.repository}:${reference}`);
      if (res.statusCode === 404) throw new NotFoundError(`manifest for ${this.domain}/${this.repository}:${reference} not found (${err.message})`);
      throw err;
    }
    const bytes = await readBody(res, MANIFEST_LIMIT);
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    if (reference.startsWith('sha256:') && reference !== digest) {
      throw new Error(`manifest ${this.repository}@${reference}: the registry sent content whose digest is ${digest}`);
    }
    const declared = (JSON.parse(bytes.toString('utf8')) as { mediaType?: string }).mediaType;
    const header = (res.headers['content-type'] ?? '').split(';')[0]!.trim();
    return { mediaType: declared ?? header, digest, bytes };
  }

  async hasBlob(digest: string): Promise<boolean> {
    const res = await this.send({ method: 'HEAD', url: this.url(`/blobs/${digest}`) });
    res.resume();
    if (res.statusCode === 200) return true;
    if (res.statusCode === 404) return false;
    throw await this.failure(res, `checking blob ${digest}`);
  }

  /**
   * The blob's bytes as they arrive. A connection that drops part-way is picked up with
   * `Range: bytes=N-` (or, from a server that ignores Range, read again and the first N
   * bytes skipped), up to MAX_RESUMES times. The caller verifies digest and size.
   */
  async *blobChunks(digest: string, size: number): AsyncGenerator<Buffer> {
    let received = 0;
    for (let resumes = 0; ; resumes++) {
      const headers: Record<string, string> = received > 0 ? { Range: `bytes=${received}-` } : {};
      const res = await this.send({ method: 'GET', url: this.url(`/blobs/${digest}`), headers });
      let skip = 0;
      if (res.statusCode === 206) {
        const start = /^bytes (\d+)-/.exec(String(res.headers['content-range'] ?? ''))?.[1];
        if (Number(start) !== received) {
          res.destroy();
          throw new Error(`blob ${digest}: asked to resume at byte ${received}, the registry sent from ${start ?? '?'}`);
        }
      } else if (res.statusCode === 200) {
        skip = received;
      } else {
        throw await this.failure(res, `blob ${digest}`);
      }
      try {
        for await (const chunk of res as AsyncIterable<Buffer>) {
          let bytes = chunk;
          if (skip > 0) {
            const drop = Math.min(skip, bytes.length);
            skip -= drop;
            bytes = bytes.subarray(drop);
            if (bytes.length === 0) continue;
          }
          received += bytes.length;
          yield bytes;
        }
      } catch (err) {
        if (!isConnectionError(err) || resumes >= MAX_RESUMES) throw new Error(`blob ${digest}: the download failed after ${received} of ${size} bytes: ${(err as Error).message}`, { cause: err });
        await this.transport.sleep(this.transport.backoff(resumes + 1));
        continue;
      }
      // A clean end short of the size is a dropped connection too.
      if (received >= size || skip > 0) return;
      if (resumes >= MAX_RESUMES) throw new Error(`blob ${digest}: the download ended after ${received} of ${size} bytes`);
    }
  }

  /**
   * Uploads a blob. With `mountFrom`, first asks the registry to mount it from that
   * repository (201: done, nothing sent); a 202 instead opens an ordinary upload session.
   * Small blobs go up in one PUT with the digest; big ones (over `chunkThreshold`), or any
   * when the registry names an OCI-Chunk-Min-Length, as PATCHes of `chunkSize` bytes with
   * their Content-Range, each to the Location the last answer gave, then an empty PUT.
   */
  async uploadBlob(digest: string, size: number, open: () => Readable, options: UploadOptions = {}): Promise<UploadOutcome> {
    const url = this.url('/blobs/uploads/');
    const scopes = [this.scope];
    if (options.mountFrom !== undefined) {
      url.searchParams.set('mount', digest);
      url.searchParams.set('from', options.mountFrom);
      // The token must also let us read the source repository, or the registry answers 202.
      scopes.push(`repository:${options.mountFrom}:pull`);
    }
    const start = await this.send({ method: 'POST', url, headers: { 'Content-Length': '0' } }, scopes);
    if (options.mountFrom !== undefined && start.statusCode === 201) {
      start.resume();
      return { kind: 'mounted', from: options.mountFrom };
    }
    if (start.statusCode !== 202) throw await this.failure(start, `starting the upload of ${digest}`);
    start.resume();
    const session = this.uploadLocation(start, digest);
    const minChunk = Number(start.headers['oci-chunk-min-length']) || 0;
    if (size <= (options.chunkThreshold ?? DEFAULT_CHUNK_THRESHOLD) && minChunk === 0) {
      session.searchParams.set('digest', digest);
      const res = await this.send({ method: 'PUT', url: session, headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(size) }, body: open });
      if (res.statusCode !== 201) throw await this.failure(res, `uploading ${digest}`);
      res.resume();
      return { kind: 'uploaded', chunks: 0 };
    }
    return this.uploadChunks(session, digest, size, open(), Math.max(options.chunkSize ?? DEFAULT_CHUNK_SIZE, minChunk));
  }

  private async uploadChunks(session: URL, digest: string, size: number, source: Readable, chunkSize: number): Promise<UploadOutcome> {
    let location = session;
    let offset = 0;
    let chunks = 0;
    for await (const chunk of fixedSizeChunks(source, chunkSize)) {
      const range = `${offset}-${offset + chunk.length - 1}`;
      const res = await this.send({ method: 'PATCH', url: location, headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': range }, body: chunk });
      if (res.statusCode !== 202) throw await this.failure(res, `uploading bytes ${range} of ${digest}`);
      res.resume();
      location = this.uploadLocation(res, digest);
      offset += chunk.length;
      chunks++;
    }
    if (offset !== size) throw new Error(`blob ${digest}: the store gave ${offset} bytes where the manifest says ${size}`);
    location.searchParams.set('digest', digest);
    const res = await this.send({ method: 'PUT', url: location, headers: { 'Content-Length': '0' } });
    if (res.statusCode !== 201) throw await this.failure(res, `finishing the upload of ${digest}`);
    res.resume();
    return { kind: 'uploaded', chunks };
  }

  private uploadLocation(res: IncomingMessage, digest: string): URL {
    const location = res.headers.location;
    if (!location) throw new Error(`${this.domain} answered the upload of ${digest} without a Location`);
    return new URL(location, this.base);
  }

  /** Puts a manifest under a tag (or digest); returns its digest. */
  async putManifest(reference: string, mediaType: string, bytes: Buffer): Promise<string> {
    const res = await this.send({ method: 'PUT', url: this.url(`/manifests/${reference}`), headers: { 'Content-Type': mediaType }, body: bytes });
    if (res.statusCode !== 201 && res.statusCode !== 200) throw await this.failure(res, `putting the manifest ${this.repository}:${reference}`);
    res.resume();
    return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  }

  close(): void {
    if (this.ownsTransport) this.transport.close();
  }
}

/** A stream regrouped into buffers of exactly `size` bytes (the last one shorter). */
async function* fixedSizeChunks(source: Readable, size: number): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  for await (const data of source as AsyncIterable<Buffer>) {
    let rest = data;
    while (pendingBytes + rest.length >= size) {
      const take = size - pendingBytes;
      yield Buffer.concat([...pending, rest.subarray(0, take)]);
      rest = rest.subarray(take);
      pending = [];
      pendingBytes = 0;
    }
    if (rest.length > 0) {
      pending.push(rest);
      pendingBytes += rest.length;
    }
  }
  if (pendingBytes > 0) yield Buffer.concat(pending);
}
