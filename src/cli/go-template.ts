// The part of Go's text/template that `docker inspect --format` is used with: field paths
// (`{{.State.Status}}`), `json`, `index`, `len`, `join`, `upper`, `lower`, `println`, and
// `{{range PIPELINE}}...{{end}}` (with `$k, $v :=`). Values print as Go prints them: maps
// as `map[k:v]`, lists as `[a b]`, a missing field as `<no value>`. Anything else is refused
// with the part that is not understood, rather than printed wrong.

import { UsageError } from '../common/errors.js';

type Node =
  | { kind: 'text'; text: string }
  | { kind: 'action'; pipeline: string }
  | { kind: 'range'; key?: string; value?: string; pipeline: string; body: Node[] };

/** Renders `template` against `data`, as `docker inspect -f` does for each object. */
export function renderGoTemplate(template: string, data: unknown): string {
  const nodes = parse(template);
  return run(nodes, data, new Map());
}

function parse(template: string): Node[] {
  const root: Node[] = [];
  const stack: Node[][] = [root];
  const at = (): Node[] => stack[stack.length - 1]!;
  const re = /\{\{-?\s*(.*?)\s*-?\}\}/gs;
  let last = 0;
  for (const m of template.matchAll(re)) {
    if (m.index! > last) at().push({ kind: 'text', text: template.slice(last, m.index) });
    last = m.index! + m[0].length;
    const action = m[1]!;
    const range = /^range\s+(?:(\$\w+)\s*(?:,\s*(\$\w+))?\s*:=\s*)?(.+)$/.exec(action);
    if (range) {
      const body: Node[] = [];
      at().push({ kind: 'range', pipeline: range[3]!, body, ...(range[2] ? { key: range[1]!, value: range[2] } : range[1] ? { value: range[1] } : {}) });
      stack.push(body);
      continue;
    }
    if (action === 'end') {
      if (stack.length === 1) throw new UsageError(`--format: {{end}} without a {{range}}`);
      stack.pop();
      continue;
    }
    if (/^(if|else|with|define|template|block)\b/.test(action)) throw new UsageError(`--format: {{${action}}} is not supported; use field paths, range, json, index, len, join, upper, lower`);
    at().push({ kind: 'action', pipeline: action });
  }
  if (stack.length > 1) throw new UsageError('--format: a {{range}} has no {{end}}');
  if (last < template.length) at().push({ kind: 'text', text: template.slice(last) });
  return root;
}

function run(nodes: Node[], dot: unknown, vars: Map<string, unknown>): string {
  let out = '';
  for (const node of nodes) {
    if (node.kind === 'text') out += node.text;
    else if (node.kind === 'action') out += show(evaluate(node.pipeline, dot, vars));
    else {
      const over = evaluate(node.pipeline, dot, vars);
      const entries: [unknown, unknown][] = Array.isArray(over)
        ? over.map((v, i) => [i, v])
        : over !== null && typeof over === 'object' ? Object.keys(over).sort().map((k) => [k, (over as Record<string, unknown>)[k]]) : [];
      for (const [k, v] of entries) {
        const inner = new Map(vars);
        if (node.key) inner.set(node.key, k);
        if (node.value) inner.set(node.value, v);
        out += run(node.body, v, inner);
      }
    }
  }
  return out;
}

/** One pipeline: `ARG`, or `FUNC ARG...`, or those joined with `|` (the value on the left becomes the last argument). */
function evaluate(pipeline: string, dot: unknown, vars: Map<string, unknown>): unknown {
  let value: unknown;
  pipeline.split('|').map((s) => s.trim()).forEach((stage, i) => {
    const [head = '', ...rest] = tokens(stage);
    const fn = FUNCTIONS[head];
    if (!fn) {
      if (i > 0 || rest.length > 0) throw new UsageError(`--format: unknown function "${head}"; use json, index, len, join, upper, lower, println`);
      value = operand(head, dot, vars);
      return;
    }
    const args = rest.map((w) => operand(w, dot, vars));
    value = fn(...(i > 0 ? [...args, value] : args));
  });
  return value;
}

function tokens(stage: string): string[] {
  return [...stage.matchAll(/"(?:[^"\\]|\\.)*"|\S+/g)].map((m) => m[0]);
}

function operand(word: string, dot: unknown, vars: Map<string, unknown>): unknown {
  if (word.startsWith('"')) return JSON.parse(word) as string;
  if (/^-?\d+$/.test(word)) return Number(word);
  if (word === '.') return dot;
  if (word.startsWith('$')) {
    const [name = '', ...path] = word.split('.');
    if (!vars.has(name)) throw new UsageError(`--format: undefined variable ${name}`);
    return walk(vars.get(name), path);
  }
  if (word.startsWith('.')) return walk(dot, word.slice(1).split('.'));
  throw new UsageError(`--format: "${word}" is not a field (.Name), a variable, a string or a number`);
}

const MISSING = Symbol('no value');

function walk(value: unknown, path: string[]): unknown {
  let v = value;
  for (const key of path) {
    if (key === '') continue;
    if (v === null || typeof v !== 'object' || !(key in (v as object))) return MISSING;
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

const FUNCTIONS: Record<string, (...args: unknown[]) => unknown> = {
  json: (v) => JSON.stringify(v === MISSING ? null : v),
  index: (v, ...keys) => keys.reduce((acc: unknown, k) => (acc !== null && typeof acc === 'object' && String(k) in (acc as object) ? (acc as Record<string, unknown>)[String(k)] : MISSING), v),
  len: (v) => (Array.isArray(v) ? v.length : v !== null && typeof v === 'object' ? Object.keys(v).length : typeof v === 'string' ? v.length : 0),
  join: (list, sep) => (Array.isArray(list) ? list.map(show).join(String(sep)) : show(list)),
  upper: (v) => show(v).toUpperCase(),
  lower: (v) => show(v).toLowerCase(),
  println: (...vs) => `${vs.map(show).join(' ')}\n`,
};

/** A value as Go's fmt prints it in a template. */
function show(v: unknown): string {
  if (v === MISSING || v === undefined) return '<no value>';
  if (v === null) return '<nil>';
  if (Array.isArray(v)) return `[${v.map(show).join(' ')}]`;
  if (typeof v === 'object') return `map[${Object.keys(v).sort().map((k) => `${k}:${show((v as Record<string, unknown>)[k])}`).join(' ')}]`;
  return String(v);
}
