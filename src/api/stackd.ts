// The engine process (`stackd`, `stack engine`): opens the engine root, serves the API on
// the socket, writes the pid file that marks it alive, and on SIGTERM/SIGINT stops
// serving while the containers keep running under their shims.

import { readFile, unlink, writeFile } from 'node:fs/promises';
import { enginePaths, enginePidFile, type EnginePaths } from '../common/engine-paths.js';
import { ConflictError, UsageError } from '../common/errors.js';
import { Engine, type EngineOptions } from '../engine/engine.js';
import { serveApi, type ApiServer } from './server.js';
import { processAlive } from '../common/process-alive.js';
import { parseInsecureList, parseInsecureRegistry } from '../image/registry/endpoint.js';

export interface RunningEngine {
  engine: Engine;
  server: ApiServer;
  paths: EnginePaths;
  stop(): Promise<void>;
}


/** Takes the pid file, or refuses when a live engine holds it. */
async function claimPidFile(path: string): Promise<void> {
  try {
    await writeFile(path, `${process.pid}\n`, { flag: 'wx' });
    return;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const pid = Number((await readFile(path, 'utf8').catch(() => '')).trim());
  if (pid > 0 && pid !== process.pid && processAlive(pid)) {
    throw new ConflictError(`an engine (pid ${pid}) already runs with this state (${path}): use it, or "stack engine stop" first`);
  }
  // A stale pid file from an engine that died: take it over.
  await writeFile(path, `${process.pid}\n`);
}

/** What `stackd`/`stack engine` flags add to the environment's settings. */
export interface EngineStartOptions {
  /** `--insecure-registry` values, added to STACK_INSECURE_REGISTRIES's. */
  insecureRegistries?: readonly string[];
  /** `--build-cache-max`, in bytes. */
  buildCacheMax?: number;
}

/** The engine's settings from its environment (STACK_ADDRESS_POOL, STACK_INSECURE_REGISTRIES, ...) and flags. */
export function engineSettings(env: NodeJS.ProcessEnv, flags: EngineStartOptions = {}): Partial<EngineOptions> {
  const linger = env.STACK_DEFAULT_BRIDGE_LINGER_MS;
  if (linger !== undefined && !/^\d+$/.test(linger)) throw new UsageError(`STACK_DEFAULT_BRIDGE_LINGER_MS="${linger}" is not a number of milliseconds`);
  return {
    env,
    insecureRegistries: [...new Set([...parseInsecureList(env.STACK_INSECURE_REGISTRIES), ...(flags.insecureRegistries ?? []).map((r) => parseInsecureRegistry(r))])],
    ...(flags.buildCacheMax !== undefined ? { buildCacheMax: flags.buildCacheMax } : {}),
    ...(env.STACK_ADDRESS_POOL ? { addressPool: env.STACK_ADDRESS_POOL } : {}),
    ...(linger !== undefined ? { defaultBridgeLingerMs: Number(linger) } : {}),
  };
}

/** Starts an engine in this process; tests use it for private engines. */
export async function startEngine(paths: EnginePaths, version: string, settings: Partial<EngineOptions> = engineSettings(process.env)): Promise<RunningEngine> {
  const engine = await Engine.open({ ...settings, paths, version });
  const pidFile = enginePidFile(paths);
  await claimPidFile(pidFile);
  let server: ApiServer;
  try {
    server = await serveApi(engine, paths.socket);
  } catch (err) {
    await engine.close();
    await unlink(pidFile).catch(() => undefined);
    throw err;
  }
  return {
    engine,
    server,
    paths,
    async stop() {
      await engine.close();
      await server.close();
      const pid = Number((await readFile(pidFile, 'utf8').catch(() => '')).trim());
      if (pid === process.pid) await unlink(pidFile).catch(() => undefined);
    },
  };
}

/** Entry point of bin/stackd.js and `stack engine`: runs until SIGTERM or SIGINT. */
export async function runEngineForeground(env: NodeJS.ProcessEnv, overrides: { root?: string; runRoot?: string; socket?: string } & EngineStartOptions, version: string, log: (line: string) => void): Promise<void> {
  const paths = enginePaths(env, overrides);
  const running = await startEngine(paths, version, engineSettings(env, overrides));
  log(`stackd ${version}: serving on ${paths.socket} (root ${paths.root}, pid ${process.pid})`);
  await new Promise<void>((resolve) => {
    const stop = (): void => resolve();
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  await running.stop();
  log('stackd: stopped; containers keep running and are picked up by the next engine');
}
