// The official `docker` CLI as a test client: where it is, and a runner pointed at a
// private engine. The engine runs in the test's process, so the CLI always runs
// asynchronously (a sync spawn would block the engine it talks to).
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import type { EngineHarness } from './engine-harness.js';

export const DOCKER = '/usr/local/bin/docker';

export interface DockerResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `docker ARGS` against the harness's engine. HOME and DOCKER_CONFIG are private temp
 * dirs, so neither the machine's docker config nor its contexts can redirect the CLI.
 */
export function makeDocker(engine: EngineHarness, home: string, extraEnv: Record<string, string> = {}): (args: string[], input?: string) => Promise<DockerResult> {
  const env = {
    ...extraEnv,
    DOCKER_HOST: `unix://${engine.paths.socket}`,
    DOCKER_CONFIG: join(home, '.docker'),
    HOME: home,
    PATH: process.env.PATH ?? '/usr/bin:/bin',
  };
  return (args, input) => new Promise((resolve) => {
    const child = execFile(DOCKER, args, { env, timeout: 60_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({ code, stdout, stderr });
    });
    // Without input, stdin is closed at once, as from a CI job with no terminal.
    child.stdin?.end(input ?? '');
  });
}
