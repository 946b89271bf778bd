// NODE_EXTRA_CA_CERTS for registry TLS: the engine starts without Node loading the file and
// trusts it at its first TLS connection (extra-ca.ts). A real HTTPS server on 127.0.0.1 with
// a certificate of a CA made here (openssl) is reached through the registry transport.

import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { extraCaContext } from '../../src/image/registry/extra-ca.js';
import { readBody, RegistryTransport } from '../../src/image/registry/transport.js';

/** A CA and a server certificate it signed for IP 127.0.0.1. */
function makeCertificates(dir: string): { ca: string; key: string; cert: string } {
  const ssl = (...args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=stack test CA');
  ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1');
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  ssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'san.ext');
  return { ca: join(dir, 'ca.pem'), key: join(dir, 'server.key'), cert: join(dir, 'server.pem') };
}

t.test('an HTTPS registry signed by the extra CA file is trusted; without it, refused', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'stack-extra-ca-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const files = makeCertificates(dir);
  const server = createServer({ key: readFileSync(files.key), cert: readFileSync(files.cert) }, (_req, res) => res.end('{}'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const url = new URL(`https://127.0.0.1:${(server.address() as AddressInfo).port}/v2/`);

  const trusted = new RegistryTransport({ extraCaFile: files.ca, attempts: 1 });
  t.teardown(() => trusted.close());
  const res = await trusted.request({ method: 'GET', url });
  t.equal(res.statusCode, 200);
  t.equal((await readBody(res, 100)).toString(), '{}');

  const plain = new RegistryTransport({ attempts: 1 });
  t.teardown(() => plain.close());
  await t.rejects(plain.request({ method: 'GET', url }), /cannot reach 127\.0\.0\.1:\d+: .*(self[- ]signed|unable to verify|local issuer)/);
});

t.test('an extra CA file that cannot be used is ignored with Node\'s warning', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'stack-extra-ca-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const warnings: string[] = [];
  const missing = join(dir, 'missing.pem');
  t.equal(await extraCaContext(missing, (m) => warnings.push(m)), undefined);
  const notPem = join(dir, 'not.pem');
  writeFileSync(notPem, 'not a certificate\n');
  t.equal(await extraCaContext(notPem, (m) => warnings.push(m)), undefined);
  t.match(warnings, [
    new RegExp(`^Ignoring extra certs from \`${missing}\`, load failed: ENOENT`),
    new RegExp(`^Ignoring extra certs from \`${notPem}\`, load failed: no PEM certificate in it$`),
  ]);
  t.equal(await extraCaContext(missing, (m) => warnings.push(m)), undefined, 'read once, as Node does');
  t.equal(warnings.length, 2, 'and said once');
});
