// Compose durations (`1m30s`, `500ms`, `1h2m`, `1.5s`) to milliseconds and back. The
// syntax is Go's time.ParseDuration, because that is what Docker Compose accepts;
// printing back follows Go's Duration.String so `stack config` prints what
// `docker compose config` prints.

import { failed, parsed, type Parsed } from './parsed.js';

const NANOS_PER_UNIT: Record<string, number> = {
  ns: 1,
  us: 1e3,
  'µs': 1e3, // micro sign
  'μs': 1e3, // Greek mu: both are accepted by Go
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

const TERM = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;

export function parseDuration(input: string | number): Parsed<number> {
  // A bare number has no unit; only zero means the same in every unit.
  if (typeof input === 'number') {
    return input === 0 ? parsed(0) : failed(`${input} is not a valid duration: add a unit, like "${input}s" or "${input}ms"`);
  }
  const text = input.trim();
  if (text === '0') return parsed(0);
  let nanos = 0;
  TERM.lastIndex = 0;
  let consumed = 0;
  while (consumed < text.length) {
    const m = TERM.exec(text);
    if (!m) break;
    nanos += Number(m[1]) * NANOS_PER_UNIT[m[2]!]!;
    consumed = TERM.lastIndex;
  }
  if (text === '' || consumed !== text.length) {
    return failed(`"${input}" is not a valid duration: use a number with a unit, like "10s", "1m30s" or "500ms"`);
  }
  // Whole nanoseconds, as Go keeps them; avoids 0.1+0.2 style tails in milliseconds.
  return parsed(Math.round(nanos) / 1e6);
}

// Written Go's way, shared with the engine (health check messages).
export { formatDuration } from '../../common/go-duration.js';
