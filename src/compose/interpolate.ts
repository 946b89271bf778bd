// Stage 4 of loading (see load.ts): `${VAR}` substitution in every string value of a
// parsed document, then conversion of the strings that typed fields hold ("${REPLICAS}"
// became "3") into numbers and booleans, so the schema that follows sees the types it
// wants. Keys are never interpolated, as in Compose.
//
// Syntax: $VAR, ${VAR}, ${VAR:-default} (unset or empty), ${VAR-default} (unset),
// ${VAR:?message} / ${VAR?message} (required), ${VAR:+alt} / ${VAR+alt}, $$ for a
// literal $, and expressions nested inside defaults, alternatives and messages.

import type { Problem } from '../common/errors.js';
import { copyAllPositions, formatPath, locate, type PathSegment } from './positions.js';
import { put } from './mapping.js';
import { isOverride, markOverride } from './tags.js';

export type Lookup = (name: string) => string | undefined;

export type SubstitutionResult =
  | { ok: true; value: string; unset: string[] }
  | { ok: false; kind: 'syntax' | 'required'; message: string };

const NAME_START = /[A-Za-z_]/;
const NAME_CHAR = /[A-Za-z0-9_]/;

/** Substitute the variables in one string. Also used for `.env` values. */
export function substitute(text: string, lookup: Lookup): SubstitutionResult {
  const unset: string[] = [];
  const r = substituteIn(text, lookup, unset);
  return r.ok ? { ok: true, value: r.value, unset } : r;
}

function substituteIn(text: string, lookup: Lookup, unset: string[]): SubstitutionResult {
  if (!text.includes('$')) return { ok: true, value: text, unset };
  let out = '';
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (ch !== '$') {
      out += ch;
      i++;
      continue;
    }
    const next = text[i + 1];
    if (next === '$') {
      out += '$';
      i += 2;
      continue;
    }
    if (next !== undefined && NAME_START.test(next)) {
      let j = i + 1;
      while (j < text.length && NAME_CHAR.test(text[j]!)) j++;
      const name = text.slice(i + 1, j);
      const value = lookup(name);
      if (value === undefined) unset.push(name);
      out += value ?? '';
      i = j;
      continue;
    }
    if (next === '{') {
      const close = matchingBrace(text, i + 2);
      if (close === -1) return syntaxError(text);
      const r = braced(text.slice(i + 2, close), lookup, unset, text);
      if (!r.ok) return r;
      out += r.value;
      i = close + 1;
      continue;
    }
    return syntaxError(text);
  }
  return { ok: true, value: out, unset };
}

/** Index of the `}` closing a `${` whose body starts at `from`, counting nested `${`. */
function matchingBrace(text: string, from: number): number {
  let depth = 1;
  for (let i = from; i < text.length; i++) {
    if (text[i] === '$' && text[i + 1] === '$') {
      i++;
    } else if (text[i] === '$' && text[i + 1] === '{') {
      depth++;
      i++;
    } else if (text[i] === '}') {
      if (--depth === 0) return i;
    }
  }
  return -1;
}

function braced(body: string, lookup: Lookup, unset: string[], whole: string): SubstitutionResult {
  let n = 0;
  while (n < body.length && NAME_CHAR.test(body[n]!)) n++;
  const name = body.slice(0, n);
  if (name === '' || !NAME_START.test(name[0]!)) return syntaxError(whole);
  const rest = body.slice(n);
  const value = lookup(name);
  if (rest === '') {
    if (value === undefined) unset.push(name);
    return { ok: true, value: value ?? '', unset };
  }
  const colon = rest.startsWith(':');
  const op = colon ? rest[1] : rest[0];
  const arg = rest.slice(colon ? 2 : 1);
  // With a colon an empty value counts as missing; without, only an unset one does.
  const missing = value === undefined || (colon && value === '');
  switch (op) {
    case '-':
      return missing ? substituteIn(arg, lookup, unset) : { ok: true, value: value!, unset };
    case '?': {
      if (!missing) return { ok: true, value: value!, unset };
      const msg = substituteIn(arg, lookup, unset);
      const text = msg.ok ? msg.value : arg;
      return { ok: false, kind: 'required', message: `required variable ${name} is missing a value${text ? `: ${text}` : ''}` };
    }
    case '+':
      return missing ? { ok: true, value: '', unset } : substituteIn(arg, lookup, unset);
    default:
      return syntaxError(whole);
  }
}

function syntaxError(text: string): SubstitutionResult {
  return {
    ok: false,
    kind: 'syntax',
    message: `invalid interpolation format in ${JSON.stringify(text)}: write variables as $NAME or \${NAME}, and a literal $ as $$`,
  };
}

export interface InterpolationResult {
  value: unknown;
  problems: Problem[];
  /** One per variable used but not set. */
  warnings: Problem[];
}

/** Interpolate every string value of a document; positions and merge marks are kept, the input is left as it was. */
export function interpolateDocument(doc: unknown, env: Readonly<Record<string, string | undefined>>): InterpolationResult {
  const problems: Problem[] = [];
  const unsetSeen = new Map<string, Problem>();
  const lookup: Lookup = (name) => env[name];
  // The path of the value being walked, one stack for the whole walk: most values
  // never need theirs, and copying it for each would cost more than the substitution.
  const path: PathSegment[] = [];

  const walk = (value: unknown, casts: readonly CastNode[]): unknown => {
    if (typeof value === 'string') {
      let text = value;
      if (value.includes('$')) {
        const r = substitute(value, lookup);
        if (!r.ok) {
          problems.push({ path: formatPath(path), message: r.message, position: locate(doc, path) });
          return value;
        }
        for (const name of r.unset) {
          if (!unsetSeen.has(name)) {
            unsetSeen.set(name, {
              path: formatPath(path),
              message: `the "${name}" variable is not set. Defaulting to a blank string.`,
              position: locate(doc, path),
            });
          }
        }
        text = r.value;
      }
      const cast = castAt(casts);
      return cast ? castTyped(text, cast, path, doc, problems) : text;
    }
    // Containers are copied only where something inside them changed; the rest of the
    // document is shared, as no stage changes a document it was given.
    if (Array.isArray(value)) {
      let out: unknown[] | undefined;
      for (let i = 0; i < value.length; i++) {
        path.push(i);
        const item = walk(value[i], castsBelow(casts, i));
        path.pop();
        if (out) out.push(item);
        else if (item !== value[i]) {
          out = value.slice(0, i);
          out.push(item);
        }
      }
      if (!out) return value;
      carryOver(value, out);
      return out;
    }
    if (typeof value === 'object' && value !== null) {
      const keys = Object.keys(value);
      let out: Record<string, unknown> | undefined;
      for (let i = 0; i < keys.length; i++) {
        const k = keys[i]!;
        const before = (value as Record<string, unknown>)[k];
        path.push(k);
        const after = walk(before, castsBelow(casts, k));
        path.pop();
        if (out) put(out, k, after);
        else if (after !== before) {
          out = {};
          for (let j = 0; j < i; j++) put(out, keys[j]!, (value as Record<string, unknown>)[keys[j]!]);
          put(out, k, after);
        }
      }
      if (!out) return value;
      carryOver(value, out);
      return out;
    }
    return value;
  };

  const value = walk(doc, [CAST_TREE]);
  return { value, problems, warnings: [...unsetSeen.values()] };
}

function carryOver(from: object, to: object): void {
  copyAllPositions(from, to);
  if (isOverride(from)) markOverride(to);
}

// Fields Compose converts from string after interpolation. `*` matches any key or index.
type Cast = 'int' | 'float' | 'bool';
const CASTS: ReadonlyArray<[string[], Cast]> = [
  ...(
    [
      [['cpu_count'], 'int'], [['cpu_percent'], 'float'], [['cpu_period'], 'int'], [['cpu_quota'], 'int'],
      [['cpu_rt_period'], 'int'], [['cpu_rt_runtime'], 'int'], [['cpus'], 'float'], [['cpu_shares'], 'int'],
      [['init'], 'bool'], [['privileged'], 'bool'], [['read_only'], 'bool'], [['stdin_open'], 'bool'], [['tty'], 'bool'],
      [['oom_kill_disable'], 'bool'], [['oom_score_adj'], 'int'], [['pids_limit'], 'int'], [['scale'], 'int'],
      [['deploy', 'replicas'], 'int'], [['deploy', 'restart_policy', 'max_attempts'], 'int'],
      [['deploy', 'update_config', 'parallelism'], 'int'], [['deploy', 'update_config', 'max_failure_ratio'], 'float'],
      [['deploy', 'rollback_config', 'parallelism'], 'int'], [['deploy', 'rollback_config', 'max_failure_ratio'], 'float'],
      [['deploy', 'placement', 'max_replicas_per_node'], 'int'], [['deploy', 'resources', 'limits', 'cpus'], 'float'],
      [['deploy', 'resources', 'reservations', 'cpus'], 'float'], [['deploy', 'resources', 'limits', 'pids'], 'int'],
      [['healthcheck', 'retries'], 'int'], [['healthcheck', 'disable'], 'bool'],
      [['ports', '*', 'target'], 'int'], [['secrets', '*', 'mode'], 'int'], [['configs', '*', 'mode'], 'int'],
      [['ulimits', '*'], 'int'], [['ulimits', '*', 'soft'], 'int'], [['ulimits', '*', 'hard'], 'int'],
      [['volumes', '*', 'read_only'], 'bool'], [['volumes', '*', 'volume', 'nocopy'], 'bool'],
      [['depends_on', '*', 'required'], 'bool'], [['depends_on', '*', 'restart'], 'bool'],
      [['develop', 'watch', '*', 'initial_sync'], 'bool'], [['build', 'no_cache'], 'bool'], [['build', 'pull'], 'bool'],
    ] as Array<[string[], Cast]>
  ).map(([p, c]): [string[], Cast] => [['services', '*', ...p], c]),
  [['networks', '*', 'external'], 'bool'], [['networks', '*', 'internal'], 'bool'], [['networks', '*', 'attachable'], 'bool'],
  [['networks', '*', 'enable_ipv4'], 'bool'], [['networks', '*', 'enable_ipv6'], 'bool'], [['volumes', '*', 'external'], 'bool'], [['secrets', '*', 'external'], 'bool'],
  [['configs', '*', 'external'], 'bool'],
];

/**
 * CASTS as a tree walked alongside the document, so a value's cast is found in one
 * step from its parent's instead of by matching every pattern against its path.
 * Where patterns overlap, the first one listed wins (`order`).
 */
interface CastNode {
  readonly named: Map<string, CastNode>;
  any: CastNode | undefined;
  cast: { type: Cast; order: number } | undefined;
}

const NO_CASTS: readonly CastNode[] = [];

function castNode(): CastNode {
  return { named: new Map(), any: undefined, cast: undefined };
}

const CAST_TREE: CastNode = castNode();
CASTS.forEach(([pattern, type], order) => {
  let node = CAST_TREE;
  for (const segment of pattern) {
    if (segment === '*') node = node.any ??= castNode();
    else {
      let next = node.named.get(segment);
      if (!next) node.named.set(segment, (next = castNode()));
      node = next;
    }
  }
  node.cast ??= { type, order };
});

function castsBelow(nodes: readonly CastNode[], key: PathSegment): readonly CastNode[] {
  if (nodes.length === 0) return NO_CASTS;
  const below: CastNode[] = [];
  for (const node of nodes) {
    // A pattern's named segment never matches a sequence index; `*` matches both.
    const named = typeof key === 'string' ? node.named.get(key) : undefined;
    if (named) below.push(named);
    if (node.any) below.push(node.any);
  }
  return below.length === 0 ? NO_CASTS : below;
}

function castAt(nodes: readonly CastNode[]): Cast | undefined {
  let found: { type: Cast; order: number } | undefined;
  for (const node of nodes) if (node.cast && (!found || node.cast.order < found.order)) found = node.cast;
  return found?.type;
}

const TRUE_WORDS = new Set(['y', 'yes', 'true', 'on']);
const FALSE_WORDS = new Set(['n', 'no', 'false', 'off']);

function castTyped(value: string, cast: Cast, path: readonly PathSegment[], doc: unknown, problems: Problem[]): unknown {
  const fail = (what: string): string => {
    problems.push({ path: formatPath(path), message: `must be ${what}, but is ${JSON.stringify(value)}`, position: locate(doc, path) });
    return value;
  };
  const text = value.trim();
  if (cast === 'bool') {
    const lower = text.toLowerCase();
    if (TRUE_WORDS.has(lower)) return true;
    if (FALSE_WORDS.has(lower)) return false;
    return fail('true or false');
  }
  if (cast === 'int') {
    // A leading zero means octal, as in YAML 1.1 (file modes are written "0440").
    if (/^[-+]?0[0-7]+$/.test(text)) return Number.parseInt(text, 8);
    if (/^[-+]?\d+$/.test(text)) return Number.parseInt(text, 10);
    return fail('a whole number');
  }
  if (/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) return Number.parseFloat(text);
  return fail('a number');
}
