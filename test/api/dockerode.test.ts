// dockerode (what Node tools such as testcontainers build on) against a private engine:
// ping, version, list, create + start, logs demultiplexed, exec (plain and hijacked) with
// its exit code, inspect, stop, remove, images, the event stream, and the status codes
// clients branch on (404 for an unknown container, 409 for a taken name).
import t from 'tap';
import Docker from 'dockerode';
import { PassThrough, Readable } from 'node:stream';
import { BUSYBOX_IMAGE, engineSkipReason, makeEngineHarness } from './engine-harness.js';

const skip = engineSkipReason() ?? false;

/** What a demultiplexed stream carried: stdout and stderr apart. */
interface Demuxed {
  stdout: string;
  stderr: string;
}

/** Splits a multiplexed stream with dockerode's own demuxer and resolves when it ends. */
function demux(docker: Docker, stream: NodeJS.ReadableStream): Promise<Demuxed> {
  const out = new PassThrough();
  const err = new PassThrough();
  const chunks: Demuxed = { stdout: '', stderr: '' };
  out.on('data', (d: Buffer) => (chunks.stdout += d.toString()));
  err.on('data', (d: Buffer) => (chunks.stderr += d.toString()));
  docker.modem.demuxStream(stream, out, err);
  return new Promise((resolve, reject) => {
    stream.on('end', () => resolve(chunks));
    // A hijacked connection may close without an 'end' of its own.
    stream.on('close', () => resolve(chunks));
    stream.on('error', reject);
  });
}

/** The HTTP status dockerode (docker-modem) attached to a failed call. */
async function statusOf(call: Promise<unknown>): Promise<{ statusCode: number | undefined; message: string }> {
  try {
    await call;
  } catch (err) {
    const e = err as Error & { statusCode?: number; json?: { message?: string } };
    return { statusCode: e.statusCode, message: e.json?.message ?? e.message };
  }
  return { statusCode: undefined, message: 'the call succeeded' };
}

interface EngineEventLine {
  Type: string;
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
}

t.test('dockerode works against the engine', { skip }, async (t) => {
  const engine = await makeEngineHarness('dockerode');
  t.teardown(() => engine.cleanup());
  const docker = new Docker({ socketPath: engine.paths.socket });

  const ping = await docker.ping();
  t.equal(Buffer.isBuffer(ping) ? ping.toString() : String(ping), 'OK');
  const version = await docker.version();
  t.equal(version.ApiVersion, '1.41');
  t.equal(version.Os, 'linux');
  t.same(await docker.listContainers({ all: true }), [], 'no containers yet');

  // Events first, so the stream is in place before anything happens.
  const events = await docker.getEvents({ filters: { type: ['container'] } });
  const seen: EngineEventLine[] = [];
  let pending = '';
  events.on('data', (chunk: Buffer) => {
    pending += chunk.toString();
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) if (line.trim() !== '') seen.push(JSON.parse(line) as EngineEventLine);
  });
  t.teardown(() => (events as Readable).destroy());

  const container = await docker.createContainer({
    name: 'dx',
    Image: BUSYBOX_IMAGE,
    Cmd: ['sh', '-c', "trap 'exit 0' TERM; echo out-line; echo err-line >&2; sleep 300 & wait"],
    Labels: { 'test.stack': 'dockerode' },
  });
  t.match(container.id, /^[0-9a-f]{64}$/);
  await container.start();

  const listed = await docker.listContainers();
  t.equal(listed.length, 1);
  t.equal(listed[0]?.Id, container.id);
  t.same(listed[0]?.Names, ['/dx']);
  t.equal(listed[0]?.Image, BUSYBOX_IMAGE);
  t.equal(listed[0]?.State, 'running');
  t.same(listed[0]?.Labels, { 'test.stack': 'dockerode' });
  t.same((await docker.listContainers({ filters: { label: ['test.stack=dockerode'] } })).map((c) => c.Id), [container.id], 'label filter');
  t.same(await docker.listContainers({ filters: { label: ['test.stack=other'] } }), []);

  // Poll until the shell has written both lines (the logs call returns what is there now).
  let logs: Demuxed = { stdout: '', stderr: '' };
  for (let i = 0; i < 50; i++) {
    const raw = await container.logs({ stdout: true, stderr: true, follow: false });
    logs = await demux(docker, Readable.from([raw]));
    if (logs.stdout !== '' && logs.stderr !== '') break;
    await new Promise((r) => setTimeout(r, 100));
  }
  t.same(logs, { stdout: 'out-line\n', stderr: 'err-line\n' }, 'logs, demultiplexed');
  const stderrOnly = await container.logs({ stdout: false, stderr: true, follow: false });
  t.same(await demux(docker, Readable.from([stderrOnly])), { stdout: '', stderr: 'err-line\n' }, 'logs of stderr alone');

  // Exec over a hijacked connection (Upgrade: tcp), as docker-modem does with hijack.
  const exec = await container.exec({ Cmd: ['sh', '-c', 'echo exec-out; echo exec-err >&2; exit 5'], AttachStdout: true, AttachStderr: true });
  const hijacked = await exec.start({ hijack: true, stdin: false });
  t.same(await demux(docker, hijacked), { stdout: 'exec-out\n', stderr: 'exec-err\n' }, 'hijacked exec output');
  let execInfo = await exec.inspect();
  for (let i = 0; i < 50 && execInfo.Running; i++) {
    await new Promise((r) => setTimeout(r, 50));
    execInfo = await exec.inspect();
  }
  t.equal(execInfo.Running, false);
  t.equal(execInfo.ExitCode, 5, 'exec exit code');
  t.equal(execInfo.ContainerID, container.id);

  // Exec with stdin over the hijacked connection: what is written comes back through cat.
  const catExec = await container.exec({ Cmd: ['cat'], AttachStdin: true, AttachStdout: true, AttachStderr: true });
  const duplex = await catExec.start({ hijack: true, stdin: true });
  const catOutput = demux(docker, duplex);
  duplex.end('piped-in\n');
  t.same(await catOutput, { stdout: 'piped-in\n', stderr: '' }, 'stdin through the hijacked connection');

  // Exec without hijack: the output is the HTTP response body.
  const plain = await container.exec({ Cmd: ['echo', 'plain'], AttachStdout: true, AttachStderr: true });
  const plainStream = await plain.start({});
  t.same(await demux(docker, plainStream), { stdout: 'plain\n', stderr: '' }, 'plain exec output');
  t.equal((await plain.inspect()).ExitCode, 0);

  const info = await container.inspect();
  t.equal(info.Id, container.id);
  t.equal(info.Name, '/dx');
  t.equal(info.State.Status, 'running');
  t.equal(info.State.Running, true);
  t.equal(info.Config.Image, BUSYBOX_IMAGE);
  t.same(info.Config.Labels, { 'test.stack': 'dockerode' });

  const conflict = await statusOf(docker.createContainer({ name: 'dx', Image: BUSYBOX_IMAGE, Cmd: ['true'] }));
  t.equal(conflict.statusCode, 409, 'a taken name is a conflict');
  t.match(conflict.message, /already in use/);
  const unknown = await statusOf(docker.getContainer('no-such-container').inspect());
  t.equal(unknown.statusCode, 404, 'an unknown container is not found');
  t.match(unknown.message, /No such container: no-such-container/);
  t.equal((await statusOf(docker.getContainer('no-such-container').remove())).statusCode, 404);
  t.equal((await statusOf(container.remove())).statusCode, 409, 'removing a running container without force is a conflict');
  t.equal((await docker.listContainers({ all: true })).length, 1, 'the failed calls made no container');

  await container.stop({ t: 5 });
  const stopped = await container.inspect();
  t.equal(stopped.State.Status, 'exited');
  t.equal(stopped.State.ExitCode, 0, 'stopped by SIGTERM through the trap');
  t.equal((await statusOf(container.stop())).statusCode, 304, 'stopping a stopped container: not modified');
  t.same(await docker.listContainers(), [], 'not among the running');

  await container.remove();
  t.same(await docker.listContainers({ all: true }), [], 'removed');
  t.equal((await statusOf(container.inspect())).statusCode, 404);

  const images = await docker.listImages();
  t.equal(images.length, 1);
  t.same(images[0]?.RepoTags, [BUSYBOX_IMAGE]);
  t.match(images[0]?.Id, /^sha256:[0-9a-f]{64}$/);
  const image = await docker.getImage(BUSYBOX_IMAGE).inspect();
  t.equal(image.Id, images[0]?.Id);
  t.equal((await statusOf(docker.getImage('nope:none').inspect())).statusCode, 404);

  // The events arrive asynchronously: wait until the destroy is in.
  for (let i = 0; i < 50 && !seen.some((e) => e.Action === 'destroy'); i++) await new Promise((r) => setTimeout(r, 50));
  const ours = seen.filter((e) => e.Actor.ID === container.id).map((e) => e.Action);
  t.same(ours.filter((a) => ['create', 'start', 'die', 'destroy'].includes(a)), ['create', 'start', 'die', 'destroy'], 'create, start, die and destroy events in order');
  const die = seen.find((e) => e.Actor.ID === container.id && e.Action === 'die');
  t.equal(die?.Actor.Attributes.exitCode, '0');
  t.equal(die?.Actor.Attributes.name, 'dx');
  t.equal(die?.Actor.Attributes['test.stack'], 'dockerode', 'labels are event attributes');
});
