// The container commands of the CLI, in-process, against a private engine: what a person
// types and what they see, bad input included.
import t from 'tap';
import { engineSkipReason, makeEngineHarness } from '../api/engine-harness.js';
import { runCli } from './run-cli.js';

const skip = engineSkipReason() ?? false;

t.test('run -d, ps, exec, inspect, top, stats, images, logs --tail, stop, rm', { skip }, async (t) => {
  const h = await makeEngineHarness('cli');
  t.teardown(() => h.cleanup());
  const cli = (...argv: string[]) => runCli(argv, { cwd: h.paths.root, env: h.env });

  const run = await cli('run', '-d', '--name', 'app', '-l', 'tier=web', '-e', 'WHO=world', '--memory', '64m', 'busybox:test', 'sh', '-c', 'for i in 1 2 3 4 5; do echo line $i; done; exec sleep 60');
  t.equal(run.code, 0, run.stderr);
  t.match(run.stdout, /^[0-9a-f]{64}\n$/);

  const ps = await cli('ps');
  t.match(ps.stdout, /^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES\n[0-9a-f]{12}\s+busybox:test\s+".*"\s+.* ago\s+Up .*\s+app\n$/);
  const json = JSON.parse((await cli('ps', '--format', 'json', '--filter', 'label=tier=web')).stdout) as { Names: string; Labels: Record<string, string> };
  t.equal(json.Names, 'app');
  t.equal((await cli('ps', '-q', '--filter', 'label=tier=db')).stdout, '', 'a label filter that matches nothing');

  const exec = await cli('exec', '-e', 'X=1', 'app', 'sh', '-c', 'echo $WHO $X; echo err >&2; exit 4');
  t.same(exec, { code: 4, stdout: 'world 1\n', stderr: 'err\n' }, 'exec: output, stderr and exit code');
  const missing = await cli('exec', 'app', 'no-such-program');
  t.equal(missing.code, 126);

  const inspect = JSON.parse((await cli('inspect', 'app')).stdout) as Array<{ Name: string; Config: { Env: string[]; Labels: Record<string, string> }; HostConfig: { Memory: number } }>;
  t.equal(inspect[0]!.Name, '/app');
  t.ok(inspect[0]!.Config.Env.includes('WHO=world'));
  t.equal(inspect[0]!.HostConfig.Memory, 64 * 1024 * 1024);
  const image = JSON.parse((await cli('inspect', 'busybox:test')).stdout) as Array<{ RepoTags: string[] }>;
  t.same(image[0]!.RepoTags, ['busybox:test'], 'inspect falls back to images');
  const formatted = await cli('inspect', '-f', '{{.Name}} {{.State.Status}} {{json .Config.Labels}} {{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', 'app', 'app');
  t.match(formatted.stdout, /^\/app running \{.*\} \d+\.\d+\.\d+\.\d+\n\/app running /, 'inspect -f fills a Go template per object, a line each');
  const unsupported = await cli('inspect', '--format', '{{if .State.Running}}up{{end}}', 'app');
  t.equal(unsupported.code, 2);
  t.match(unsupported.stderr, '{{if .State.Running}} is not supported');

  const top = await cli('top', 'app');
  t.match(top.stdout, /^UID\s+PID\s+PPID\s+C\s+STIME\s+TTY\s+TIME\s+CMD\n.*sleep 60/s);
  const stats = await cli('stats', 'app');
  t.match(stats.stdout, /app\s+\d+\.\d\d%\s+[\d.]+MiB \/ 64\.00MiB\s+[\d.]+%\s+1\n$/, stats.stdout);
  t.match((await cli('images')).stdout, /^REPOSITORY\s+TAG\s+IMAGE ID\s+SIZE\nbusybox\s+test\s+[0-9a-f]{12}\s+[\d.]+MB\n$/);
  t.equal((await cli('logs', '--tail', '2', 'app')).stdout, 'line 4\nline 5\n');

  const rmRunning = await cli('rm', 'app');
  t.equal(rmRunning.code, 1);
  t.match(rmRunning.stderr, /cannot remove container app: it is running; stop it first, or force the removal/);
  const taken = await cli('run', '-d', '--name', 'app', 'busybox:test', 'true');
  t.equal(taken.code, 1);
  t.match(taken.stderr, /the container name "\/app" is already in use/);
  const badBind = await cli('run', '-d', '-v', '/srv:data', 'busybox:test', 'true');
  t.equal(badBind.code, 2);
  t.match(badBind.stderr, /bind "\/srv:data": the target "data" must be an absolute path in the container/);
  const badVolume = await cli('run', '-d', '-v', 'x:/data', 'busybox:test', 'true');
  t.equal(badVolume.code, 2);
  t.match(badVolume.stderr, /invalid volume name "x"/);
  const badRestart = await cli('run', '-d', '--restart', 'sometimes', 'busybox:test', 'true');
  t.equal(badRestart.code, 2);
  t.match(badRestart.stderr, /restart policy/);

  t.same(await cli('stop', '-t', '1', 'app'), { code: 0, stdout: 'app\n', stderr: '' });
  t.match((await cli('ps', '-a')).stdout, /Exited \(137\)|Exited \(143\)/);
  t.same(await cli('rm', 'app'), { code: 0, stdout: 'app\n', stderr: '' });
  const gone = await cli('logs', 'app');
  t.same(gone, { code: 1, stdout: '', stderr: 'error: No such container: app\n' });
  t.equal((await cli('ps', '-a', '-q')).stdout, '', 'no container is left');
});

t.test('run: shm size, ulimits, sysctls, groups, OOM score, capabilities, read-only root, tmpfs; bad values refused naming them', { skip }, async (t) => {
  const h = await makeEngineHarness('cli-settings');
  t.teardown(() => h.cleanup());
  const cli = (...argv: string[]) => runCli(argv, { cwd: h.paths.root, env: h.env });
  const probe = [
    'grep " /dev/shm " /proc/mounts | grep -o "size=[0-9]*k"', 'ulimit -n', 'ulimit -Hn', 'ulimit -c',
    'cat /proc/sys/net/core/somaxconn /proc/sys/kernel/shmmax /proc/self/oom_score_adj', 'id -G',
    'grep CapEff /proc/self/status | tr -d "\\t"', 'touch /x 2>/dev/null || echo read-only', 'touch /scratch/y && echo tmpfs-writable',
  ].join('; ');
  const run = await cli(
    'run', '--rm', '--shm-size', '100m', '--ulimit', 'nofile=100:200', '--ulimit', 'core=-1', '--sysctl', 'net.core.somaxconn=777',
    '--sysctl', 'kernel.shmmax=12345678', '--group-add', '1234', '--oom-score-adj', '500', '--cap-drop', 'ALL', '--read-only', '--tmpfs', '/scratch:size=1m',
    'busybox:test', 'sh', '-c', probe,
  );
  t.same(run, { code: 0, stdout: 'size=102400k\n100\n200\nunlimited\n777\n12345678\n500\n0 1234\nCapEff:0000000000000000\nread-only\ntmpfs-writable\n', stderr: '' });

  for (const [argv, message] of [
    [['--ulimit', 'nofiles=1'], 'ulimit "nofiles" is not a resource limit'],
    [['--ulimit', 'nofile'], '--ulimit "nofile" is not NAME=SOFT[:HARD]'],
    [['--sysctl', 'vm.swappiness=1'], 'sysctl vm.swappiness is not namespaced'],
    [['--network', 'host', '--sysctl', 'net.core.somaxconn=1'], 'the container shares the host\'s network namespace'],
    [['--shm-size', 'lots'], '--shm-size "lots" is not a size like 512m or 1g'],
    [['--oom-score-adj', '2000'], 'oom score adjustment 2000 is not between -1000 and 1000'],
    [['--group-add', 'nosuchgroup'], 'group add: group nosuchgroup is not in the image\'s /etc/group'],
    [['--cpus', '0'], '--cpus 0 must be a number of CPUs above 0'],
  ] as const) {
    const bad = await cli('run', '--rm', ...argv, 'busybox:test', 'true');
    t.not(bad.code, 0, argv.join(' '));
    t.match(bad.stderr, message);
  }
  t.equal((await cli('ps', '-a', '-q')).stdout, '', 'nothing left by the refused runs');
});
