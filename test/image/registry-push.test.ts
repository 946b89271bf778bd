// Push from an engine to a real registry: skopeo (an independent tool) sees what arrived,
// and a fresh engine pulls it back and runs it the same. The busybox image's layer is a
// plain tar, so this also covers pulling uncompressed layers.
import t from 'tap';
import { BUSYBOX_IMAGE, engineSkipReason, makeEngineHarness } from '../api/engine-harness.js';
import { runCli } from '../cli/run-cli.js';
import { registrySkipReason, skopeo, startRegistry } from './registry-server.js';

const skip = engineSkipReason() ?? registrySkipReason() ?? false;

interface Line { status?: string; id?: string; aux?: { Tag: string; Digest: string; Size: number }; error?: string }

t.test('push to a registry, skopeo inspect, pull into a fresh engine and run', { skip }, async (t) => {
  const registry = await startRegistry();
  t.teardown(() => registry.stop());
  const first = await makeEngineHarness('push');
  t.teardown(() => first.cleanup());
  const image = `${registry.host}/pushed/busybox:1.0`;
  const env = first.env;
  const cwd = first.paths.root;

  const tag = await runCli(['tag', BUSYBOX_IMAGE, image], { cwd, env });
  t.equal(tag.code, 0, tag.stderr);
  const res = await first.client.open('POST', `/images/${registry.host}/pushed/busybox/push`, { query: { tag: '1.0' } });
  let text = '';
  for await (const chunk of res as AsyncIterable<Buffer>) text += chunk.toString();
  const lines = text.trim().split('\n').map((l) => JSON.parse(l) as Line);
  t.same(lines[0], { status: `The push refers to repository [${registry.host}/pushed/busybox]` });
  t.ok(lines.some((l) => l.status === 'Pushed'), 'a layer was pushed');
  const aux = lines.at(-1)!.aux!;
  t.equal(aux.Tag, '1.0');
  t.match(aux.Digest, /^sha256:[a-f0-9]{64}$/);

  const inspected = JSON.parse(await skopeo(['inspect', '--tls-verify=false', `docker://${image}`])) as { Digest: string; Layers: string[]; Architecture: string };
  t.equal(inspected.Digest, aux.Digest, 'skopeo sees the pushed manifest');
  t.equal(inspected.Layers.length, 1);
  const local = await first.client.call<{ Id: string; RootFS: { Layers: string[] } }>('GET', `/images/${image}/json`);

  const again = await runCli(['push', image], { cwd, env });
  t.equal(again.code, 0, again.stderr);
  t.match(again.stdout, 'Layer already exists', 'a second push uploads nothing');

  const second = await makeEngineHarness('push-fresh');
  t.teardown(() => second.cleanup());
  const pulled = await runCli(['pull', image], { cwd: second.paths.root, env: second.env });
  t.equal(pulled.code, 0, pulled.stderr);
  t.match(pulled.stdout, `Digest: ${aux.Digest}`);
  const remote = await second.client.call<{ Id: string; RootFS: { Layers: string[] } }>('GET', `/images/${image}/json`);
  t.equal(remote.Id, local.Id, 'the same image ID (config digest) in both engines');
  t.same(remote.RootFS.Layers, local.RootFS.Layers);
  const cmd = ['run', '--rm', image, 'sh', '-c', 'cat /etc/passwd; ls /bin | wc -l'];
  const a = await runCli(cmd, { cwd, env });
  const b = await runCli(cmd, { cwd: second.paths.root, env: second.env });
  t.equal(a.code, 0, a.stderr);
  t.same(b, a, 'runs identically');

  const missing = await runCli(['push', `${registry.host}/nothing:here`], { cwd, env });
  t.equal(missing.code, 1);
  t.match(missing.stderr, 'No such image');
});
