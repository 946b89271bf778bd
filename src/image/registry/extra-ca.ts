// NODE_EXTRA_CA_CERTS for registry TLS. The engine starts without Node loading that file
// (bin/stackd.js and the CLI's autostart hold it back: loading it costs every engine start
// ~1.5 MB and ~100 ms here, for TLS an engine may never make) and trusts it here instead, at
// its first TLS connection: Node's bundled roots plus the file's certificates, which is what
// Node's default would have been. A file that cannot be used is ignored with Node's warning.

import { readFile } from 'node:fs/promises';
import { createSecureContext, rootCertificates, type SecureContext } from 'node:tls';

/** Read once per file, as Node reads it once per process. */
const contexts = new Map<string, Promise<SecureContext | undefined>>();

/** The TLS context that trusts Node's roots and `file`'s certificates; undefined (Node's default) when it cannot be used. */
export function extraCaContext(file: string, warn: (message: string) => void = (message) => process.emitWarning(message)): Promise<SecureContext | undefined> {
  let context = contexts.get(file);
  if (context === undefined) {
    context = trustedWith(file).catch((err: unknown) => {
      warn(`Ignoring extra certs from \`${file}\`, load failed: ${(err as Error).message}`);
      return undefined;
    });
    contexts.set(file, context);
  }
  return context;
}

async function trustedWith(file: string): Promise<SecureContext> {
  const certificates = (await readFile(file, 'utf8')).match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (certificates.length === 0) throw new Error('no PEM certificate in it');
  return createSecureContext({ ca: [...rootCertificates, ...certificates] });
}
