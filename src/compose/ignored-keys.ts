// Service keys a stack file may carry that `stack` does not act on yet. Compose files are
// loaded unchanged, so these are accepted; `up` and `run` say which ones are ignored rather
// than let a user believe a limit or a device is in place.

import type { Service } from './model.js';

const IGNORED: ReadonlyArray<keyof Service> = [
  'blkio_config', 'cgroup', 'cgroup_parent', 'cpu_count', 'cpu_percent', 'cpu_rt_period', 'cpu_rt_runtime', 'cpuset',
  'credential_spec', 'device_cgroup_rules', 'devices', 'gpus', 'ipc', 'isolation', 'mem_swappiness', 'oom_kill_disable',
  'pid', 'post_start', 'pre_stop', 'runtime', 'storage_opt', 'use_api_socket', 'userns_mode', 'uts',
];

/** What these say is already so here: every container gets no_new_privs, and there is no seccomp, AppArmor or SELinux profile to lift. */
const SECURITY_OPTS_IN_EFFECT = /^(no-new-privileges(:true|=true)?|seccomp[:=]unconfined|apparmor[:=]unconfined|label[:=]disable)$/;

/** Log drivers the engine's own json-file log stands in for. */
const LOG_DRIVERS = new Set(['json-file', 'local']);

/** The service's keys that are set but not acted on, as `key` or `key: value`, sorted. */
export function ignoredServiceKeys(service: Service): string[] {
  const out = IGNORED.filter((key) => {
    const value = service[key];
    return value !== undefined && !(Array.isArray(value) && value.length === 0);
  }).map(String);
  for (const opt of service.security_opt ?? []) if (!SECURITY_OPTS_IN_EFFECT.test(opt)) out.push(`security_opt: ${opt}`);
  // No stdin is relayed: without a terminal the program reads EOF at once (under Docker it
  // would wait); with one it waits for input nobody can type, as an unattached Docker's does.
  if (service.stdin_open && !service.tty) out.push('stdin_open');
  const driver = service.logging?.driver;
  if (driver !== undefined && !LOG_DRIVERS.has(driver)) out.push(`logging.driver: ${driver}`);
  return out.sort();
}

/** One warning line per service that has ignored keys. */
export function ignoredKeyWarnings(services: readonly Service[]): string[] {
  return services.flatMap((s) => {
    const keys = ignoredServiceKeys(s);
    return keys.length ? [`service ${s.name}: ${keys.join(', ')} ${keys.length === 1 ? 'is' : 'are'} not supported by stack yet and ignored`] : [];
  });
}
