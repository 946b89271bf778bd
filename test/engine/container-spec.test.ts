// The process settings of a create request (Docker's HostConfig.Ulimits, Sysctls, ShmSize,
// OomScoreAdj, GroupAdd) checked at create time and turned into the runtime's terms. Pure.
import t, { type Test } from 'tap';
import { containerRlimits, containerSysctls, validateContainerRequest } from '../../src/engine/container-spec.js';
import { RLIM_INFINITY } from '../../src/runtime/bundle.js';
import type { HostConfig } from '../../src/common/api-types.js';

const config = { Image: 'busybox', Cmd: ['true'] };
const refused = (t: Test, host: HostConfig, message: string | RegExp) => t.throws(() => validateContainerRequest(config, host), { message }, JSON.stringify(host));

t.test('ulimits: names, -1 as unlimited, soft under hard', async (t) => {
  t.same(containerRlimits({ Ulimits: [{ Name: 'nofile', Soft: 1024, Hard: 2048 }, { Name: 'MEMLOCK', Soft: -1, Hard: -1 }, { Name: 'core', Soft: 0, Hard: -1 }] }), [
    { type: 'RLIMIT_NOFILE', soft: 1024, hard: 2048 },
    { type: 'RLIMIT_MEMLOCK', soft: RLIM_INFINITY, hard: RLIM_INFINITY },
    { type: 'RLIMIT_CORE', soft: 0, hard: RLIM_INFINITY },
  ]);
  t.same(containerRlimits({}), [], 'nothing is set unless asked');
  refused(t, { Ulimits: [{ Name: 'nofiles', Soft: 1, Hard: 1 }] }, /ulimit "nofiles" is not a resource limit: use one of as, core/);
  refused(t, { Ulimits: [{ Name: 'nofile', Soft: 10, Hard: 5 }] }, 'ulimit nofile: the soft limit 10 is above the hard limit 5');
  refused(t, { Ulimits: [{ Name: 'nofile', Soft: -1, Hard: 5 }] }, 'ulimit nofile: the soft limit -1 is above the hard limit 5');
  refused(t, { Ulimits: [{ Name: 'nproc', Soft: 1.5, Hard: 5 }] }, 'ulimit nproc: the soft limit 1.5 is not a whole number (or -1 for unlimited)');
  refused(t, { Ulimits: [{ Name: 'core', Soft: 0, Hard: 0 }, { Name: 'core', Soft: 1, Hard: 1 }] }, 'ulimit core is given twice: give it once');
});

t.test('sysctls: only the container\'s own namespaces', async (t) => {
  t.same(containerSysctls({ Sysctls: { 'net.ipv4.ip_forward': '1', 'kernel.shmmax': '1000', 'fs.mqueue.msg_max': '20' } }), { 'net.ipv4.ip_forward': '1', 'kernel.shmmax': '1000', 'fs.mqueue.msg_max': '20' });
  t.equal(containerSysctls({}), undefined);
  refused(t, { Sysctls: { 'vm.swappiness': '10' } }, /^sysctl vm.swappiness is not namespaced, so setting it would change the host/);
  refused(t, { Sysctls: { 'kernel.hostname': 'x' } }, /^sysctl kernel.hostname is not namespaced/);
  refused(t, { NetworkMode: 'host', Sysctls: { 'net.core.somaxconn': '10' } }, 'sysctl net.core.somaxconn: the container shares the host\'s network namespace, so it cannot be set for this container alone');
  refused(t, { NetworkMode: 'container:db', Sysctls: { 'net.core.somaxconn': '10' } }, 'sysctl net.core.somaxconn: the container shares db\'s network namespace, so it cannot be set for this container alone');
});

t.test('shm size, oom score adjustment and groups are checked', async (t) => {
  t.doesNotThrow(() => validateContainerRequest(config, { ShmSize: 0, OomScoreAdj: -1000, GroupAdd: ['audio', '1234'] }));
  refused(t, { ShmSize: -1 }, 'shm size -1 is not a size in bytes (0 or absent: 64 MiB)');
  refused(t, { OomScoreAdj: 1001 }, 'oom score adjustment 1001 is not between -1000 and 1000');
  refused(t, { GroupAdd: ['a:b'] }, 'group "a:b" (group add) is not a group name or number');
});
