// Putting the live display on the terminal and taking it off: Ink on the alternate
// screen (so the shell's screen comes back as it was), raw keys, Ctrl-C as a key rather
// than a signal. `suspend` hands the terminal to a child (a shell) and `resume` takes it back.

import { render, type Instance } from 'ink';
import type { TuiActions } from './actions.js';
import { App } from './app.js';
import type { TuiStore } from './store.js';

const ENTER_ALT_SCREEN = '\x1b[?1049h\x1b[H';
const LEAVE_ALT_SCREEN = '\x1b[?1049l';

export interface TuiTerminal {
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
}

export interface TuiHandle {
  /** Takes the display off the terminal (cooked mode, main screen) until resume. */
  suspend(): void;
  resume(): void;
  close(): void;
}

export function mountTui(store: TuiStore, actions: TuiActions, terminal: TuiTerminal): TuiHandle {
  let instance: Instance | undefined;
  const mount = (): void => {
    terminal.stdout.write(ENTER_ALT_SCREEN);
    instance = render(<App store={store} actions={actions} />, { stdin: terminal.stdin, stdout: terminal.stdout, stderr: terminal.stderr, exitOnCtrlC: false, patchConsole: false });
  };
  const unmount = (): void => {
    if (!instance) return;
    instance.unmount();
    instance.cleanup();
    instance = undefined;
    // Stop reading the terminal at the handle: without it this process keeps filling its
    // stdin buffer and a shell given the terminal would miss the keys it took.
    terminal.stdin.pause();
    stopReading(terminal.stdin);
    terminal.stdout.write(LEAVE_ALT_SCREEN);
  };
  mount();
  return {
    suspend: unmount,
    resume: () => {
      if (instance) return;
      startReading(terminal.stdin);
      mount();
    },
    close: unmount,
  };
}

/**
 * pause() alone leaves a TTY stream reading at its handle until its buffer is full (Node
 * stops the handle on pause only for sockets with a user buffer), so the display stops and
 * restarts the handle itself; the stream's own state is left as it was (a read pending),
 * so what the restarted handle reads reaches Ink's 'readable' listener.
 */
type ReadHandle = { reading?: boolean; readStop?: () => number; readStart?: () => number };
const handleOf = (stream: NodeJS.ReadStream): ReadHandle | undefined => (stream as unknown as { _handle?: ReadHandle })._handle;

function stopReading(stream: NodeJS.ReadStream): void {
  const handle = handleOf(stream);
  if (handle?.reading && handle.readStop) {
    handle.reading = false;
    handle.readStop();
  }
}

function startReading(stream: NodeJS.ReadStream): void {
  const handle = handleOf(stream);
  if (handle && !handle.reading && handle.readStart) {
    handle.reading = true;
    handle.readStart();
  }
}
