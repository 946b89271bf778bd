// Sizes as docker prints them in prune reports: decimal units, `1.234MB`.

export function humanBytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(3).replace(/\.?0+$/, '')}${units[i]}`;
}
