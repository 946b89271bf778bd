// A service's `secrets:` and `configs:` in its containers, as Compose puts them there without
// a swarm: a secret or config read from a `file:` is bind-mounted read-only; one given as
// `content:` or taken from an `environment:` variable is written into the container after
// it is created and before it starts. Secrets go under /run/secrets/, configs at /<name>.

import { posix } from 'node:path';
import { Readable } from 'node:stream';
import { sha256Hex } from '../common/sha256.js';
import type { ApiClient } from '../client/api-client.js';
import type { ConfigConfig, Project, Service, ServiceFileRef } from './model.js';

/** A file written into a container before it starts. */
export interface InjectedFile {
  /** Absolute path in the container. */
  path: string;
  content: string;
  mode: number;
  uid: number;
  gid: number;
}

type Kind = 'secret' | 'config';

interface Placed {
  kind: Kind;
  ref: ServiceFileRef;
  definition: ConfigConfig | undefined;
  path: string;
}

/** Where each of the service's secrets and configs goes, with its top-level definition. */
function placed(project: Project, service: Service): Placed[] {
  const place = (kind: Kind, ref: ServiceFileRef): Placed => {
    const target = ref.target ?? ref.source;
    const path = posix.isAbsolute(target) ? target : kind === 'secret' ? posix.join('/run/secrets', target) : `/${target}`;
    const definition = kind === 'secret' ? project.secrets[ref.source] : project.configs[ref.source];
    return { kind, ref, definition, path };
  };
  return [...service.secrets.map((r) => place('secret', r)), ...service.configs.map((r) => place('config', r))];
}

/** `FILE:TARGET:ro` binds for the secrets and configs read from files. */
export function serviceFileBinds(project: Project, service: Service): string[] {
  return placed(project, service).filter((p) => p.definition?.file !== undefined).map((p) => `${p.definition!.file}:${p.path}:ro`);
}

/**
 * What decides the injected files apart from environment values: part of the container's
 * config hash, so a changed `content:`, target or mode recreates the container.
 */
export function injectedFilesShape(project: Project, service: Service): string | undefined {
  const shapes = placed(project, service).filter((p) => p.definition?.file === undefined).map((p) => ({
    path: p.path, mode: p.ref.mode, uid: p.ref.uid, gid: p.ref.gid,
    environment: p.definition?.environment,
    content: p.definition?.content === undefined ? undefined : sha256Hex(p.definition.content),
  }));
  return shapes.length ? JSON.stringify(shapes) : undefined;
}

/**
 * The files to write into the service's containers, and what stands in the way, said to a
 * person: an external or driver-made secret (those need a swarm), or an unset variable.
 */
export function injectedFiles(project: Project, service: Service, environment: Readonly<Record<string, string | undefined>>): { files: InjectedFile[]; problems: string[] } {
  const files: InjectedFile[] = [];
  const problems: string[] = [];
  for (const p of placed(project, service)) {
    const what = `service ${service.name}: ${p.kind} ${p.ref.source}`;
    const d = p.definition;
    if (!d) continue; // the loader already reported the undefined reference
    if (d.external) {
      problems.push(`${what} is external, which needs a swarm: give it a file:, environment: or content: instead`);
      continue;
    }
    if (d.file !== undefined) continue;
    let content: string | undefined;
    if (d.content !== undefined) content = d.content;
    else if (d.environment !== undefined) {
      content = environment[d.environment];
      if (content === undefined) {
        problems.push(`${what} comes from the environment variable ${d.environment}, which is not set: set it (or put it in .env)`);
        continue;
      }
    } else {
      problems.push(`${what} has no file:, environment: or content:${d.driver || d.template_driver ? ' (drivers need a swarm)' : ''}: give it one`);
      continue;
    }
    const id = (text: string | undefined, field: string): number => {
      if (text === undefined || text === '') return 0;
      if (/^\d+$/.test(text)) return Number(text);
      problems.push(`${what}: ${field} "${text}" must be a number`);
      return 0;
    };
    files.push({ path: p.path, content, mode: p.ref.mode ?? 0o444, uid: id(p.ref.uid, 'uid'), gid: id(p.ref.gid, 'gid') });
  }
  return { files, problems };
}

/** The files of the service's secrets and configs read from files that are missing, by what names them. */
export function missingFileSources(project: Project, service: Service, exists: (path: string) => boolean): string[] {
  return placed(project, service)
    .filter((p) => p.definition?.file !== undefined && !exists(p.definition.file))
    .map((p) => `service ${service.name}: ${p.kind} ${p.ref.source}: the file ${p.definition!.file} does not exist`);
}

/** Writes the files into a created container (through the archive API, as `docker cp` does). */
export async function writeInjectedFiles(client: ApiClient, containerId: string, files: readonly InjectedFile[]): Promise<void> {
  if (files.length === 0) return;
  // Loaded here: every command that plans (down included) imports this module, few write files.
  const { default: tar } = await import('tar-stream');
  const pack = tar.pack();
  for (const f of files) {
    pack.entry({ name: f.path.replace(/^\/+/, ''), mode: f.mode, uid: f.uid, gid: f.gid, mtime: new Date() }, f.content);
  }
  pack.finalize();
  await client.call('PUT', `/containers/${containerId}/archive`, { query: { path: '/' }, rawBody: { contentType: 'application/x-tar', stream: Readable.from(pack) } });
}
