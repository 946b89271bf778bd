// The bottom line: the filter being typed, or the keys.

import { Text } from 'ink';

const HINTS = '↑↓/jk select  enter focus  a all  / filter  f follow  PgUp/PgDn scroll  r restart  s stop/start  b rebuild  e shell  d detach  q quit  ? help';

export function Footer({ draft }: { draft?: string | undefined }) {
  if (draft !== undefined) {
    return (
      <Text wrap="truncate">
        <Text bold>filter: </Text>{draft}<Text inverse> </Text><Text color="gray">  enter applies · esc clears</Text>
      </Text>
    );
  }
  return <Text wrap="truncate" color="gray">{HINTS}</Text>;
}
