// What a key press means, given the state: a change of the view (a model action) or a
// command for the CLI (restart, stop/start, rebuild, shell, detach, quit). Pure, so the
// key map is tested without a terminal; the help overlay lists the same keys.

import { selectedService, type TuiAction, type TuiState } from './model.js';

/** The parts of Ink's Key this map reads. */
export interface KeyInfo {
  upArrow?: boolean;
  downArrow?: boolean;
  pageUp?: boolean;
  pageDown?: boolean;
  return?: boolean;
  escape?: boolean;
  ctrl?: boolean;
  backspace?: boolean;
  delete?: boolean;
  meta?: boolean;
}

export type ServiceCommand = 'restart' | 'toggle-running' | 'rebuild' | 'shell';

export type KeyCommand =
  | { kind: 'model'; action: TuiAction }
  | { kind: ServiceCommand; service: string }
  | { kind: 'detach' }
  | { kind: 'quit' }
  | { kind: 'interrupt' };

export const KEY_HELP: ReadonlyArray<[string, string]> = [
  ['↑/↓ j/k', 'select a service'],
  ['enter', 'show only the selected service\'s logs'],
  ['a', 'show the logs of all services'],
  ['/', 'filter the logs (enter applies, esc clears)'],
  ['f', 'follow the logs on/off'],
  ['PgUp/PgDn', 'scroll the logs (stops following)'],
  ['r', 'restart the selected service'],
  ['s', 'stop the selected service, or start it when stopped'],
  ['b', 'rebuild and recreate the selected service'],
  ['e', 'open a shell in the selected service\'s container'],
  ['d', 'detach: leave the stack running and quit'],
  ['q', 'stop the stack and quit'],
  ['Ctrl-C', 'stop the stack and quit (again: kill it)'],
  ['?', 'this help (esc or ? closes it)'],
];

export function commandForKey(state: TuiState, input: string, key: KeyInfo, pageSize: number): KeyCommand | undefined {
  const model = (action: TuiAction): KeyCommand => ({ kind: 'model', action });
  if (key.ctrl && input === 'c') return { kind: 'interrupt' };
  if (state.draft !== undefined) {
    if (key.return) return model({ kind: 'filter-apply' });
    if (key.escape) return model({ kind: 'filter-clear' });
    // Terminals send DEL (0x7f) for Backspace, which Ink reports as delete.
    if (key.backspace || key.delete) return model({ kind: 'filter-erase' });
    if (key.ctrl || key.meta || input === '' || /[\x00-\x1f]/.test(input)) return undefined;
    return model({ kind: 'filter-type', text: input });
  }
  if (state.help) return key.escape || input === '?' || input === 'q' ? model({ kind: 'toggle-help' }) : undefined;
  if (key.upArrow || input === 'k') return model({ kind: 'select', delta: -1 });
  if (key.downArrow || input === 'j') return model({ kind: 'select', delta: 1 });
  if (key.pageUp) return model({ kind: 'scroll', pages: -1, pageSize });
  if (key.pageDown) return model({ kind: 'scroll', pages: 1, pageSize });
  if (key.return) return model({ kind: 'focus-selected' });
  if (key.escape) return state.filter !== '' ? model({ kind: 'filter-clear' }) : undefined;
  const service = selectedService(state);
  switch (input) {
    case 'a': return model({ kind: 'focus-all' });
    case '/': return model({ kind: 'filter-start' });
    case 'f': return model({ kind: 'toggle-follow' });
    case '?': return model({ kind: 'toggle-help' });
    case 'd': return { kind: 'detach' };
    case 'q': return { kind: 'quit' };
    case 'r': return service === undefined ? undefined : { kind: 'restart', service };
    case 's': return service === undefined ? undefined : { kind: 'toggle-running', service };
    case 'b': return service === undefined ? undefined : { kind: 'rebuild', service };
    case 'e': return service === undefined ? undefined : { kind: 'shell', service };
    default: return undefined;
  }
}

/**
 * Ink reads keys a chunk at a time: keys typed faster than it reads (or pasted) arrive as
 * one string. Plain text is split back into its keys (a CR being Enter, DEL Backspace).
 */
export function splitKeys(input: string, key: KeyInfo): Array<[string, KeyInfo]> {
  if (input.length <= 1 || key.ctrl || key.meta || key.escape || !/^[\x20-\x7e\r\x7f\u00a0-\uffff]+$/.test(input)) return [[input, key]];
  return [...input].map((c): [string, KeyInfo] => (c === '\r' ? ['', { return: true }] : c === '\x7f' ? ['', { delete: true }] : [c, {}]));
}
