// `stackd` (bin/stackd.js): the engine in the foreground, with --root, --run-root,
// --socket, --insecure-registry (repeatable) and --build-cache-max; parsed by hand so the
// engine starts without loading yargs.

import { UsageError } from '../common/errors.js';
import { restoreHeldCaCertificates } from '../common/held-ca-certificates.js';
import { parseBytes } from '../compose/short-syntax/units.js';
import { parseInsecureRegistry } from '../image/registry/endpoint.js';
import { reportError, stackVersion } from './main.js';
import { processIO } from './io.js';

export interface StackdArgs {
  root?: string;
  runRoot?: string;
  socket?: string;
  insecureRegistries?: string[];
  buildCacheMax?: number;
}

/** `--build-cache-max 2g`: a size with Docker's units, more than zero. */
export function parseBuildCacheMax(text: string): number {
  const size = parseBytes(text);
  if (!size.ok) throw new UsageError(`--build-cache-max: ${size.error}`);
  if (size.value === 0) throw new UsageError('--build-cache-max: give a size above zero (the build cache is pruned to it after every build)');
  return size.value;
}

export function parseEngineArgs(argv: readonly string[]): StackdArgs {
  const out: StackdArgs = {};
  const keys: Record<string, 'root' | 'runRoot' | 'socket' | 'insecureRegistries' | 'buildCacheMax'> = {
    '--root': 'root', '--run-root': 'runRoot', '--socket': 'socket', '--insecure-registry': 'insecureRegistries', '--build-cache-max': 'buildCacheMax',
  };
  for (let i = 0; i < argv.length; i++) {
    const [flag = '', inline] = argv[i]!.split(/=(.*)/s, 2);
    const key = keys[flag];
    if (!key) throw new UsageError(`stackd: unknown option "${argv[i]}" (options: --root DIR, --run-root DIR, --socket PATH, --insecure-registry HOST[:PORT], --build-cache-max SIZE)`);
    const value = inline ?? argv[++i];
    if (value === undefined || value === '') throw new UsageError(`stackd: ${flag} needs a value`);
    if (key === 'insecureRegistries') (out.insecureRegistries ??= []).push(parseInsecureRegistry(value));
    else if (key === 'buildCacheMax') out.buildCacheMax = parseBuildCacheMax(value);
    else out[key] = value;
  }
  return out;
}

export async function runStackdFromProcess(): Promise<void> {
  restoreHeldCaCertificates(process.env);
  const io = processIO();
  try {
    const { runEngineForeground } = await import('../api/stackd.js');
    await runEngineForeground(process.env, parseEngineArgs(process.argv.slice(2)), stackVersion(), (line) => io.stderr.write(`${line}\n`));
  } catch (err) {
    process.exitCode = reportError(err, io);
  }
}
