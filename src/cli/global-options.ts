// Options every command takes, as Compose has them: which files, which project,
// which environment and profiles (commands turn them into LoadOptions), and which engine.

import type { Argv } from 'yargs';
import type { LoadOptions } from '../compose/load.js';

export function withGlobalOptions<T>(y: Argv<T>) {
  return y
    .option('file', { alias: 'f', type: 'string', description: 'Stack file(s), merged in order (default: stack.yaml or compose.yaml found upward)', global: true })
    .option('project-name', { alias: 'p', type: 'string', description: 'Project name (default: top-level name:, or the directory name)', global: true })
    .option('project-directory', { type: 'string', description: 'Directory that relative paths are resolved against (default: the first file\'s directory)', global: true })
    .option('env-file', { type: 'string', description: 'Environment file(s) for interpolation (default: .env in the project directory)', global: true })
    .option('profile', { type: 'string', description: 'Enable services of this profile (repeatable)', global: true })
    .option('host', { alias: 'H', type: 'string', description: 'Engine to use: unix://PATH or ssh://[USER@]HOST[:PORT][/PATH/TO/stack.sock] (env STACK_HOST)', global: true });
}

/** The global options that take a value: their values are not command words. */
export const GLOBAL_OPTIONS_WITH_VALUE: ReadonlySet<string> = new Set(['-f', '--file', '-p', '--project-name', '--project-directory', '--env-file', '--profile', '-H', '--host']);

// Repeatable options are plain strings to yargs (an array option would swallow the
// command name in `-f a.yaml config`); repeating one gives an array.
export interface GlobalArgs {
  file?: string | string[] | undefined;
  projectName?: string | undefined;
  projectDirectory?: string | undefined;
  envFile?: string | string[] | undefined;
  profile?: string | string[] | undefined;
  host?: string | undefined;
}

function list(v: string | string[] | undefined): string[] | undefined {
  return v === undefined ? undefined : Array.isArray(v) ? v : [v];
}

export function loadOptionsFrom(args: GlobalArgs): LoadOptions {
  return {
    ...(args.file !== undefined ? { files: list(args.file)! } : {}),
    ...(args.projectName !== undefined ? { projectName: args.projectName } : {}),
    ...(args.projectDirectory !== undefined ? { projectDirectory: args.projectDirectory } : {}),
    ...(args.envFile !== undefined ? { envFiles: list(args.envFile)! } : {}),
    ...(args.profile !== undefined ? { profiles: list(args.profile)!.flatMap((p) => p.split(',')) } : {}),
  };
}
