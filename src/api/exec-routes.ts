// `/exec/...`: start an exec instance (plain HTTP, or hijacked after `Upgrade: tcp` as the
// docker CLI does, so stdin can flow on the same connection), inspect and resize it.

import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { Writable } from 'node:stream';
import { encodeOutput, outputContentType, STDERR, STDOUT, type StreamId } from '../common/docker-stream.js';
import type { Engine } from '../engine/engine.js';
import { errorStatus, HttpError, JSON_BODY_LIMIT, queryInt, readJsonBody, Reply, stripVersion, type Router } from './router.js';

/** Output of an exec: framed (no TTY) or raw (TTY, where stdout and stderr are one stream). */
function outputSink(target: { write(chunk: Buffer): unknown }, stream: StreamId, tty: boolean): NodeJS.WritableStream {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      target.write(encodeOutput(tty, stream, chunk));
      done();
    },
  });
}

export function addExecRoutes(router: Router, engine: Engine): void {
  router.add('POST', '/exec/:id/start', async ({ params, req, res }) => {
    const body = (await readJsonBody(req)) as { Detach?: boolean; Tty?: boolean };
    const { tty } = engine.execs.prepare(params.id!);
    if (body.Detach) {
      void engine.execs.start(params.id!, { stdout: nullSink(), stderr: nullSink() }).catch(() => undefined);
      return new Reply(200);
    }
    res.writeHead(200, { 'Content-Type': outputContentType(tty) });
    res.flushHeaders();
    await engine.execs.start(params.id!, { stdout: outputSink(res, STDOUT, tty), stderr: outputSink(res, STDERR, tty) }).catch((err: Error) => {
      res.write(encodeOutput(tty, STDERR, `${err.message}\n`));
    });
    res.end();
    return undefined;
  });

  router.add('GET', '/exec/:id/json', ({ params }) => engine.execs.inspect(params.id!));

  router.add('POST', '/exec/:id/resize', async ({ params, query }) => {
    await engine.execs.resize(params.id!, queryInt(query, 'h') ?? 0, queryInt(query, 'w') ?? 0);
    return new Reply(200);
  });
}

function nullSink(): NodeJS.WritableStream {
  return new Writable({ write: (_c, _e, done) => done() });
}

/**
 * `POST /exec/{id}/start` with `Upgrade: tcp`: answer 101 and use the raw connection both
 * ways, stdin from the client and the output back, then close it when the process ends.
 */
export async function handleExecUpgrade(engine: Engine, req: IncomingMessage, socket: Duplex, head: Buffer): Promise<boolean> {
  const url = new URL(req.url ?? '/', 'http://engine');
  const path = stripVersion(url.pathname);
  const m = path === undefined ? null : /^\/exec\/([^/]+)\/start$/.exec(path);
  if (!m || req.method !== 'POST') return false;
  const id = decodeURIComponent(m[1]!);
  let tty = false;
  let rest: Buffer;
  try {
    // On an upgrade, Node hands the request body to us as the first bytes of the
    // connection (`head`, then the socket), not through `req`: it must be taken off
    // here, or it reaches the process's stdin (`docker exec -i x cat` echoed
    // `{"Detach":false,"Tty":false}` before the input).
    ({ rest } = await takeUpgradeBody(req, socket, head));
    tty = engine.execs.prepare(id).tty;
  } catch (err) {
    refuseUpgrade(socket, err);
    return true;
  }
  socket.write(`HTTP/1.1 101 UPGRADED\r\nContent-Type: ${outputContentType(tty)}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n`);
  if (rest.length > 0) socket.unshift(rest);
  const out = { write: (chunk: Buffer) => socket.writable && socket.write(chunk) };
  socket.on('error', () => undefined);
  await engine.execs.start(id, { stdin: socket, stdout: outputSink(out, STDOUT, tty), stderr: outputSink(out, STDERR, tty) }).catch((err: Error) => {
    out.write(encodeOutput(tty, STDERR, Buffer.from(`${err.message}\n`)));
  });
  socket.end();
  // Read (and drop) whatever the client still sends until it closes its side: without
  // stdin attached nothing ever reads the socket, so its EOF went unseen, the connection
  // stayed half-open forever and the server's close() never finished.
  socket.resume();
  return true;
}

/** Answers an upgrade request that cannot go ahead with Docker's JSON error, then lets the connection go. */
export function refuseUpgrade(socket: Duplex, err: unknown): void {
  const message = JSON.stringify({ message: (err as Error).message });
  socket.end(`HTTP/1.1 ${errorStatus(err)} Error\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(message)}\r\n\r\n${message}`);
  // Read what the client still sends, so its close is seen and the connection goes away.
  socket.resume();
}

/**
 * Reads the Content-Length bytes of an upgrade request's body off the connection:
 * those in `head` first, then from the socket. Returns the body and what followed it
 * (the first bytes of stdin). Bodies over the JSON limit are refused.
 */
export async function takeUpgradeBody(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<{ body: Buffer; rest: Buffer }> {
  const length = Number(req.headers['content-length'] ?? 0);
  if (!Number.isInteger(length) || length < 0) throw new HttpError(400, `invalid Content-Length: ${req.headers['content-length']}`);
  if (length > JSON_BODY_LIMIT) throw new HttpError(413, `request body of ${length} bytes is over the ${JSON_BODY_LIMIT}-byte limit`);
  let buffered = head;
  while (buffered.length < length) {
    const chunk = await new Promise<Buffer | null>((resolve, reject) => {
      const onData = (d: Buffer): void => { cleanup(); socket.pause(); resolve(d); };
      const onEnd = (): void => { cleanup(); resolve(null); };
      const onError = (e: Error): void => { cleanup(); reject(e); };
      const cleanup = (): void => {
        socket.off('data', onData);
        socket.off('end', onEnd);
        socket.off('error', onError);
      };
      socket.on('data', onData);
      socket.once('end', onEnd);
      socket.once('error', onError);
      socket.resume();
    });
    if (chunk === null) throw new HttpError(400, `the connection ended inside the ${length}-byte request body`);
    buffered = Buffer.concat([buffered, chunk]);
  }
  return { body: buffered.subarray(0, length), rest: buffered.subarray(length) };
}
