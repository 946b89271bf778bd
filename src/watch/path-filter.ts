// Which changed paths a watch rule acts on, decided as Compose decides: a path at or under
// the rule's path, matched by the rule's `include` patterns when it has some, and not left
// out by the rule's `ignore` patterns (relative to the rule's path), by the `.dockerignore`
// of the service's build context (relative to the context, for paths inside it), by a
// `.git` directory or by an editor's temporary and backup files. Patterns are written as
// in .dockerignore (common/dockerignore.ts), as Compose reads them.

import { basename, isAbsolute, relative, sep } from 'node:path';
import { isIgnored, mayHaveExceptionsUnder, parseDockerignore, type IgnorePattern } from '../common/dockerignore.js';

export interface PathFilterSpec {
  /** The rule's path, absolute. */
  path: string;
  ignore?: readonly string[];
  include?: readonly string[];
  /** The service's build context, the text of its .dockerignore ('' when it has none) and its Dockerfile (relative). */
  buildContext?: { dir: string; dockerignore: string; dockerfile?: string };
}

export interface PathFilter {
  /** Whether the rule acts on a change at this absolute path. */
  matches(path: string): boolean;
  /** Whether nothing under this absolute directory can match, so a watcher need not look inside. */
  skipsDirectory(dir: string): boolean;
  /** The path relative to the rule's path (`/`-separated; '' for the rule's path itself), or undefined outside it. */
  relativePath(path: string): string | undefined;
}

/** Directories no rule ever syncs: version control and IDE state. */
const ALWAYS_SKIPPED_DIRECTORIES = new Set(['.git', '.idea']);

/** Editors' temporary and backup files (Vim, Emacs, JetBrains), by file name. */
const EDITOR_TEMPORARY_FILES = [
  /~$/, // backups: index.html~
  /^\..*\.sw[a-px]$/, // Vim swap files: .index.html.swp, and .swx when Vim probes
  /^4913$/, // Vim's probe that a directory is writable
  /^\.#/, // Emacs lock files
  /^#.*#$/, // Emacs auto-saves
  /___jb_(?:tmp|old)___$/, // JetBrains safe writes
];

/** Whether a file name is an editor's temporary or backup file. */
export function isEditorTemporaryFile(name: string): boolean {
  return EDITOR_TEMPORARY_FILES.some((re) => re.test(name));
}

export function makePathFilter(spec: PathFilterSpec): PathFilter {
  const ignore = parseDockerignore((spec.ignore ?? []).join('\n'));
  const include = spec.include && spec.include.length > 0 ? parseDockerignore(spec.include.join('\n')) : undefined;
  // As a build sends them whatever .dockerignore says, the Dockerfile and .dockerignore are always watched.
  const context = spec.buildContext
    ? { dir: spec.buildContext.dir, patterns: parseDockerignore(spec.buildContext.dockerignore), kept: new Set(['.dockerignore', spec.buildContext.dockerfile ?? 'Dockerfile']) }
    : undefined;

  const relativePath = (path: string): string | undefined => under(spec.path, path);
  const inContext = (path: string): string | undefined => (context ? under(context.dir, path) : undefined);
  const alwaysSkipped = (rel: string): boolean => rel.split('/').some((part) => ALWAYS_SKIPPED_DIRECTORIES.has(part));

  return {
    relativePath,
    matches(path) {
      const rel = relativePath(path);
      if (rel === undefined) return false;
      if (alwaysSkipped(rel) || isEditorTemporaryFile(basename(path))) return false;
      if (rel !== '' && ignoredBy(ignore, rel)) return false;
      const contextRel = inContext(path);
      if (contextRel && !context!.kept.has(contextRel) && ignoredBy(context!.patterns, contextRel)) return false;
      // A rule on a single file names it: its include patterns are about what is under a directory.
      if (include && rel !== '' && !isIgnored(include, rel)) return false;
      return true;
    },
    skipsDirectory(dir) {
      const rel = relativePath(dir);
      if (rel === undefined || rel === '') return false;
      if (alwaysSkipped(rel)) return true;
      if (ignoredBy(ignore, rel) && !mayHaveExceptionsUnder(ignore, rel)) return true;
      const contextRel = inContext(dir);
      return contextRel !== undefined && contextRel !== '' && ignoredBy(context!.patterns, contextRel) && !mayHaveExceptionsUnder(context!.patterns, contextRel);
    },
  };
}

function ignoredBy(patterns: readonly IgnorePattern[], rel: string): boolean {
  return patterns.length > 0 && isIgnored(patterns, rel);
}

/** `path` relative to `root`, `/`-separated; '' for root itself; undefined when outside it. */
function under(root: string, path: string): string | undefined {
  const rel = relative(root, path);
  if (rel === '') return '';
  if (rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) return undefined;
  return rel.split(sep).join('/');
}
