// The plain and JSON renderers of compose events: Compose-like lines, aligned log
// prefixes, colour only when asked (a terminal without NO_COLOR), JSON one event a line.
import t from 'tap';
import type { ComposeEvent } from '../../src/compose/events.js';
import { jsonRenderer, plainRenderer, useColour } from '../../src/cli/render-plain.js';
import type { CliIO } from '../../src/cli/io.js';

function io(env: Record<string, string> = {}, tty = false): CliIO & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    cwd: '/', env,
    stdout: { write: (s: string) => (out += s), isTTY: tty },
    stderr: { write: (s: string) => (err += s), isTTY: tty },
    out: () => out,
    err: () => err,
  };
}

const EVENTS: ComposeEvent[] = [
  { type: 'network-creating', network: 'shop_default' },
  { type: 'network-created', network: 'shop_default' },
  { type: 'volume-created', volume: 'shop_data' },
  { type: 'image-pulled', image: 'redis:7', service: 'cache' },
  { type: 'container-created', service: 'db', container: 'shop-db-1' },
  { type: 'waiting', service: 'web', container: 'shop-web-1', dependency: 'db', condition: 'service_healthy' },
  { type: 'health', service: 'db', container: 'shop-db-1', status: 'healthy' },
  { type: 'container-started', service: 'web', container: 'shop-web-1' },
  { type: 'container-running', service: 'cache', container: 'shop-cache-1' },
  { type: 'container-exited', service: 'job', container: 'shop-job-1', exitCode: 3 },
  { type: 'container-removed', service: 'old', container: 'shop-old-1' },
];

t.test('plain: one Compose-like line per event, no colour off a terminal', async (t) => {
  const out = io();
  const r = plainRenderer(out);
  for (const e of EVENTS) r.emit(e);
  t.equal(out.out(), [
    '   Network shop_default  Creating',
    ' ✔ Network shop_default  Created',
    ' ✔ Volume shop_data  Created',
    ' ✔ Image redis:7  Pulled',
    ' ✔ Container shop-db-1  Created',
    '   Container shop-web-1  Waiting for db',
    ' ✔ Container shop-db-1  Healthy',
    ' ✔ Container shop-web-1  Started',
    ' ✔ Container shop-cache-1  Running',
    ' ✔ Container shop-job-1  Exited (3)',
    ' ✔ Container shop-old-1  Removed',
    '',
  ].join('\n'));
  r.emit({ type: 'orphans', containers: ['shop-x-1'] });
  r.emit({ type: 'error', service: 'web', message: 'boom' });
  t.equal(out.err(), 'WARN Found orphan containers (shop-x-1) for this project. If you removed or renamed this service in your stack file, run this command with --remove-orphans to clean it up.\n');
  t.notMatch(out.out(), /boom/, 'errors are the top level\'s to print, once');
});

t.test('plain: logs prefixed with the container name, aligned; several lines in one chunk', async (t) => {
  const out = io();
  const r = plainRenderer(out);
  r.alignLogs(['shop-db-1', 'shop-worker-1']);
  r.emit({ type: 'log', service: 'db', container: 'shop-db-1', stream: 'stdout', text: 'ready\n' });
  r.emit({ type: 'log', service: 'worker', container: 'shop-worker-1', stream: 'stderr', text: 'a\nb\n' });
  t.equal(out.out(), '', 'log lines wait for the code that emits them to yield ...');
  await null;
  t.equal(out.out(), 'shop-db-1     | ready\nshop-worker-1 | a\nshop-worker-1 | b\n', '... then go out together');
});

t.test('plain: a line that is not a log line sends the log lines before it first', async (t) => {
  const out = io();
  const r = plainRenderer(out);
  r.emit({ type: 'log', service: 'db', container: 'shop-db-1', stream: 'stdout', text: 'ready\n' });
  r.emit({ type: 'container-exited', service: 'db', container: 'shop-db-1', exitCode: 0 });
  r.emit({ type: 'log', service: 'db', container: 'shop-db-1', stream: 'stdout', text: 'after\n' });
  await null;
  t.match(out.out(), /^shop-db-1 \| ready\n.*Exited \(0\)\nshop-db-1 \| after\n$/s);
});

t.test('colour on a terminal only, and never with NO_COLOR', async (t) => {
  t.equal(useColour(io({}, true)), true);
  t.equal(useColour(io({ NO_COLOR: '1' }, true)), false);
  t.equal(useColour(io({}, false)), false);
  const out = io({}, true);
  plainRenderer(out).emit({ type: 'container-started', service: 'web', container: 'w-1' });
  t.equal(out.out(), ' \x1b[32m✔\x1b[0m Container w-1  \x1b[32mStarted\x1b[0m\n');
});

t.test('json: one event per line, as emitted', async (t) => {
  const out = io();
  const r = jsonRenderer(out);
  for (const e of EVENTS.slice(0, 3)) r.emit(e);
  t.same(out.out().trim().split('\n').map((l) => JSON.parse(l)), EVENTS.slice(0, 3));
});

t.test('plain: what watching did as `watch |` lines, its failures on stderr; many files cut short', async (t) => {
  const out = io();
  const r = plainRenderer(out);
  for (const e of [
    { type: 'watch-started', services: ['web', 'api'] },
    { type: 'watch-synced', service: 'web', container: 'shop-web-1', files: ['public/a.html', 'public/b.css', 'public/c.js', 'public/d.png', 'public/e.svg'], deleted: ['public/old.html'] },
    { type: 'watch-restarted', service: 'api', containers: ['shop-api-1'] },
    { type: 'watch-rebuilding', service: 'api', files: ['api/Dockerfile'] },
    { type: 'watch-rebuilt', service: 'api' },
    { type: 'watch-exec', service: 'web', container: 'shop-web-1', command: ['npm', 'run', 'build'], exitCode: 0 },
    { type: 'watch-exec', service: 'web', container: 'shop-web-1', command: ['false'], exitCode: 1 },
    { type: 'watch-error', service: 'web', message: 'no running container to sync 1 changed path into: start it (stack up web)' },
    { type: 'watch-stopped' },
  ] satisfies ComposeEvent[]) r.emit(e);
  t.equal(out.out(), [
    'watch | watching web, api for changes',
    'watch | web: synced 5 files (public/a.html, public/b.css, public/c.js, … 2 more), removed 1 path (public/old.html) in shop-web-1',
    'watch | api: restarted shop-api-1',
    'watch | api: rebuilding after changes to api/Dockerfile',
    'watch | api: rebuilt and recreated',
    'watch | web: ran "npm run build" in shop-web-1: exit code 0',
    'watch | watching stopped',
    '',
  ].join('\n'));
  t.equal(out.err(), [
    'watch | web: ran "false" in shop-web-1: exit code 1',
    'watch | web: no running container to sync 1 changed path into: start it (stack up web)',
    '',
  ].join('\n'));
  const json = io();
  jsonRenderer(json).emit({ type: 'watch-synced', service: 'web', container: 'shop-web-1', files: ['a'], deleted: [] });
  t.same(JSON.parse(json.out()), { type: 'watch-synced', service: 'web', container: 'shop-web-1', files: ['a'], deleted: [] }, 'JSON: the event as it is');
});
