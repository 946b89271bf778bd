// A plain-HTTP registry that is not on loopback: docker-registry bound to the gateway of a
// bridge the test's engine made. Without --insecure-registry the engine speaks HTTPS to it
// and the pull fails saying which option to add; with the option (on stackd, as
// `stack engine` passes it) the pull works, and /info and `docker info` list it.
import t from 'tap';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { engineSkipReason, makeEngineHarness } from '../api/engine-harness.js';
import { DOCKER, makeDocker } from '../api/docker-cli-support.js';
import { runCli } from '../cli/run-cli.js';
import { parseEngineArgs } from '../../src/cli/engine-main.js';
import { busyboxLayers, writeImageLayout } from './oci-layout.js';
import { pushLayout, registrySkipReason, startRegistry } from './registry-server.js';

const skip = engineSkipReason() ?? registrySkipReason() ?? (existsSync(DOCKER) ? false : `the docker CLI is not installed (${DOCKER})`);

t.test('--insecure-registry values are checked', async (t) => {
  t.same(parseEngineArgs(['--insecure-registry', '10.89.0.1:5000', '--insecure-registry=registry.lan']).insecureRegistries, ['10.89.0.1:5000', 'registry.lan']);
  t.throws(() => parseEngineArgs(['--insecure-registry', 'http://10.89.0.1:5000']), /--insecure-registry "http:\/\/10\.89\.0\.1:5000": give HOST or HOST:PORT without a scheme/);
  t.throws(() => parseEngineArgs(['--insecure-registry', 'reg/path']), /not a registry HOST or HOST:PORT/);
  t.throws(() => parseEngineArgs(['--insecure-registry']), /--insecure-registry needs a value/);
  const cli = await runCli(['engine', '--insecure-registry', 'https://x'], { cwd: tmpdir(), env: { STACK_ROOT: '/nonexistent-stack-root', STACK_NO_AUTOSTART: '1' } });
  t.equal(cli.code, 2, cli.stderr);
  t.match(cli.stderr, 'without a scheme');
});

t.test('a plain-HTTP registry on a bridge gateway needs --insecure-registry', { skip }, async (t) => {
  const engine = await makeEngineHarness('insecure');
  t.teardown(() => engine.cleanup());
  await engine.client.call('POST', '/networks/create', { body: { Name: 'regnet' } });
  const network = await engine.client.call<{ IPAM: { Config: Array<{ Gateway: string }> } }>('GET', '/networks/regnet');
  const gateway = network.IPAM.Config[0]!.Gateway;
  const registry = await startRegistry({ address: gateway });
  t.teardown(() => registry.stop());
  const layout = mkdtempSync(join(tmpdir(), 'stack-insecure-layout-'));
  t.teardown(() => rmSync(layout, { recursive: true, force: true }));
  await writeImageLayout(layout, 'v1', await busyboxLayers('hello over plain HTTP'), ['cat', '/etc/greeting']);
  const image = `${registry.host}/plain/busybox:v1`;
  await pushLayout(layout, 'v1', image);
  const cwd = engine.paths.root;

  const refused = await runCli(['pull', image], { cwd, env: engine.env });
  t.equal(refused.code, 1);
  t.match(refused.stderr, `${registry.host}: the registry does not speak HTTPS`);
  t.match(refused.stderr, `start the engine with --insecure-registry ${registry.host}`);
  t.equal((await runCli(['images', '-q'], { cwd, env: engine.env })).stdout.trim().split('\n').length, 1, 'only busybox:test is stored');

  await engine.stopEngine();
  await engine.startProcess(['--insecure-registry', registry.host]);
  const pulled = await runCli(['pull', image], { cwd, env: engine.env });
  t.equal(pulled.code, 0, pulled.stderr);
  const run = await runCli(['run', '--rm', image], { cwd, env: engine.env });
  t.same(run, { code: 0, stdout: 'hello over plain HTTP\n', stderr: '' });

  const info = await engine.client.call<{ RegistryConfig: { IndexConfigs: Record<string, { Secure: boolean }>; InsecureRegistryCIDRs: string[] } }>('GET', '/info');
  t.equal(info.RegistryConfig.IndexConfigs[registry.host]?.Secure, false);
  t.ok(info.RegistryConfig.InsecureRegistryCIDRs.includes('127.0.0.0/8'));
  const home = mkdtempSync(join(tmpdir(), 'stack-docker-home-'));
  t.teardown(() => rmSync(home, { recursive: true, force: true }));
  const dockerInfo = await makeDocker(engine, home)(['info']);
  t.equal(dockerInfo.code, 0, dockerInfo.stderr);
  t.match(dockerInfo.stdout, new RegExp(`Insecure Registries:\\n\\s+${registry.host.replace(/\./g, '\\.')}\\n\\s+127\\.0\\.0\\.0/8`));
});
