// Columns padded to the widest cell, three spaces apart, as docker prints its tables.

import type { CliIO } from './io.js';

export function printTable(io: CliIO, headers: string[], rows: string[][]): void {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  for (const row of [headers, ...rows]) {
    io.stdout.write(`${row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('   ')}\n`);
  }
}
