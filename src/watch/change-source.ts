// Where file changes come from: a small interface the watch core is given (so tests can
// feed it changes by hand), and its one real implementation over chokidar.

import { watch } from 'chokidar';

export type ChangeKind = 'add' | 'change' | 'unlink' | 'addDir' | 'unlinkDir';

export interface FileChange {
  kind: ChangeKind;
  /** Absolute. */
  path: string;
}

export interface ChangeSubscription {
  /** Resolves once the initial scan is done: changes after it are reported. */
  readonly ready: Promise<void>;
  close(): Promise<void>;
}

export interface ChangeSourceOptions {
  /** Absolute files and directories to watch (directories recursively). */
  paths: readonly string[];
  /** Whether a directory is skipped whole (not looked into). */
  skipsDirectory(dir: string): boolean;
  onChange(change: FileChange): void;
  onError(error: Error): void;
}

export type ChangeSource = (options: ChangeSourceOptions) => ChangeSubscription;

/** Changes seen by chokidar (inotify on Linux), without the files already there when it starts. */
export const chokidarChangeSource: ChangeSource = (options) => {
  const watcher = watch([...options.paths], {
    ignoreInitial: true,
    // Only directories are skipped here: a file is the core's to judge, rule by rule.
    ignored: (path, stats) => stats?.isDirectory() === true && options.skipsDirectory(path),
  });
  const ready = new Promise<void>((resolve) => watcher.once('ready', resolve));
  watcher.on('all', (event, path) => {
    if (event === 'add' || event === 'change' || event === 'unlink' || event === 'addDir' || event === 'unlinkDir') options.onChange({ kind: event, path });
  });
  watcher.on('error', (err) => options.onError(err instanceof Error ? err : new Error(String(err))));
  return { ready, close: () => watcher.close() };
};
