// The manifest and index media types a registry may answer with, OCI's and Docker's, and
// the Accept header that asks for all of them (without it, registries fall back to
// Docker's old schema 1, which this tool does not read).

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
export const DOCKER_MANIFEST_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';

export const MANIFEST_ACCEPT = [OCI_INDEX, DOCKER_MANIFEST_LIST, OCI_MANIFEST, DOCKER_MANIFEST].join(', ');

export function isIndex(mediaType: string): boolean {
  return mediaType === OCI_INDEX || mediaType === DOCKER_MANIFEST_LIST;
}

export function isManifest(mediaType: string): boolean {
  return mediaType === OCI_MANIFEST || mediaType === DOCKER_MANIFEST;
}

/** zstd layers: Node 20's zlib cannot read them. */
export function isZstdLayer(mediaType: string): boolean {
  return mediaType.endsWith('+zstd') || mediaType.endsWith('.zstd');
}
