// A tar archive built in memory from a list of entries: the small layers the store
// makes itself (the busybox image) and the tests' hand-made layers.
import tar from 'tar-stream';

export type TarEntry = Parameters<tar.Pack['entry']>[0] & { body?: string | Buffer };

export async function packTar(entries: readonly TarEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => { chunks.push(c as Buffer); });
  const ended = new Promise<void>((resolve, reject) => {
    pack.on('end', () => resolve());
    pack.on('error', reject);
  });
  for (const { body, ...header } of entries) {
    await new Promise<void>((resolve, reject) => {
      pack.entry(header, body ?? '', (err) => (err ? reject(err) : resolve()));
    });
  }
  pack.finalize();
  await ended;
  return Buffer.concat(chunks);
}
