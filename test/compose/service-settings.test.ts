// Service keys that shape a container beyond its command: secrets and configs (from files,
// inline content and the environment), shm_size, ulimits, sysctls, group_add,
// oom_score_adj, cpu quota; what `up` refuses before anything starts; and the keys it does
// not act on, which it names instead of ignoring silently. Real containers, private engine.
import t from 'tap';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ContainerInspect, ContainerSummary } from '../../src/common/api-types.js';
import { engineSkipReason } from '../api/engine-harness.js';
import { assertProjectGone, engineWithProject } from './support/project-dir.js';

const skip = engineSkipReason() ?? (existsSync('/usr/sbin/iptables') ? false : 'needs iptables');

const SETTINGS = (greeting: string) => `name: settings
services:
  app:
    image: busybox:test
    command: ["sleep", "600"]
    init: true
    shm_size: 96m
    ulimits:
      nofile: { soft: 150, hard: 300 }
      core: 0
    sysctls:
      net.core.somaxconn: "555"
    group_add: ["4321"]
    oom_score_adj: 300
    cpu_quota: 50000
    cpu_period: 100000
    secrets:
      - db_password
      - source: api_token
        target: token.txt
        mode: 0400
    configs:
      - greeting
      - source: motd
        target: /etc/motd
secrets:
  db_password:
    file: ./secrets/db_password.txt
  api_token:
    environment: API_TOKEN
configs:
  greeting:
    content: "${greeting}"
  motd:
    file: ./motd
`;

t.test('secrets, configs and process settings reach the container; a changed config recreates it', { skip, timeout: 120_000 }, async (t) => {
  const { h, p } = await engineWithProject(t, 'settings', SETTINGS('hello'));
  mkdirSync(join(p.dir, 'secrets'));
  writeFileSync(join(p.dir, 'secrets/db_password.txt'), 's3cret\n');
  writeFileSync(join(p.dir, 'motd'), 'welcome\n');
  writeFileSync(join(p.dir, '.env'), 'API_TOKEN=tok-123\n');

  const up = await p.stack('up', '-d');
  t.equal(up.code, 0, up.stderr);
  const inside = async (script: string) => {
    const r = await p.stack('exec', 'app', 'sh', '-c', script);
    t.equal(r.code, 0, r.stderr);
    return r.stdout;
  };
  t.equal(await inside('cat /run/secrets/db_password'), 's3cret\n', 'a file secret under /run/secrets');
  t.equal(await inside('cat /run/secrets/token.txt; echo; stat -c %a /run/secrets/token.txt'), 'tok-123\n400\n', 'an environment secret (from .env, as it is: no newline added), with its target and mode');
  t.equal(await inside('cat /greeting; echo; stat -c %a /greeting'), 'hello\n444\n', 'an inline config at /<name>, mode 0444 by default');
  t.equal(await inside('cat /etc/motd'), 'welcome\n', 'a file config at its target');
  const readOnly = await p.stack('exec', 'app', 'sh', '-c', 'echo x > /run/secrets/db_password');
  t.not(readOnly.code, 0, 'a file secret is mounted read-only');
  t.equal(
    await inside('grep " /dev/shm " /proc/mounts | grep -o "size=[0-9]*k"; ulimit -n; ulimit -Hn; ulimit -c; cat /proc/sys/net/core/somaxconn /proc/1/oom_score_adj; id -G'),
    'size=98304k\n150\n300\n0\n555\n300\n0 4321\n',
    'shm_size, ulimits, sysctls, oom_score_adj and group_add',
  );
  const [summary] = await h.client.call<ContainerSummary[]>('GET', '/containers/json', { query: { all: 1 } });
  const inspect = await h.client.call<ContainerInspect>('GET', `/containers/${summary!.Id}/json`);
  t.match(inspect.HostConfig, { CpuQuota: 50000, CpuPeriod: 100000, ShmSize: 96 * 1024 * 1024, OomScoreAdj: 300 });

  const again = await p.stack('up', '-d');
  t.equal(again.code, 0, again.stderr);
  t.equal((await h.client.call<ContainerSummary[]>('GET', '/containers/json'))[0]!.Id, summary!.Id, 'nothing changed: the container is kept');
  p.write(SETTINGS('hi there'));
  const changed = await p.stack('up', '-d');
  t.equal(changed.code, 0, changed.stderr);
  t.not((await h.client.call<ContainerSummary[]>('GET', '/containers/json'))[0]!.Id, summary!.Id, 'a changed config content recreates the container');
  t.equal(await inside('cat /greeting'), 'hi there');
  await assertProjectGone(t, h, p);
});

t.test('a missing secret file, an unset variable and an external secret are refused before anything is made', { skip, timeout: 60_000 }, async (t) => {
  const { h, p } = await engineWithProject(t, 'settings-bad', `name: bad
services:
  app:
    image: busybox:test
    command: ["sleep", "600"]
    secrets: [missing_file, from_env, outside]
secrets:
  missing_file:
    file: ./nope.txt
  from_env:
    environment: STACK_TEST_UNSET_VARIABLE
  outside:
    external: true
`);
  const up = await p.stack('up', '-d');
  t.equal(up.code, 1);
  t.match(up.stderr, `service app: secret missing_file: the file ${join(p.dir, 'nope.txt')} does not exist`);
  t.match(up.stderr, 'service app: secret from_env comes from the environment variable STACK_TEST_UNSET_VARIABLE, which is not set');
  t.match(up.stderr, 'service app: secret outside is external, which needs a swarm');
  const run = await p.stack('run', '--rm', 'app', 'true');
  t.not(run.code, 0);
  t.match(run.stderr, 'nothing was started');
  await assertProjectGone(t, h, p);
});

t.test('keys stack does not act on are named in a warning, and a bad ulimit or sysctl is refused naming it', { skip, timeout: 60_000 }, async (t) => {
  const { h, p } = await engineWithProject(t, 'settings-warn', `name: warn
services:
  app:
    image: busybox:test
    command: ["sleep", "600"]
    cpuset: "0"
    security_opt: ["no-new-privileges:true", "seccomp:/etc/profile.json"]
    devices: ["/dev/null:/dev/null2"]
`);
  const up = await p.stack('up', '-d');
  t.equal(up.code, 0, up.stderr);
  t.match(up.stderr, 'service app: cpuset, devices, security_opt: seccomp:/etc/profile.json are not supported by stack yet and ignored');
  t.notMatch(up.stderr, 'no-new-privileges', 'what is already in effect is not warned about');
  await assertProjectGone(t, h, p);

  p.write(`name: warn
services:
  app:
    image: busybox:test
    command: ["sleep", "600"]
    sysctls: { vm.swappiness: "10" }
`);
  const sysctl = await p.stack('up', '-d');
  t.not(sysctl.code, 0);
  t.match(sysctl.stderr, 'sysctl vm.swappiness is not namespaced, so setting it would change the host');
  await assertProjectGone(t, h, p);
});
