// The Docker Engine API's volume shapes, served by the engine and read by the CLI.

/** Docker's label on volumes made for a container without a name (`-v /data`, image VOLUMEs). */
export const ANONYMOUS_LABEL = 'com.docker.volume.anonymous';

/** One volume, as `GET /volumes/{name}` shows it. */
export interface VolumeView {
  Name: string;
  Driver: 'local';
  Labels: Record<string, string>;
  Options: Record<string, string>;
  CreatedAt: string;
  Scope: 'local';
  /** Where the data is on the host: the volume's `_data` dir, or a bind volume's device. */
  Mountpoint: string;
}

/** `POST /volumes/create`. */
export interface VolumeCreateBody {
  Name?: string;
  Driver?: string;
  DriverOpts?: Record<string, string> | null;
  Labels?: Record<string, string> | null;
}

/** `GET /volumes`. */
export interface VolumeListResponse {
  Volumes: VolumeView[];
  Warnings: string[];
}

/** `POST /volumes/prune`. */
export interface VolumePruneResponse {
  VolumesDeleted: string[];
  SpaceReclaimed: number;
}
