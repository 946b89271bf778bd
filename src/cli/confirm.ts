// A yes/no question asked on the terminal before a command deletes data (prune).

import type { CliIO } from './io.js';

/** The answer to a yes/no question on the terminal; no terminal means no. */
export async function confirm(io: CliIO, question: string): Promise<boolean> {
  if (!process.stdin.isTTY) return false;
  io.stderr.write(`${question} [y/N] `);
  const line = await new Promise<string>((resolve) => {
    process.stdin.setEncoding('utf8');
    process.stdin.once('data', (d: string) => {
      process.stdin.pause();
      resolve(d);
    });
  });
  return /^y(es)?$/i.test(line.trim());
}
