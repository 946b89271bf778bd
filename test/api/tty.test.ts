// A terminal for a container's main process (Config.Tty, `docker run -t`, `stack run -t`)
// against a private engine: the process sees /dev/pts/0, a shell stays up on it, and its
// output comes back raw (no frame headers, Content-Type raw-stream) from logs and attach,
// as Docker sends it, to the docker CLI, our log reader and `stack run`.
import t from 'tap';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IncomingMessage } from 'node:http';
import { streamLogs, type LogLine } from '../../src/client/log-stream.js';
import { MULTIPLEXED_STREAM, RAW_STREAM } from '../../src/common/docker-stream.js';
import { runCli } from '../cli/run-cli.js';
import { waitUntil } from '../runtime/fixtures.js';
import { BUSYBOX_IMAGE, engineSkipReason, makeEngineHarness } from './engine-harness.js';
import { DOCKER, makeDocker } from './docker-cli-support.js';

const skip = engineSkipReason() ?? (existsSync(DOCKER) ? false : `the docker CLI is not installed (${DOCKER}): nothing to test it with`);

async function body(res: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of res as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

t.test('a container with a terminal', { skip }, async (t) => {
  const engine = await makeEngineHarness('tty');
  const home = mkdtempSync(join(tmpdir(), 'stack-tty-home-'));
  t.teardown(async () => {
    rmSync(home, { recursive: true, force: true });
    await engine.cleanup();
  });
  const docker = makeDocker(engine, home);
  const client = engine.client;

  t.test('docker run -t: /dev/pts/0, 24x80, stdout and stderr as one raw stream, the exit code', async (t) => {
    const run = await docker(['run', '-t', '--name', 'once', BUSYBOX_IMAGE, 'sh', '-c', 'tty; stty size; [ -t 0 ] && echo stdin-is-a-terminal; echo on-stderr >&2; exit 3']);
    t.equal(run.code, 3, run.stderr);
    t.equal(run.stdout, '/dev/pts/0\r\n24 80\r\nstdin-is-a-terminal\r\non-stderr\r\n');
    t.equal(run.stderr, '');
    const logs = await docker(['logs', 'once']);
    t.same(logs, { code: 0, stdout: run.stdout, stderr: '' }, 'docker logs prints the same, all on stdout');
    const stamped = await docker(['logs', '-t', 'once']);
    t.match(stamped.stdout, /^\d{4}-\d\d-\d\dT[\d:.]+Z \/dev\/pts\/0\r\n\d{4}-\d\d-\d\dT[\d:.]+Z 24 80\r\n/);
  });

  t.test('logs over the API: raw with a terminal, multiplexed without', async (t) => {
    const raw = await client.open('GET', '/containers/once/logs', { query: { stdout: 1, stderr: 1 } });
    t.equal(raw.headers['content-type'], RAW_STREAM);
    t.equal((await body(raw)).toString(), '/dev/pts/0\r\n24 80\r\nstdin-is-a-terminal\r\non-stderr\r\n', 'no frame headers');
    await client.call('POST', '/containers/create', { query: { name: 'plain' }, body: { Image: BUSYBOX_IMAGE, Cmd: ['sh', '-c', 'tty; exit 0'] } });
    await client.call('POST', '/containers/plain/start');
    await client.call('POST', '/containers/plain/wait');
    const framed = await client.open('GET', '/containers/plain/logs', { query: { stdout: 1, stderr: 1 } });
    t.equal(framed.headers['content-type'], MULTIPLEXED_STREAM);
    t.same([...(await body(framed))], [...Buffer.from([1, 0, 0, 0, 0, 0, 0, 10]), ...Buffer.from('not a tty\n')], 'one stdout frame');
  });

  t.test('our log reader reads both kinds, with the time of each line', async (t) => {
    const lines: LogLine[] = [];
    await streamLogs(client, 'once', { follow: false }, (line) => lines.push(line));
    t.same(lines.map((l) => [l.stream, l.text]), [['stdout', '/dev/pts/0\r\n'], ['stdout', '24 80\r\n'], ['stdout', 'stdin-is-a-terminal\r\n'], ['stdout', 'on-stderr\r\n']]);
    t.ok(lines.every((l) => /^\d{4}-\d\d-\d\dT[\d:.]+Z$/.test(l.time)), 'each line keeps its timestamp');
    const plain: LogLine[] = [];
    await streamLogs(client, 'plain', { follow: false }, (line) => plain.push(line));
    t.same(plain.map((l) => l.text), ['not a tty\n']);
  });

  t.test('docker run -dt sh: the shell stays up on its terminal, a restart gives it a new one', async (t) => {
    const run = await docker(['run', '-dt', '--name', 'shell', BUSYBOX_IMAGE, 'sh']);
    t.equal(run.code, 0, run.stderr);
    const banners = async (): Promise<number> => ((await docker(['logs', 'shell'])).stdout.match(/built-in shell/g) ?? []).length;
    t.ok(await waitUntil(async () => (await banners()) === 1, 10_000), 'the shell\'s banner is in docker logs');
    const inspect = await docker(['inspect', '-f', '{{.State.Status}} {{.Config.Tty}}', 'shell']);
    t.equal(inspect.stdout, 'running true\n', 'still running: sh waits at its prompt');
    const exec = await docker(['exec', 'shell', 'sh', '-c', 'ls /dev/pts | tr "\\n" " "; tty']);
    t.equal(exec.stdout, '0 ptmx not a tty\n', 'pid 1 holds pts 0; an exec without -t has no terminal');
    const restart = await docker(['restart', '-t', '0', 'shell']);
    t.equal(restart.code, 0, restart.stderr);
    t.ok(await waitUntil(async () => (await banners()) === 2, 10_000), 'the restarted shell printed its banner on its new terminal');
    t.equal((await docker(['inspect', '-f', '{{.State.Status}}', 'shell'])).stdout, 'running\n');
    t.equal((await docker(['rm', '-f', 'shell'])).code, 0);
  });

  t.test('HostConfig.ConsoleSize sets the terminal\'s size; a bad one is refused at create', async (t) => {
    await client.call('POST', '/containers/create', { query: { name: 'sized' }, body: { Image: BUSYBOX_IMAGE, Tty: true, Cmd: ['stty', 'size'], HostConfig: { ConsoleSize: [40, 100] } } });
    await client.call('POST', '/containers/sized/start');
    await client.call('POST', '/containers/sized/wait');
    t.equal((await docker(['logs', 'sized'])).stdout, '40 100\r\n');
    await t.rejects(
      client.call('POST', '/containers/create', { query: { name: 'badsize' }, body: { Image: BUSYBOX_IMAGE, Tty: true, Cmd: ['true'], HostConfig: { ConsoleSize: [-1, 80] } } }),
      { message: 'console size [-1,80] is not [height, width] in characters (0 to 65535)' },
    );
    t.equal((await docker(['ps', '-a', '-q', '-f', 'name=badsize'])).stdout, '', 'nothing made');
  });

  t.test('POST /containers/{id}/resize sizes a running container\'s terminal; bad sizes and stopped containers are refused', async (t) => {
    const script = 'trap "stty size; exit 0" WINCH; echo ready; i=0; while [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done';
    await client.call('POST', '/containers/create', { query: { name: 'resized' }, body: { Image: BUSYBOX_IMAGE, Tty: true, Cmd: ['sh', '-c', script] } });
    await client.call('POST', '/containers/resized/start');
    t.ok(await waitUntil(async () => (await docker(['logs', 'resized'])).stdout.includes('ready'), 10_000), 'the trap is set');
    await t.rejects(client.call('POST', '/containers/resized/resize', { query: { h: 0, w: 80 } }), { message: 'resize needs h and w, the terminal\'s rows and columns (1 to 65535), not 0 x 80' });
    await client.call('POST', '/containers/resized/resize', { query: { h: 33, w: 99 } });
    const exit = await client.call<{ StatusCode: number }>('POST', '/containers/resized/wait');
    t.equal(exit.StatusCode, 0);
    t.equal((await docker(['logs', 'resized'])).stdout, 'ready\r\n33 99\r\n');
    await t.rejects(client.call('POST', '/containers/resized/resize', { query: { h: 33, w: 99 } }), { message: 'container resized is not running' });
    t.equal((await docker(['rm', 'resized'])).code, 0);
  });

  t.test('stack run -t: the terminal\'s output in the foreground and its exit code; refused with --runtime runc', async (t) => {
    const run = await runCli(['run', '--rm', '-t', BUSYBOX_IMAGE, 'sh', '-c', 'tty; exit 4'], { cwd: home, env: engine.env });
    t.same(run, { code: 4, stdout: '/dev/pts/0\r\n', stderr: '' });
    const runc = await runCli(['run', '-t', '--runtime', 'runc', BUSYBOX_IMAGE, 'tty'], { cwd: home, env: engine.env });
    t.equal(runc.code, 2);
    t.match(runc.stderr, /-t with --runtime runc: a terminal for the main process needs the engine/);
    const left = await docker(['ps', '-a', '--format', '{{.Names}}']);
    t.equal(left.stdout.split('\n').filter((n) => n !== '' && !['once', 'plain', 'sized'].includes(n)).join(','), '', 'the --rm container is gone');
  });
});
