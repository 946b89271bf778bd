// Makes images without a registry: a Debian base from the host's configured Debian mirror
// with mmdebstrap, any rootfs tarball imported as a one-layer image, and a tiny busybox
// image built in memory for fast tests.

import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createGunzip } from 'node:zlib';
import { packTar, type TarEntry } from './pack-tar.js';
import { MEDIA_LAYER_GZIP, MEDIA_LAYER_TAR, type ImageConfig, type ImageStore, type ResolvedImage } from './store.js';

const run = promisify(execFile);
const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

function baseConfig(diffId: string, createdBy: string, cmd: string[]): ImageConfig {
  const created = new Date().toISOString();
  return {
    created,
    architecture: process.arch === 'x64' ? 'amd64' : process.arch,
    os: 'linux',
    config: { Env: [DEFAULT_PATH], Cmd: cmd },
    rootfs: { type: 'layers', diff_ids: [diffId] },
    history: [{ created, created_by: createdBy }],
  };
}

/** The sha256 of a tarball's uncompressed bytes (its diff_id), gzip or plain. */
async function uncompressedDigest(path: string, gzip: boolean): Promise<string> {
  const hash = createHash('sha256');
  const input = createReadStream(path);
  const stream = gzip ? input.pipe(createGunzip()) : input;
  input.on('error', (err) => stream.destroy(err));
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return `sha256:${hash.digest('hex')}`;
}

async function isGzip(path: string): Promise<boolean> {
  const fh = await import('node:fs/promises').then((fs) => fs.open(path, 'r'));
  try {
    const head = Buffer.alloc(2);
    await fh.read(head, 0, 2, 0);
    return head[0] === 0x1f && head[1] === 0x8b;
  } finally {
    await fh.close();
  }
}

/** Imports a rootfs tarball (tar or tar.gz) as a single-layer image named `ref`. */
export async function importRootfsTarball(store: ImageStore, tarPath: string, ref: string, options: { cmd?: string[]; createdBy?: string } = {}): Promise<ResolvedImage> {
  const gzip = await isGzip(tarPath);
  const diffId = await uncompressedDigest(tarPath, gzip);
  const blob = await store.putBlobStream(createReadStream(tarPath));
  const config = baseConfig(diffId, options.createdBy ?? `stack image import ${tarPath}`, options.cmd ?? ['bash']);
  return store.putImage([{ mediaType: gzip ? MEDIA_LAYER_GZIP : MEDIA_LAYER_TAR, ...blob }], config, ref);
}

/** The Debian mirror the host's apt uses (deb822 or one-line sources). */
export async function hostDebianMirror(): Promise<string> {
  const candidates: string[] = [];
  const dir = '/etc/apt/sources.list.d';
  if (existsSync(dir)) for (const f of (await readdir(dir)).sort()) if (f.endsWith('.sources') || f.endsWith('.list')) candidates.push(join(dir, f));
  if (existsSync('/etc/apt/sources.list')) candidates.push('/etc/apt/sources.list');
  for (const file of candidates) {
    const text = await readFile(file, 'utf8');
    for (const line of text.split('\n')) {
      const deb822 = /^URIs:\s*(\S+)/.exec(line);
      const oneLine = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)/.exec(line);
      const uri = deb822?.[1] ?? oneLine?.[1];
      if (uri && !/security/.test(uri)) return uri;
    }
  }
  throw new Error('no Debian mirror found in /etc/apt/sources.list.d/*.sources or /etc/apt/sources.list');
}

export interface BootstrapOptions {
  suite?: string;
  variant?: 'minbase' | 'required' | 'important' | 'standard' | 'apt' | 'buildd';
  packages?: string[];
  ref?: string;
  mirror?: string;
  /** A directory to keep the tarball in, keyed by suite, variant and packages, and reuse. */
  cacheDir?: string;
  /** Receives mmdebstrap's progress lines. */
  log?: (line: string) => void;
}

/** The tarball mmdebstrap makes for these options (made now, or reused from `cacheDir`). */
export async function debianTarball(options: BootstrapOptions, scratchDir: string): Promise<string> {
  const suite = options.suite ?? 'bookworm';
  const variant = options.variant ?? 'minbase';
  const packages = [...(options.packages ?? [])].sort();
  const key = [suite, variant, ...packages].join('_').replace(/[^A-Za-z0-9_.+-]/g, '-');
  const dir = options.cacheDir ?? scratchDir;
  const out = join(dir, `debian-${key}.tar`);
  if (options.cacheDir && existsSync(out)) return out;
  await mkdir(dir, { recursive: true });
  const mirror = options.mirror ?? (await hostDebianMirror());
  const args = ['--variant', variant, '--format', 'tar', '--quiet'];
  if (packages.length > 0) args.push(`--include=${packages.join(',')}`);
  const partial = `${out}.partial`;
  args.push(suite, partial, mirror);
  await new Promise<void>((resolve, reject) => {
    const child = spawn('mmdebstrap', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => options.log?.(d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; options.log?.(d); });
    child.on('error', (err) => reject(new Error(`cannot run mmdebstrap (apt-get install mmdebstrap): ${err.message}`)));
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`mmdebstrap ${args.join(' ')} failed (exit ${code}): ${stderr.trim().split('\n').slice(-5).join('\n')}`))));
  }).catch(async (err: unknown) => {
    await rm(partial, { force: true });
    throw err;
  });
  await rename(partial, out);
  return out;
}

/** A Debian base image from the host's Debian mirror (no registry involved). */
export async function bootstrapDebianImage(store: ImageStore, options: BootstrapOptions = {}): Promise<ResolvedImage> {
  const suite = options.suite ?? 'bookworm';
  const ref = options.ref ?? `debian:${suite}`;
  const tarball = await debianTarball(options, store.tmpDir);
  try {
    return await importRootfsTarball(store, tarball, ref, {
      cmd: ['bash'],
      createdBy: `mmdebstrap --variant ${options.variant ?? 'minbase'} ${suite}${options.packages?.length ? ` --include=${options.packages.join(',')}` : ''}`,
    });
  } finally {
    if (!options.cacheDir) await rm(tarball, { force: true });
  }
}

/** A one-layer image with a static busybox and its applets; `busybox` defaults to the host's busybox-static. */
export async function makeBusyboxImage(store: ImageStore, ref: string, busybox = '/bin/busybox'): Promise<ResolvedImage> {
  const binary = await readFile(busybox);
  const { stdout } = await run(busybox, ['--list']);
  const applets = stdout.split('\n').filter((a) => a && a !== 'busybox').sort();
  const mtime = new Date(0);
  const entries: TarEntry[] = [
    ...['bin', 'etc', 'proc', 'sys', 'dev', 'tmp', 'root'].map((d): TarEntry => ({ name: `${d}/`, type: 'directory', mode: d === 'tmp' ? 0o1777 : 0o755 })),
    { name: 'bin/busybox', mode: 0o755, body: binary },
    ...applets.map((a): TarEntry => ({ name: `bin/${a}`, type: 'symlink', linkname: 'busybox' })),
    { name: 'etc/passwd', mode: 0o644, body: 'root:x:0:0:root:/root:/bin/sh\n' },
    { name: 'etc/group', mode: 0o644, body: 'root:x:0:\n' },
  ];
  const layer = await packTar(entries.map((e) => ({ mtime, ...e })));
  const blob = await store.putBlob(layer);
  const config = baseConfig(blob.digest, 'stack makeBusyboxImage', ['sh']);
  config.config.Env = ['PATH=/bin'];
  return store.putImage([{ mediaType: MEDIA_LAYER_TAR, ...blob }], config, ref);
}
