// The shim as a container runtime, end to end as root: isolation, capabilities,
// cgroup limits and OOM, logs, signals, surviving its starter, start failures, no leaks.
import t from 'tap';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { RuntimeFailure } from '../../src/common/errors.js';
import { writeBundle, type OciSpec } from '../../src/runtime/bundle.js';
import { DEFAULT_SHIM_PATH } from '../../src/runtime/shim-runtime.js';
import { leftoverCgroups, makeHarness, skipReason, waitUntil, type Harness } from './fixtures.js';

const reason = skipReason();
if (reason) {
  t.plan(0, reason);
} else {
  const h: Harness = makeHarness('shim');
  t.teardown(() => h.cleanup());
  const sh = (script: string): string[] => ['sh', '-c', script];
  const RFC3339_NANO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/;

  t.test('exit codes propagate', async (t) => {
    const ok = await h.runToExit({ args: ['true'] });
    t.equal(ok.state.status, 'stopped');
    t.equal(ok.state.exitCode, 0);
    t.equal(ok.state.signal, null);
    t.equal(ok.state.error, null);
    const seven = await h.runToExit({ args: sh('exit 7') });
    t.equal(seven.state.exitCode, 7);
    const id = h.newId();
    await h.runtime.start(id, await h.bundle(id, { args: ['sleep', '30'] }));
    await h.runtime.kill(id, 'SIGKILL');
    const killed = await h.runtime.waitForExit(id, 5000);
    t.equal(killed.signal, 9, 'pid 1 killed by a signal');
    t.equal(killed.exitCode, 137);
    t.ok(RFC3339_NANO.test(seven.state.startedAt ?? ''), 'startedAt is RFC 3339 with nanoseconds');
    t.ok(RFC3339_NANO.test(seven.state.finishedAt ?? ''), 'finishedAt is RFC 3339 with nanoseconds');
  });

  t.test('pid 1, hostname, /proc of its own pid namespace, no host mounts or interfaces', async (t) => {
    const r = await h.runToExit({
      hostname: 'box1',
      args: sh('echo pid=$$; hostname; ls /proc | grep -c "^[0-9]"; cat /proc/1/cmdline | tr "\\0" " "; echo; ls /sys/class/net; grep -c . /proc/self/mountinfo'),
    });
    const [pid, hostname, procs, cmdline, nets, mounts] = r.stdout.split('\n');
    t.equal(pid, 'pid=1');
    t.equal(hostname, 'box1');
    t.ok(Number(procs) <= 6, `only the container's processes are in /proc (${procs})`);
    t.match(cmdline, /^sh -c echo pid=/, 'pid 1 is the container process');
    t.equal(nets, 'lo', 'only loopback in the network namespace');
    const hostMounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter(Boolean).length;
    t.ok(Number(mounts) < hostMounts || Number(mounts) < 30, `the container sees its own mounts (${mounts}), not the host's (${hostMounts})`);
  });

  t.test('masked and read-only paths, no mount, no writes to /proc/sys', async (t) => {
    const r = await h.runToExit({
      args: sh([
        'echo timer_list=$(wc -c < /proc/timer_list)',
        'echo keys=$(wc -c < /proc/keys)',
        'echo firmware=$(ls -A /sys/firmware | wc -l)',
        'if echo 1 > /proc/sys/kernel/ns_last_pid 2>/dev/null; then echo sysctl=written; else echo sysctl=refused; fi',
        'if echo c > /proc/sysrq-trigger 2>/dev/null; then echo sysrq=written; else echo sysrq=refused; fi',
        'mkdir -p /mnt; if mount -t tmpfs none /mnt 2>/dev/null; then echo mount=allowed; else echo mount=refused; fi',
      ].join('; ')),
    });
    t.equal(r.stdout, 'timer_list=0\nkeys=0\nfirmware=0\nsysctl=refused\nsysrq=refused\nmount=refused\n');
    t.equal(r.state.exitCode, 0);
  });

  t.test('capabilities: the default set, cap_add/cap_drop, none for other users; no_new_privs', async (t) => {
    const caps = sh('grep -E "^(Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs)" /proc/self/status | tr -d "\\t"');
    const root = await h.runToExit({ args: caps });
    t.equal(root.stdout, [
      'CapInh:0000000000000000', 'CapPrm:00000000a80425fb', 'CapEff:00000000a80425fb',
      'CapBnd:00000000a80425fb', 'CapAmb:0000000000000000', 'NoNewPrivs:1', '',
    ].join('\n'), "Docker's 14 default capabilities");
    const tuned = await h.runToExit({ args: caps, capAdd: ['NET_ADMIN'], capDrop: ['CAP_MKNOD', 'chown'] });
    t.match(tuned.stdout, /CapEff:00000000a00435fa\n/, 'NET_ADMIN added, MKNOD and CHOWN dropped');
    const user = await h.runToExit({ args: sh('id; grep CapEff /proc/self/status | tr -d "\\t"'), user: { uid: 1000, gid: 1000, additionalGids: [29, 44] } });
    t.equal(user.stdout, 'uid=1000(app) gid=1000(app) groups=29(audio),44(video)\nCapEff:0000000000000000\n');
  });

  t.test('device cgroup: nodes can be made, but only allowed devices opened', async (t) => {
    // /dev/loop-control (c 10:237) opens without any capability, so only the cgroup can refuse it.
    const script = sh('rm -f /tmp/lc; mknod /tmp/lc c 10 237 && echo made; if (exec 3</tmp/lc) 2>/dev/null; then echo opened; else echo refused; fi; rm /tmp/lc; echo x > /dev/null && echo null=ok');
    const denied = await h.runToExit({ args: script });
    t.equal(denied.stdout, 'made\nrefused\nnull=ok\n');
    t.ok(denied.state.cgroups.some((c) => c.controller === 'devices'), 'a devices cgroup on this v1 host');
    const allowed = await h.runToExit({ args: script, deviceCgroupRules: [{ allow: true, type: 'c', major: 10, minor: 237, access: 'rw' }] });
    t.equal(allowed.stdout, 'made\nopened\nnull=ok\n', 'an added rule lets it open');
  });

  t.test('env and cwd', async (t) => {
    const r = await h.runToExit({ args: sh('echo "$GREETING"; pwd; echo "$PATH"'), env: ['GREETING=hello there'], cwd: '/tmp' });
    t.equal(r.stdout, 'hello there\n/tmp\n/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n');
  });

  t.test('bind and tmpfs mounts, read-only rootfs', async (t) => {
    const r = await h.runToExit({
      readonlyRootfs: true,
      mounts: [
        { type: 'bind', source: h.root, target: '/host', readonly: true },
        { type: 'tmpfs', target: '/scratch', sizeBytes: 1 << 20 },
      ],
      args: sh('ls /host | grep -c rootfs; touch /scratch/a && echo scratch=ok; touch /host/x 2>/dev/null || echo host=ro; touch /x 2>/dev/null || echo root=ro'),
    });
    t.equal(r.stdout, '1\nscratch=ok\nhost=ro\nroot=ro\n');
  });

  t.test('memory limit in the container cgroup; an OOM kill is reported as such', async (t) => {
    const id = h.newId();
    const limit = 64 * 1024 * 1024;
    await h.runtime.start(id, await h.bundle(id, { args: ['sleep', '30'], resources: { memoryBytes: limit, cpuShares: 512, cpuQuotaMicros: 50_000, cpuPeriodMicros: 100_000, pidsLimit: 50 } }));
    const s = await h.runtime.state(id);
    const dir = (c: string): string => s.cgroups.find((g) => g.controller === c)?.path ?? '';
    t.same(s.cgroups.map((g) => g.controller), ['memory', 'cpu', 'pids', 'devices', 'freezer']);
    const own = readFileSync('/proc/self/cgroup', 'utf8');
    const ownMemory = /:memory:(.*)/.exec(own)?.[1] ?? '';
    t.ok(dir('memory').startsWith(`/sys/fs/cgroup/memory${ownMemory === '/' ? '' : ownMemory}/`), `memory cgroup nests under ours (${dir('memory')})`);
    t.equal(readFileSync(`${dir('memory')}/memory.limit_in_bytes`, 'utf8').trim(), String(limit));
    t.equal(readFileSync(`${dir('cpu')}/cpu.shares`, 'utf8').trim(), '512');
    t.equal(readFileSync(`${dir('cpu')}/cpu.cfs_quota_us`, 'utf8').trim(), '50000');
    t.equal(readFileSync(`${dir('pids')}/pids.max`, 'utf8').trim(), '50');
    t.equal(readFileSync(`${dir('memory')}/cgroup.procs`, 'utf8').trim(), String(s.pid), 'pid 1 placed in the cgroup');
    const stopped = await h.runtime.stop(id, { graceMs: 100 });
    t.equal(stopped.oomKilled, false);
    await h.runtime.delete(id);
    t.notOk(existsSync(dir('memory')), 'cgroup removed on delete');

    // dd fills a 256 MiB buffer: far past the 32 MiB limit.
    const hog = await h.runToExit({ args: sh('dd if=/dev/zero of=/dev/null bs=256M count=1; echo "dd status $?"'), resources: { memoryBytes: 32 * 1024 * 1024 } }, 60_000);
    t.equal(hog.state.oomKilled, true, 'OOM kill recorded');
    t.equal(hog.stdout, 'dd status 137\n', 'dd was killed with SIGKILL');
    t.equal(hog.state.exitCode, 0, 'pid 1 itself survived');
    const direct = await h.runToExit({ args: ['dd', 'if=/dev/zero', 'of=/dev/null', 'bs=256M', 'count=1'], resources: { memoryBytes: 32 * 1024 * 1024 } }, 60_000);
    t.equal(direct.state.oomKilled, true, 'OOM kill of pid 1 recorded');
    t.equal(direct.state.signal, 9);
    t.equal(direct.state.exitCode, 137);
  });

  t.test('pids limit stops a fork loop', async (t) => {
    const r = await h.runToExit({ args: sh('i=0; while [ $i -lt 40 ]; do sleep 30 & i=$((i+1)); echo $i; done; echo spawned'), resources: { pidsLimit: 10 } });
    const stderr = r.logs.filter((l) => l.stream === 'stderr').map((l) => l.log).join('');
    t.match(stderr, /can't fork: Resource temporarily unavailable/);
    // The shell is one of the 10, so at most 9 sleeps start before fork fails and ash gives up.
    t.equal(r.stdout, '1\n2\n3\n4\n5\n6\n7\n8\n9\n');
    t.equal(r.state.exitCode, 2);
  });

  t.test('log file: JSON lines with stream and RFC 3339 nano timestamps', async (t) => {
    const r = await h.runToExit({ args: sh('echo out1; echo err1 >&2; printf "tab\\there \\"q\\" \\\\ \\001"; echo; printf partial') });
    // Order between the two pipes is not defined (as with Docker); within one stream it is.
    const stream = (name: string): string[] => r.logs.filter((l) => l.stream === name).map((l) => l.log);
    t.same(stream('stdout'), ['out1\n', 'tab\there "q" \\ \u0001\n', 'partial']);
    t.same(stream('stderr'), ['err1\n']);
    for (const l of r.logs) t.match(l.time, RFC3339_NANO);
    const long = await h.runToExit({ args: sh('head -c 40000 /dev/zero | tr "\\0" a; echo; printf "\\377ok\\n"') });
    t.same(long.logs.map((l) => l.log.length), [16384, 16384, 7233, 4], 'long lines split at 16 KiB as Docker does');
    t.equal(long.logs[3]?.log, '\ufffdok\n', 'bytes that are not UTF-8 become U+FFFD');
    const raw = readFileSync(h.runtime.logPath(r.id), 'utf8').split('\n')[0];
    t.match(raw, /^\{"log":"out1\\n","stream":"stdout","time":"[^"]+"\}$/, 'the json-file shape');
  });

  t.test('stop: SIGTERM reaches a trapping pid 1; SIGKILL follows the grace period', async (t) => {
    const trapping = h.newId();
    await h.runtime.start(trapping, await h.bundle(trapping, { args: sh('trap "echo got TERM; exit 42" TERM; echo ready; while true; do sleep 0.1; done') }));
    t.ok(await waitUntil(async () => (await h.runtime.logs(trapping)).some((l) => l.log === 'ready\n'), 5000), 'script ready');
    const graceful = await h.runtime.stop(trapping, { signal: 'SIGTERM', graceMs: 5000 });
    t.equal(graceful.exitCode, 42);
    t.equal(graceful.signal, null);
    t.ok((await h.runtime.logs(trapping)).some((l) => l.log === 'got TERM\n'), 'the trap ran');

    const stubborn = h.newId();
    await h.runtime.start(stubborn, await h.bundle(stubborn, { args: sh('trap "" TERM; echo ready; while true; do sleep 0.1; done') }));
    t.ok(await waitUntil(async () => (await h.runtime.logs(stubborn)).some((l) => l.log === 'ready\n'), 5000), 'script ready');
    const started = Date.now();
    const killed = await h.runtime.stop(stubborn, { signal: 'SIGTERM', graceMs: 300 });
    t.equal(killed.signal, 9);
    t.equal(killed.exitCode, 137);
    t.ok(Date.now() - started >= 300, 'waited the grace period first');
  });

  t.test('signals sent to the shim are forwarded to pid 1', async (t) => {
    const id = h.newId();
    const s = await h.runtime.start(id, await h.bundle(id, { args: sh('trap "echo usr1" USR1; trap "exit 3" HUP; echo ready; while true; do sleep 0.1; done') }));
    t.ok(await waitUntil(async () => (await h.runtime.logs(id)).some((l) => l.log === 'ready\n'), 5000));
    process.kill(s.shimPid, 'SIGUSR1');
    t.ok(await waitUntil(async () => (await h.runtime.logs(id)).some((l) => l.log === 'usr1\n'), 5000), 'USR1 arrived');
    process.kill(s.shimPid, 'SIGHUP');
    t.equal((await h.runtime.waitForExit(id, 5000)).exitCode, 3);
  });

  t.test('exec runs a process inside a running container', async (t) => {
    const id = h.newId();
    const s = await h.runtime.start(id, await h.bundle(id, { args: ['sleep', '30'], hostname: 'execbox', env: ['FOO=container', 'KEEP=1'], resources: { pidsLimit: 20 } }));
    const r = await h.runtime.exec(id, {
      args: ['sh', '-c', 'echo pid1=$(cat /proc/1/cmdline | tr "\\0" " "); hostname; echo $FOO $KEEP; pwd; grep -E "^(CapEff|NoNewPrivs)" /proc/self/status | tr -d "\\t"; grep pids /proc/self/cgroup | sed "s/.*://"; echo oops >&2; exit 4'],
      env: ['FOO=exec'],
      cwd: '/tmp',
    });
    t.equal(r.exitCode, 4);
    t.equal(r.stderr, 'oops\n');
    t.equal(r.stdout, `pid1=sleep 30\nexecbox\nexec 1\n/tmp\nCapEff:00000000a80425fb\nNoNewPrivs:1\n/stack-${id}\n`);
    const asUser = await h.runtime.exec(id, { args: ['id', '-u'], user: { uid: 1000, gid: 1000 } });
    t.equal(asUser.stdout, '1000\n');
    await t.rejects(h.runtime.exec(id, { args: ['nosuchcmd'] }),
      new RuntimeFailure(`cannot exec in container ${id}: exec: nosuchcmd: executable file not found in $PATH`));
    t.equal(readFileSync(`${s.cgroups.find((c) => c.controller === 'pids')?.path}/cgroup.procs`, 'utf8').trim(), String(s.pid), 'exec processes left the cgroup when done');
    await h.runtime.stop(id, { graceMs: 100 });
    await t.rejects(h.runtime.exec(id, { args: ['true'] }), new RuntimeFailure(`cannot exec in container ${id}: it is stopped`));
  });

  t.test('init: orphans are reaped, signals forwarded, the exit code passed on', async (t) => {
    // The subshell's sleep is orphaned to pid 1; `exec sleep 30` never waits for it.
    const script = sh('(sleep 0.1 &); trap "exit 9" TERM; sleep 30 & wait');
    const zombies = sh('grep -l "^State:.*Z" /proc/[0-9]*/status | wc -l');
    const countAfterOrphanExits = async (init: boolean): Promise<{ id: string; zombies: string }> => {
      const id = h.newId();
      await h.runtime.start(id, await h.bundle(id, { args: sh('(sleep 0.1 &); exec sleep 30'), init }));
      await new Promise((r) => setTimeout(r, 400));
      return { id, zombies: (await h.runtime.exec(id, { args: zombies })).stdout };
    };
    const without = await countAfterOrphanExits(false);
    t.equal(without.zombies, '1\n', 'without init the orphan stays a zombie (pid 1 is sleep)');
    const withInit = await countAfterOrphanExits(true);
    t.equal(withInit.zombies, '0\n', 'with init it is reaped');
    const tree = await h.runtime.exec(withInit.id, { args: sh('cat /proc/1/cmdline | tr "\\0" " "; echo; cat /proc/2/cmdline | tr "\\0" " "') });
    t.equal(tree.stdout, 'init \nsleep 30 ', 'pid 1 is the init (no host paths in its command line), pid 2 the program');

    const id = h.newId();
    await h.runtime.start(id, await h.bundle(id, { args: script, init: true }));
    await new Promise((r) => setTimeout(r, 200));
    const stopped = await h.runtime.stop(id, { graceMs: 5000 });
    t.equal(stopped.exitCode, 9, 'SIGTERM reached the program through init; its exit code is the container\'s');
  });

  t.test('the container outlives the process that started it; its log keeps growing', async (t) => {
    const id = h.newId();
    const bundle = await h.bundle(id, { args: sh('while true; do echo tick; sleep 0.05; done') });
    mkdirSync(h.runtime.stateDir(id), { recursive: true });
    const starter = spawn('sh', ['-c', `"$0" run --bundle "$1" --id "$2" --state "$3" --log "$4" >/dev/null && exec sleep 600`,
      DEFAULT_SHIM_PATH, bundle, id, h.runtime.statePath(id), h.runtime.logPath(id)], { stdio: 'ignore' });
    t.ok(await waitUntil(() => existsSync(h.runtime.statePath(id)) && JSON.parse(readFileSync(h.runtime.statePath(id), 'utf8')).status === 'running', 5000), 'running');
    const before = await h.runtime.state(id);
    starter.kill('SIGKILL');
    await new Promise((r) => starter.once('exit', r));
    const size = statSync(h.runtime.logPath(id)).size;
    t.ok(await waitUntil(() => statSync(h.runtime.logPath(id)).size > size + 50, 3000), 'log grows after the starter died');
    const after = await h.runtime.state(id);
    t.equal(after.status, 'running');
    t.equal(after.pid, before.pid);
    t.not(readFileSync(`/proc/${before.shimPid}/stat`, 'utf8').split(' ')[3], String(starter.pid), 'the shim is not the starter\'s child');
    // pid 1 of a namespace only gets signals it handles: the untrapped SIGTERM is dropped.
    t.equal((await h.runtime.stop(id, { graceMs: 200 })).signal, 9, 'stopped by SIGKILL after the grace period');
  });

  t.test('start failures name the step and the path, on stderr and in the state file', async (t) => {
    const missing = h.newId();
    await t.rejects(h.runtime.start(missing, await h.bundle(missing, { args: ['/no/such/program'] })),
      new RuntimeFailure(`container ${missing} failed to start: exec: /no/such/program: No such file or directory`));
    const state = await h.runtime.state(missing);
    t.equal(state.status, 'stopped');
    t.equal(state.error, 'exec: /no/such/program: No such file or directory');
    t.same(leftoverCgroups(missing), [], 'cgroups of a failed start removed at once');

    const notInPath = h.newId();
    await t.rejects(h.runtime.start(notInPath, await h.bundle(notInPath, { args: ['nosuchcmd'] })),
      { message: `container ${notInPath} failed to start: exec: nosuchcmd: executable file not found in $PATH` });

    const badCwd = h.newId();
    await t.rejects(h.runtime.start(badCwd, await h.bundle(badCwd, { args: ['true'], cwd: '/nowhere' })),
      { message: `container ${badCwd} failed to start: cwd: /nowhere: No such file or directory` });

    const badBind = h.newId();
    await t.rejects(h.runtime.start(badBind, await h.bundle(badBind, { args: ['true'], mounts: [{ type: 'bind', source: '/no/such/dir', target: '/data' }] })),
      { message: `container ${badBind} failed to start: mount: bind source /no/such/dir for /data: No such file or directory` });

    const escape = h.newId();
    await t.rejects(h.runtime.start(escape, await h.bundle(escape, { args: ['true'], cgroupsPath: '../elsewhere' })),
      { message: `container ${escape} failed to start: create cgroup: linux.cgroupsPath ../elsewhere must be relative to the runtime's own cgroup, without . or ..` });
  });

  t.test('a cgroup that already exists is not taken over', async (t) => {
    const first = h.newId();
    const s = await h.runtime.start(first, await h.bundle(first, { args: ['sleep', '30'], cgroupsPath: `stack-${first}` }));
    const second = h.newId();
    const memory = s.cgroups.find((c) => c.controller === 'memory')?.path ?? '';
    await t.rejects(h.runtime.start(second, await h.bundle(second, { args: ['true'], cgroupsPath: `stack-${first}` })),
      { message: `container ${second} failed to start: create cgroup: ${memory} already exists: a container with this id is running or was not deleted` });
    t.equal((await h.runtime.state(first)).status, 'running', 'the first container is untouched');
    t.ok(existsSync(memory), 'its cgroup too');
    await h.runtime.stop(first, { graceMs: 100 });
  });

  t.test('freeze and thaw: the container\'s processes stop being scheduled and go on again', async (t) => {
    const id = h.newId();
    const s = await h.runtime.start(id, await h.bundle(id, { args: ['sleep', '30'] }));
    const freezer = s.cgroups.find((c) => c.controller === 'freezer');
    t.ok(freezer, 'a freezer cgroup on this v1 host');
    await h.runtime.freeze(id, true);
    t.equal(readFileSync(`${freezer!.path}/freezer.state`, 'utf8').trim(), 'FROZEN');
    t.match(readFileSync(`/proc/${s.pid}/status`, 'utf8'), /^State:\s+D/m, 'pid 1 is held by the freezer');
    await h.runtime.freeze(id, false);
    t.equal(readFileSync(`${freezer!.path}/freezer.state`, 'utf8').trim(), 'THAWED');
    t.match(readFileSync(`/proc/${s.pid}/status`, 'utf8'), /^State:\s+S/m, 'and sleeps again');
    await h.runtime.stop(id, { graceMs: 100 });
  });

  t.test('a malformed config.json is refused with the JSON path that is wrong', async (t) => {
    const cases: Array<[(c: OciSpec) => void, string]> = [
      [(c) => { Object.assign(c.process, { args: 'sh' }); }, 'config.json: process.args: expected an array of strings'],
      [(c) => { c.process.user.uid = -1; }, 'config.json: process.user.uid: -1 is out of range'],
      [(c) => { c.process.capabilities.bounding = ['CAP_FLY']; }, 'config.json: process.capabilities.bounding[0]: unknown capability CAP_FLY'],
      [(c) => { Object.assign(c.mounts[0] ?? {}, { destination: 'proc' }); }, 'config.json: mounts[0].destination: proc is not an absolute path'],
      [(c) => { c.linux.namespaces.push({ type: 'user' }); }, 'config.json: linux.namespaces[5]: the user namespace is not supported yet'],
      [(c) => { c.linux.namespaces = c.linux.namespaces.filter((n) => n.type !== 'uts'); c.hostname = 'x'; }, 'config.json: hostname x needs a uts namespace in linux.namespaces'],
      [(c) => { c.process.terminal = 'yes' as unknown as boolean; }, 'config.json: process.terminal: expected true or false'],
      [(c) => { c.process.terminal = true; c.process.consoleSize = { height: 70000, width: 80 }; }, 'config.json: process.consoleSize.height: 70000 is out of range'],
    ];
    for (const [edit, message] of cases) {
      const id = h.newId();
      const bundle = await h.bundle(id, { args: ['true'] });
      const config = JSON.parse(readFileSync(`${bundle}/config.json`, 'utf8')) as OciSpec;
      edit(config);
      writeFileSync(`${bundle}/config.json`, JSON.stringify(config));
      await t.rejects(h.runtime.start(id, bundle), { message: `container ${id} failed to start: ${message}` });
    }
  });

  t.test('mount destinations cannot leave the rootfs through symlinks', async (t) => {
    symlinkSync('/../../../../etc', `${h.rootfs}/escape`);
    t.teardown(() => rmSync(`${h.rootfs}/escape`));
    const r = await h.runToExit({ mounts: [{ type: 'tmpfs', target: '/escape/inside' }], args: sh('grep -c " /etc/inside " /proc/self/mountinfo') });
    t.equal(r.stdout, '1\n', 'the absolute link resolved inside the container');
    t.notOk(existsSync('/etc/inside'), 'nothing created on the host');
  });

  t.test('an overlay rootfs the caller mounted: writes land in the upper dir only', async (t) => {
    const base = `${h.root}/overlay`;
    for (const d of ['upper', 'work', 'merged']) mkdirSync(`${base}/${d}`, { recursive: true });
    execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${h.rootfs},upperdir=${base}/upper,workdir=${base}/work`, `${base}/merged`]);
    t.teardown(() => execFileSync('umount', [`${base}/merged`]));
    const id = h.newId();
    const bundle = await writeBundle(`${h.root}/bundles/${id}`, { rootfs: `${base}/merged`, args: sh('echo hi > /etc/written; rm /bin/vi; cat /etc/written; ls /bin/vi 2>&1 | grep -c "No such"') });
    await h.runtime.start(id, bundle);
    const state = await h.runtime.waitForExit(id, 5000);
    t.equal(state.exitCode, 0);
    t.equal((await h.runtime.logs(id)).map((l) => l.log).join(''), 'hi\n1\n');
    t.equal(readFileSync(`${base}/upper/etc/written`, 'utf8'), 'hi\n', 'the write is in the upper dir');
    t.notOk(existsSync(`${h.rootfs}/etc/written`), 'the lower dir is untouched');
    t.ok(existsSync(`${h.rootfs}/bin/vi`), 'a delete in the container leaves the lower file');
    t.notOk(readFileSync('/proc/self/mountinfo', 'utf8').includes(`${base}/merged `.replace(/ $/, '/')), 'no container mounts under the overlay on the host');
  });

  t.test('nothing leaks after delete: cgroups, mounts, state', async (t) => {
    const r = await h.runToExit({ args: ['true'], resources: { memoryBytes: 64 << 20, pidsLimit: 20 } });
    const paths = r.state.cgroups.map((c) => c.path);
    t.equal(paths.length, 5, "memory, cpu, pids, devices and freezer");
    await h.runtime.delete(r.id);
    for (const p of paths) t.notOk(existsSync(p), `${p} removed`);
    t.notOk(existsSync(h.runtime.stateDir(r.id)), 'state dir removed');
    t.notOk(readFileSync('/proc/self/mountinfo', 'utf8').includes(h.rootfs), 'no mount of the rootfs left on the host');
  });

  t.test('delete refuses a running container unless forced', async (t) => {
    const id = h.newId();
    const s = await h.runtime.start(id, await h.bundle(id, { args: ['sleep', '30'] }));
    await t.rejects(h.runtime.delete(id), { message: `cannot delete container ${id}: delete: the container is running; stop it first or pass --force` });
    await h.runtime.delete(id, { force: true });
    t.notOk(existsSync(`/proc/${s.pid}`), 'container process gone');
    t.same(leftoverCgroups(id), []);
  });

  t.test('after every test is deleted, no cgroups of ours are left', async (t) => {
    await h.deleteAll();
    t.same(leftoverCgroups(`t${process.pid}-shim-`), []);
  });
}
