// The live display of `stack up`: header, service table, log pane (or help) and footer,
// laid out to the terminal's size, re-rendered when the store changes (batched) and once
// a second for uptimes. Keys become model actions or calls on the CLI's actions.

import { Box, useInput, useStdout } from 'ink';
import { useEffect, useState, useSyncExternalStore } from 'react';
import type { TuiActions } from './actions.js';
import { Footer } from './footer.js';
import { Header } from './header.js';
import { HelpOverlay } from './help-overlay.js';
import { commandForKey, splitKeys, type KeyInfo } from './keys.js';
import { LogPane } from './log-pane.js';
import { headerSummary, serviceRows, serviceRunning, visibleLines, type TuiState } from './model.js';
import { ServiceTable } from './service-table.js';
import type { TuiStore } from './store.js';

export interface AppProps {
  store: TuiStore;
  actions: TuiActions;
  now?: () => number;
  /** The terminal's size; read from stdout (and its resizes) when not given. */
  size?: { rows: number; columns: number };
  /** How often uptimes advance; 0: only when the state changes. */
  tickMs?: number;
}

/** Rows the log pane gets: the rest of the screen, one row short of it (Ink clears the whole terminal for a frame as tall as the screen). */
export function logHeight(rows: number, services: number): number {
  return Math.max(1, rows - services - 6);
}

function useTerminalSize(given: AppProps['size']): { rows: number; columns: number } {
  const { stdout } = useStdout();
  const read = (): { rows: number; columns: number } => given ?? { rows: stdout.rows || 24, columns: stdout.columns || 80 };
  const [size, setSize] = useState(read);
  useEffect(() => {
    if (given) return undefined;
    const onResize = (): void => setSize(read());
    stdout.on('resize', onResize);
    return () => void stdout.off('resize', onResize);
  }, [stdout, given?.rows, given?.columns]);
  return given ?? size;
}

function logTitle(state: TuiState): string {
  const parts = [state.focus ? `logs of ${state.focus}` : 'logs of all services'];
  if (state.filter !== '') parts.push(`filter "${state.filter}"`);
  parts.push(state.follow ? 'following' : 'paused (f follows, PgUp/PgDn scroll)');
  return parts.join(' · ');
}

export function App({ store, actions, now = Date.now, size, tickMs = 1000 }: AppProps) {
  const state = useSyncExternalStore(store.subscribe, store.getState);
  const { rows, columns } = useTerminalSize(size);
  const [, setTick] = useState(0);
  useEffect(() => {
    if (tickMs <= 0) return undefined;
    const timer = setInterval(() => setTick((n) => n + 1), tickMs);
    return () => clearInterval(timer);
  }, [tickMs]);
  const height = logHeight(rows, state.services.length);

  useInput((input, key) => {
    for (const [one, info] of splitKeys(input, key)) onKey(one, info);
  });

  const onKey = (input: string, key: KeyInfo): void => {
    const current = store.getState();
    const command = commandForKey(current, input, key, height);
    if (!command) return;
    switch (command.kind) {
      case 'model': store.dispatch(command.action); return;
      case 'restart': actions.restart(command.service); return;
      case 'toggle-running': actions.toggleRunning(command.service, serviceRunning(current, command.service)); return;
      case 'rebuild': actions.rebuild(command.service); return;
      case 'shell': actions.shell(command.service); return;
      case 'detach': actions.detach(); return;
      case 'quit': actions.quit(); return;
      case 'interrupt': actions.interrupt(); return;
    }
  };

  const width = Math.max(20, columns);
  return (
    <Box flexDirection="column" width={width}>
      <Header summary={headerSummary(state)} status={state.status} stopping={state.stopping} />
      <ServiceTable rows={serviceRows(state, now())} selected={state.selected} width={width} />
      {state.help
        ? <HelpOverlay height={height} width={width} />
        : <LogPane lines={visibleLines(state, height)} height={height} width={width} services={state.services.map((s) => s.name)} title={logTitle(state)} containers={Object.values(state.containers).map((c) => c.name)} />}
      <Footer draft={state.draft} />
    </Box>
  );
}
