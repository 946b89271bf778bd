// `.dockerignore`: which files of the build context a build leaves out. Docker's rules: one
// pattern a line, `#` comments, paths relative to the context root (a leading `/` is
// dropped), `*` and `?` within one path element, `[a-z]` classes, `**` for any number of
// directories, and `!pattern` taking a path back in. The last pattern that matches a
// path decides; a pattern that matches a directory matches everything under it.
//
// Shared by the CLI (which leaves ignored files out of the context it sends) and the builder
// (which applies the same rules to a context it is given, as Docker's engine does).

export interface IgnorePattern {
  pattern: string;
  exception: boolean;
  regex: RegExp;
}

export function parseDockerignore(text: string): IgnorePattern[] {
  const out: IgnorePattern[] = [];
  for (const raw of text.split(/\r?\n/)) {
    let line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const exception = line.startsWith('!');
    if (exception) line = line.slice(1).trim();
    const pattern = cleanPath(line);
    if (pattern === '') continue;
    out.push({ pattern, exception, regex: patternRegex(pattern) });
  }
  return out;
}

/** Whether `path` (relative, `/`-separated) is left out of the context. */
export function isIgnored(patterns: readonly IgnorePattern[], path: string): boolean {
  const clean = cleanPath(path);
  const prefixes: string[] = [];
  const parts = clean.split('/');
  for (let i = 1; i <= parts.length; i++) prefixes.push(parts.slice(0, i).join('/'));
  let ignored = false;
  for (const p of patterns) {
    if (prefixes.some((prefix) => p.regex.test(prefix))) ignored = !p.exception;
  }
  return ignored;
}

/** Whether some exception could take back a path under the ignored directory `dir`. */
export function mayHaveExceptionsUnder(patterns: readonly IgnorePattern[], dir: string): boolean {
  const clean = cleanPath(dir);
  return patterns.some((p) => p.exception && (p.pattern.startsWith(`${clean}/`) || p.pattern.includes('*') || p.pattern.includes('?') || p.pattern.includes('[')));
}

/** Like Go's filepath.Clean for relative paths: no `.`, no empty elements, `..` resolved, no leading `/`. */
export function cleanPath(path: string): string {
  const out: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  return out.join('/');
}

function patternRegex(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === '*') {
      if (pattern[i + 1] === '*') {
        i++;
        if (pattern[i + 1] === '/') {
          i++;
          re += '(?:.*/)?';
        } else {
          re += '.*';
        }
      } else {
        re += '[^/]*';
      }
    } else if (ch === '?') {
      re += '[^/]';
    } else if (ch === '[') {
      const end = pattern.indexOf(']', i + 1);
      if (end === -1) {
        re += '\\[';
        continue;
      }
      let body = pattern.slice(i + 1, end);
      if (body.startsWith('!') || body.startsWith('^')) body = `^${body.slice(1)}`;
      re += `[${body.replace(/\\/g, '\\\\')}]`;
      i = end;
    } else if (ch === '\\' && i + 1 < pattern.length) {
      re += escapeRegex(pattern[++i]!);
    } else {
      re += escapeRegex(ch);
    }
  }
  return new RegExp(`^${re}$`);
}

function escapeRegex(ch: string): string {
  return /[.*+?^${}()|[\]\\/]/.test(ch) ? `\\${ch}` : ch;
}
