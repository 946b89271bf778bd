// One row per service: replicas, state (or what `up` is doing to it), health, ports,
// usage, restarts, exit code and uptime; the selected row in inverse.

import { Box, Text } from 'ink';
import { formatBytes, formatDuration, type ServiceRow } from './model.js';

const COLUMNS = ['SERVICE', 'REPLICAS', 'STATE', 'HEALTH', 'PORTS', 'CPU', 'MEM', 'RESTARTS', 'EXIT', 'UPTIME'] as const;

function cells(row: ServiceRow): string[] {
  return [
    row.name, row.replicas, row.state, row.health || '-', row.ports || '-',
    row.cpuPercent !== undefined ? `${row.cpuPercent.toFixed(1)}%` : '-',
    row.memoryBytes !== undefined ? formatBytes(row.memoryBytes) : '-',
    String(row.restarts),
    row.exitCode !== undefined ? String(row.exitCode) : '-',
    row.uptimeMs !== undefined ? formatDuration(row.uptimeMs) : '-',
  ];
}

const STATE_COLOURS: Record<string, string> = { running: 'green', exited: 'red', dead: 'red', restarting: 'yellow', Failed: 'red' };

export function ServiceTable({ rows, selected, width }: { rows: ServiceRow[]; selected: number; width: number }) {
  const table = rows.map(cells);
  // Ports and state may be long: each column as wide as its widest cell, up to a cap.
  const widths = COLUMNS.map((h, i) => Math.min(i === 2 || i === 4 ? 28 : 24, Math.max(h.length, ...table.map((r) => r[i]!.length))));
  const line = (values: readonly string[]): string => values.map((v, i) => (v.length > widths[i]! ? `${v.slice(0, widths[i]! - 1)}…` : v.padEnd(widths[i]!))).join('  ');
  return (
    <Box flexDirection="column" width={width}>
      <Text bold wrap="truncate">{line(COLUMNS)}</Text>
      {table.map((values, i) => (
        <Text key={rows[i]!.name} inverse={i === selected} wrap="truncate" color={STATE_COLOURS[rows[i]!.state.split(' ')[0]!] ?? (/^(Waiting|Pulling|Building|Creating|Starting|Stopping|Recreating)/.test(rows[i]!.state) ? 'yellow' : undefined)}>
          {line(values)}
        </Text>
      ))}
    </Box>
  );
}
