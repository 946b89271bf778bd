// The Dockerfile parser: text -> stages of instructions, checked for shape, every error
// naming Dockerfile:line. It handles what is lexical (parser directives, the escape
// character, comments, line continuations, heredocs, JSON vs shell form, flags) and
// leaves variable substitution to the builder, since a value can depend on the base
// image's environment (ENV PATH=$PATH:/x). The helpers at the end turn one instruction's
// arguments into values once the builder has substituted them.

import { closestName } from '../../common/did-you-mean.js';
import { expandWord, expandWords, SubstitutionError, type VarLookup } from './shell-words.js';

export const KEYWORDS = [
  'FROM', 'RUN', 'CMD', 'LABEL', 'MAINTAINER', 'EXPOSE', 'ENV', 'ADD', 'COPY', 'ENTRYPOINT',
  'VOLUME', 'USER', 'WORKDIR', 'ARG', 'ONBUILD', 'STOPSIGNAL', 'HEALTHCHECK', 'SHELL',
] as const;
export type Keyword = (typeof KEYWORDS)[number];

/** The flags each instruction takes (`--name=value`); anything else is an error. */
const FLAGS: Partial<Record<Keyword, string[]>> = {
  FROM: ['platform'],
  RUN: ['mount', 'network', 'security'],
  COPY: ['from', 'chown', 'chmod', 'link'],
  ADD: ['chown', 'chmod', 'link', 'checksum', 'keep-git-dir'],
  HEALTHCHECK: ['interval', 'timeout', 'start-period', 'start-interval', 'retries'],
};

export interface Heredoc {
  name: string;
  body: string;
  /** False when the word was quoted (<<"EOF"): no expansion in the body. */
  expand: boolean;
}

export interface Instruction {
  keyword: Keyword;
  /** 1-based line of the instruction's first line. */
  line: number;
  /** As written, continuation lines joined: what step lines and history show. */
  text: string;
  flags: Map<string, string>;
  /** The arguments after the flags, not yet substituted. */
  rest: string;
  /** The exec form (`["a", "b"]`), when the arguments are a JSON string array. */
  json?: string[];
  heredocs: Heredoc[];
}

export interface Stage {
  index: number;
  /** Lower-cased, as Docker compares stage names. */
  name?: string;
  from: Instruction;
  /** The base image or stage, not yet substituted (FROM $BASE). */
  base: string;
  instructions: Instruction[];
}

export interface Dockerfile {
  file: string;
  escape: string;
  syntax?: string;
  /** ARGs before the first FROM: usable in FROM lines, and in stages that declare them again. */
  globalArgs: Instruction[];
  stages: Stage[];
}

export class DockerfileError extends Error {
  constructor(readonly file: string, readonly line: number, readonly detail: string) {
    super(`${file}:${line}: ${detail}`);
    this.name = 'DockerfileError';
  }
}

const DIRECTIVE = /^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.*?)\s*$/;
const HEREDOC = /<<(-?)(["']?)([A-Za-z_][A-Za-z0-9_.-]*)\2/g;
const STAGE_NAME = /^[a-z][a-z0-9_.-]*$/;

export function parseDockerfile(source: string, file = 'Dockerfile'): Dockerfile {
  const lines = source.replace(/^\uFEFF/, '').split(/\r?\n/);
  const fail = (line: number, message: string): never => {
    throw new DockerfileError(file, line, message);
  };
  let escape = '\\';
  let syntax: string | undefined;
  let at = 0;
  const seen = new Set<string>();
  for (; at < lines.length; at++) {
    const m = DIRECTIVE.exec(lines[at]!);
    if (!m) break;
    const key = m[1]!.toLowerCase();
    if (!['escape', 'syntax', 'check'].includes(key)) break; // an unknown directive is a comment, and ends the directives
    if (seen.has(key)) fail(at + 1, `the parser directive "${key}" is given twice`);
    seen.add(key);
    if (key === 'escape') {
      if (m[2] !== '\\' && m[2] !== '`') fail(at + 1, `invalid escape character "${m[2]}": use \\ or \``);
      escape = m[2]!;
    } else if (key === 'syntax') {
      syntax = m[2]!;
    }
  }

  const continuation = new RegExp(`${escape === '\\' ? '\\\\' : '`'}[ \\t]*$`);
  const instructions: Instruction[] = [];
  while (at < lines.length) {
    const first = lines[at]!;
    if (first.trim() === '' || first.trimStart().startsWith('#')) {
      at++;
      continue;
    }
    const line = at + 1;
    let text = '';
    let current = first;
    at++;
    while (continuation.test(current)) {
      text += current.replace(continuation, '');
      // Comment lines and empty lines inside a continued instruction are dropped.
      while (at < lines.length && (lines[at]!.trimStart().startsWith('#') || lines[at]!.trim() === '')) at++;
      if (at >= lines.length) {
        current = '';
        break;
      }
      current = lines[at++]!;
    }
    text += current;
    text = text.trim();
    const m = /^(\S+)\s*([\s\S]*)$/.exec(text)!;
    const word = m[1]!;
    const keyword = word.toUpperCase() as Keyword;
    if (!KEYWORDS.includes(keyword)) {
      const guess = closestName(word.toUpperCase(), KEYWORDS);
      fail(line, `unknown instruction "${word}"${guess ? ` (did you mean "${guess}"?)` : ''}`);
    }
    if (keyword === 'ONBUILD') fail(line, 'ONBUILD is not supported by this builder: put the instructions in the Dockerfile that builds FROM this image');
    const { flags, rest } = splitFlags(m[2] ?? '', keyword, (msg) => fail(line, msg));
    const heredocs: Heredoc[] = [];
    if (keyword === 'RUN' || keyword === 'COPY' || keyword === 'ADD') {
      for (const h of rest.matchAll(HEREDOC)) {
        if (rest[h.index! + 2 + h[1]!.length] === '<') continue; // <<< is a here-string, not a heredoc
        const strip = h[1] === '-';
        const name = h[3]!;
        const body: string[] = [];
        let closed = false;
        while (at < lines.length) {
          const raw = lines[at++]!;
          const bodyLine = strip ? raw.replace(/^\t+/, '') : raw;
          if (bodyLine === name) {
            closed = true;
            break;
          }
          body.push(bodyLine);
        }
        if (!closed) fail(line, `the heredoc <<${name} is not closed: end it with a line "${name}"`);
        heredocs.push({ name, body: body.length ? `${body.join('\n')}\n` : '', expand: h[2] === '' });
      }
    }
    const instruction: Instruction = { keyword, line, text, flags, rest, heredocs };
    const json = jsonForm(rest);
    if (json) instruction.json = json;
    checkShape(instruction, (msg) => fail(line, msg));
    instructions.push(instruction);
  }

  const globalArgs: Instruction[] = [];
  const stages: Stage[] = [];
  for (const ins of instructions) {
    if (ins.keyword === 'FROM') {
      const words = ins.rest.trim().split(/\s+/);
      let name: string | undefined;
      if (words.length === 3 && words[1]!.toLowerCase() === 'as') {
        name = words[2]!.toLowerCase();
        if (!STAGE_NAME.test(name)) fail(ins.line, `invalid stage name "${words[2]}": use letters, digits, "-", "_" and "." starting with a letter`);
        const clash = stages.find((s) => s.name === name);
        if (clash) fail(ins.line, `the stage name "${name}" is already used by the stage at line ${clash.from.line}`);
      } else if (words.length !== 1) {
        fail(ins.line, `FROM takes an image and optionally "AS name": "FROM ${ins.rest.trim()}"`);
      }
      const stage: Stage = { index: stages.length, from: ins, base: words[0]!, instructions: [] };
      if (name !== undefined) stage.name = name;
      stages.push(stage);
    } else if (stages.length === 0) {
      if (ins.keyword !== 'ARG') fail(ins.line, `${ins.keyword} before the first FROM: only ARG may come before FROM`);
      globalArgs.push(ins);
    } else {
      stages[stages.length - 1]!.instructions.push(ins);
    }
  }
  if (stages.length === 0) fail(Math.max(1, lines.length), 'the Dockerfile has no FROM: a build needs at least one stage');
  const dockerfile: Dockerfile = { file, escape, globalArgs, stages };
  if (syntax !== undefined) dockerfile.syntax = syntax;
  return dockerfile;
}

function splitFlags(text: string, keyword: Keyword, fail: (message: string) => never): { flags: Map<string, string>; rest: string } {
  const flags = new Map<string, string>();
  let rest = text;
  for (;;) {
    const m = /^--([a-zA-Z][a-zA-Z0-9-]*)(?:=(\S*))?(?:\s+|$)/.exec(rest);
    if (!m) break;
    const name = m[1]!.toLowerCase();
    const allowed = FLAGS[keyword] ?? [];
    if (!allowed.includes(name)) {
      const guess = closestName(name, allowed);
      fail(`unknown flag --${name} for ${keyword}${allowed.length ? ` (${guess ? `did you mean --${guess}? ` : ''}it takes ${allowed.map((f) => `--${f}`).join(', ')})` : ' (it takes no flags)'}`);
    }
    if (flags.has(name)) fail(`the flag --${name} of ${keyword} is given twice`);
    flags.set(name, m[2] ?? 'true');
    rest = rest.slice(m[0].length);
  }
  return { flags, rest: rest.trim() };
}

/** `["a", "b"]` -> ['a', 'b']; anything else (including invalid JSON) is the shell form. */
function jsonForm(rest: string): string[] | undefined {
  if (!rest.startsWith('[')) return undefined;
  try {
    const value: unknown = JSON.parse(rest);
    if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value as string[];
  } catch {
    // Docker runs `RUN [not json` through the shell, as written.
  }
  return undefined;
}

/** What can be checked before any variable is known. */
function checkShape(ins: Instruction, fail: (message: string) => never): void {
  const { keyword, rest, flags } = ins;
  const needsArgs = (what: string): void => {
    if (rest === '') fail(`${keyword} needs ${what}`);
  };
  switch (keyword) {
    case 'FROM':
      needsArgs('a base image (FROM debian:bookworm) or "scratch"');
      break;
    case 'RUN':
      if (flags.has('mount')) fail('RUN --mount needs BuildKit, which this builder is not: copy what the step needs with COPY instead');
      if (flags.has('security')) fail('RUN --security is not supported by this builder');
      if (flags.has('network') && flags.get('network') !== 'default') fail(`RUN --network=${flags.get('network')} is not supported by this builder (RUN steps use the default bridge)`);
      needsArgs('a command');
      break;
    case 'CMD':
    case 'ENTRYPOINT':
      needsArgs('a command (shell form or a JSON array like ["app", "--flag"])');
      break;
    case 'SHELL':
      if (!ins.json || ins.json.length === 0) fail('SHELL needs a JSON array of the shell and its options, like ["/bin/sh", "-c"]');
      break;
    case 'COPY':
    case 'ADD': {
      if (ins.json && ins.json.length < 2) fail(`${keyword} needs at least one source and a destination`);
      if (!ins.json && ins.heredocs.length === 0 && rest.split(/\s+/).filter(Boolean).length < 2) fail(`${keyword} needs at least one source and a destination: "${keyword} SRC... DEST"`);
      if (flags.get('keep-git-dir') !== undefined) fail('ADD --keep-git-dir is for git URLs, which this builder does not fetch');
      if (flags.get('from') === '') fail('COPY --from needs a stage name, a stage index or an image');
      break;
    }
    case 'ENV':
    case 'LABEL':
      needsArgs(keyword === 'ENV' ? 'NAME=VALUE pairs' : 'KEY=VALUE pairs');
      if (keyword === 'LABEL' && !rest.includes('=')) fail(`LABEL needs KEY=VALUE pairs: "LABEL ${rest}"`);
      if (keyword === 'ENV' && !rest.includes('=') && rest.trim().split(/\s+/).length < 2) fail(`ENV needs NAME=VALUE (or the old form NAME VALUE): "ENV ${rest}" has no value`);
      break;
    case 'ARG':
      needsArgs('a name, optionally with a default: ARG NAME[=default]');
      break;
    case 'HEALTHCHECK': {
      const word = rest.split(/\s+/, 1)[0]!.toUpperCase();
      if (word === 'NONE') {
        if (rest.trim().toUpperCase() !== 'NONE') fail('HEALTHCHECK NONE takes nothing after it');
        if (flags.size) fail('HEALTHCHECK NONE takes no options');
      } else if (word !== 'CMD') {
        fail('HEALTHCHECK takes "NONE" or "[OPTIONS] CMD command"');
      } else if (rest.slice(3).trim() === '') {
        fail('HEALTHCHECK CMD needs a command');
      }
      for (const [name, value] of flags) {
        if (name === 'retries') {
          if (!/^\d+$/.test(value)) fail(`HEALTHCHECK --retries must be a whole number, not "${value}"`);
        } else if (parseGoDuration(value) === undefined) {
          fail(`HEALTHCHECK --${name} must be a duration like 30s or 1m30s, not "${value}"`);
        }
      }
      break;
    }
    case 'EXPOSE':
      needsArgs('ports, like 80 or 53/udp');
      break;
    case 'VOLUME':
      needsArgs('paths');
      break;
    case 'USER':
      needsArgs('a user (name or uid, optionally :group)');
      break;
    case 'WORKDIR':
      needsArgs('a path');
      break;
    case 'STOPSIGNAL':
      needsArgs('a signal, like SIGTERM or 15');
      break;
    case 'MAINTAINER':
      needsArgs('a name');
      break;
    default:
      break;
  }
}

// ---- after substitution: what an instruction's arguments mean ---------------------------

/** RUN, CMD, ENTRYPOINT: the exec form as written, or the shell form run by `shell`. */
export function commandOf(ins: Instruction, shell: string[]): string[] {
  return ins.json ?? [...shell, ins.rest];
}

/**
 * RUN with heredocs as one shell script: `RUN <<EOF` alone runs the body (a `#!` body runs
 * as its own program); `RUN cmd <<EOF` hands the whole text to the shell, which reads the
 * heredoc as it would in a script.
 */
export function runScript(ins: Instruction): string {
  if (ins.heredocs.length === 0) return ins.rest;
  const only = ins.heredocs[0]!;
  if (ins.heredocs.length === 1 && /^<<-?(["']?)[A-Za-z_][A-Za-z0-9_.-]*\1$/.test(ins.rest.trim())) {
    if (!only.body.startsWith('#!')) return only.body;
    // A script with its own interpreter: written to a temp file, run, removed.
    const marker = 'STACK_HEREDOC_SCRIPT_END';
    return `f=$(mktemp) && cat > "$f" <<'${marker}'\n${only.body}${marker}\nchmod +x "$f"; "$f"; rc=$?; rm -f "$f"; exit $rc`;
  }
  return `${ins.rest}\n${ins.heredocs.map((h) => `${h.body}${h.name}\n`).join('')}`;
}

/** ENV and LABEL: `K=V K2="v 2"`, or ENV's old form `K the rest`. */
export function keyValues(ins: Instruction, lookup: VarLookup, escape: string): [string, string][] {
  const words = expandWords(ins.rest, lookup, escape);
  if (ins.keyword === 'ENV' && words.length > 0 && !words[0]!.includes('=')) {
    // The old form: the name, then everything after it (substituted, as one value).
    const name = /^\S+/.exec(ins.rest)![0];
    return [[name, expandWord(ins.rest.slice(name.length).trim(), lookup, escape)]];
  }
  return words.map((word) => {
    const eq = word.indexOf('=');
    if (eq <= 0) throw new SubstitutionError(`"${word}" is not KEY=VALUE`);
    return [word.slice(0, eq), word.slice(eq + 1)];
  });
}

/** ARG NAME[=default] ...: names and defaults (undefined when none), the defaults substituted. */
export function argDeclarations(ins: Instruction, lookup: VarLookup, escape: string): { name: string; default?: string }[] {
  return expandWords(ins.rest, lookup, escape).map((word) => {
    const eq = word.indexOf('=');
    const name = eq === -1 ? word : word.slice(0, eq);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new SubstitutionError(`"${name}" is not a valid ARG name`);
    return eq === -1 ? { name } : { name, default: word.slice(eq + 1) };
  });
}

/** COPY/ADD: sources and the destination, substituted (the JSON form too). */
export function copyPaths(ins: Instruction, lookup: VarLookup, escape: string): { sources: string[]; dest: string } {
  const words = ins.json ? ins.json.map((w) => expandWord(w, lookup, escape)) : expandWords(ins.rest, lookup, escape);
  const dest = words[words.length - 1]!;
  return { sources: words.slice(0, -1), dest };
}

/** EXPOSE 80 53/udp 8000-8002 -> the ExposedPorts keys. */
export function exposedPorts(words: string[]): string[] {
  const out: string[] = [];
  for (const word of words) {
    const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(word);
    if (!m) throw new SubstitutionError(`"${word}" is not a port: use 80, 80/tcp, 53/udp or a range like 8000-8002`);
    const first = Number(m[1]);
    const last = m[2] !== undefined ? Number(m[2]) : first;
    if (first < 1 || last > 65535 || last < first) throw new SubstitutionError(`"${word}" is not a port range within 1-65535`);
    for (let p = first; p <= last; p++) out.push(`${p}/${(m[3] ?? 'tcp').toLowerCase()}`);
  }
  return out;
}

export interface HealthcheckConfig {
  Test: string[];
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  StartInterval?: number;
  Retries?: number;
}

/** HEALTHCHECK NONE | [options] CMD ...: the image config's Healthcheck (durations in ns). */
export function healthcheckOf(ins: Instruction): HealthcheckConfig {
  if (ins.rest.trim().toUpperCase() === 'NONE') return { Test: ['NONE'] };
  const command = ins.rest.trim().slice(3).trim();
  const json = jsonForm(command);
  const config: HealthcheckConfig = { Test: json ? ['CMD', ...json] : ['CMD-SHELL', command] };
  const ns = (name: string): number | undefined => {
    const v = ins.flags.get(name);
    return v === undefined ? undefined : parseGoDuration(v)! * 1e6;
  };
  const interval = ns('interval');
  const timeout = ns('timeout');
  const startPeriod = ns('start-period');
  const startInterval = ns('start-interval');
  if (interval !== undefined) config.Interval = interval;
  if (timeout !== undefined) config.Timeout = timeout;
  if (startPeriod !== undefined) config.StartPeriod = startPeriod;
  if (startInterval !== undefined) config.StartInterval = startInterval;
  if (ins.flags.has('retries')) config.Retries = Number(ins.flags.get('retries'));
  return config;
}

/** Go's duration syntax (`1m30s`, `500ms`, `2h`), in milliseconds; undefined when invalid. */
export function parseGoDuration(text: string): number | undefined {
  if (text === '0') return 0;
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let consumed = 0;
  for (const m of text.matchAll(re)) {
    total += Number(m[1]) * units[m[2]!]!;
    consumed += m[0].length;
  }
  return consumed === text.length && consumed > 0 ? total : undefined;
}

/**
 * The stages a build of `target` needs, in the order they must run: the target, the
 * stages it is FROM, and those it copies from (COPY --from=name|index), transitively.
 * `resolveBase` substitutes a stage's FROM (global ARGs) so FROM $X can name a stage.
 */
export function stagesNeeded(dockerfile: Dockerfile, target: string | undefined, resolveBase: (stage: Stage) => string): Stage[] {
  const { stages } = dockerfile;
  let last: Stage;
  if (target !== undefined && target !== '') {
    const found = stages.find((s) => s.name === target.toLowerCase());
    if (!found) {
      const names = stages.flatMap((s) => (s.name ? [s.name] : []));
      const guess = closestName(target, names);
      throw new DockerfileError(dockerfile.file, 1, `target stage "${target}" could not be found${guess ? ` (did you mean "${guess}"?)` : names.length ? ` (stages: ${names.join(', ')})` : ' (no stage has a name: use FROM image AS name)'}`);
    }
    last = found;
  } else {
    last = stages[stages.length - 1]!;
  }
  const needed = new Set<number>();
  const visit = (stage: Stage): void => {
    if (needed.has(stage.index)) return;
    needed.add(stage.index);
    const base = stageByRef(dockerfile, resolveBase(stage), stage.index);
    if (base) visit(base);
    for (const ins of stage.instructions) {
      const from = ins.keyword === 'COPY' ? ins.flags.get('from') : undefined;
      if (from === undefined) continue;
      const source = stageByRef(dockerfile, from, stage.index);
      if (source) visit(source);
    }
  };
  visit(last);
  return stages.filter((s) => needed.has(s.index));
}

/** A stage named by `ref` (its name, or its index) among those before `before`; undefined for an image. */
export function stageByRef(dockerfile: Dockerfile, ref: string, before: number): Stage | undefined {
  const earlier = dockerfile.stages.slice(0, before);
  if (/^\d+$/.test(ref)) {
    const stage = earlier[Number(ref)];
    if (!stage) throw new DockerfileError(dockerfile.file, dockerfile.stages[before]?.from.line ?? 1, `there is no stage ${ref} before this one (stages are counted from 0)`);
    return stage;
  }
  return earlier.find((s) => s.name === ref.toLowerCase());
}
