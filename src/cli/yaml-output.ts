// A YAML emitter for the plain data `stack config` prints (mappings, lists, strings,
// numbers, booleans, null). The yaml library's stringify took ~130 ms for a
// 200-service project; this takes a few. Strings are written plain only when no
// YAML 1.1 or 1.2 reader could take them for anything else, otherwise double-quoted
// (JSON string syntax is valid YAML), so the output reads back as the same data.

const PLAIN = /^[A-Za-z0-9_/.][A-Za-z0-9_./@+=,-]*(?::[A-Za-z0-9_./@+=,-]+)*$/;
const LOOKS_TYPED = /^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF|null|Null|NULL|~|[-+]?\.(?:inf|Inf|INF|nan|NaN|NAN)|[-+]?[0-9][0-9_:.eE+-]*|0x[0-9a-fA-F_]+|0o[0-7_]+|0b[01_]+|\.|\.[0-9].*)$/;

export function toYaml(value: unknown): string {
  const text = emitBlock(value, 0, '', new Map());
  return text === '' ? '\n' : text;
}

function scalar(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : value > 0 ? '.inf' : value < 0 ? '-.inf' : '.nan';
  const s = String(value);
  return PLAIN.test(s) && !LOOKS_TYPED.test(s) ? s : JSON.stringify(s);
}

/**
 * The same few keys come back in every service, and two regular expressions per key
 * were half the time of writing a large project: each key is worded once per output.
 */
function key(k: string, keys: Map<string, string>): string {
  let text = keys.get(k);
  if (text === undefined) {
    text = PLAIN.test(k) && !LOOKS_TYPED.test(k) && !k.includes(':') ? k : JSON.stringify(k);
    keys.set(k, text);
  }
  return text;
}

/** `[]` or `{}` for an empty list or mapping, which are written on their key's line. */
function emptyContainer(v: unknown): string | undefined {
  if (Array.isArray(v)) return v.length === 0 ? '[]' : undefined;
  if (typeof v === 'object' && v !== null) {
    for (const k in v) if (Object.prototype.hasOwnProperty.call(v, k)) return undefined;
    return '{}';
  }
  return undefined;
}

/**
 * The lines of `value` at `indent`, each ending in a newline. `firstPrefix` replaces
 * the indentation of the first line: a list item's content starts on its dash's line
 * (`- name: x`, `- - a`). `keys` holds the keys worded so far (see key()).
 */
function emitBlock(value: unknown, indent: number, firstPrefix: string | undefined, keys: Map<string, string>): string {
  const pad = ' '.repeat(indent);
  let out = '';
  let prefix = firstPrefix ?? pad;
  if (Array.isArray(value)) {
    for (const item of value) {
      const dash = `${prefix}- `;
      prefix = pad;
      const empty = emptyContainer(item);
      if (typeof item === 'object' && item !== null && empty === undefined) out += emitBlock(item, indent + 2, dash, keys);
      else out += `${dash}${empty ?? scalar(item)}\n`;
    }
    return out;
  }
  if (typeof value === 'object' && value !== null) {
    for (const k of Object.keys(value)) {
      const v = (value as Record<string, unknown>)[k];
      const empty = emptyContainer(v);
      if (typeof v === 'object' && v !== null && empty === undefined) out += `${prefix}${key(k, keys)}:\n${emitBlock(v, indent + 2, undefined, keys)}`;
      else out += `${prefix}${key(k, keys)}: ${empty ?? scalar(v)}\n`;
      prefix = pad;
    }
    return out;
  }
  return `${prefix}${scalar(value)}\n`;
}
