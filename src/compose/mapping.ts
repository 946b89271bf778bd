// The plain objects a parsed stack file is made of, and the few safe operations every
// stage needs on them. Keys come from the user's file, so `__proto__` is an ordinary
// key here and must never reach an object's prototype.

export type Mapping = Record<string, unknown>;

export function isMapping(v: unknown): v is Mapping {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Own keys only: a key named "constructor" or "toString" is the file's, not Object's. */
export function has(target: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(target, key);
}

/** Assign without `__proto__` changing the object's prototype. */
export function put(target: Mapping, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

/** Numbers and booleans written where Compose means text (`PORT: 8080`, `DEBUG: true`). */
export function scalarText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (v === null || v === undefined) return '';
  return JSON.stringify(v);
}
