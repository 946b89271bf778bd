// The web-app example (examples/web-app) for real, on a private engine: its image built from
// Debian's busybox package on the cached Debian base (cached afterwards as a docker-archive,
// keyed by what goes into the image), `stack up --watch` on a copy of the example, the page
// and the CGI script fetched from the published 127.0.0.1 port, each edited on the host and
// fetched again until the new text shows, a changed httpd.conf read after the restart its
// rule asks for; then Ctrl-C stops it all.
import t from 'tap';
import { execFile, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { engineSkipReason, makeEngineHarness } from '../api/engine-harness.js';
import { freePort } from '../api/free-port.js';
import { runCli } from '../cli/run-cli.js';
import { builtImagesArchive, importDebianBase } from './example-images.js';

const run = promisify(execFile);
const EXAMPLE = resolve(import.meta.dirname, '../../../examples/web-app');
const STACK_BIN = resolve(import.meta.dirname, '../../../bin/stack.js');
const IMAGE = 'stack-examples/web-app:1';
/** What goes into the image: a change to any of them means another build. */
const IMAGE_INPUTS = ['Dockerfile', '.dockerignore', 'httpd.conf', 'public', 'cgi-bin'];

const skip = engineSkipReason()
  ?? (existsSync('/usr/bin/mmdebstrap') ? undefined : 'needs mmdebstrap')
  ?? (existsSync('/usr/sbin/iptables') ? false : 'needs iptables');

function get(port: number, path: string): Promise<string> {
  return fetchText(port, path).then((r) => r.body);
}

function fetchText(port: number, path: string): Promise<{ body: string; type: string }> {
  return new Promise((done, fail) => {
    const req = request({ host: '127.0.0.1', port, path, timeout: 5_000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => done({ body, type: res.headers['content-type'] ?? '' }));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', fail);
    req.end();
  });
}

/** GETs until the body holds `text`: up to 10 s, every 50 ms. */
async function eventuallyServes(port: number, path: string, text: string): Promise<boolean> {
  for (let i = 0; i < 200; i++) {
    if ((await get(port, path).catch(() => '')).includes(text)) return true;
    await sleep(50);
  }
  return false;
}

t.test('EXAMPLE: the web-app stack under up --watch: an edited page and CGI script are served as saved', { skip, timeout: 600_000 }, async (t) => {
  const h = await makeEngineHarness('example-webapp');
  const dir = mkdtempSync(join(tmpdir(), 'stack-webapp-'));
  cpSync(EXAMPLE, dir, { recursive: true });
  const port = await freePort();
  const env = { ...h.env, WEB_PORT: String(port) };
  const stack = (...args: string[]) => runCli(args, { cwd: dir, env });
  let child: ReturnType<typeof spawn> | undefined;
  t.teardown(async () => {
    child?.kill('SIGKILL');
    await stack('down', '-v', '--remove-orphans', '-t', '2');
    await h.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });
  await importDebianBase(h.paths.root);
  const archive = builtImagesArchive(EXAMPLE, IMAGE_INPUTS);
  if (existsSync(archive)) t.equal((await stack('load', '-i', archive)).code, 0);

  child = spawn(process.execPath, [STACK_BIN, 'up', '--watch'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exit = new Promise<number | null>((r) => child!.once('exit', (code) => r(code)));
  // The CLI says what it did after the engine has done it: a page can be served before the line arrives.
  const said = async (line: RegExp): Promise<string> => {
    for (let i = 0; i < 100 && !line.test(output); i++) await sleep(50);
    return output;
  };
  // The first build installs Debian's busybox: minutes, once; then the archive is used.
  for (let i = 0; i < 6000 && !/watch \| watching web for changes/.test(output) && child.exitCode === null; i++) await sleep(50);
  t.match(output, /watch \| watching web for changes/, `up --watch is watching: ${output}`);
  if (!existsSync(archive)) {
    const saved = await stack('save', '-o', `${archive}.partial`, IMAGE);
    t.equal(saved.code, 0, saved.stderr);
    await run('mv', [`${archive}.partial`, archive]);
  }

  t.match(await get(port, '/'), 'Hello from the web-app example', 'the page is served on the published 127.0.0.1 port');
  const page = join(dir, 'public/index.html');
  writeFileSync(page, readFileSync(page, 'utf8').replace('Hello from the web-app example', 'Edited while it runs'));
  t.ok(await eventuallyServes(port, '/', 'Edited while it runs'), 'the edited page is served once saved');
  t.match(await said(/watch \| web: synced 1 file/), /watch \| web: synced 1 file \(public\/index\.html\) in webapp-web-1/);

  t.match(await get(port, '/cgi-bin/hello'), /^Hello from CGI in /, 'the CGI script runs');
  const cgi = join(dir, 'cgi-bin/hello');
  writeFileSync(cgi, readFileSync(cgi, 'utf8').replace('Hello from CGI', 'Changed CGI'));
  t.ok(await eventuallyServes(port, '/cgi-bin/hello', 'Changed CGI in '), 'the edited script runs on the next request');

  // httpd reads its configuration at start: the sync+restart rule restarts it.
  writeFileSync(join(dir, 'public/notes.txt'), 'notes\n');
  writeFileSync(join(dir, 'httpd.conf'), `${readFileSync(join(dir, 'httpd.conf'), 'utf8')}.txt:text/x-web-app-notes\n`);
  let type = '';
  for (let i = 0; i < 200 && type !== 'text/x-web-app-notes'; i++) {
    type = (await fetchText(port, '/notes.txt').catch(() => ({ type: '' }))).type;
    if (type !== 'text/x-web-app-notes') await sleep(50);
  }
  t.equal(type, 'text/x-web-app-notes', 'a changed httpd.conf is synced and the server restarted to read it');
  t.match(await said(/watch \| web: restarted/), /watch \| web: restarted webapp-web-1/);

  child.kill('SIGINT');
  t.equal(await exit, 130, 'Ctrl-C stops it: 130');
  const down = await stack('down', '-v', '-t', '2');
  t.equal(down.code, 0, down.stderr);
  t.equal((await stack('ps', '-aq')).stdout, '', 'no containers left');
});
