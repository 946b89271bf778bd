// Runs a self-contained generated CommonJS file (no `require` inside) with a V8 code
// cache made at build time. Node 20 caches no compiled code between runs, and the
// schema validator (dist/schemas/stack-validator.cjs, ~250 KB) cost ~25 ms of every
// command to compile before it could validate anything; from a cache taken after a
// warm-up run its functions arrive compiled.
//
// The cache is only a shortcut: V8 refuses one made by another Node version, with
// other V8 flags or for other source text, and the file is then compiled as usual.

import { readFileSync } from 'node:fs';
import { Script } from 'node:vm';

export interface LoadedCommonJs {
  exports: unknown;
  /** The compiled code as it is now, for the build to store beside the file. */
  createCachedData(): Buffer;
  /** True when a cache was given and V8 refused it. */
  cacheRejected: boolean;
}

/** Run `file` as a CommonJS module, starting from `cachedData` when V8 accepts it. */
export function runCommonJsFile(file: string, cachedData?: Uint8Array): LoadedCommonJs {
  const source = readFileSync(file, 'utf8');
  // The same wrapper text at build and at run time: V8 matches a cache to its source.
  const script = new Script(`(function (module, exports) {${source}\n})`, { filename: file, ...(cachedData ? { cachedData } : {}) });
  const module: { exports: unknown } = { exports: {} };
  (script.runInThisContext() as (module: unknown, exports: unknown) => void)(module, module.exports);
  return {
    exports: module.exports,
    createCachedData: () => script.createCachedData(),
    cacheRejected: script.cachedDataRejected === true,
  };
}

/** The cache stored at `path`, or undefined when the build left none (or it cannot be read: it is only a shortcut). */
export function readCodeCache(path: string): Buffer | undefined {
  try {
    return readFileSync(path);
  } catch {
    return undefined;
  }
}
