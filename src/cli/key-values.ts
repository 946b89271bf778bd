// The repeatable KEY=VALUE options of the CLI (--label, --opt, --filter), read once for
// every command that takes them.

import { UsageError } from '../common/errors.js';

/** `k=v` entries as a map (`k` alone is an empty value); `flag` names the option in the error. */
export function keyValues(values: readonly string[], flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of values) {
    const at = entry.indexOf('=');
    if (at === 0 || (at === -1 && flag === '--opt')) throw new UsageError(`${flag} "${entry}" is not KEY=VALUE (e.g. ${flag} ${flag === '--opt' ? 'type=tmpfs' : 'env=dev'})`);
    out[at === -1 ? entry : entry.slice(0, at)] = at === -1 ? '' : entry.slice(at + 1);
  }
  return out;
}

/** `--filter k=v` entries as Docker's filters JSON, or undefined when there are none. */
export function filtersQuery(values: readonly string[]): string | undefined {
  const filters: Record<string, string[]> = {};
  for (const f of values) {
    const at = f.indexOf('=');
    if (at <= 0) throw new UsageError(`--filter "${f}" is not KEY=VALUE (e.g. label=env=dev, dangling=true, name=db)`);
    (filters[f.slice(0, at)] ??= []).push(f.slice(at + 1));
  }
  return Object.keys(filters).length ? JSON.stringify(filters) : undefined;
}
