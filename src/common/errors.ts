// The few error classes the whole tool uses. Only the top level (src/cli/main.ts)
// turns them into exit codes and text; everything below throws them with a cause.

/** Where in a stack file a problem is. line and col are 1-based. */
export interface SourcePosition {
  file: string;
  line: number;
  col: number;
}

/** One thing wrong with a stack file, reported with every other one at once. */
export interface Problem {
  /** Dotted path in the document, e.g. `services.web.ports[1]`; empty for the whole file. */
  path: string;
  /** Said to a person: what is wrong and what would be right. */
  message: string;
  position?: SourcePosition;
  /** Extra advice, e.g. a did-you-mean or a spec-version note. */
  hint?: string;
}

export function formatProblem(p: Problem): string {
  const where = p.position ? `${p.position.file}:${p.position.line}:${p.position.col}: ` : '';
  const path = p.path ? `${p.path}: ` : '';
  const hint = p.hint ? ` (${p.hint})` : '';
  return `${where}${path}${p.message}${hint}`;
}

/** Stable order: by file, line, column, then path and message. */
export function sortProblems(problems: Problem[]): Problem[] {
  return [...problems].sort((a, b) => {
    const af = a.position?.file ?? '', bf = b.position?.file ?? '';
    if (af !== bf) return af < bf ? -1 : 1;
    const al = a.position?.line ?? 0, bl = b.position?.line ?? 0;
    if (al !== bl) return al - bl;
    const ac = a.position?.col ?? 0, bc = b.position?.col ?? 0;
    if (ac !== bc) return ac - bc;
    if (a.path !== b.path) return a.path < b.path ? -1 : 1;
    return a.message < b.message ? -1 : a.message > b.message ? 1 : 0;
  });
}

/**
 * Two stages may fault the same value (interpolation could not make "many" a number,
 * then the schema wants a number there): one report per place is enough.
 */
function withoutEchoes(sorted: Problem[]): Problem[] {
  const seen = new Set<string>();
  return sorted.filter((p) => {
    if (!p.position) return true;
    const key = `${p.position.file}:${p.position.line}:${p.position.col}\0${p.path}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** The user's stack file is wrong; carries every problem found. Exit code 15 like Compose's invalid-config. */
export class InvalidStackFileError extends Error {
  readonly problems: Problem[];
  constructor(problems: Problem[], options?: { cause?: unknown }) {
    const sorted = withoutEchoes(sortProblems(problems));
    super(sorted.map(formatProblem).join('\n'), options);
    this.name = 'InvalidStackFileError';
    this.problems = sorted;
  }
}

/** Something the user named does not exist (a file, a service, a container). */
export class NotFoundError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NotFoundError';
  }
}

/** The request clashes with what exists (a name in use, a port taken). */
export class ConflictError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ConflictError';
  }
}

/** The user asked for something malformed on the command line. */
export class UsageError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UsageError';
  }
}

/** The kernel or an external program refused (mount, clone, iptables...). */
export class RuntimeFailure extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RuntimeFailure';
  }
}

/** A container run in the foreground (`stack run`) exited non-zero: the CLI exits with its code, saying nothing more. */
export class ContainerExit extends Error {
  readonly code: number;
  constructor(code: number) {
    super(`container exited with code ${code}`);
    this.name = 'ContainerExit';
    this.code = code;
  }
}
