// Stage 8 of loading (see load.ts): the merged document against our JSON Schema for
// the Compose Specification (schemas/stack.schema.json), with ajv's findings turned
// into one sentence per place a person has to fix: unknown keys with a did-you-mean,
// wrong shapes said in words ("must be a list of port mappings like "8080:80""), the
// noise of oneOf branches that do not apply dropped.
//
// The schema is compiled at build time (scripts/build-schema.mjs): compiling it at run
// time would cost ~180 ms on every command. The build also stores V8's compiled code
// of the validator beside it (see cached-commonjs.ts), which `stack config` runs from
// (other commands run with other V8 settings, see short-run.ts, and compile it).

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readCodeCache, runCommonJsFile } from '../common/cached-commonjs.js';
import type { Problem } from '../common/errors.js';
import { closestName } from './did-you-mean.js';
import { isMapping } from './mapping.js';
import { formatPath, locate, type PathSegment } from './positions.js';

interface AjvError {
  instancePath: string;
  schemaPath: string;
  keyword: string;
  params: Record<string, unknown>;
  parentSchema?: SchemaNode;
  message?: string;
}

interface SchemaNode {
  type?: string | string[];
  description?: string;
  properties?: Record<string, SchemaNode>;
  oneOf?: SchemaNode[];
  anyOf?: SchemaNode[];
  enum?: unknown[];
  $ref?: string;
  [k: string]: unknown;
}

type Validator = ((doc: unknown) => boolean) & { errors?: AjvError[] | null };

/** Where the build puts the compiled validator and its code cache (dist/schemas/). */
export const VALIDATOR_FILE = fileURLToPath(new URL('../../schemas/stack-validator.cjs', import.meta.url));
export const VALIDATOR_CODE_CACHE = fileURLToPath(new URL('../../schemas/stack-validator.code-cache', import.meta.url));

let validator: Validator | undefined;
let definitions: Record<string, SchemaNode> | undefined;

function compiled(): Validator {
  validator ??= runCommonJsFile(VALIDATOR_FILE, readCodeCache(VALIDATOR_CODE_CACHE)).exports as Validator;
  return validator;
}

function schemaDefinitions(): Record<string, SchemaNode> {
  definitions ??= (JSON.parse(readFileSync(new URL('../../../schemas/stack.schema.json', import.meta.url), 'utf8')) as { definitions: Record<string, SchemaNode> }).definitions;
  return definitions;
}

/** Keys of older file formats, with what replaced them. */
const OBSOLETE_KEYS: Record<string, string> = {
  net: 'the "net" key is from the version 1 file format: use "network_mode"',
  log_driver: 'the "log_driver" key is from the version 1 file format: use "logging: {driver: ...}"',
  log_opt: 'the "log_opt" key is from the version 1 file format: use "logging: {options: ...}"',
  dockerfile: 'the "dockerfile" key belongs under "build:", as "build: {context: ., dockerfile: ...}"',
  cpu_rt: 'use "cpu_rt_runtime" and "cpu_rt_period"',
};

export interface ValidationResult {
  problems: Problem[];
  warnings: Problem[];
  /** Dotted paths of the values the schema rejected (an unknown key's own path). */
  faulted: string[];
}

export function validateStackDocument(doc: unknown): ValidationResult {
  const warnings: Problem[] = [];
  if (isMapping(doc) && doc.version !== undefined) {
    warnings.push({
      path: 'version',
      message: 'the "version" key is obsolete and ignored: you can remove it',
      ...positionOf(doc, ['version'], 'key'),
    });
  }
  const validate = compiled();
  if (validate(doc)) return { problems: [], warnings, faulted: [] };
  const described = describeErrors(doc, validate.errors ?? []);
  return { problems: described.map((d) => d.problem), warnings, faulted: described.map((d) => d.faulted) };
}

function describeErrors(doc: unknown, errors: AjvError[]): Array<{ problem: Problem; faulted: string }> {
  const problems = new Map<string, { problem: Problem; faulted: string }>();
  /** `at` is where to point, when that differs from the reported path (an unknown key's own line). */
  const add = (path: PathSegment[], message: string, part: 'key' | 'value', hint?: string, at: PathSegment[] = path): void => {
    const key = `${formatPath(path)}\0${part}\0${message}`;
    if (problems.has(key)) return;
    problems.set(key, { problem: { path: formatPath(path), message, ...positionOf(doc, at, part), ...(hint ? { hint } : {}) }, faulted: formatPath(at) });
  };

  // oneOf/anyOf: when no branch takes the value's kind (a mapping where a list or a
  // string is wanted), one sentence at that place says what is accepted and the
  // branches' own complaints are dropped; when one branch does, its complaints stand.
  const summarized: string[] = [];
  const dropTypeAt = new Set<string>();
  for (const err of errors) {
    if (err.keyword !== 'oneOf' && err.keyword !== 'anyOf') continue;
    const value = valueAt(doc, err.instancePath);
    const branches = (err.parentSchema?.[err.keyword] as SchemaNode[] | undefined) ?? [];
    if (branches.some((b) => acceptsKind(b, value))) {
      dropTypeAt.add(err.instancePath);
    } else if (!summarized.some((p) => isWithin(err.instancePath, p))) {
      summarized.push(err.instancePath);
    }
  }

  for (const err of errors) {
    const path = toPath(err.instancePath);
    if (summarized.some((p) => isWithin(err.instancePath, p) && !(err.instancePath === p && !isBranchOf(err)))) {
      continue;
    }
    switch (err.keyword) {
      case 'oneOf':
      case 'anyOf':
        if (summarized.includes(err.instancePath)) add(path, `must be ${err.parentSchema?.description ?? 'one of the accepted forms'}`, 'value');
        break;
      case 'additionalProperties': {
        const name = String(err.params.additionalProperty);
        const allowed = Object.keys(err.parentSchema?.properties ?? {});
        const close = closestName(name, allowed);
        const hint = OBSOLETE_KEYS[name] ?? (close ? `did you mean "${close}"?` : newerSpecHint(path));
        add(path, `unknown key "${name}"`, 'key', hint, [...path, name]);
        break;
      }
      case 'type':
        if (dropTypeAt.has(err.instancePath)) break;
        add(path, `must be ${err.parentSchema?.description ?? kindWords(err.params.type)}${butIs(valueAt(doc, err.instancePath))}`, 'value');
        break;
      case 'required':
        add(path, `is missing the required key "${String(err.params.missingProperty)}"`, 'value');
        break;
      case 'enum':
        add(path, `must be ${err.parentSchema?.description ?? `one of ${(err.parentSchema?.enum ?? []).map((v) => JSON.stringify(v)).join(', ')}`}, but is ${JSON.stringify(valueAt(doc, err.instancePath))}`, 'value');
        break;
      case 'pattern':
        add(path, `must be ${err.parentSchema?.description ?? `text matching ${String(err.params.pattern)}`}, but is ${JSON.stringify(valueAt(doc, err.instancePath))}`, 'value');
        break;
      case 'minimum':
      case 'maximum':
        add(path, `must be ${err.keyword === 'minimum' ? 'at least' : 'at most'} ${String(err.params.limit)}`, 'value');
        break;
      default:
        add(path, err.message ?? 'is not valid here', 'value');
    }
  }
  return inSourceOrder(withoutRequiredMisspelled([...problems.values()]));
}

/**
 * `{paht: x}` draws both "unknown key paht" and "missing required key path": the
 * did-you-mean already says everything, so the second sentence is noise.
 */
function withoutRequiredMisspelled(found: Array<{ problem: Problem; faulted: string }>): Array<{ problem: Problem; faulted: string }> {
  const suggested = new Set(found.map(({ problem }) => `${problem.path}\0${problem.hint ?? ''}`));
  return found.filter(({ problem }) => {
    const missing = /^is missing the required key "(.*)"$/.exec(problem.message)?.[1];
    return missing === undefined || !suggested.has(`${problem.path}\0did you mean "${missing}"?`);
  });
}

/** Problems are read top to bottom with the file open beside them; ajv's order is the schema's. */
function inSourceOrder<T extends { problem: Problem }>(found: T[]): T[] {
  // Unpositioned problems (a document built in code) keep ajv's order, after the rest.
  const rank = (p: Problem): [string, number, number] => (p.position ? [p.position.file, p.position.line, p.position.col] : ['\uffff', Infinity, Infinity]);
  return found
    .map((entry, index) => ({ entry, index, at: rank(entry.problem) }))
    .sort((a, b) => (a.at[0] < b.at[0] ? -1 : a.at[0] > b.at[0] ? 1 : 0) || a.at[1] - b.at[1] || a.at[2] - b.at[2] || a.index - b.index)
    .map(({ entry }) => entry);
}

/**
 * A key that is no typo of a known one, at the top level or in a service, is most
 * often one a newer Compose release added.
 */
function newerSpecHint(path: PathSegment[]): string | undefined {
  const inService = path.length === 2 && path[0] === 'services';
  if (path.length !== 0 && !inService) return undefined;
  return 'it is not in the Compose Specification stack supports; if a newer Compose release added it, stack does not know it yet';
}

/** A oneOf's own error at the summarized place is kept; the branches' are not. */
function isBranchOf(err: AjvError): boolean {
  return err.keyword !== 'oneOf' && err.keyword !== 'anyOf';
}

function isWithin(path: string, prefix: string): boolean {
  return path === prefix || path.startsWith(`${prefix}/`);
}

function acceptsKind(branch: SchemaNode, value: unknown): boolean {
  const node = branch.$ref ? schemaDefinitions()[branch.$ref.replace('#/definitions/', '')] ?? branch : branch;
  if (node.oneOf || node.anyOf) return (node.oneOf ?? node.anyOf ?? []).some((b) => acceptsKind(b, value));
  if (node.enum) return node.enum.some((v) => typeof v === typeof value);
  const types = node.type === undefined ? [] : Array.isArray(node.type) ? node.type : [node.type];
  const kind = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value === 'object' ? 'object' : typeof value;
  if (kind === 'number' && Number.isInteger(value) && types.includes('integer')) return true;
  return types.includes(kind);
}

/** `, but is "many"` for a scalar, so the reader sees what was found. */
function butIs(value: unknown): string {
  return value === null || typeof value === 'object' || value === undefined ? '' : `, but is ${JSON.stringify(value)}`;
}

function kindWords(type: unknown): string {
  const words: Record<string, string> = {
    string: 'a string', number: 'a number', integer: 'a whole number', boolean: 'true or false',
    array: 'a list', object: 'a mapping', null: 'empty',
  };
  const types = String(type).split(',').map((t) => words[t] ?? t);
  return types.length <= 2 ? types.join(' or ') : `${types.slice(0, -1).join(', ')} or ${types.at(-1)!}`;
}

function toPath(pointer: string): PathSegment[] {
  if (pointer === '') return [];
  return pointer.slice(1).split('/').map((s) => {
    const seg = s.replace(/~1/g, '/').replace(/~0/g, '~');
    return /^\d+$/.test(seg) ? Number(seg) : seg;
  });
}

function valueAt(doc: unknown, pointer: string): unknown {
  let node = doc;
  for (const seg of toPath(pointer)) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<PathSegment, unknown>)[seg];
  }
  return node;
}

function positionOf(doc: unknown, path: PathSegment[], part: 'key' | 'value'): Pick<Problem, 'position'> {
  const position = locate(doc, path, part);
  return position ? { position } : {};
}

