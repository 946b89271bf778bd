// Small OCI image layouts written for tests, the way any image tool would: busybox-based
// images of several layers (gzip and plain tar), optionally a big incompressible layer,
// and multi-platform indexes. skopeo copies them into a test registry.

import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { packTar, type TarEntry } from '../../src/image/pack-tar.js';
import { hostPlatform, type Platform } from '../../src/image/registry/platform.js';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';

interface Blob { digest: string; size: number }

function sha256(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

function writeBlob(dir: string, data: Buffer): Blob {
  const digest = sha256(data);
  mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
  writeFileSync(join(dir, 'blobs', 'sha256', digest.slice(7)), data);
  return { digest, size: data.length };
}

export interface LayerSpec {
  entries: TarEntry[];
  gzip?: boolean;
}

/** The layers of a test image: busybox (gzip), a file saying `greeting` (plain tar), and `bigBytes` of random data (gzip, so it stays big). */
export async function busyboxLayers(greeting: string, bigBytes = 0): Promise<LayerSpec[]> {
  const binary = readFileSync('/bin/busybox');
  const mtime = new Date(0);
  const layers: LayerSpec[] = [
    {
      gzip: true,
      entries: [
        ...['bin', 'etc', 'proc', 'sys', 'dev', 'tmp', 'root'].map((d): TarEntry => ({ name: `${d}/`, type: 'directory', mode: d === 'tmp' ? 0o1777 : 0o755, mtime })),
        { name: 'bin/busybox', mode: 0o755, body: binary, mtime },
        ...['sh', 'cat', 'echo', 'ls', 'wc', 'uname'].map((a): TarEntry => ({ name: `bin/${a}`, type: 'symlink', linkname: 'busybox', mtime })),
        { name: 'etc/passwd', mode: 0o644, body: 'root:x:0:0:root:/root:/bin/sh\n', mtime },
      ],
    },
    { gzip: false, entries: [{ name: 'etc/greeting', mode: 0o644, body: `${greeting}\n`, mtime }] },
  ];
  if (bigBytes > 0) layers.push({ gzip: true, entries: [{ name: 'big.bin', mode: 0o644, body: randomBytes(bigBytes), mtime }] });
  return layers;
}

async function writeImage(dir: string, layers: LayerSpec[], platform: Platform, cmd: string[]): Promise<Blob> {
  const descriptors: Array<{ mediaType: string } & Blob> = [];
  const diffIds: string[] = [];
  for (const layer of layers) {
    const tar = await packTar(layer.entries);
    diffIds.push(sha256(tar));
    const data = layer.gzip ? gzipSync(tar) : tar;
    descriptors.push({ mediaType: layer.gzip ? 'application/vnd.oci.image.layer.v1.tar+gzip' : 'application/vnd.oci.image.layer.v1.tar', ...writeBlob(dir, data) });
  }
  const config = {
    created: '2024-01-01T00:00:00Z',
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant ? { variant: platform.variant } : {}),
    config: { Env: ['PATH=/bin'], Cmd: cmd },
    rootfs: { type: 'layers', diff_ids: diffIds },
  };
  const configBlob = writeBlob(dir, Buffer.from(JSON.stringify(config)));
  const manifest = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...configBlob },
    layers: descriptors,
  };
  return writeBlob(dir, Buffer.from(JSON.stringify(manifest)));
}

function writeIndexJson(dir: string, entry: Record<string, unknown>, tag: string): void {
  writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ ...entry, annotations: { 'org.opencontainers.image.ref.name': tag } }] }));
}

/** An OCI layout at `dir` with one image for this host under `tag`. */
export async function writeImageLayout(dir: string, tag: string, layers: LayerSpec[], cmd = ['sh']): Promise<Blob> {
  const manifest = await writeImage(dir, layers, hostPlatform(), cmd);
  writeIndexJson(dir, { mediaType: OCI_MANIFEST, ...manifest }, tag);
  return manifest;
}

/**
 * An OCI layout at `dir` whose `tag` is an index of one image per platform; each image's
 * /etc/greeting names its platform.
 */
export async function writeIndexLayout(dir: string, tag: string, platforms: Platform[]): Promise<Blob> {
  const entries = [];
  for (const platform of platforms) {
    const name = `${platform.os}/${platform.architecture}${platform.variant ? `/${platform.variant}` : ''}`;
    const manifest = await writeImage(dir, await busyboxLayers(`built for ${name}`), platform, ['sh']);
    entries.push({ mediaType: OCI_MANIFEST, ...manifest, platform });
  }
  const index = writeBlob(dir, Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: entries })));
  writeIndexJson(dir, { mediaType: OCI_INDEX, ...index }, tag);
  return index;
}
