// Stage 5 of loading: `services.*.extends`. A service that extends another is that
// service (itself resolved first, so chains work) merged with its own definition by the
// merge stage's rules. The base may live in another file; that file's relative paths
// (build contexts, bind mounts, env files...) are made absolute against its own
// directory first, so they still name the same place once the service is ours.
// Reading another file is the caller's job (it parses and interpolates), which keeps
// this stage free of the filesystem.

import { basename, dirname, isAbsolute, resolve } from 'node:path';
import type { Problem, SourcePosition } from '../common/errors.js';
import { mergeServiceDefinitions } from './merge.js';
import { copyAllPositions, entryPosition, formatPath, locate, positionField } from './positions.js';
import { closestName } from './did-you-mean.js';
import { has, isMapping, put, type Mapping } from './mapping.js';


export interface ExtendsContext {
  /** Absolute path of the document being resolved. */
  file: string;
  /** Reads, parses and interpolates another stack file. */
  loadDocument: (absPath: string) => { doc: unknown; problems: Problem[] };
}

export interface ExtendsResult {
  value: Mapping;
  problems: Problem[];
}

/** The document with every `extends` applied and removed. */
export function resolveExtends(doc: Mapping, context: ExtendsContext): ExtendsResult {
  const services = doc.services;
  if (!isMapping(services) || !Object.values(services).some((s) => isMapping(s) && has(s, 'extends'))) {
    return { value: doc, problems: [] };
  }
  const resolver = new ExtendsResolver(doc, context);
  const outServices: Mapping = {};
  copyAllPositions(services, outServices);
  for (const name of Object.keys(services)) put(outServices, name, resolver.service(context.file, name));
  const value: Mapping = { ...doc };
  copyAllPositions(doc, value);
  value.services = outServices;
  return { value, problems: resolver.problems };
}

interface Reference {
  /** Absolute path of the file that holds the base service. */
  file: string;
  /** `file` as written, for messages. */
  fileWritten: string | undefined;
  service: string;
  /** Where the base service's name is written. */
  servicePosition: SourcePosition | undefined;
  filePosition: SourcePosition | undefined;
}

interface Link {
  key: string;
  file: string;
  name: string;
  position: SourcePosition | undefined;
}

class ExtendsResolver {
  readonly problems: Problem[] = [];
  private readonly documents = new Map<string, Mapping | undefined>();
  private readonly resolved = new Map<string, unknown>();
  private readonly chain: Link[] = [];
  private readonly reportedCycles = new Set<string>();

  constructor(
    doc: Mapping,
    private readonly context: ExtendsContext,
  ) {
    this.documents.set(context.file, doc);
  }

  /** Service `name` of `file` with its extends resolved; paths still relative to `file`. */
  service(file: string, name: string): unknown {
    const key = `${file}\0${name}`;
    if (this.resolved.has(key)) return this.resolved.get(key);
    const services = this.documents.get(file)?.services as Mapping;
    const definition = services[name];
    const result = isMapping(definition) && has(definition, 'extends') ? this.extend(file, name, definition, key) : definition;
    this.resolved.set(key, result);
    return result;
  }

  private extend(file: string, name: string, definition: Mapping, key: string): unknown {
    const local: Mapping = {};
    copyAllPositions(definition, local);
    for (const [k, v] of Object.entries(definition)) if (k !== 'extends') put(local, k, v);

    const ref = this.reference(file, name, definition);
    if (!ref) return local;
    const target = this.document(ref, name);
    if (!target) return local;
    const services = target.services;
    if (!isMapping(services) || !has(services, ref.service)) {
      this.missingService(file, name, ref, isMapping(services) ? Object.keys(services) : []);
      return local;
    }

    this.chain.push({ key, file, name, position: ref.servicePosition });
    try {
      const baseKey = `${ref.file}\0${ref.service}`;
      const at = this.chain.findIndex((link) => link.key === baseKey);
      if (at >= 0) {
        this.cycle(this.chain.slice(at));
        return local;
      }
      let base = this.service(ref.file, ref.service);
      if (ref.file !== file && isMapping(base)) base = rebaseServicePaths(base, dirname(ref.file));
      const merged = mergeServiceDefinitions(base, local, ['services', name]);
      this.problems.push(...merged.problems);
      return merged.value;
    } finally {
      this.chain.pop();
    }
  }

  private reference(file: string, name: string, definition: Mapping): Reference | undefined {
    const ext = definition.extends;
    const extendsPosition = entryPosition(definition, 'extends')?.value;
    if (typeof ext === 'string') {
      return { file, fileWritten: undefined, service: ext, servicePosition: extendsPosition, filePosition: undefined };
    }
    if (isMapping(ext) && typeof ext.service === 'string' && (ext.file === undefined || ext.file === null || typeof ext.file === 'string')) {
      const written = typeof ext.file === 'string' ? ext.file : undefined;
      return {
        file: written === undefined ? file : resolve(dirname(file), written),
        fileWritten: written,
        service: ext.service,
        servicePosition: entryPosition(ext, 'service')?.value ?? extendsPosition,
        filePosition: entryPosition(ext, 'file')?.value ?? extendsPosition,
      };
    }
    this.problems.push({
      path: formatPath(['services', name, 'extends']),
      message: 'must be the name of a service, or a mapping with "service" and an optional "file"',
      ...positionField(extendsPosition),
    });
    return undefined;
  }

  private document(ref: Reference, name: string): Mapping | undefined {
    if (this.documents.has(ref.file)) return this.documents.get(ref.file);
    const loaded = this.context.loadDocument(ref.file);
    const doc = isMapping(loaded.doc) ? loaded.doc : undefined;
    this.documents.set(ref.file, doc);
    const path = formatPath(['services', name, 'extends', 'file']);
    // A problem with no place in the other file (it is missing, say) belongs to the line naming it.
    for (const p of loaded.problems) {
      this.problems.push(p.position ? p : { ...p, path: p.path || path, ...positionField(ref.filePosition) });
    }
    if (!doc && loaded.problems.length === 0) {
      this.problems.push({ path, message: `${ref.fileWritten ?? ref.file} is not a stack file`, ...positionField(ref.filePosition) });
    }
    return doc;
  }

  private missingService(file: string, name: string, ref: Reference, known: string[]): void {
    const label = ref.fileWritten ?? this.fileLabel(file);
    const candidates = known.filter((s) => !(ref.file === file && s === name));
    const close = closestName(ref.service, candidates);
    const hint = close
      ? `did you mean "${close}"?`
      : candidates.length > 0
        ? `${label} defines ${candidates.map((s) => `"${s}"`).join(', ')}`
        : `${label} defines no other service`;
    this.problems.push({
      path: formatPath(['services', name, 'extends']),
      message: `service "${ref.service}" not found in ${label}`,
      ...positionField(ref.servicePosition),
      hint,
    });
  }

  private cycle(links: Link[]): void {
    const id = links.map((l) => l.key).sort().join('\n');
    if (this.reportedCycles.has(id)) return;
    this.reportedCycles.add(id);
    const names = links.map((l) => formatPath(['services', l.name]) + (l.file === this.context.file ? '' : ` (${this.fileLabel(l.file)})`));
    const first = links[0]!;
    this.problems.push({
      path: formatPath(['services', first.name, 'extends']),
      message: `extends cycle: ${[...names, names[0]].join(' -> ')}`,
      ...positionField(first.position),
    });
  }

  /** The file's name as its positions show it (relative to the working directory), else its base name. */
  private fileLabel(file: string): string {
    return locate(this.documents.get(file), ['services'])?.file ?? basename(file);
  }
}

/**
 * Make the relative paths of a document's services and resources absolute against
 * `baseDir`, the directory of the file they were written in; absolute paths, `~`
 * paths, named volumes and remote build contexts are left as they are.
 */
export function rebaseRelativePaths(doc: Mapping, baseDir: string): Mapping {
  const out: Mapping = { ...doc };
  copyAllPositions(doc, out);
  if (isMapping(doc.services)) {
    out.services = mapEntries(doc.services, (service) => (isMapping(service) ? rebaseServicePaths(service, baseDir) : service));
  }
  for (const section of ['secrets', 'configs'] as const) {
    const resources = doc[section];
    if (!isMapping(resources)) continue;
    out[section] = mapEntries(resources, (resource) =>
      isMapping(resource) && typeof resource.file === 'string' ? withEntry(resource, 'file', hostPath(resource.file, baseDir)) : resource,
    );
  }
  if (isMapping(doc.volumes)) {
    out.volumes = mapEntries(doc.volumes, (volume) => {
      if (!isMapping(volume) || !isMapping(volume.driver_opts)) return volume;
      const opts = volume.driver_opts;
      // A local volume with `o: bind` is a bind mount of `device`.
      const bind = typeof opts.o === 'string' && opts.o.split(',').includes('bind');
      if (!bind || typeof opts.device !== 'string') return volume;
      return withEntry(volume, 'driver_opts', withEntry(opts, 'device', hostPath(opts.device, baseDir)));
    });
  }
  return out;
}

/** One service's relative paths made absolute against `baseDir`. */
export function rebaseServicePaths(service: Mapping, baseDir: string): Mapping {
  let out = service;
  const build = service.build;
  if (typeof build === 'string') {
    out = withEntry(out, 'build', contextPath(build, baseDir));
  } else if (isMapping(build)) {
    let b = build;
    if (typeof build.context === 'string') b = withEntry(b, 'context', contextPath(build.context, baseDir));
    const extra = build.additional_contexts;
    if (isMapping(extra)) {
      b = withEntry(b, 'additional_contexts', mapEntries(extra, (v) => (typeof v === 'string' ? contextPath(v, baseDir) : v)));
    } else if (Array.isArray(extra)) {
      b = withEntry(b, 'additional_contexts', mapItems(extra, (item) => (typeof item === 'string' ? rebaseAssignment(item, baseDir) : item)));
    }
    if (b !== build) out = withEntry(out, 'build', b);
  }
  for (const key of ['env_file', 'label_file'] as const) {
    const files = service[key];
    if (typeof files === 'string') out = withEntry(out, key, hostPath(files, baseDir));
    else if (Array.isArray(files)) {
      out = withEntry(
        out,
        key,
        mapItems(files, (f) =>
          typeof f === 'string' ? hostPath(f, baseDir) : isMapping(f) && typeof f.path === 'string' ? withEntry(f, 'path', hostPath(f.path, baseDir)) : f,
        ),
      );
    }
  }
  if (Array.isArray(service.volumes)) out = withEntry(out, 'volumes', mapItems(service.volumes, (v) => rebaseVolume(v, baseDir)));
  const develop = service.develop;
  if (isMapping(develop) && Array.isArray(develop.watch)) {
    const watch = mapItems(develop.watch, (rule) => (isMapping(rule) && typeof rule.path === 'string' ? withEntry(rule, 'path', hostPath(rule.path, baseDir)) : rule));
    out = withEntry(out, 'develop', withEntry(develop, 'watch', watch));
  }
  const ext = service.extends;
  if (isMapping(ext) && typeof ext.file === 'string') out = withEntry(out, 'extends', withEntry(ext, 'file', hostPath(ext.file, baseDir)));
  return out;
}

function rebaseVolume(volume: unknown, baseDir: string): unknown {
  if (typeof volume === 'string') {
    // Only a source written as a path (`./data:/data`) is a bind mount; `data:/data` is a named volume.
    const colon = volume.indexOf(':');
    if (colon <= 0 || !volume.startsWith('.')) return volume;
    return hostPath(volume.slice(0, colon), baseDir) + volume.slice(colon);
  }
  if (isMapping(volume) && volume.type === 'bind' && typeof volume.source === 'string') {
    return withEntry(volume, 'source', hostPath(volume.source, baseDir));
  }
  return volume;
}

/** `name=path` (additional_contexts in list form). */
function rebaseAssignment(item: string, baseDir: string): string {
  const eq = item.indexOf('=');
  return eq < 0 ? item : `${item.slice(0, eq + 1)}${contextPath(item.slice(eq + 1), baseDir)}`;
}

function contextPath(context: string, baseDir: string): string {
  // URLs, git remotes, `service:name` and `docker-image://` contexts are not paths.
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(context) || /^(git@|github\.com\/|service:|docker-image:|oci-layout:)/.test(context)) return context;
  return hostPath(context, baseDir);
}

function hostPath(path: string, baseDir: string): string {
  if (path === '' || isAbsolute(path) || path.startsWith('~') || /^[A-Za-z]:[\\/]/.test(path) || path.startsWith('\\\\')) return path;
  return resolve(baseDir, path);
}

/** A copy of `container` with one entry changed, keeping every position. */
function withEntry(container: Mapping, key: string, value: unknown): Mapping {
  if (container[key] === value) return container;
  const out: Mapping = { ...container };
  copyAllPositions(container, out);
  put(out, key, value);
  return out;
}

function mapEntries(container: Mapping, change: (value: unknown) => unknown): Mapping {
  const out: Mapping = {};
  copyAllPositions(container, out);
  for (const [k, v] of Object.entries(container)) put(out, k, change(v));
  return out;
}

function mapItems(list: readonly unknown[], change: (value: unknown) => unknown): unknown[] {
  const out = list.map(change);
  copyAllPositions(list, out);
  return out;
}




