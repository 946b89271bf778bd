// The word rules of Dockerfile arguments (Docker's "shell lexer"): quotes, the escape
// character, and variable substitution ($VAR, ${VAR}, ${VAR:-x}, ${VAR-x}, ${VAR:+x},
// ${VAR+x}, ${VAR:?msg}, ${VAR?msg}) in the instructions Docker substitutes (ENV, ARG,
// LABEL, COPY, ADD, WORKDIR, USER, EXPOSE, VOLUME, STOPSIGNAL, FROM). RUN, CMD and
// ENTRYPOINT are never substituted here: their shell does it at run time.

/** A variable's value, or undefined when it is not set (an empty string is set). */
export type VarLookup = (name: string) => string | undefined;

export class SubstitutionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SubstitutionError';
  }
}

/** Expands and unquotes `text`, then splits it into words at unquoted whitespace. */
export function expandWords(text: string, lookup: VarLookup, escape = '\\'): string[] {
  return new Lexer(text, lookup, escape, true).run();
}

/** Expands and unquotes `text` as one word (whitespace is kept). */
export function expandWord(text: string, lookup: VarLookup, escape = '\\'): string {
  return new Lexer(text, lookup, escape, false).run().join('');
}

/** The names `text` refers to ($X, ${X...}), for deciding what a step depends on. */
export function referencedNames(text: string): string[] {
  const names = new Set<string>();
  for (const m of text.matchAll(/\$(?:\{([A-Za-z_][A-Za-z0-9_]*)|([A-Za-z_][A-Za-z0-9_]*))/g)) names.add(m[1] ?? m[2]!);
  return [...names];
}

const NAME_START = /[A-Za-z_]/;
const NAME_CHAR = /[A-Za-z0-9_]/;

class Lexer {
  private at = 0;
  constructor(
    private readonly text: string,
    private readonly lookup: VarLookup,
    private readonly escape: string,
    private readonly split: boolean,
  ) {}

  run(): string[] {
    const words: string[] = [];
    let word = '';
    /** A word exists even when empty, once quotes were seen ("" is one empty word). */
    let started = false;
    while (this.at < this.text.length) {
      const ch = this.text[this.at]!;
      if (this.split && /\s/.test(ch)) {
        if (started) words.push(word);
        word = '';
        started = false;
        this.at++;
        continue;
      }
      started = true;
      if (ch === this.escape) {
        this.at++;
        if (this.at < this.text.length) word += this.text[this.at++];
        else word += ch;
      } else if (ch === "'") {
        word += this.singleQuoted();
      } else if (ch === '"') {
        word += this.doubleQuoted();
      } else if (ch === '$') {
        word += this.variable();
      } else {
        word += ch;
        this.at++;
      }
    }
    if (started) words.push(word);
    return words;
  }

  private singleQuoted(): string {
    const end = this.text.indexOf("'", this.at + 1);
    if (end === -1) throw new SubstitutionError(`unexpected end of text in '${this.text.slice(this.at)}': a single quote is not closed`);
    const out = this.text.slice(this.at + 1, end);
    this.at = end + 1;
    return out;
  }

  private doubleQuoted(): string {
    this.at++;
    let out = '';
    while (this.at < this.text.length) {
      const ch = this.text[this.at]!;
      if (ch === '"') {
        this.at++;
        return out;
      }
      if (ch === this.escape && this.at + 1 < this.text.length && ['"', '$', this.escape].includes(this.text[this.at + 1]!)) {
        out += this.text[this.at + 1];
        this.at += 2;
      } else if (ch === '$') {
        out += this.variable();
      } else {
        out += ch;
        this.at++;
      }
    }
    throw new SubstitutionError(`unexpected end of text in ${JSON.stringify(this.text)}: a double quote is not closed`);
  }

  /** At a `$`: the value of the variable it starts, or `$` itself when none does. */
  private variable(): string {
    const next = this.text[this.at + 1];
    if (next === '{') return this.braced();
    if (next !== undefined && NAME_START.test(next)) {
      let end = this.at + 1;
      while (end < this.text.length && NAME_CHAR.test(this.text[end]!)) end++;
      const name = this.text.slice(this.at + 1, end);
      this.at = end;
      return this.lookup(name) ?? '';
    }
    this.at++;
    return '$';
  }

  private braced(): string {
    const start = this.at;
    this.at += 2;
    let name = '';
    while (this.at < this.text.length && NAME_CHAR.test(this.text[this.at]!)) name += this.text[this.at++];
    if (name === '' || !NAME_START.test(name[0]!)) throw new SubstitutionError(`bad substitution in "${this.text.slice(start)}": \${ must be followed by a variable name`);
    if (this.text[this.at] === '}') {
      this.at++;
      return this.lookup(name) ?? '';
    }
    if (this.at >= this.text.length) throw new SubstitutionError(`bad substitution in "${this.text.slice(start)}": missing "}"`);
    let op = this.text[this.at] ?? '';
    if (op === ':') op += this.text[this.at + 1] ?? '';
    if (!['-', '+', '?', ':-', ':+', ':?'].includes(op)) {
      throw new SubstitutionError(`bad substitution in "${this.text.slice(start)}": unsupported modifier after \${${name} (use :-, -, :+, +, :? or ?)`);
    }
    this.at += op.length;
    const word = this.nestedWord(start);
    const value = this.lookup(name);
    const unsetOrEmpty = op.startsWith(':') ? value === undefined || value === '' : value === undefined;
    switch (op.replace(':', '')) {
      case '-':
        return unsetOrEmpty ? word : value!;
      case '+':
        return unsetOrEmpty ? '' : word;
      default:
        if (unsetOrEmpty) throw new SubstitutionError(`${name}: ${word || 'is not set'}`);
        return value!;
    }
  }

  /** The word of `${NAME:-word}` up to its closing brace, itself expanded. */
  private nestedWord(start: number): string {
    let out = '';
    while (this.at < this.text.length) {
      const ch = this.text[this.at]!;
      if (ch === '}') {
        this.at++;
        return out;
      }
      if (ch === this.escape && this.at + 1 < this.text.length) {
        out += this.text[this.at + 1];
        this.at += 2;
      } else if (ch === "'") {
        out += this.singleQuoted();
      } else if (ch === '"') {
        out += this.doubleQuoted();
      } else if (ch === '$') {
        out += this.variable();
      } else {
        out += ch;
        this.at++;
      }
    }
    throw new SubstitutionError(`bad substitution in "${this.text.slice(start)}": missing "}"`);
  }
}
