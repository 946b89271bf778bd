// The result of parsing one short-syntax value: the long form, or a sentence saying
// what is wrong that the caller reports at the value's position. Parsers never throw,
// so the normalize stage can collect every problem in a file at once.

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

export function parsed<T>(value: T): Parsed<T> {
  return { ok: true, value };
}

export function failed<T = never>(error: string): Parsed<T> {
  return { ok: false, error };
}
