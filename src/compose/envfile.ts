// Reads `.env` files (for interpolation) and `env_file:` files (for a container's
// environment) the way Compose does: comments, `export` prefixes, `KEY` alone taking
// its value from the environment, unquoted values with trailing comments, single
// quotes taken literally, double quotes with escapes and several lines, and
// ${VAR} substitution from earlier keys of the same file, then the environment.

import type { Problem } from '../common/errors.js';
import { substitute, type Lookup } from './interpolate.js';

export interface EnvFileResult {
  vars: Record<string, string>;
  problems: Problem[];
}

const KEY = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', '"': '"', $: '$$' };

export function parseEnvFile(text: string, file: string, lookup: Lookup): EnvFileResult {
  const vars: Record<string, string> = {};
  const problems: Problem[] = [];
  const scoped: Lookup = (name) => (Object.prototype.hasOwnProperty.call(vars, name) ? vars[name] : lookup(name));
  const lines = text.replace(/^\ufeff/, '').split(/\r?\n/);

  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const problem = (message: string, col = 1): void => {
      problems.push({ path: '', message, position: { file, line: lineNo, col } });
    };
    const raw = lines[i]!;
    const indent = raw.length - raw.trimStart().length;
    let line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    let offset = indent;
    if (/^export\s+/.test(line)) {
      const m = /^export\s+/.exec(line)!;
      offset += m[0].length;
      line = line.slice(m[0].length);
    }

    const eq = line.indexOf('=');
    const key = (eq === -1 ? line : line.slice(0, eq)).trim();
    if (!KEY.test(key)) {
      problem(`${JSON.stringify(key)} is not a valid variable name: use letters, digits and underscores, like MY_VAR=value`, offset + 1);
      continue;
    }
    if (eq === -1) {
      // `KEY` alone: the value comes from the environment, or the key is skipped.
      const v = lookup(key);
      if (v !== undefined) vars[key] = v;
      continue;
    }

    let value = line.slice(eq + 1).replace(/^[ \t]+/, '');
    const valueCol = offset + eq + 2 + (line.slice(eq + 1).length - value.length);
    const quote = value[0];

    if (quote === "'" || quote === '"') {
      // A quoted value may run over several lines until its closing quote.
      let body = value.slice(1);
      let end = findClosingQuote(body, quote);
      const startLine = lineNo;
      while (end === -1 && i + 1 < lines.length) {
        i++;
        body += `\n${lines[i]}`;
        end = findClosingQuote(body, quote);
      }
      if (end === -1) {
        problems.push({ path: '', message: `the value of ${key} has no closing ${quote}: close the quote`, position: { file, line: startLine, col: valueCol } });
        continue;
      }
      const inner = body.slice(0, end);
      const after = body.slice(end + 1).trim();
      if (after !== '' && !after.startsWith('#')) {
        problems.push({ path: '', message: `unexpected text after the closing quote of ${key}: ${JSON.stringify(after)}`, position: { file, line: i + 1, col: 1 } });
        continue;
      }
      if (quote === "'") {
        vars[key] = inner;
        continue;
      }
      const unescaped = inner.replace(/\\(.)/g, (all, c: string) => ESCAPES[c] ?? all);
      const r = substitute(unescaped, scoped);
      if (!r.ok) {
        problems.push({ path: '', message: `${key}: ${r.message}`, position: { file, line: startLine, col: valueCol } });
        continue;
      }
      vars[key] = r.value;
      continue;
    }

    // Unquoted: a ` #` starts a comment; surrounding whitespace is not part of the value.
    const hash = value.search(/\s#/);
    if (hash !== -1) value = value.slice(0, hash);
    value = value.trim();
    const r = substitute(value, scoped);
    if (!r.ok) {
      problem(`${key}: ${r.message}`, valueCol);
      continue;
    }
    vars[key] = r.value;
  }
  return { vars, problems };
}

function findClosingQuote(body: string, quote: string): number {
  for (let i = 0; i < body.length; i++) {
    if (quote === '"' && body[i] === '\\') {
      i++;
      continue;
    }
    if (body[i] === quote) return i;
  }
  return -1;
}
