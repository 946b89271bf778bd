// A YAML emitter for the plain data `stack config` prints (mappings, lists, strings,
// numbers, booleans, null). The yaml library's stringify took ~130 ms for a
// 200-service project; this takes a few. Strings are written plain only when no
// YAML 1.1 or 1.2 reader could take them for anything else, otherwise double-quoted
// (JSON string syntax is valid YAML), so the output reads back as the same data.

const PLAIN = /^[A-Za-z0-9_/.][A-Za-z0-9_./@+=,-]*(?::[A-Za-z0-9_./@+=,-]+)*$/;
const LOOKS_TYPED = /^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF|null|Null|NULL|~|[-+]?\.(?:inf|Inf|INF|nan|NaN|NAN)|[-+]?[0-9][0-9_:.eE+-]*|0x[0-9a-fA-F_]+|0o[0-7_]+|0b[01_]+|\.|\.[0-9].*)$/;

export function toYaml(value: unknown): string {
  const out: string[] = [];
  emitBlock(value, 0, out);
  return `${out.join('\n')}\n`;
}

function scalar(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : value > 0 ? '.inf' : value < 0 ? '-.inf' : '.nan';
  const s = String(value);
  return PLAIN.test(s) && !LOOKS_TYPED.test(s) ? s : JSON.stringify(s);
}

function key(k: string): string {
  return PLAIN.test(k) && !LOOKS_TYPED.test(k) && !k.includes(':') ? k : JSON.stringify(k);
}

function isEmptyContainer(v: unknown): string | undefined {
  if (Array.isArray(v) && v.length === 0) return '[]';
  if (typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 0) return '{}';
  return undefined;
}

function emitBlock(value: unknown, indent: number, out: string[]): void {
  const pad = ' '.repeat(indent);
  if (Array.isArray(value)) {
    for (const item of value) {
      if (typeof item === 'object' && item !== null && isEmptyContainer(item) === undefined) {
        const lines: string[] = [];
        emitBlock(item, indent + 2, lines);
        // The first line of the item goes after the dash.
        out.push(`${pad}- ${lines[0]!.slice(indent + 2)}`, ...lines.slice(1));
      } else {
        out.push(`${pad}- ${isEmptyContainer(item) ?? scalar(item)}`);
      }
    }
    return;
  }
  if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) {
      const empty = isEmptyContainer(v);
      if (typeof v === 'object' && v !== null && empty === undefined) {
        out.push(`${pad}${key(k)}:`);
        emitBlock(v, indent + 2, out);
      } else {
        out.push(`${pad}${key(k)}: ${empty ?? scalar(v)}`);
      }
    }
    return;
  }
  out.push(`${pad}${scalar(value)}`);
}
