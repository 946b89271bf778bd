// The CLI's client of the engine API over its socket (local, or remote through SSH, see
// engine-transport.ts): JSON requests, streamed responses (logs, events) and errors turned
// back into the tool's error classes, so the CLI reports "No such container: web" exactly
// as the engine said it.

import { request as httpRequest, type ClientRequest, type IncomingMessage, type RequestOptions as HttpRequestOptions } from 'node:http';
import { ConflictError, NotFoundError, RuntimeFailure, UsageError } from '../common/errors.js';
import { unixSocketTransport, type EngineTransport } from './engine-transport.js';

export class EngineUnreachable extends Error {
  constructor(readonly address: string, cause: unknown) {
    super(`no engine answers on ${address}`, { cause });
    this.name = 'EngineUnreachable';
  }
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  /** A body that is not JSON, streamed as it comes (a build context tar). */
  rawBody?: { stream: NodeJS.ReadableStream; contentType: string };
  signal?: AbortSignal;
  /** Extra request headers (X-Registry-Auth). */
  headers?: Record<string, string>;
}

function pathWithQuery(path: string, query: RequestOptions['query']): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) params.set(k, String(v));
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

function errorFor(status: number, message: string): Error {
  if (status === 404) return new NotFoundError(message);
  if (status === 409) return new ConflictError(message);
  if (status === 400 || status === 413) return new UsageError(message);
  return new RuntimeFailure(message);
}

async function readAll(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of res as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

export class ApiClient {
  readonly transport: EngineTransport;

  /** `engine`: the path of a local engine's socket, or a transport to one elsewhere. */
  constructor(engine: string | EngineTransport) {
    this.transport = typeof engine === 'string' ? unixSocketTransport(engine) : engine;
  }

  /** Where the engine is, for messages. */
  get address(): string {
    return this.transport.address;
  }

  /** An HTTP request to the engine (path with the API version), for callers that need the raw exchange (an upgrade). */
  request(options: Pick<HttpRequestOptions, 'method' | 'path' | 'headers' | 'signal'>): ClientRequest {
    return httpRequest({
      ...this.transport.connectOptions(),
      // Named, as the default "localhost" is not: Node's agent then asks whether that
      // name is an IPv6 address, and the first such question compiles a large regular
      // expression (~10 ms of every command). The engine ignores the Host header.
      host: '127.0.0.1',
      ...options,
    });
  }

  /** The raw response, for streams; throws the engine's error for a status of 400 and up. */
  async open(method: string, path: string, options: RequestOptions = {}): Promise<IncomingMessage> {
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = this.request({
        method,
        path: `/v1.41${pathWithQuery(path, options.query)}`,
        headers: {
          ...(options.headers ?? {}),
          ...(options.rawBody ? { 'Content-Type': options.rawBody.contentType } : body === undefined ? {} : { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) }),
        },
        ...(options.signal ? { signal: options.signal } : {}),
      });
      req.once('response', resolve);
      req.once('error', (err: NodeJS.ErrnoException) => {
        reject(['ENOENT', 'ECONNREFUSED', 'ECONNRESET', 'EPIPE'].includes(err.code ?? '') ? new EngineUnreachable(this.address, err) : err);
      });
      if (options.rawBody) {
        options.rawBody.stream.on('error', (err) => req.destroy(err));
        options.rawBody.stream.pipe(req);
      } else {
        req.end(body);
      }
    });
    if ((res.statusCode ?? 500) >= 400) {
      const text = await readAll(res);
      let message = text;
      try {
        message = (JSON.parse(text) as { message?: string }).message ?? text;
      } catch {
        // Not JSON: the text itself is the message.
      }
      throw errorFor(res.statusCode ?? 500, message);
    }
    return res;
  }

  /** A JSON answer (or undefined for an empty one, e.g. 204 and 304). */
  async call<T = unknown>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const res = await this.open(method, path, options);
    const text = await readAll(res);
    return (text.trim() === '' ? undefined : JSON.parse(text)) as T;
  }

  async ping(): Promise<boolean> {
    try {
      const res = await this.open('GET', '/_ping');
      res.resume();
      return true;
    } catch (err) {
      if (err instanceof EngineUnreachable) return false;
      throw err;
    }
  }
}
