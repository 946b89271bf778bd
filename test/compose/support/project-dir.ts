// A project in a temp directory for end-to-end compose tests against a private engine, and
// the check every such test ends with: the project taken down and nothing of it left.

import type { Test } from 'tap';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ContainerSummary, NetworkInspect } from '../../../src/common/api-types.js';
import type { VolumeListResponse } from '../../../src/common/volume-api-types.js';
import { makeEngineHarness, type EngineHarness } from '../../api/engine-harness.js';
import { runCli, type CliResult } from '../../cli/run-cli.js';

export interface ProjectDir {
  dir: string;
  /** Writes compose.yaml. */
  write(yaml: string): void;
  /** The CLI, in the project's directory, against the harness's engine. */
  stack(...args: string[]): Promise<CliResult>;
  /** Takes the project down (best effort) and removes the directory: for t.teardown. */
  remove(): Promise<void>;
}

export function projectDir(h: EngineHarness, prefix: string, yaml?: string): ProjectDir {
  const dir = mkdtempSync(join(tmpdir(), `stack-${prefix}-`));
  const p: ProjectDir = {
    dir,
    write: (text) => writeFileSync(join(dir, 'compose.yaml'), text),
    stack: (...args) => runCli(args, { cwd: dir, env: h.env }),
    remove: async () => {
      await p.stack('down', '-v', '--remove-orphans', '-t', '1').catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  if (yaml !== undefined) p.write(yaml);
  return p;
}

/** `down -v --remove-orphans`, then the engine has no containers, networks, volumes or netns files left. */
export async function assertProjectGone(t: Test, h: EngineHarness, p: ProjectDir): Promise<void> {
  const down = await p.stack('down', '-v', '--remove-orphans', '-t', '1');
  t.equal(down.code, 0, `down -v --remove-orphans: ${down.stderr}`);
  t.same((await h.client.call<ContainerSummary[]>('GET', '/containers/json', { query: { all: 1 } })).map((c) => c.Names[0]), [], 'no containers left');
  t.same((await h.client.call<NetworkInspect[]>('GET', '/networks')).map((n) => n.Name).sort(), ['bridge', 'host', 'none'], 'no networks left');
  t.same((await h.client.call<VolumeListResponse>('GET', '/volumes')).Volumes.map((v) => v.Name), [], 'no volumes left');
  const netns = join(h.paths.runRoot, 'netns');
  t.same(existsSync(netns) ? readdirSync(netns) : [], [], 'no network namespace files left');
}

/** A private engine and a project directory, both taken away when the test ends (even when it fails). */
export async function engineWithProject(t: Test, name: string, yaml?: string): Promise<{ h: EngineHarness; p: ProjectDir }> {
  const h = await makeEngineHarness(name);
  const p = projectDir(h, name, yaml);
  t.teardown(async () => {
    await p.remove();
    await h.cleanup();
  });
  return { h, p };
}
