// Renders compose events as Compose's plain lines (` ✔ Container shop-web-1  Started`) and
// logs as `name  | line`, what file watching did as `watch | web: synced 2 files (...)`;
// or, with --format json, one event per line. Colours only on a terminal and when
// NO_COLOR is unset.

import type { ComposeEvent, EmitEvent } from '../compose/events.js';
import { progressOf, watchLineOf } from '../compose/events.js';
import { batchedWrites } from '../common/batched-writes.js';
import type { CliIO } from './io.js';

export interface Renderer {
  emit: EmitEvent;
  /** The container names logs will come from, so their prefixes line up. */
  alignLogs(names: readonly string[]): void;
}

const LOG_COLOURS = [36, 33, 32, 35, 34, 96, 93, 92, 95, 94];

export function useColour(io: CliIO): boolean {
  return io.stdout.isTTY === true && (io.env.NO_COLOR === undefined || io.env.NO_COLOR === '');
}

/** `logPrefix: false` (logs --no-log-prefix) prints log lines as they are. */
export function plainRenderer(io: CliIO, colour = useColour(io), logPrefix = true): Renderer {
  const paint = (code: number, text: string): string => (colour ? `\x1b[${code}m${text}\x1b[0m` : text);
  let width = 0;
  const colours = new Map<string, number>();
  // Log lines come a chunk at a time: one write per chunk. Any other line sends them first.
  const logLines = batchedWrites((chunk) => io.stdout.write(chunk));
  const stdout = { write: (text: string) => (logLines.flush(), io.stdout.write(text)) };
  const stderr = { write: (text: string) => (logLines.flush(), io.stderr.write(text)) };
  const emit = (e: ComposeEvent): void => {
    if (e.type === 'log') {
      if (!colours.has(e.container)) colours.set(e.container, LOG_COLOURS[colours.size % LOG_COLOURS.length]!);
      const prefix = paint(colours.get(e.container)!, `${e.container.padEnd(width)} |`);
      // A terminal's lines end in \r\n (the tty's output processing): one line end all the same.
      const text = e.text.replace(/\r?\n$/, '');
      logLines.add(text.split(/\r?\n/).map((l) => (logPrefix ? `${prefix} ${l}\n` : `${l}\n`)).join(''));
      return;
    }
    if (e.type === 'orphans') {
      stderr.write(`${paint(33, 'WARN')} Found orphan containers (${e.containers.join(', ')}) for this project. If you removed or renamed this service in your stack file, run this command with --remove-orphans to clean it up.\n`);
      return;
    }
    if (e.type === 'warning') {
      stderr.write(`${paint(33, 'WARN')} ${e.message}\n`);
      return;
    }
    const watch = watchLineOf(e);
    if (watch) {
      (watch.error ? stderr : stdout).write(`${paint(watch.error ? 31 : 36, 'watch')} | ${watch.text}\n`);
      return;
    }
    // Errors reach the user through the top level's message (main.ts); health failures are in it too.
    if (e.type === 'error' || (e.type === 'health' && e.status !== 'healthy')) return;
    if ((e.type === 'image-pulling' || e.type === 'image-building' || e.type === 'image-pushing') && e.detail !== undefined) {
      stdout.write(`   ${e.image}  ${e.detail}\n`);
      return;
    }
    const p = progressOf(e);
    if (!p) return;
    const mark = p.done ? paint(32, '✔') : ' ';
    const status = e.type === 'container-exited' ? `Exited (${e.exitCode})` : e.type === 'waiting' ? `Waiting for ${e.dependency}` : p.status;
    stdout.write(` ${mark} ${p.resource} ${p.name}  ${p.done ? paint(32, status) : status}\n`);
  };
  return {
    emit,
    alignLogs(names) {
      width = Math.max(width, ...names.map((n) => n.length));
    },
  };
}

export function jsonRenderer(io: CliIO): Renderer {
  return {
    emit: (e) => void io.stdout.write(`${JSON.stringify(e)}\n`),
    alignLogs: () => undefined,
  };
}
