// The typed model of a loaded stack: what the normalize stage produces and what the
// planner, the engine client and the TUI read. Every Compose service key is here in
// its long form, with units already applied (durations in milliseconds, sizes in
// bytes, CPU counts as numbers), paths on the host absolute, and lists that Compose
// allows as maps turned into maps. Field names keep Compose's spelling so a reader of
// the specification finds them, and so `stack config` can print them back unchanged.

/** Milliseconds; fractions are kept for sub-millisecond durations like `500us`. */
export type Duration = number;
/** Bytes, already multiplied out from `512m`, `1.5g` and the like. */
export type Bytes = number;

export interface Project {
  name: string;
  /** The project directory: relative paths in the stack file were resolved against it. */
  workingDir: string;
  composeFiles: string[];
  /** The services that run: those without profiles and those whose profile is enabled. */
  services: Record<string, Service>;
  /** Services left out because none of their profiles is enabled; kept so errors can say why. */
  disabledServices: Record<string, Service>;
  networks: Record<string, NetworkConfig>;
  volumes: Record<string, VolumeConfig>;
  secrets: Record<string, SecretConfig>;
  configs: Record<string, ConfigConfig>;
  /** Top-level `models` (AI models for services), carried through as written. */
  models?: Record<string, Record<string, unknown>>;
  /** Top-level `x-*` keys, as written. */
  extensions: Record<string, unknown>;
}

export interface Service {
  name: string;
  image?: string;
  build?: BuildConfig;
  /** Already split into words when written as a string; null clears the image's value. */
  command?: string[] | null;
  entrypoint?: string[] | null;
  /** `environment` on top of every `env_file`; null means "unset in the container". */
  environment: Record<string, string | null>;
  /** The env files that were read into `environment`, for display and for watching. */
  env_file?: EnvFileRef[];
  label_file?: string[];
  ports: PortConfig[];
  /** Container ports made reachable from other services, e.g. "3000", "3000-3005", "53/udp". */
  expose: string[];
  volumes: VolumeMount[];
  tmpfs?: string[];
  /** Empty when `network_mode` is set; otherwise at least the `default` network. */
  networks: Record<string, ServiceNetwork | null>;
  network_mode?: string;
  /**
   * As written under `depends_on`, in long form. Dependencies implied by links,
   * volumes_from and `service:` modes are the graph stage's business, not listed here.
   */
  depends_on: Record<string, ServiceDependency>;
  healthcheck?: HealthCheck;
  restart?: string;
  deploy?: DeployConfig;
  profiles: string[];
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  user?: string;
  working_dir?: string;
  init?: boolean;
  stop_signal?: string;
  stop_grace_period?: Duration;
  develop?: DevelopConfig;
  secrets: ServiceFileRef[];
  configs: ServiceFileRef[];
  /** Host name to its addresses (a host may have an IPv4 and an IPv6 address). */
  extra_hosts: Record<string, string[]>;
  hostname?: string;
  domainname?: string;
  cap_add: string[];
  cap_drop: string[];
  read_only?: boolean;
  privileged?: boolean;
  ulimits?: Record<string, Ulimit>;
  logging?: LoggingConfig;
  container_name?: string;
  links?: string[];
  external_links?: string[];
  volumes_from?: string[];
  pull_policy?: string;
  platform?: string;
  mem_limit?: Bytes;
  mem_reservation?: Bytes;
  /** -1 means unlimited swap. */
  memswap_limit?: Bytes;
  mem_swappiness?: number;
  shm_size?: Bytes;
  cpus?: number;
  cpu_count?: number;
  cpu_percent?: number;
  cpu_shares?: number;
  cpu_quota?: number;
  cpu_period?: number;
  cpu_rt_period?: number | string;
  cpu_rt_runtime?: number | string;
  cpuset?: string;
  pids_limit?: number;
  oom_kill_disable?: boolean;
  oom_score_adj?: number;
  dns?: string[];
  dns_search?: string[];
  dns_opt?: string[];
  devices?: DeviceMapping[];
  device_cgroup_rules?: string[];
  gpus?: unknown;
  group_add?: string[];
  security_opt?: string[];
  sysctls?: Record<string, string>;
  storage_opt?: Record<string, string>;
  blkio_config?: BlkioConfig;
  stdin_open?: boolean;
  tty?: boolean;
  attach?: boolean;
  ipc?: string;
  pid?: string | null;
  uts?: string;
  userns_mode?: string;
  cgroup?: string;
  cgroup_parent?: string;
  isolation?: string;
  runtime?: string;
  mac_address?: string;
  credential_spec?: Record<string, unknown>;
  post_start?: ServiceHook[];
  pre_stop?: ServiceHook[];
  use_api_socket?: boolean;
  provider?: Record<string, unknown>;
  models?: unknown;
  /** Service-level `x-*` keys, as written. */
  extensions?: Record<string, unknown>;
}

export interface BuildConfig {
  /** Absolute directory, or a remote context (URL, git) kept as written. */
  context: string;
  /** Relative to the context unless absolute; absent when `dockerfile_inline` is used. */
  dockerfile?: string;
  dockerfile_inline?: string;
  args?: Record<string, string | null>;
  ssh?: string[];
  labels?: Record<string, string>;
  cache_from?: string[];
  cache_to?: string[];
  no_cache?: boolean;
  pull?: boolean;
  network?: string;
  target?: string;
  shm_size?: Bytes;
  extra_hosts?: Record<string, string[]>;
  isolation?: string;
  privileged?: boolean;
  secrets?: ServiceFileRef[];
  tags?: string[];
  platforms?: string[];
  ulimits?: Record<string, Ulimit>;
  additional_contexts?: Record<string, string>;
  entitlements?: string[];
  provenance?: string | boolean;
  sbom?: string | boolean;
}

export type PortProtocol = 'tcp' | 'udp' | 'sctp';

export interface PortConfig {
  target: number;
  /** A host port ("8080"), a host range one port is picked from ("8000-8010"), or absent for "any free port". */
  published?: string;
  host_ip?: string;
  protocol: PortProtocol;
  mode: 'ingress' | 'host';
  name?: string;
  app_protocol?: string;
}

export type VolumeType = 'bind' | 'volume' | 'tmpfs' | 'npipe' | 'image' | 'cluster';

export interface VolumeMount {
  type: VolumeType;
  /** Absolute host path for binds, volume name for volumes, absent for anonymous volumes and tmpfs. */
  source?: string;
  target: string;
  read_only?: boolean;
  consistency?: string;
  bind?: { create_host_path?: boolean; propagation?: string; selinux?: 'z' | 'Z'; recursive?: string };
  volume?: { nocopy?: boolean; subpath?: string; labels?: Record<string, string> };
  tmpfs?: { size?: Bytes; mode?: number };
  image?: { subpath?: string };
}

export interface ServiceNetwork {
  aliases?: string[];
  ipv4_address?: string;
  ipv6_address?: string;
  link_local_ips?: string[];
  mac_address?: string;
  driver_opts?: Record<string, string>;
  priority?: number;
  gw_priority?: number;
  interface_name?: string;
}

export type DependencyCondition = 'service_started' | 'service_healthy' | 'service_completed_successfully';

export interface ServiceDependency {
  condition: DependencyCondition;
  /** When false, a missing or disabled dependency is skipped instead of being an error. */
  required: boolean;
  /** Restart this service when the dependency is restarted by `stack` itself. */
  restart: boolean;
}

export interface HealthCheck {
  /** ["NONE"] disables the image's health check; ["CMD", ...] or ["CMD-SHELL", "..."] otherwise. */
  test?: string[];
  interval?: Duration;
  timeout?: Duration;
  start_period?: Duration;
  start_interval?: Duration;
  retries?: number;
}

export interface DeployConfig {
  mode?: string;
  replicas?: number;
  labels?: Record<string, string>;
  endpoint_mode?: string;
  update_config?: UpdateConfig;
  rollback_config?: UpdateConfig;
  restart_policy?: { condition?: string; delay?: Duration; max_attempts?: number; window?: Duration };
  resources?: { limits?: ResourceLimits; reservations?: ResourceReservations };
  placement?: Record<string, unknown>;
}

export interface UpdateConfig {
  parallelism?: number;
  delay?: Duration;
  failure_action?: string;
  monitor?: Duration;
  max_failure_ratio?: number;
  order?: string;
}

export interface ResourceLimits {
  cpus?: number;
  memory?: Bytes;
  pids?: number;
}

export interface ResourceReservations {
  cpus?: number;
  memory?: Bytes;
  devices?: Record<string, unknown>[];
  generic_resources?: Record<string, unknown>[];
}

export interface DevelopConfig {
  watch: WatchRule[];
}

export interface WatchRule {
  /** Absolute host path watched for changes. */
  path: string;
  action: 'sync' | 'rebuild' | 'restart' | 'sync+restart' | 'sync+exec';
  target?: string;
  ignore?: string[];
  include?: string[];
  initial_sync?: boolean;
  exec?: ServiceHook;
}

export interface ServiceHook {
  command: string[];
  user?: string;
  privileged?: boolean;
  working_dir?: string;
  environment?: Record<string, string | null>;
}

/** A service's use of a top-level secret or config. */
export interface ServiceFileRef {
  source: string;
  target?: string;
  uid?: string;
  gid?: string;
  mode?: number;
}

export interface EnvFileRef {
  /** Absolute path. */
  path: string;
  required: boolean;
  format?: string;
}

export interface Ulimit {
  soft: number;
  hard: number;
}

export interface LoggingConfig {
  driver?: string;
  options?: Record<string, string>;
}

export interface DeviceMapping {
  source: string;
  target: string;
  permissions: string;
}

export interface BlkioConfig {
  weight?: number;
  weight_device?: { path: string; weight: number }[];
  device_read_bps?: { path: string; rate: Bytes }[];
  device_write_bps?: { path: string; rate: Bytes }[];
  device_read_iops?: { path: string; rate: number }[];
  device_write_iops?: { path: string; rate: number }[];
}

export interface NetworkConfig {
  /** The network's name in the engine: `<project>_<key>` unless set or external. */
  name: string;
  driver?: string;
  driver_opts?: Record<string, string>;
  attachable?: boolean;
  enable_ipv4?: boolean;
  enable_ipv6?: boolean;
  external?: boolean;
  internal?: boolean;
  ipam?: IpamConfig;
  labels?: Record<string, string>;
}

export interface IpamConfig {
  driver?: string;
  config?: { subnet?: string; ip_range?: string; gateway?: string; aux_addresses?: Record<string, string> }[];
  options?: Record<string, string>;
}

export interface VolumeConfig {
  /** The volume's name in the engine: `<project>_<key>` unless set or external. */
  name: string;
  driver?: string;
  driver_opts?: Record<string, string>;
  external?: boolean;
  labels?: Record<string, string>;
}

export interface SecretConfig {
  name: string;
  /** Absolute path. */
  file?: string;
  environment?: string;
  external?: boolean;
  labels?: Record<string, string>;
  driver?: string;
  driver_opts?: Record<string, string>;
  template_driver?: string;
}

export interface ConfigConfig extends SecretConfig {
  content?: string;
}
