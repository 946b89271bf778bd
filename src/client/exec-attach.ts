// Starts an exec instance on a hijacked connection, as the docker CLI does: the HTTP
// request upgrades to a raw stream that carries stdin one way and the output the other.
// Resolves with the process's exit code (read from the exec's inspect afterwards).

import { FrameDecoder, STDERR } from '../common/docker-stream.js';
import { RuntimeFailure } from '../common/errors.js';
import type { ApiClient } from './api-client.js';

export interface AttachStreams {
  tty: boolean;
  stdin?: NodeJS.ReadStream | NodeJS.ReadableStream | undefined;
  stdout: { write(data: string | Buffer): unknown };
  stderr: { write(data: string | Buffer): unknown };
}

export async function attachExec(client: ApiClient, execId: string, streams: AttachStreams): Promise<number> {
  const body = JSON.stringify({ Detach: false, Tty: streams.tty });
  await new Promise<void>((resolve, reject) => {
    const req = client.request({
      method: 'POST',
      path: `/v1.41/exec/${execId}/start`,
      headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), Connection: 'Upgrade', Upgrade: 'tcp' },
    });
    req.once('error', reject);
    req.once('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let message = text;
        try {
          message = (JSON.parse(text) as { message: string }).message;
        } catch {
          // plain text
        }
        reject(new RuntimeFailure(message || `exec start answered ${res.statusCode}`));
      });
    });
    req.once('upgrade', (_res, socket, head) => {
      const decoder = new FrameDecoder((stream, payload) => (stream === STDERR ? streams.stderr : streams.stdout).write(payload));
      const onData = (chunk: Buffer): void => {
        if (streams.tty) streams.stdout.write(chunk);
        else decoder.push(chunk);
      };
      if (head.length) onData(head);
      socket.on('data', onData);
      const stdin = streams.stdin as NodeJS.ReadStream | undefined;
      const raw = streams.tty && stdin?.isTTY ? stdin : undefined;
      raw?.setRawMode(true);
      if (stdin) {
        stdin.on('data', (d: Buffer) => socket.write(d));
        stdin.once('end', () => socket.end());
      }
      const finish = (): void => {
        raw?.setRawMode(false);
        stdin?.pause();
        resolve();
      };
      socket.once('end', finish);
      socket.once('close', finish);
      socket.once('error', finish);
    });
    req.end(body);
  });
  const inspect = await client.call<{ ExitCode: number | null; Running: boolean }>('GET', `/exec/${execId}/json`);
  return inspect.ExitCode ?? 126;
}

export interface ExecRequest {
  cmd: string[];
  user?: string;
  workingDir?: string;
  /** KEY=VALUE */
  env?: string[];
  privileged?: boolean;
}

/** Runs a command in a container to its end, without a terminal or stdin; resolves with its exit code. */
export async function execInContainer(client: ApiClient, container: string, request: ExecRequest, streams: Pick<AttachStreams, 'stdout' | 'stderr'>): Promise<number> {
  const { Id } = await client.call<{ Id: string }>('POST', `/containers/${encodeURIComponent(container)}/exec`, {
    body: {
      AttachStdout: true, AttachStderr: true, Tty: false, Cmd: request.cmd,
      ...(request.env ? { Env: request.env } : {}),
      ...(request.user ? { User: request.user } : {}),
      ...(request.workingDir ? { WorkingDir: request.workingDir } : {}),
      ...(request.privileged ? { Privileged: true } : {}),
    },
  });
  return attachExec(client, Id, { tty: false, ...streams });
}
