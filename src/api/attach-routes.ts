// `POST /containers/{id}/attach` with `Upgrade: tcp`, as `docker run` (without -d) uses
// it: attach before the start, then receive the container's output on the hijacked
// connection until the container exits. Output comes from the json-file log, so nothing
// is missed between the attach and the start; a container with a terminal (Tty) sends
// it raw, as Docker does. Stdin is not relayed (no `-i` yet).

import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { encodeOutput, outputContentType, STDERR, STDOUT } from '../common/docker-stream.js';
import { readContainerLog } from '../engine/container-logs.js';
import type { Engine } from '../engine/engine.js';
import { batchedWrites } from '../common/batched-writes.js';
import { refuseUpgrade, takeUpgradeBody } from './exec-routes.js';
import { queryFlag, stripVersion } from './router.js';

export async function handleAttachUpgrade(engine: Engine, req: IncomingMessage, socket: Duplex, head: Buffer): Promise<boolean> {
  const url = new URL(req.url ?? '/', 'http://engine');
  const path = stripVersion(url.pathname);
  const m = path === undefined ? null : /^\/containers\/([^/]+)\/attach$/.exec(path);
  if (!m || req.method !== 'POST') return false;
  const query = url.searchParams;
  let id: string;
  let tty: boolean;
  try {
    await takeUpgradeBody(req, socket, head);
    const record = engine.containers.find(decodeURIComponent(m[1]!));
    id = record.Id;
    tty = record.Config.Tty ?? false;
  } catch (err) {
    refuseUpgrade(socket, err);
    return true;
  }
  socket.write(`HTTP/1.1 101 UPGRADED\r\nContent-Type: ${outputContentType(tty)}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n`);
  socket.on('error', () => undefined);
  // Nothing is read from the client (no stdin): drain it so its close is seen.
  socket.resume();
  const abort = new AbortController();
  socket.once('close', () => abort.abort());
  // From now on (or the whole log with logs=1), until the container's next exit.
  const since = queryFlag(query, 'logs') ? undefined : `${new Date().toISOString().slice(0, 23)}000000Z`;
  let exited = false;
  const exit = engine.containers.wait(id, 'next-exit', abort.signal).then(() => (exited = true));
  const out = batchedWrites((chunk) => socket.writable && socket.write(chunk));
  await readContainerLog(
    engine.containers.logPath(id),
    { stdout: queryFlag(query, 'stdout'), stderr: queryFlag(query, 'stderr'), follow: queryFlag(query, 'stream'), ...(since ? { since } : {}) },
    (entry) => out.add(encodeOutput(tty, entry.stream === 'stderr' ? STDERR : STDOUT, entry.log)),
    { isStopped: () => exited, stopped: exit, signal: abort.signal },
  ).catch(() => undefined);
  out.flush();
  socket.end();
  return true;
}
