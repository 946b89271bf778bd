// `?`: every key and what it does, in place of the logs.

import { Box, Text } from 'ink';
import { KEY_HELP } from './keys.js';

export function HelpOverlay({ height, width }: { height: number; width: number }) {
  const keyWidth = Math.max(...KEY_HELP.map(([k]) => k.length));
  return (
    <Box flexDirection="column" borderStyle="round" borderColor="cyan" height={height + 1} width={width} paddingX={1}>
      <Text bold>Keys</Text>
      {KEY_HELP.slice(0, Math.max(0, height - 2)).map(([k, what]) => (
        <Text key={k} wrap="truncate"><Text color="cyan">{k.padEnd(keyWidth)}</Text>  {what}</Text>
      ))}
    </Box>
  );
}
