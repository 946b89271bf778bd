// The logs, virtually: only the lines that fit are rendered (at 10,000 lines a second the
// ring holds thousands a render), each cut to the width, prefixed by its container in its
// service's colour.

import { Box, Text } from 'ink';
import type { LogLine } from './log-ring.js';

const SERVICE_COLOURS = ['cyan', 'yellow', 'green', 'magenta', 'blue', 'cyanBright', 'yellowBright', 'greenBright', 'magentaBright', 'blueBright'] as const;

export function serviceColour(services: readonly string[], service: string): string {
  const i = services.indexOf(service);
  return SERVICE_COLOURS[(i < 0 ? 0 : i) % SERVICE_COLOURS.length]!;
}

export interface LogPaneProps {
  lines: readonly LogLine[];
  height: number;
  width: number;
  services: readonly string[];
  title: string;
  /** Container names known, so the prefixes keep one width as lines scroll by. */
  containers: readonly string[];
}

export function LogPane({ lines, height, width, services, title, containers }: LogPaneProps) {
  const prefixWidth = Math.min(Math.floor(width / 3), Math.max(0, ...containers.map((c) => c.length), ...lines.map((l) => l.container.length)));
  const textWidth = Math.max(1, width - prefixWidth - 3);
  return (
    <Box flexDirection="column" height={height + 1} width={width}>
      <Text wrap="truncate" color="gray">{`── ${title} `.padEnd(width, '─')}</Text>
      {lines.map((l) => (
        <Text key={l.seq} wrap="truncate">
          <Text color={serviceColour(services, l.service)}>{l.container.padEnd(prefixWidth).slice(0, prefixWidth)} |</Text> {l.text.length > textWidth ? l.text.slice(0, textWidth) : l.text}
        </Text>
      ))}
    </Box>
  );
}
