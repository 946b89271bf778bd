// applyPlan against a fake API on a Unix socket: operations run after what they depend on,
// independent ones together (bounded), each with its events; a dependency that turns
// unhealthy stops the start with its name, health output and last log lines.
import t, { type Test } from 'tap';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiClient } from '../../src/client/api-client.js';
import { encodeFrame, STDOUT } from '../../src/common/docker-stream.js';
import { applyPlan, carryOver } from '../../src/compose/apply.js';
import type { ComposeEvent } from '../../src/compose/events.js';
import { planUp } from '../../src/compose/plan.js';
import { emptyEngine, loadYaml } from './plan-support.js';

interface FakeEngine {
  client: ApiClient;
  calls: string[];
  health: { status: string; output: string };
  close(): Promise<void>;
}

async function fakeEngine(t: Test): Promise<FakeEngine> {
  const dir = mkdtempSync(join(tmpdir(), 'stack-apply-'));
  const socket = join(dir, 'api.sock');
  const calls: string[] = [];
  const containers: Array<{ Id: string; Name: string; Labels: Record<string, string> }> = [];
  const state = { health: { status: 'healthy', output: '' } };
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    const path = url.pathname.replace(/^\/v1\.41/, '');
    let body = '';
    req.on('data', (d: Buffer) => (body += d));
    req.on('end', async () => {
      await new Promise((r) => setTimeout(r, 5));
      const send = (status: number, value?: unknown) => { res.writeHead(status, { 'Content-Type': 'application/json' }); res.end(value === undefined ? '' : JSON.stringify(value)); };
      if (req.method === 'POST' && path === '/containers/create') {
        const name = url.searchParams.get('name')!;
        calls.push(`create ${name}`);
        containers.push({ Id: `id-${name}`, Name: name, Labels: (JSON.parse(body) as { Labels: Record<string, string> }).Labels });
        return send(201, { Id: `id-${name}` });
      }
      if (req.method === 'GET' && path === '/containers/json') {
        return send(200, containers.map((c) => ({ Id: c.Id, Names: [`/${c.Name}`], Labels: c.Labels, State: 'running', Status: 'Up', Ports: [] })));
      }
      let m = /^\/containers\/id-(.+)\/(start|json|logs)$/.exec(path);
      if (m) {
        if (m[2] === 'start') { calls.push(`start ${m[1]}`); return send(204); }
        if (m[2] === 'logs') {
          res.writeHead(200);
          return res.end(encodeFrame(STDOUT, '2024-01-01T00:00:00.000000000Z could not bind\n'));
        }
        return send(200, { Id: `id-${m[1]}`, Name: `/${m[1]}`, HostConfig: {}, State: { Status: 'running', Running: true, Restarting: false, ExitCode: 0, Health: { Status: state.health.status, FailingStreak: 0, Log: [{ ExitCode: 1, Output: state.health.output }] } } });
      }
      m = /^\/(networks|volumes)\/create$/.exec(path);
      if (m) { calls.push(`${m[1]} ${(JSON.parse(body) as { Name: string }).Name}`); return send(201, { Id: 'x' }); }
      send(404, { message: `page not found: ${req.method} ${path}` });
    });
  });
  await new Promise<void>((r) => server.listen(socket, r));
  const engine: FakeEngine = {
    client: new ApiClient(socket),
    calls,
    get health() { return state.health; },
    set health(h) { state.health = h; },
    close: () => new Promise<void>((r) => server.close(() => { rmSync(dir, { recursive: true, force: true }); r(); })),
  };
  t.teardown(() => engine.close());
  return engine;
}

const YAML = `
name: app
services:
  db: { image: busybox:test, healthcheck: { test: "true" } }
  cache: { image: busybox:test }
  web: { image: busybox:test, depends_on: { db: { condition: service_healthy }, cache: { condition: service_started } } }
`;

t.test('operations in dependency order, with their events', async (t) => {
  const engine = await fakeEngine(t);
  const { project, graph } = loadYaml(YAML);
  const events: ComposeEvent[] = [];
  await applyPlan(engine.client, planUp(project, graph, emptyEngine('app')), { emit: (e) => events.push(e), pollMs: 1 });
  const at = (c: string) => engine.calls.indexOf(c);
  t.equal(engine.calls[0], 'networks app_default');
  t.ok(at('start app-db-1') < at('create app-web-1') && at('start app-cache-1') < at('create app-web-1'), `web after db and cache: ${engine.calls.join(', ')}`);
  t.same(events.filter((e) => e.type === 'waiting' || e.type === 'health').map((e) => e.type), ['waiting', 'health']);
  t.same(events.filter((e) => e.type === 'container-started').map((e) => (e as { container: string }).container).sort(), ['app-cache-1', 'app-db-1', 'app-web-1']);
});

t.test('an unhealthy dependency: named, with its health output and log lines; the dependent is never made', async (t) => {
  const engine = await fakeEngine(t);
  engine.health = { status: 'unhealthy', output: 'connection refused\n' };
  const { project, graph } = loadYaml(YAML);
  const events: ComposeEvent[] = [];
  await t.rejects(applyPlan(engine.client, planUp(project, graph, emptyEngine('app')), { emit: (e) => events.push(e), pollMs: 1 }), {
    name: 'DependencyFailed',
    message: 'service web cannot start: its dependency db (container app-db-1) is unhealthy\nlast health check output of app-db-1: connection refused\nlast log lines of app-db-1:\n  could not bind',
  });
  t.notOk(engine.calls.includes('create app-web-1'));
  t.match(events.at(-1), { type: 'error', service: 'web', container: 'app-web-1' });
});

t.test('carryOver mounts a predecessor\'s anonymous volumes where the new config leaves the path free', async (t) => {
  const view = (name: string, at: string, rw = true) => ({ Type: 'volume', Name: name, Source: `/v/${name}`, Destination: at, Mode: '', RW: rw, Propagation: '' });
  const body = { Image: 'x', Volumes: { '/data': {} }, HostConfig: { Binds: ['proj_cache:/cache'], Tmpfs: { '/run/x': '' } } };
  const { body: out, left } = carryOver(body, [view('a1', '/data'), view('a2', '/cache/'), view('a3', '/run/x'), view('a4', '/ro', false)]);
  t.same(out.HostConfig?.Mounts, [{ Type: 'volume', Source: 'a1', Target: '/data' }, { Type: 'volume', Source: 'a4', Target: '/ro', ReadOnly: true }]);
  t.same(left.map((m) => m.Name), ['a2', 'a3'], 'paths the new config mounts something else at are not carried');
  t.equal(carryOver(body, []).body, body, 'nothing to carry: the body as it was');
});
