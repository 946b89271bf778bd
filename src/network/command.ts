// Running the host's network tools (ip, iptables-restore, unshare, nsenter, umount):
// one process per change, input on stdin for batch modes, and a failure that carries the
// tool's own words. Network code takes a runner so tests can point it into a scratch
// namespace and count the processes a change costs.

import { spawn } from 'node:child_process';
import { RuntimeFailure } from '../common/errors.js';

/** Runs argv (stdin = input when given) and resolves its stdout; rejects with its stderr. */
export type CommandRunner = (argv: string[], input?: string) => Promise<string>;

export const runCommand: CommandRunner = (argv, input) =>
  new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (c: Buffer) => out.push(c));
    child.stderr!.on('data', (c: Buffer) => err.push(c));
    child.on('error', (e) => reject(new RuntimeFailure(`cannot run ${argv[0]}: ${e.message} (is it installed? scripts/setup installs it)`, { cause: e })));
    child.on('close', (code) => {
      if (code === 0) resolve(Buffer.concat(out).toString('utf8'));
      else {
        const detail = Buffer.concat(err).toString('utf8').trim() || `exit code ${code}`;
        reject(new RuntimeFailure(`${argv.join(' ')}: ${detail}`));
      }
    });
    // A program that exits before reading its input reports its own error, not EPIPE.
    child.stdin?.on('error', () => undefined);
    if (input !== undefined) child.stdin!.end(input);
  });

/** A runner whose commands run inside the network namespace bound at `path`. */
export function runnerInNetns(path: string, base: CommandRunner = runCommand): CommandRunner {
  return (argv, input) => base(['nsenter', `--net=${path}`, ...argv], input);
}
