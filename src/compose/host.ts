// What the loader needs from the machine: files, the working directory and the
// environment. Stages never touch fs or process.env; the pipeline asks a host, so
// tests pass in-memory files and an explicit environment.

import { readFileSync, statSync } from 'node:fs';

export interface LoaderHost {
  /** The file's bytes, or undefined when there is no such file. Other failures throw. */
  readFile(absPath: string): Uint8Array | undefined;
  isFile(absPath: string): boolean;
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** The real machine: the process's working directory and environment. */
export function machineLoaderHost(cwd: string, env: Readonly<Record<string, string | undefined>>): LoaderHost {
  return {
    cwd,
    env,
    readFile(absPath) {
      try {
        return readFileSync(absPath);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
        throw err;
      }
    },
    isFile(absPath) {
      try {
        return statSync(absPath).isFile();
      } catch {
        return false;
      }
    },
  };
}

/** An in-memory host for tests: paths are absolute, contents strings or bytes. */
export function memoryLoaderHost(files: Record<string, string | Uint8Array>, cwd: string, env: Record<string, string | undefined> = {}): LoaderHost {
  return {
    cwd,
    env,
    readFile(absPath) {
      const f = files[absPath];
      if (f === undefined) return undefined;
      return typeof f === 'string' ? new TextEncoder().encode(f) : f;
    },
    isFile(absPath) {
      return files[absPath] !== undefined;
    },
  };
}
