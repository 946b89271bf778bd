// Where COPY and ADD read from: the build context (a directory, less what .dockerignore
// leaves out) or another stage's or image's rootfs (COPY --from). Sources may be globs
// (`*.txt`, `src/*/index.js`, Go's filepath.Match rules per path element); a named
// directory stands for its contents; nothing resolves outside the root.

import { createHash } from 'node:crypto';
import { createReadStream, type Stats } from 'node:fs';
import { lstat, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { cleanPath, isIgnored, type IgnorePattern } from '../../common/dockerignore.js';
import { resolveRelative } from './root-paths.js';

export interface SourceFile {
  /** Relative to the source root. */
  rel: string;
  abs: string;
  st: Stats;
}

export class SourceRoot {
  constructor(readonly dir: string, private readonly ignore: readonly IgnorePattern[] = [], readonly what = 'build context') {}

  /** The paths one source names (a glob may name several); [] when none exists. */
  async match(source: string): Promise<SourceFile[]> {
    // `..` cannot leave the root: like Docker, the path is cleaned against the root first.
    const parts = cleanPath(source).split('/').filter(Boolean);
    let found: string[] = [''];
    for (const part of parts) {
      const next: string[] = [];
      for (const base of found) {
        if (!/[*?[]/.test(part)) {
          next.push(base === '' ? part : `${base}/${part}`);
          continue;
        }
        const re = globRegex(part);
        const dir = join(this.dir, await resolveRelative(this.dir, base));
        const names = await readdir(dir).catch(() => [] as string[]);
        for (const name of names.sort()) if (re.test(name)) next.push(base === '' ? name : `${base}/${name}`);
      }
      found = next;
    }
    const out: SourceFile[] = [];
    for (const rel of found) {
      // The named path itself is followed when it is a symlink (inside the root); links below it are copied as links.
      const real = await resolveRelative(this.dir, rel);
      const abs = real === '' ? this.dir : join(this.dir, real);
      const st = await stat(abs).catch(() => undefined);
      if (!st) continue;
      if (rel !== '' && isIgnored(this.ignore, rel) && !st.isDirectory()) continue;
      out.push({ rel, abs, st });
    }
    return out;
  }

  /** Everything under a matched directory, parents first, relative to it; ignored paths left out. */
  async walk(top: SourceFile): Promise<SourceFile[]> {
    const out: SourceFile[] = [];
    const visit = async (abs: string, relInRoot: string, relToTop: string): Promise<void> => {
      for (const name of (await readdir(abs)).sort()) {
        const childRoot = relInRoot === '' ? name : `${relInRoot}/${name}`;
        const childTop = relToTop === '' ? name : `${relToTop}/${name}`;
        const childAbs = join(abs, name);
        const st = await lstat(childAbs);
        const ignored = this.ignore.length > 0 && isIgnored(this.ignore, childRoot);
        if (st.isDirectory()) {
          const before = out.length;
          out.push({ rel: childTop, abs: childAbs, st });
          await visit(childAbs, childRoot, childTop);
          // An ignored directory stays only for what an exception took back under it.
          if (ignored && out.length === before + 1) out.pop();
        } else if (!ignored) {
          out.push({ rel: childTop, abs: childAbs, st });
        }
      }
    };
    await visit(top.abs, top.rel, '');
    return out;
  }
}

/** A content hash of files: names, types, modes, sizes, contents and link targets. */
export async function hashFiles(files: Array<{ name: string; file: SourceFile; linkname?: string }>): Promise<string> {
  const hash = createHash('sha256');
  for (const { name, file, linkname } of files) {
    const { st } = file;
    hash.update(`${name}\0${st.mode}\0${st.isFile() ? st.size : 0}\0${linkname ?? ''}\0`);
    if (st.isFile()) {
      for await (const chunk of createReadStream(file.abs)) hash.update(chunk as Buffer);
    }
  }
  return hash.digest('hex');
}

/** Go's filepath.Match for one path element. */
export function globRegex(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === '*') re += '[^/]*';
    else if (ch === '?') re += '[^/]';
    else if (ch === '[') {
      const end = pattern.indexOf(']', i + 1);
      if (end === -1) re += '\\[';
      else {
        let body = pattern.slice(i + 1, end);
        if (body.startsWith('^') || body.startsWith('!')) body = `^${body.slice(1)}`;
        re += `[${body.replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else if (ch === '\\' && i + 1 < pattern.length) re += `\\${pattern[++i]}`;
    else re += /[.+^${}()|\\/]/.test(ch) ? `\\${ch}` : ch;
  }
  return new RegExp(`^${re}$`);
}
