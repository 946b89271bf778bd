// Sizes and CPU counts. Sizes follow Docker's RAM units: `512m`, `1g`, `1.5GB`, `100k`
// are powers of 1024 (that is what the engine and docker accept for mem_limit and
// shm_size), a bare number is bytes.

import { failed, parsed, type Parsed } from './parsed.js';

const MULTIPLIER: Record<string, number> = {
  '': 1,
  k: 1024,
  m: 1024 ** 2,
  g: 1024 ** 3,
  t: 1024 ** 4,
  p: 1024 ** 5,
};

const SIZE = /^(\d+(?:\.\d+)?) ?([kmgtp]?)(?:i?b)?$/i;

/** `allowUnlimited` accepts -1, which memswap_limit uses for "no limit". */
export function parseBytes(input: string | number, allowUnlimited = false): Parsed<number> {
  if (typeof input === 'number') {
    if (Number.isInteger(input) && (input >= 0 || (allowUnlimited && input === -1))) return parsed(input);
    return failed(sizeError(input));
  }
  const text = input.trim();
  if (allowUnlimited && text === '-1') return parsed(-1);
  const m = SIZE.exec(text);
  if (!m) return failed(sizeError(input));
  // Truncated like Docker does: "1.5k" is 1536 bytes, "0.1k" is 102.
  return parsed(Math.trunc(Number(m[1]) * MULTIPLIER[m[2]!.toLowerCase()]!));
}

function sizeError(input: string | number): string {
  const shown = typeof input === 'number' ? String(input) : `"${input}"`;
  return `${shown} is not a valid size: use a number of bytes or a number with a unit b, k, m or g, like "512m" or "1.5g"`;
}

export function parseCpus(input: string | number): Parsed<number> {
  const value = typeof input === 'number' ? input : /^\s*(\d+(\.\d*)?|\.\d+)\s*$/.test(input) ? Number(input) : NaN;
  if (!Number.isFinite(value) || value < 0) {
    const shown = typeof input === 'number' ? String(input) : `"${input}"`;
    return failed(`${shown} is not a valid number of CPUs: use a decimal number like "0.5" or "2"`);
  }
  return parsed(value);
}
