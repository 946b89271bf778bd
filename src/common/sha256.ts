// SHA-256 in hex, with node:crypto loaded at the first call rather than at start: the
// commands that never hash (down, ps, logs, run of an image) are spared its two dozen
// internal modules.

export function sha256Hex(data: string): string {
  return process.getBuiltinModule('node:crypto').createHash('sha256').update(data).digest('hex');
}
