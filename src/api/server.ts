// The engine's HTTP server on its Unix socket: the routes of the Docker-shaped API, the
// hijacked connections of exec, and a clean shutdown that leaves containers running.

import { createServer, type Server } from 'node:http';
import { chmod, unlink } from 'node:fs/promises';
import { connect } from 'node:net';
import type { Duplex } from 'node:stream';
import { ConflictError } from '../common/errors.js';
import type { Engine } from '../engine/engine.js';
import { addContainerRoutes } from './container-routes.js';
import { handleAttachUpgrade } from './attach-routes.js';
import { addExecRoutes, handleExecUpgrade } from './exec-routes.js';
import { addImageRoutes } from './image-routes.js';
import { addBuildRoutes } from './build-routes.js';
import { addNetworkRoutes } from './network-routes.js';
import { Router } from './router.js';
import { addSystemRoutes } from './system-routes.js';
import { addVolumeRoutes } from './volume-routes.js';

export interface ApiServer {
  readonly socket: string;
  close(): Promise<void>;
}

export function apiRouter(engine: Engine): Router {
  const router = new Router();
  addSystemRoutes(router, engine);
  addContainerRoutes(router, engine);
  addExecRoutes(router, engine);
  addImageRoutes(router, engine);
  addBuildRoutes(router, engine);
  addNetworkRoutes(router, engine);
  addVolumeRoutes(router, engine);
  return router;
}

/** True when something answers on the socket (another engine): its file must not be taken away. */
function socketAnswers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}

/** Listens on `socket` (mode 0660). Refuses when another engine already answers there. */
export async function serveApi(engine: Engine, socket: string): Promise<ApiServer> {
  if (await socketAnswers(socket)) throw new ConflictError(`another engine already answers on ${socket}: stop it first ("stack engine stop")`);
  await unlink(socket).catch(() => undefined);
  const router = apiRouter(engine);
  const server: Server = createServer((req, res) => void router.handle(req, res));
  // Hijacked (upgraded) connections are no longer the HTTP server's: closeAllConnections()
  // does not reach them, so they are tracked here and destroyed on close.
  const upgraded = new Set<Duplex>();
  server.on('upgrade', (req, conn, head: Buffer) => {
    upgraded.add(conn);
    conn.once('close', () => upgraded.delete(conn));
    const upgrade = async (): Promise<boolean> =>
      (await handleExecUpgrade(engine, req, conn, head)) || handleAttachUpgrade(engine, req, conn, head);
    upgrade().then((handled) => {
      if (!handled) conn.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
    }, () => conn.destroy());
  });
  // Streams (logs -f, events, wait) stay open as long as their clients want.
  server.requestTimeout = 0;
  server.headersTimeout = 60_000;
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socket, () => resolve());
  });
  await chmod(socket, 0o660);
  return {
    socket,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        for (const conn of upgraded) conn.destroy();
      });
      await unlink(socket).catch(() => undefined);
    },
  };
}
