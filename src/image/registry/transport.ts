// HTTP for the registry client over node:http/https: keep-alive agents, redirects (blob
// storage often lives on another host, which must never see the registry's Authorization),
// and retries with exponential backoff when a connection fails or a server answers 5xx.
// Plain HTTP is chosen by endpoint.ts, never here.

import { Agent as HttpAgent, request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Readable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import { extraCaContext } from './extra-ca.js';

export interface TransportRequest {
  method: string;
  url: URL;
  headers?: Record<string, string>;
  /** A buffer, or a function that opens the body afresh (so a retry can send it again). */
  body?: Buffer | (() => Readable);
}

export interface TransportOptions {
  /** How many times a request is tried in all (connection errors and 5xx). */
  attempts?: number;
  /** The first retry waits this long; each later one twice as long. */
  backoffMs?: number;
  /** A connection idle this long is given up (and retried). */
  idleTimeoutMs?: number;
  sleep?: (ms: number) => Promise<void>;
  /** NODE_EXTRA_CA_CERTS, trusted for HTTPS besides Node's roots (see extra-ca.ts). */
  extraCaFile?: string | undefined;
}

const RETRYABLE_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ECONNABORTED', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_SOCKET']);
const MAX_REDIRECTS = 5;

/** Whether an error is a dropped or refused connection, worth trying again. */
export function isConnectionError(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code !== undefined && RETRYABLE_CODES.has(code);
}

export class RegistryTransport {
  private readonly http = new HttpAgent({ keepAlive: true, maxSockets: 8 });
  private readonly https = new HttpsAgent({ keepAlive: true, maxSockets: 8 });
  readonly attempts: number;
  readonly backoffMs: number;
  readonly sleep: (ms: number) => Promise<void>;
  private readonly idleTimeoutMs: number;
  private readonly extraCaFile: string | undefined;

  constructor(options: TransportOptions = {}) {
    this.extraCaFile = options.extraCaFile || undefined;
    this.attempts = options.attempts ?? 4;
    this.backoffMs = options.backoffMs ?? 250;
    this.idleTimeoutMs = options.idleTimeoutMs ?? 60_000;
    this.sleep = options.sleep ?? ((ms) => delay(ms).then(() => undefined));
  }

  /** The wait before retry `n` (1-based). */
  backoff(n: number): number {
    return this.backoffMs * 2 ** (n - 1);
  }

  /**
   * Sends the request, following redirects, retrying connection errors and 5xx answers.
   * Resolves to the final response (whatever its status, a last 5xx included).
   */
  async request(req: TransportRequest): Promise<IncomingMessage> {
    for (let attempt = 1; ; attempt++) {
      try {
        const res = await this.followRedirects(req);
        if ((res.statusCode ?? 0) >= 500 && attempt < this.attempts) {
          res.resume();
          await this.sleep(this.backoff(attempt));
          continue;
        }
        return res;
      } catch (err) {
        if (!isConnectionError(err) || attempt >= this.attempts) {
          throw new Error(`cannot reach ${req.url.host}: ${(err as Error).message}`, { cause: err });
        }
        await this.sleep(this.backoff(attempt));
      }
    }
  }

  private async followRedirects(req: TransportRequest): Promise<IncomingMessage> {
    let current = req;
    for (let hops = 0; ; hops++) {
      const res = await this.once(current);
      const status = res.statusCode ?? 0;
      const location = res.headers.location;
      if (![301, 302, 303, 307, 308].includes(status) || location === undefined) return res;
      res.resume();
      if (hops >= MAX_REDIRECTS) throw new Error(`${req.url.href}: more than ${MAX_REDIRECTS} redirects`);
      const next = new URL(location, current.url);
      const headers = { ...(current.headers ?? {}) };
      // The registry's credentials are for the registry: blob storage elsewhere gets none.
      if (next.origin !== current.url.origin) delete headers.Authorization;
      const method = status === 303 ? 'GET' : current.method;
      current = { method, url: next, headers, ...(method !== 'GET' && method !== 'HEAD' && current.body !== undefined ? { body: current.body } : {}) };
    }
  }

  private async once(req: TransportRequest): Promise<IncomingMessage> {
    const https = req.url.protocol === 'https:';
    const secureContext = https && this.extraCaFile ? await extraCaContext(this.extraCaFile) : undefined;
    const headers: OutgoingHttpHeaders = { 'User-Agent': 'stack', ...(req.headers ?? {}) };
    const body = typeof req.body === 'function' ? req.body() : req.body;
    if (Buffer.isBuffer(body)) headers['Content-Length'] = body.length;
    return new Promise<IncomingMessage>((resolve, reject) => {
      const request = (https ? httpsRequest : httpRequest)(req.url, { method: req.method, headers, agent: https ? this.https : this.http, ...(secureContext ? { secureContext } : {}) });
      request.setTimeout(this.idleTimeoutMs, () => request.destroy(Object.assign(new Error(`no answer for ${this.idleTimeoutMs} ms`), { code: 'ETIMEDOUT' })));
      request.once('response', (res) => {
        // The idle timeout keeps guarding the body as it streams in.
        res.socket?.setTimeout(this.idleTimeoutMs, () => res.destroy(Object.assign(new Error(`no data for ${this.idleTimeoutMs} ms`), { code: 'ETIMEDOUT' })));
        resolve(res);
      });
      request.once('error', reject);
      if (body === undefined || Buffer.isBuffer(body)) {
        request.end(body);
      } else {
        body.once('error', (err) => request.destroy(err));
        body.pipe(request);
      }
    });
  }

  close(): void {
    this.http.destroy();
    this.https.destroy();
  }
}

/** A response body as a buffer, refusing more than `limit` bytes. */
export async function readBody(res: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      res.destroy();
      throw new Error(`${res.url ?? 'response'}: body over ${limit} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
