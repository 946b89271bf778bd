// The multi-network example (examples/multi-network) for real, on a private engine: its
// image built from Debian's busybox package on the cached Debian base (cached afterwards as
// a docker-archive, keyed by the build context), `stack up -d --wait`, the web front on its
// published 127.0.0.1 port, web reaching the API by name over the internal back network,
// and a container on the front network alone unable to resolve or reach the API.
import t from 'tap';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import type { ContainerInspect } from '../../src/common/api-types.js';
import { engineSkipReason, makeEngineHarness } from '../api/engine-harness.js';
import { runCli } from '../cli/run-cli.js';
import { builtImagesArchive, importDebianBase } from './example-images.js';
import { freePort } from '../api/free-port.js';

const run = promisify(execFile);
const EXAMPLE = resolve(import.meta.dirname, '../../../examples/multi-network');
const IMAGE = 'stack-examples/busybox-httpd:1';

const skip = engineSkipReason()
  ?? (existsSync('/usr/bin/mmdebstrap') ? undefined : 'needs mmdebstrap')
  ?? (existsSync('/usr/sbin/iptables') ? false : 'needs iptables');

function get(port: number, path: string): Promise<string> {
  return new Promise((done, fail) => {
    const req = request({ host: '127.0.0.1', port, path, timeout: 10_000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => done(body));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', fail);
    req.end();
  });
}

t.test('EXAMPLE: the multi-network stack: the host reaches web, web reaches the API by name, front alone does not', { skip, timeout: 600_000 }, async (t) => {
  const h = await makeEngineHarness('example-multinet');
  const port = await freePort();
  const env = { ...h.env, WEB_PORT: String(port) };
  const stack = (...args: string[]) => runCli(['--project-directory', EXAMPLE, ...args], { cwd: EXAMPLE, env });
  t.teardown(async () => {
    await stack('down', '-v', '--remove-orphans', '-t', '1');
    await h.cleanup();
  });
  await importDebianBase(h.paths.root);
  const archive = builtImagesArchive(EXAMPLE, ['web']);
  if (existsSync(archive)) t.equal((await runCli(['load', '-i', archive], { cwd: EXAMPLE, env })).code, 0);

  const up = await stack('up', '-d', '--wait');
  t.equal(up.code, 0, up.stderr);
  t.match(up.stdout, /Container multinet-api-1\s+Healthy/);
  if (!existsSync(archive)) {
    const saved = await runCli(['save', '-o', `${archive}.partial`, IMAGE], { cwd: EXAMPLE, env });
    t.equal(saved.code, 0, saved.stderr);
    await run('mv', [`${archive}.partial`, archive]);
  }

  t.match(await get(port, '/'), 'The web front.', 'the host reaches web on its published 127.0.0.1 port');
  t.equal(await get(port, '/cgi-bin/api'), 'api ok: served on the back network\n', 'web asks the API by its service name over the back network');

  const front = await stack('run', '--rm', '--network', 'multinet_front', 'busybox:test', 'nslookup', 'api');
  t.not(front.code, 0, 'on the front network alone, the name api does not resolve');
  const apiIp = (await h.client.call<ContainerInspect>('GET', '/containers/multinet-api-1/json')).NetworkSettings.Networks.multinet_back!.IPAddress;
  const reach = await stack('run', '--rm', '--network', 'multinet_front', 'busybox:test', 'sh', '-c', `timeout 3 nc -z ${apiIp} 8000 && echo reached || echo unreachable`);
  t.equal(reach.stdout.trim(), 'unreachable', 'nor is its address reachable from there');
  const alias = await stack('exec', 'multinet-web-1', 'sh', '-c', 'timeout 5 busybox wget -q -O - http://backend:8000/status');
  t.equal(alias.stdout, 'api ok: served on the back network\n', 'the API\'s network alias answers too');

  const down = await stack('down', '-t', '1');
  t.equal(down.code, 0, down.stderr);
  t.equal((await runCli(['ps', '-aq'], { cwd: EXAMPLE, env })).stdout, '', 'no containers left');
  t.equal((await runCli(['network', 'ls', '-q', '--filter', 'label=com.docker.compose.project=multinet'], { cwd: EXAMPLE, env })).stdout, '', 'no project networks left');
});
