// A small router for the Docker-shaped API: routes by method and path pattern, the
// version prefix (`/v1.41/...`) stripped, JSON bodies read with a size limit, and every
// error answered as Docker does: `{"message": ...}` with the status its class maps to.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { ConflictError, InvalidStackFileError, NotFoundError, RuntimeFailure, UsageError } from '../common/errors.js';

/** Bodies of JSON requests (create, exec) are small; anything larger is refused. */
export const JSON_BODY_LIMIT = 1024 * 1024;

export class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = 'HttpError';
  }
}

export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  params: Record<string, string>;
  query: URLSearchParams;
  /** Aborted when the client goes away (streams stop then). */
  signal: AbortSignal;
}

/**
 * What a handler returns: a value to send as JSON with 200, `{ status }` with or without
 * a body, or undefined when it wrote the response itself (streams).
 */
export type HandlerResult = unknown;
export type Handler = (ctx: RequestContext) => Promise<HandlerResult> | HandlerResult;

export class Reply {
  constructor(readonly status: number, readonly body?: unknown) {}
}

interface Route {
  method: string;
  pattern: RegExp;
  names: string[];
  handler: Handler;
}

export class Router {
  private readonly routes: Route[] = [];

  /** `:name` matches one segment; `*name` matches one or more (image names have slashes). */
  add(method: string, path: string, handler: Handler): this {
    const names: string[] = [];
    const source = path.replace(/[:*]([a-zA-Z]+)/g, (whole, name: string) => {
      names.push(name);
      return whole.startsWith('*') ? '(.+?)' : '([^/]+)';
    });
    this.routes.push({ method, pattern: new RegExp(`^${source}$`), names, handler });
    return this;
  }

  match(method: string, path: string): { handler: Handler; params: Record<string, string> } | 'wrong-method' | undefined {
    let pathMatched = false;
    for (const route of this.routes) {
      const m = route.pattern.exec(path);
      if (!m) continue;
      pathMatched = true;
      if (route.method !== method && !(method === 'HEAD' && route.method === 'GET')) continue;
      const params: Record<string, string> = {};
      route.names.forEach((name, i) => (params[name] = decodeURIComponent(m[i + 1] ?? '')));
      return { handler: route.handler, params };
    }
    return pathMatched ? 'wrong-method' : undefined;
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://engine');
    const path = stripVersion(url.pathname);
    const abort = new AbortController();
    res.on('close', () => abort.abort());
    try {
      if (path === undefined) throw new HttpError(400, `unsupported API version in ${url.pathname}: this engine speaks 1.24 to 1.41`);
      const found = this.match(req.method ?? 'GET', path);
      if (found === undefined) throw new HttpError(404, `page not found: ${req.method} ${url.pathname}`);
      if (found === 'wrong-method') throw new HttpError(405, `${req.method} is not allowed on ${url.pathname}`);
      const result = await found.handler({ req, res, params: found.params, query: url.searchParams, signal: abort.signal });
      if (res.headersSent || res.writableEnded) return;
      if (result instanceof Reply) {
        if (result.body === undefined) res.writeHead(result.status).end();
        else sendJson(res, result.status, result.body);
      } else if (result === undefined) {
        res.writeHead(204).end();
      } else {
        sendJson(res, 200, result);
      }
    } catch (err) {
      sendError(res, err);
    }
  }
}

/** `/v1.41/containers/json` → `/containers/json`; undefined for a version we do not speak. */
export function stripVersion(path: string): string | undefined {
  const m = /^\/v(\d+)\.(\d+)(\/.*)$/.exec(path);
  if (!m) return path;
  const minor = Number(m[2]);
  if (Number(m[1]) !== 1 || minor < 12) return undefined;
  return m[3];
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

export function errorStatus(err: unknown): number {
  if (err instanceof HttpError) return err.status;
  if (err instanceof NotFoundError) return 404;
  if (err instanceof ConflictError) return 409;
  if (err instanceof UsageError || err instanceof InvalidStackFileError) return 400;
  if (err instanceof RuntimeFailure) return 500;
  return 500;
}

export function sendError(res: ServerResponse, err: unknown): void {
  const status = errorStatus(err);
  const message = err instanceof Error ? err.message : String(err);
  if (status === 500 && !(err instanceof RuntimeFailure) && !(err instanceof HttpError)) {
    process.stderr.write(`stackd: internal error: ${err instanceof Error ? err.stack : String(err)}\n`);
  }
  if (res.headersSent) {
    // A stream already started: all that can be done is to end it.
    res.destroy();
    return;
  }
  sendJson(res, status, { message });
}

/** The request body as JSON; an empty body is `{}`. Refuses bodies over `limit` bytes and malformed JSON. */
export async function readJsonBody(req: IncomingMessage, limit = JSON_BODY_LIMIT): Promise<unknown> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) throw new HttpError(413, `request body of ${declared} bytes is over the ${limit}-byte limit`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new HttpError(413, `request body is over the ${limit}-byte limit`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return {};
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new HttpError(400, `the request body is not valid JSON: ${(err as Error).message}`);
  }
}

/** Docker's boolean query values: `1`, `true`, `True` are true. */
export function queryFlag(query: URLSearchParams, name: string, fallback = false): boolean {
  const value = query.get(name);
  if (value === null || value === '') return fallback;
  return value === '1' || value.toLowerCase() === 'true';
}

export function queryInt(query: URLSearchParams, name: string): number | undefined {
  const value = query.get(name);
  if (value === null || value === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n)) throw new HttpError(400, `query parameter ${name}="${value}" is not an integer`);
  return n;
}

/**
 * Docker's `filters` parameter: JSON of `{"label": ["a=b"]}` or the older
 * `{"label": {"a=b": true}}`; returns name → values.
 */
export function parseFilters(query: URLSearchParams): Map<string, string[]> {
  const raw = query.get('filters');
  const out = new Map<string, string[]>();
  if (!raw) return out;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new HttpError(400, `filters is not valid JSON: ${raw}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new HttpError(400, 'filters must be a JSON object');
  for (const [name, value] of Object.entries(parsed as Record<string, unknown>)) {
    if (Array.isArray(value)) out.set(name, value.map(String));
    else if (typeof value === 'object' && value !== null) out.set(name, Object.keys(value).filter((k) => (value as Record<string, unknown>)[k]));
    else throw new HttpError(400, `filter "${name}" must be a list of values`);
  }
  return out;
}

/** Docker's `label` filter value: `key` (present) or `key=value`. */
export function labelMatches(labels: Record<string, string>, filter: string): boolean {
  const at = filter.indexOf('=');
  return at === -1 ? filter in labels : labels[filter.slice(0, at)] === filter.slice(at + 1);
}
