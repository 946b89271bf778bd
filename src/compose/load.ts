// The stack-file loading pipeline: from the files a command names (or finds) to a
// typed, validated Project and its dependency graph. The stages, in order, and why
// that order:
//
//  1. discover   (discover.ts)    which files: -f, COMPOSE_FILE, or the first directory
//                                 upward with a stack file, plus its override file.
//  2. env        (envfile.ts)     `.env` / --env-file, under the process environment,
//                                 because interpolation needs the variables first.
//  3. parse      (parse.ts)       bytes -> plain document with source positions;
//                                 hostile input is refused here.
//  4. interpolate(interpolate.ts) ${VAR} substitution and casting of typed fields;
//                                 before validation, since the schema wants numbers
//                                 and booleans where users write "${PORT}".
//  5. extends    (extends.ts)     service inheritance, within and across files.
//  6. include    (this file)      other stack files loaded as their own units (own
//                                 directory, own .env), their paths made absolute,
//                                 their resources added to this file's.
//  7. merge      (merge.ts)       the files in order, by Compose's merge rules,
//                                 consuming !reset and !override.
//  8. validate   (validate.ts)    JSON Schema on the merged document; positions
//                                 survive merge, so errors point at the right file.
//  9. normalize  (normalize.ts)   short syntax to long, paths, units, profiles, the
//                                 project name -> a typed Project.
// 10. graph      (graph.ts)       depends_on / links / network_mode / volumes_from
//                                 references, missing services and cycles.
//
// Every stage returns its problems instead of stopping at the first, and the
// pipeline goes as far as it safely can, so a user sees every mistake at once.
//
// Source positions (positions.ts) are only read to say where a problem or warning
// is, yet recording them is a tenth of a load: a first pass records none, and a load
// that has something to report runs again with them. The stages are pure, so the
// second pass finds the same things, now with their places. (A file the full YAML
// path read, as every file with a syntax error is, has its positions already.)

import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { InvalidStackFileError, NotFoundError, type Problem } from '../common/errors.js';
import { discoverStackFiles } from './discover.js';
import { parseEnvFile } from './envfile.js';
import { rebaseRelativePaths, resolveExtends } from './extends.js';
import { buildServiceGraph, type ServiceGraph } from './graph.js';
import type { LoaderHost } from './host.js';
import { interpolateDocument } from './interpolate.js';
import { mergeDocuments } from './merge.js';
import type { Project } from './model.js';
import { normalizeProject, type NormalizeOptions } from './normalize.js';
import { parseStackFile } from './parse.js';
import { copyEntryPosition, entryPosition, formatPath, locate } from './positions.js';
import { serviceReferences } from './references.js';
import { validateStackDocument, type ValidationResult } from './validate.js';

export interface LoadOptions {
  /** -f files as given (relative to the working directory); empty means discover. */
  files?: readonly string[];
  /** -p */
  projectName?: string;
  /** --project-directory */
  projectDirectory?: string;
  /** --env-file, relative to the working directory; default `.env` in the project directory. */
  envFiles?: readonly string[];
  /** --profile; COMPOSE_PROFILES adds to these. */
  profiles?: readonly string[];
}

export interface LoadedProject {
  project: Project;
  graph: ServiceGraph;
  /** Things worth saying that do not stop the load (unset variables, obsolete keys). */
  warnings: string[];
  /** The environment the file was read with (the process's under .env / --env-file): `environment:` secrets read it. */
  environment?: Readonly<Record<string, string | undefined>>;
}

type Env = Readonly<Record<string, string | undefined>>;
type Doc = Record<string, unknown>;

/** Load, validate and model a project. Throws InvalidStackFileError with every problem found. */
export function loadProject(options: LoadOptions, host: LoaderHost): LoadedProject {
  const quick = new DocumentLoader(host, false);
  try {
    const loaded = loadWith(quick, options, host);
    if (loaded.warnings.length === 0 || !quick.positionsSkipped) return loaded;
  } catch (err) {
    if (!(err instanceof InvalidStackFileError) || !quick.positionsSkipped) throw err;
  }
  return loadWith(new DocumentLoader(host, true), options, host);
}

/** One pass of the pipeline, reading files through `loader`, which also collects the warnings. */
function loadWith(loader: DocumentLoader, options: LoadOptions, host: LoaderHost): LoadedProject {
  const warnings = loader.warnings;
  const files = selectFiles(options, host, warnings);
  const projectDirectory = resolve(host.cwd, options.projectDirectory ?? dirname(files[0]!));

  const problems: Problem[] = [];
  const env = projectEnvironment(projectDirectory, options.envFiles?.map((f) => resolve(host.cwd, f)), host, problems);
  const profiles = [...(options.profiles ?? []), ...splitList(env.COMPOSE_PROFILES)];

  const docs: Doc[] = [];
  for (const file of files) {
    const doc = loader.loadUnit(file, env, problems, []);
    if (doc) docs.push(doc);
  }
  // A file that could not be parsed stops here; problems inside values (interpolation)
  // do not, so the schema's findings come in the same report.
  if (docs.length < files.length || docs.length === 0) throw new InvalidStackFileError(problems);

  const merged = mergeDocuments(docs);
  problems.push(...merged.problems);
  const validation = validateStackDocument(merged.value);
  problems.push(...validation.problems);
  warnings.push(...validation.warnings.map(describeWarning));

  const modelled = modelBestEffort(merged.value, {
    projectDirectory,
    ...(options.projectName !== undefined ? { projectName: options.projectName } : {}),
    env,
    composeFiles: files,
    profiles,
    readFile: (p) => {
      const bytes = host.readFile(p);
      return bytes === undefined ? undefined : new TextDecoder().decode(bytes);
    },
  }, validation);
  problems.push(...modelled.problems);
  if (!modelled.project || !modelled.graph || problems.length > 0) throw new InvalidStackFileError(problems);
  return { project: modelled.project, graph: modelled.graph, warnings, environment: env };
}

/**
 * Normalization and the graph also run on a document that failed the schema, so that
 * a user sees the mistakes inside strings ("80:80:80:80") and missing services
 * together with the shape errors. Findings inside a place the schema already faulted
 * are echoes and are dropped; if the wrong shapes trip a stage up, the schema's
 * problems are the report.
 */
function modelBestEffort(doc: Record<string, unknown>, options: NormalizeOptions, validation: ValidationResult): { project?: Project; graph?: ServiceGraph; problems: Problem[] } {
  const run = () => {
    const normalized = normalizeProject(doc, options);
    const graph = buildServiceGraph(serviceReferences(normalized.project));
    return { project: normalized.project, graph: graph.graph, problems: [...normalized.problems, ...graph.problems] };
  };
  if (validation.problems.length === 0) return run();
  try {
    const faulted = validation.faulted;
    const outside = (p: Problem) => !faulted.some((f) => f === '' || p.path === f || p.path.startsWith(`${f}.`) || p.path.startsWith(`${f}[`));
    return { problems: run().problems.filter(outside) };
  } catch {
    return { problems: [] };
  }
}

function selectFiles(options: LoadOptions, host: LoaderHost, warnings: string[]): string[] {
  const named = options.files && options.files.length > 0 ? options.files : splitList(host.env.COMPOSE_FILE, host.env.COMPOSE_PATH_SEPARATOR ?? ':');
  if (named.length > 0) {
    const files = named.map((f) => resolve(host.cwd, f));
    for (const f of files) {
      if (!host.isFile(f)) throw new NotFoundError(`stack file ${displayPath(f, host.cwd)} not found: check the -f path`);
    }
    return files;
  }
  const start = options.projectDirectory ? resolve(host.cwd, options.projectDirectory) : host.cwd;
  const found = discoverStackFiles(host, start);
  warnings.push(...found.warnings);
  return found.files;
}

/** `.env` (or --env-file) under the process environment: the shell wins, as in Compose. */
function projectEnvironment(projectDirectory: string, envFiles: string[] | undefined, host: LoaderHost, problems: Problem[]): Env {
  const explicit = envFiles !== undefined && envFiles.length > 0;
  const paths = explicit ? envFiles : [resolve(projectDirectory, '.env')];
  const fromFiles: Record<string, string> = {};
  for (const path of paths) {
    const bytes = host.readFile(path);
    if (bytes === undefined) {
      if (explicit) throw new NotFoundError(`env file ${displayPath(path, host.cwd)} not found: check the --env-file path`);
      continue;
    }
    const parsed = parseEnvFile(new TextDecoder().decode(bytes), displayPath(path, host.cwd), (name) => host.env[name] ?? fromFiles[name]);
    problems.push(...parsed.problems);
    Object.assign(fromFiles, parsed.vars);
  }
  return { ...fromFiles, ...definedOnly(host.env) };
}

function definedOnly(env: Env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}

function splitList(value: string | undefined, separator = ','): string[] {
  return value ? value.split(separator).map((s) => s.trim()).filter(Boolean) : [];
}

function describeWarning(p: Problem): string {
  const where = p.position ? `${p.position.file}:${p.position.line}:${p.position.col}: ` : '';
  return `${where}${p.path ? `${p.path}: ` : ''}${p.message}`;
}

/** Shown in positions: relative to the working directory when below it. */
export function displayPath(abs: string, cwd: string): string {
  const rel = relative(cwd, abs);
  if (rel === '') return '.';
  return !rel.startsWith('..') && !isAbsolute(rel) ? rel : abs;
}

/** Reads, parses and interpolates files, and resolves their extends and include. */
class DocumentLoader {
  /** By environment (each include unit has its own), then by file: each is read once. */
  private readonly parsed = new Map<Env, Map<string, { doc: Doc | undefined; problems: Problem[] }>>();

  /** Things worth saying that do not stop the load, in the order found. */
  readonly warnings: string[] = [];
  /** Whether some file was read without source positions (see the top of this file). */
  positionsSkipped = false;

  constructor(
    private readonly host: LoaderHost,
    /** Whether to ask the parser for source positions. */
    private readonly positions: boolean,
  ) {}

  /** One file with everything it pulls in (extends, include), ready to merge. */
  loadUnit(file: string, env: Env, problems: Problem[], includeChain: readonly string[]): Doc | undefined {
    const first = this.readInterpolated(file, env);
    problems.push(...first.problems);
    if (!first.doc) return undefined;

    const extended = resolveExtends(first.doc, {
      file,
      loadDocument: (abs: string) => {
        const r = this.readInterpolated(abs, env);
        return { doc: r.doc, problems: r.problems };
      },
    });
    problems.push(...extended.problems);
    return this.applyIncludes(extended.value as Doc, file, env, problems, [...includeChain, file]);
  }

  private readInterpolated(file: string, env: Env): { doc: Doc | undefined; problems: Problem[] } {
    let byFile = this.parsed.get(env);
    if (!byFile) {
      byFile = new Map();
      this.parsed.set(env, byFile);
    }
    const cached = byFile.get(file);
    if (cached) return cached;
    const shown = displayPath(file, this.host.cwd);
    const bytes = this.host.readFile(file);
    let result: { doc: Doc | undefined; problems: Problem[] };
    if (bytes === undefined) {
      result = { doc: undefined, problems: [{ path: '', message: `stack file ${shown} not found` }] };
    } else {
      const parsed = parseStackFile(bytes, shown, this.positions);
      if (parsed.positionsSkipped) this.positionsSkipped = true;
      if (parsed.value === undefined) {
        result = { doc: undefined, problems: parsed.problems };
      } else {
        const interpolated = interpolateDocument(parsed.value, env);
        for (const w of interpolated.warnings) {
          const text = describeWarning(w);
          if (!this.warnings.includes(text)) this.warnings.push(text);
        }
        result = { doc: interpolated.value as Doc, problems: interpolated.problems };
      }
    }
    byFile.set(file, result);
    return result;
  }

  /**
   * `include:` entries are loaded as units of their own (relative paths against their
   * own directory, their own .env), then their resources are added to this document.
   * A resource defined on both sides is a conflict, as in Compose.
   */
  private applyIncludes(doc: Doc, file: string, env: Env, problems: Problem[], chain: readonly string[]): Doc {
    const includes = doc.include;
    if (includes === undefined || includes === null) return doc;
    const { include: _omit, ...rest } = doc;
    const out: Doc = rest;
    copyPositionsExcept(doc, out, 'include');
    if (!Array.isArray(includes)) {
      problems.push({ path: 'include', message: 'must be a list of files to include, like "- ./db/compose.yaml"', position: locate(doc, ['include']) });
      return out;
    }
    includes.forEach((entry, i) => {
      const spec = includeSpec(entry);
      const where = locate(doc, ['include', i]);
      if (!spec) {
        problems.push({ path: formatPath(['include', i]), message: 'must be a file path or a mapping with "path"', position: where });
        return;
      }
      const baseDir = dirname(file);
      const paths = spec.paths.map((p) => resolve(baseDir, p));
      const includedDir = spec.projectDirectory ? resolve(baseDir, spec.projectDirectory) : dirname(paths[0]!);
      for (const p of paths) {
        if (!this.host.isFile(p)) {
          problems.push({
            path: formatPath(['include', i]),
            message: `included file ${displayPath(p, this.host.cwd)} not found: check the path (relative to ${displayPath(baseDir, this.host.cwd)})`,
            position: where,
          });
          return;
        }
        if (chain.includes(p)) {
          const cycle = [...chain.slice(chain.indexOf(p)), p].map((f) => displayPath(f, this.host.cwd));
          problems.push({ path: formatPath(['include', i]), message: `include cycle: ${cycle.join(' -> ')}`, position: where });
          return;
        }
      }
      const includedEnv = this.includedEnvironment(spec, baseDir, includedDir, env, problems);
      const unitDocs = paths.map((p) => this.loadUnit(p, includedEnv, problems, chain)).filter((d): d is Doc => d !== undefined);
      if (unitDocs.length !== paths.length) return;
      const merged = mergeDocuments(unitDocs);
      problems.push(...merged.problems);
      const included = rebaseRelativePaths(merged.value, includedDir);
      addIncludedResources(out, included, displayPath(paths[0]!, this.host.cwd), where, problems);
    });
    return out;
  }

  private includedEnvironment(spec: IncludeSpec, baseDir: string, includedDir: string, env: Env, problems: Problem[]): Env {
    const envFiles = spec.envFiles.length > 0 ? spec.envFiles.map((f) => resolve(baseDir, f)) : [resolve(includedDir, '.env')];
    const vars: Record<string, string> = {};
    for (const path of envFiles) {
      const bytes = this.host.readFile(path);
      if (bytes === undefined) {
        if (spec.envFiles.length > 0) problems.push({ path: 'include', message: `env file ${displayPath(path, this.host.cwd)} not found` });
        continue;
      }
      const parsed = parseEnvFile(new TextDecoder().decode(bytes), displayPath(path, this.host.cwd), (n) => env[n] ?? vars[n]);
      problems.push(...parsed.problems);
      Object.assign(vars, parsed.vars);
    }
    return { ...vars, ...definedOnly(env) };
  }
}

interface IncludeSpec {
  paths: string[];
  projectDirectory?: string;
  envFiles: string[];
}

function includeSpec(entry: unknown): IncludeSpec | undefined {
  if (typeof entry === 'string') return { paths: [entry], envFiles: [] };
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return undefined;
  const e = entry as Record<string, unknown>;
  const paths = typeof e.path === 'string' ? [e.path] : Array.isArray(e.path) && e.path.every((p) => typeof p === 'string') ? (e.path as string[]) : undefined;
  if (!paths || paths.length === 0) return undefined;
  const envFiles = typeof e.env_file === 'string' ? [e.env_file] : Array.isArray(e.env_file) ? e.env_file.filter((f): f is string => typeof f === 'string') : [];
  return { paths, envFiles, ...(typeof e.project_directory === 'string' ? { projectDirectory: e.project_directory } : {}) };
}

const INCLUDED_SECTIONS = ['services', 'networks', 'volumes', 'secrets', 'configs'] as const;

function addIncludedResources(target: Doc, included: Doc, includedName: string, where: Problem['position'], problems: Problem[]): void {
  for (const section of INCLUDED_SECTIONS) {
    const from = included[section];
    if (typeof from !== 'object' || from === null || Array.isArray(from)) continue;
    let into = target[section] as Doc | undefined;
    if (typeof into !== 'object' || into === null || Array.isArray(into)) {
      into = {};
      target[section] = into;
    }
    for (const [name, value] of Object.entries(from as Doc)) {
      if (Object.prototype.hasOwnProperty.call(into, name)) {
        if (JSON.stringify(into[name]) === JSON.stringify(value)) continue;
        problems.push({
          path: formatPath([section, name]),
          message: `${section.slice(0, -1)} "${name}" is defined here and also in the included file ${includedName}: rename one of them`,
          position: locate(target, [section, name], 'key') ?? where,
        });
        continue;
      }
      into[name] = value;
      copyEntryPosition(from as Doc, name, into);
    }
  }
}

function copyPositionsExcept(from: Doc, to: Doc, except: string): void {
  for (const k of Object.keys(to)) if (k !== except && entryPosition(from, k)) copyEntryPosition(from, k, to);
}
