// The official `docker` CLI against a private engine (DOCKER_HOST=unix://<our socket>):
// version, info, ps, run -d, logs, exec (output and exit code), inspect, pause, stop, rm and
// images must work and print what Docker would. The engine runs in this process, so the
// CLI is always run asynchronously (a sync spawn would block the engine it talks to).
import t from 'tap';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUSYBOX_IMAGE, engineSkipReason, makeEngineHarness, type EngineHarness } from './engine-harness.js';
import { DOCKER, makeDocker, type DockerResult } from './docker-cli-support.js';

const skip = engineSkipReason() ?? (existsSync(DOCKER) ? false : `the docker CLI is not installed (${DOCKER}): nothing to test it with`);


/** The rows of a table `docker ps`/`docker images` prints, split on runs of 2+ spaces. */
function tableRows(stdout: string): string[][] {
  return stdout.trimEnd().split('\n').map((line) => line.split(/\s{2,}/));
}

t.test('the docker CLI works against the engine', { skip }, async (t) => {
  const engine = await makeEngineHarness('docker-cli');
  const home = mkdtempSync(join(tmpdir(), 'stack-docker-home-'));
  t.teardown(async () => {
    rmSync(home, { recursive: true, force: true });
    await engine.cleanup();
  });
  const docker = makeDocker(engine, home);

  const version = await docker(['version']);
  t.equal(version.code, 0, version.stderr);
  t.match(version.stdout, /Server: stack\n/, 'the server names itself');
  t.match(version.stdout, /API version:\s+1\.41 \(minimum version 1\.24\)/, 'API and minimum version from the Engine component');
  t.match(version.stdout, /OS\/Arch:\s+linux\/\w+/);
  t.equal(version.stderr, '');

  const format = await docker(['version', '--format', '{{.Server.APIVersion}} {{.Server.Os}}']);
  t.same(format, { code: 0, stdout: '1.41 linux\n', stderr: '' });

  const info = await docker(['info']);
  t.equal(info.code, 0, info.stderr);
  t.match(info.stdout, /Containers: 0\n\s+Running: 0\n\s+Paused: 0\n\s+Stopped: 0\n/);
  t.match(info.stdout, /Images: 1\n/);
  t.match(info.stdout, /Server Version: test\n/);
  t.match(info.stdout, new RegExp(`Docker Root Dir: ${engine.paths.root}\n`), 'the private engine, not a docker daemon');
  t.notMatch(info.stderr, /error/i, info.stderr);

  const empty = await docker(['ps', '-a']);
  t.equal(empty.code, 0, empty.stderr);
  t.same(tableRows(empty.stdout), [['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES']], 'no containers yet');

  const images = await docker(['images']);
  t.equal(images.code, 0, images.stderr);
  const imageRows = tableRows(images.stdout);
  t.same(imageRows[0], ['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE']);
  t.equal(imageRows.length, 2, 'one image');
  t.equal(imageRows[1]?.[0], 'busybox');
  t.equal(imageRows[1]?.[1], 'test');
  t.match(imageRows[1]?.[2] ?? '', /^[0-9a-f]{12}$/);
  t.match(imageRows[1]?.[4] ?? '', /^\d+(\.\d+)?[kM]B$/);

  // The trap makes the container stop cleanly on SIGTERM (sh as PID 1 ignores it otherwise),
  // so `docker stop` is seen to deliver the signal rather than to fall back to SIGKILL.
  const script = "trap 'echo bye; exit 0' TERM; echo hello-out; echo hello-err >&2; sleep 300 & wait";
  const run = await docker(['run', '-d', '--name', 'x', BUSYBOX_IMAGE, 'sh', '-c', script]);
  t.equal(run.code, 0, run.stderr);
  t.match(run.stdout, /^[0-9a-f]{64}\n$/, 'run -d prints the full ID');
  const id = run.stdout.trim();

  const ps = await docker(['ps', '-a']);
  t.equal(ps.code, 0, ps.stderr);
  const psRows = tableRows(ps.stdout);
  t.equal(psRows.length, 2, 'one container');
  t.equal(psRows[1]?.[0], id.slice(0, 12));
  t.equal(psRows[1]?.[1], BUSYBOX_IMAGE);
  t.match(psRows[1]?.[2] ?? '', /^"sh -c /);
  t.match(psRows[1]?.[4] ?? '', /^Up /);
  t.equal(psRows[1]?.at(-1), 'x');

  // The output arrives once the shell has run its echos; poll briefly rather than sleep a guess.
  let logs: DockerResult = { code: -1, stdout: '', stderr: '' };
  for (let i = 0; i < 50; i++) {
    logs = await docker(['logs', 'x']);
    if (logs.stdout.includes('hello-out') && logs.stderr.includes('hello-err')) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  t.same(logs, { code: 0, stdout: 'hello-out\n', stderr: 'hello-err\n' }, 'logs keeps stdout and stderr apart');

  t.same(await docker(['exec', 'x', 'echo', 'from-exec']), { code: 0, stdout: 'from-exec\n', stderr: '' });
  t.same(await docker(['exec', 'x', 'sh', '-c', 'echo to-err >&2; exit 3']), { code: 3, stdout: '', stderr: 'to-err\n' }, 'exec exit code and stderr');
  t.same(await docker(['exec', '-e', 'V=42', '-w', '/etc', 'x', 'sh', '-c', 'echo $V $(pwd)']), { code: 0, stdout: '42 /etc\n', stderr: '' }, 'exec env and working dir');
  t.same(await docker(['exec', '-i', 'x', 'sh', '-c', 'cat; exit 4'], 'piped in\n'), { code: 4, stdout: 'piped in\n', stderr: '' }, 'exec -i: stdin reaches the process, nothing else does');
  const noCommand = await docker(['exec', 'x', 'no-such-command']);
  t.equal(noCommand.code, 126, 'exec of a missing command: 126, as Docker');
  t.match(noCommand.stderr, /no-such-command: executable file not found/);
  const rmRunning = await docker(['rm', 'x']);
  t.equal(rmRunning.code, 1, 'rm of a running container is refused');
  t.match(rmRunning.stderr, /Error response from daemon: .*running/);

  const inspect = await docker(['inspect', 'x']);
  t.equal(inspect.code, 0, inspect.stderr);
  const parsed = JSON.parse(inspect.stdout) as Array<{ Id: string; Name: string; State: { Status: string; Running: boolean; Pid: number }; Config: { Image: string; Cmd: string[] } }>;
  t.equal(parsed.length, 1);
  t.equal(parsed[0]?.Id, id);
  t.equal(parsed[0]?.Name, '/x');
  t.equal(parsed[0]?.State.Status, 'running');
  t.equal(parsed[0]?.State.Running, true);
  t.ok((parsed[0]?.State.Pid ?? 0) > 0, 'a host pid');
  t.equal(parsed[0]?.Config.Image, BUSYBOX_IMAGE);
  t.same(parsed[0]?.Config.Cmd, ['sh', '-c', script]);
  t.notMatch(inspect.stdout, /NetworkingConfig/, 'the create body\'s NetworkingConfig is not part of Config');
  t.same(await docker(['inspect', '--format', '{{.State.Status}} {{.Name}}', 'x']), { code: 0, stdout: 'running /x\n', stderr: '' });

  t.same(await docker(['pause', 'x']), { code: 0, stdout: 'x\n', stderr: '' }, 'pause');
  t.same(await docker(['inspect', '--format', '{{.State.Status}} {{.State.Paused}} {{.State.Running}}', 'x']), { code: 0, stdout: 'paused true true\n', stderr: '' });
  t.match(tableRows((await docker(['ps'])).stdout)[1]?.[4] ?? '', /^Up .* \(Paused\)$/, 'ps lists it as paused');
  t.match((await docker(['info'])).stdout, /Running: 0\n\s+Paused: 1\n/);
  t.same(await docker(['unpause', 'x']), { code: 0, stdout: 'x\n', stderr: '' }, 'unpause');
  t.same(await docker(['exec', 'x', 'echo', 'thawed']), { code: 0, stdout: 'thawed\n', stderr: '' });

  const stop = await docker(['stop', 'x']);
  t.same(stop, { code: 0, stdout: 'x\n', stderr: '' });
  t.same(await docker(['inspect', '--format', '{{.State.Status}} {{.State.ExitCode}}', 'x']), { code: 0, stdout: 'exited 0\n', stderr: '' }, 'stopped by SIGTERM, exit 0 from the trap');
  const stoppedPs = tableRows((await docker(['ps', '-a'])).stdout);
  t.match(stoppedPs[1]?.[4] ?? '', /^Exited \(0\) /);
  t.same(tableRows((await docker(['ps'])).stdout).length, 1, 'ps without -a hides it');
  t.match((await docker(['logs', 'x'])).stdout, /bye\n$/, 'the trap ran');

  t.same(await docker(['rm', 'x']), { code: 0, stdout: 'x\n', stderr: '' });
  t.same(tableRows((await docker(['ps', '-a'])).stdout).length, 1, 'gone from ps -a');

  const missing = await docker(['inspect', 'x']);
  t.equal(missing.code, 1);
  t.match(missing.stderr, /No such (container|object): x/);
  const missingImage = await docker(['run', '-d', 'nope:none', 'true']);
  t.not(missingImage.code, 0, 'run of an unknown image fails');
  t.match(missingImage.stderr, /nope/);
  t.same(tableRows((await docker(['ps', '-a'])).stdout).length, 1, 'a failed run leaves no container');

  const attached = await docker(['run', '--rm', BUSYBOX_IMAGE, 'sh', '-c', 'echo hi; echo err >&2; exit 3']);
  t.same(attached, { code: 3, stdout: 'hi\n', stderr: 'err\n' }, 'docker run in the foreground: output by attach, its exit code, --rm');
  t.same(tableRows((await docker(['ps', '-a'])).stdout).length, 1, '--rm removed it');

  t.notOk(readFileSync('/proc/self/mounts', 'utf8').includes(join(engine.paths.root, 'containers')), 'no container rootfs left mounted');
});
