// The processes of a real container (as root) in Docker's `top` shape, `ps -ef` and
// `ps aux` columns, processes in a nested cgroup, user names, and a vanished container.
import t from 'tap';
import { mkdirSync, mkdtempSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../../src/common/errors.js';
import { listContainerPids, listContainerProcesses } from '../../src/engine/container-top.js';
import { makeHarness, skipReason, waitUntil, type Harness } from '../runtime/fixtures.js';

t.test('a vanished container has no processes', async (t) => {
  const gone = [{ controller: 'pids', version: 1 as const, path: `/sys/fs/cgroup/pids/stack-test-no-such-cgroup-${process.pid}` }];
  t.same(await listContainerProcesses(gone), { Titles: ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD'], Processes: [] });
  t.same(await listContainerPids([]), []);
});

t.test('ps arguments other than -ef and aux are refused, not misread', async (t) => {
  await t.rejects(listContainerProcesses([], '-o pid,comm'), UsageError);
  t.same((await listContainerProcesses([], 'aux')).Titles, ['USER', 'PID', '%CPU', '%MEM', 'VSZ', 'RSS', 'TTY', 'STAT', 'START', 'TIME', 'COMMAND']);
});

const reason = skipReason();
t.test('a running container', { skip: reason ?? false }, async (t) => {
  const h: Harness = makeHarness('top');
  const nested: string[] = [];
  const scratch = mkdtempSync(join(tmpdir(), 'stack-top-'));
  t.teardown(async () => {
    await h.cleanup();
    // The shim removes only the container's own cgroup; one a test made inside goes first.
    for (const dir of nested) { try { rmdirSync(dir); } catch { /* already gone */ } }
    rmSync(scratch, { recursive: true, force: true });
  });
  const id = h.newId();
  await h.runtime.start(id, await h.bundle(id, { args: ['sh', '-c', 'sleep 301 & sleep 302 & wait'], resources: { memoryBytes: 32 * 1024 * 1024 } }));
  const state = await h.runtime.state(id);
  t.ok(await waitUntil(async () => (await listContainerPids(state.cgroups)).length === 3, 5000), 'sh and two sleeps are in the cgroup');

  const passwd = join(scratch, 'passwd');
  writeFileSync(passwd, 'superuser:x:0:0::/root:/bin/sh\n');
  const top = await listContainerProcesses(state.cgroups, undefined, { passwdPath: passwd });
  t.same(top.Titles, ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD'], "Docker's default titles");
  t.equal(top.Processes.length, 3);
  const byCmd = new Map(top.Processes.map((row) => [row[7], row]));
  const shell = byCmd.get('sh -c sleep 301 & sleep 302 & wait');
  const sleep = byCmd.get('sleep 301');
  t.ok(shell && sleep && byCmd.has('sleep 302'), `the commands are listed (${[...byCmd.keys()].join(' | ')})`);
  t.equal(shell?.[1], String(state.pid), 'PID is the host pid of the container\'s pid 1');
  t.equal(shell?.[2], String(state.shimPid), 'its parent is the shim');
  t.equal(sleep?.[2], String(state.pid), 'the sleeps are children of sh');
  t.equal(sleep?.[0], 'superuser', 'UID resolved through the (host) passwd file');
  t.match(sleep?.[3] ?? '', /^\d+$/, 'C is a whole percentage');
  t.match(sleep?.[4] ?? '', /^\d\d:\d\d$/, 'STIME of a process started today is HH:MM');
  t.equal(sleep?.[5], '?', 'no controlling terminal');
  t.match(sleep?.[6] ?? '', /^\d\d:\d\d:\d\d$/, 'TIME is HH:MM:SS');

  const unnamed = await listContainerProcesses(state.cgroups, '-ef', { passwdPath: join(scratch, 'missing') });
  t.ok(unnamed.Processes.every((row) => row[0] === '0'), 'without a passwd entry the number is shown, as ps does');

  const aux = await listContainerProcesses(state.cgroups, 'aux');
  const auxSleep = aux.Processes.find((row) => row[10] === 'sleep 302');
  t.ok(auxSleep, 'aux lists the same processes');
  t.match(auxSleep?.[2] ?? '', /^\d+\.\d$/, '%CPU has one decimal');
  t.match(auxSleep?.[3] ?? '', /^\d+\.\d$/, '%MEM has one decimal');
  t.ok(Number(auxSleep?.[4]) > 0 && Number(auxSleep?.[5]) > 0, 'VSZ and RSS in KiB');
  t.match(auxSleep?.[7] ?? '', /^S/, 'STAT: sleeping');
  t.match(auxSleep?.[9] ?? '', /^\d+:\d\d$/, 'BSD TIME is M:SS');
  t.match(aux.Processes.find((row) => row[1] === String(state.pid))?.[7] ?? '', /^S.*s/, 'pid 1 leads its session');

  // A process the container moved into a cgroup of its own is still the container's.
  const memory = state.cgroups.find((c) => c.controller === 'memory' && c.version === 1);
  if (!memory) {
    t.comment('no v1 memory cgroup to nest under on this host: nested cgroups not checked');
    return;
  }
  const child = join(memory.path, 'nested');
  mkdirSync(child);
  nested.push(child);
  writeFileSync(join(child, 'cgroup.procs'), String(sleep?.[1]));
  const pids = await listContainerPids([memory]);
  t.ok(pids.includes(Number(sleep?.[1])), 'a process in a nested cgroup is found');
  t.equal(pids.length, 3);
  writeFileSync(join(memory.path, 'cgroup.procs'), String(sleep?.[1]));
  rmdirSync(child);
});
