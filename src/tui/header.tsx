// The top line: project, services running, health, total CPU and memory; and below it the
// latest progress, warning or error.

import { Box, Text } from 'ink';
import { formatBytes, type HeaderSummary, type StatusMessage } from './model.js';

export function Header({ summary, status, stopping }: { summary: HeaderSummary; status?: StatusMessage | undefined; stopping?: 'graceful' | 'kill' | undefined }) {
  const { health } = summary;
  const healthText = [health.healthy ? `${health.healthy} healthy` : '', health.starting ? `${health.starting} starting` : '', health.unhealthy ? `${health.unhealthy} unhealthy` : '']
    .filter((s) => s !== '').join(', ') || '-';
  return (
    <Box flexDirection="column">
      <Text wrap="truncate">
        <Text bold color="cyan">stack · {summary.project}</Text>
        {'   '}services <Text bold>{summary.servicesRunning}/{summary.servicesTotal}</Text> running
        {'   '}health <Text color={health.unhealthy ? 'red' : health.starting ? 'yellow' : 'green'}>{healthText}</Text>
        {'   '}CPU <Text bold>{summary.cpuPercent.toFixed(1)}%</Text>
        {'   '}MEM <Text bold>{formatBytes(summary.memoryBytes)}</Text>
        {stopping ? <Text color="red" bold>{'   '}{stopping === 'kill' ? 'Killing…' : 'Stopping… (Ctrl-C again to kill)'}</Text> : null}
      </Text>
      <Text wrap="truncate" color={status?.level === 'error' ? 'red' : status?.level === 'warning' ? 'yellow' : 'gray'}>{status?.text.split('\n')[0] ?? ' '}</Text>
    </Box>
  );
}
