// Shows the JSON progress lines of a pull or push (Docker's shape) and turns an error line
// into a thrown error. On a terminal each layer has a line, redrawn in place; otherwise
// each change of a layer's status is printed once (not every byte count), so logs stay short.

import type { IncomingMessage } from 'node:http';
import { RuntimeFailure } from '../common/errors.js';
import type { CliIO } from './io.js';

interface ProgressLine {
  status?: string;
  id?: string;
  progress?: string;
  progressDetail?: { current?: number; total?: number };
  error?: string;
  errorDetail?: { message?: string };
  aux?: Record<string, unknown>;
}

/** Reads the stream to its end; resolves to the lines seen, rejects with the stream's error line. */
export async function showTransferProgress(res: IncomingMessage, io: CliIO, quiet = false): Promise<ProgressLine[]> {
  const out = io.stdout;
  const tty = out.isTTY === true;
  const rows: string[] = [];
  const lastStatus = new Map<string, string>();
  const seen: ProgressLine[] = [];
  let failure: string | undefined;

  const show = (line: ProgressLine): void => {
    if (quiet || line.status === undefined) return;
    const id = line.id;
    // A per-layer line (12 hex digits); "Pulling from x" has the tag as its id and is a plain line.
    if (id === undefined || !/^[a-f0-9]{12}$/.test(id)) {
      out.write(`${id ? `${id}: ` : ''}${line.status}\n`);
      return;
    }
    const text = `${id}: ${line.status}${line.progress ? ` ${line.progress}` : ''}`;
    if (tty) {
      const row = rows.indexOf(id);
      if (row === -1) {
        rows.push(id);
        out.write(`${text}\n`);
        return;
      }
      const up = rows.length - row;
      out.write(`\x1b[${up}A\r\x1b[2K${text}\x1b[${up}B\r`);
      return;
    }
    if (lastStatus.get(id) === line.status) return;
    lastStatus.set(id, line.status);
    out.write(`${id}: ${line.status}\n`);
  };

  let rest = '';
  for await (const chunk of res as AsyncIterable<Buffer>) {
    rest += chunk.toString('utf8');
    let nl: number;
    while ((nl = rest.indexOf('\n')) >= 0) {
      const text = rest.slice(0, nl).trim();
      rest = rest.slice(nl + 1);
      if (text === '') continue;
      const line = JSON.parse(text) as ProgressLine;
      seen.push(line);
      if (line.error !== undefined || line.errorDetail !== undefined) failure = line.errorDetail?.message ?? line.error;
      else show(line);
    }
  }
  if (failure !== undefined) throw new RuntimeFailure(failure);
  return seen;
}
