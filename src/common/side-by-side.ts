// Kernel work that may run at once (a veth deletion beside an iptables change): every piece
// is awaited before the first failure is thrown, so nothing is still running when the
// caller hears back, and a failure is never left unhandled.

/** Awaits every piece; then throws the first failure, if any. */
export async function sideBySide(pieces: ReadonlyArray<Promise<unknown>>): Promise<void> {
  const settled = await Promise.allSettled(pieces);
  for (const s of settled) if (s.status === 'rejected') throw s.reason;
}
