// `stack cp` as `docker cp` copies (where a file or directory lands, `/.` for contents, `-` for
// a tar on stdin/stdout) and as `docker compose cp` (SERVICE:PATH, --index): the real CLI
// in-process against a private engine and busybox containers; bad input refused, named.
import t from 'tap';
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import { engineSkipReason, makeEngineHarness } from '../api/engine-harness.js';
import { engineWithProject } from '../compose/support/project-dir.js';
import { runCli } from './run-cli.js';

const skip = engineSkipReason() ?? false;
const SETUP = 'mkdir -p /data/sub; echo hi > /data/a.txt; echo deep > /data/sub/b.txt; ln -s a.txt /data/link; chmod 640 /data/a.txt; touch /ready; exec sleep 300';

t.test('docker cp\'s rules, both ways, and a tar on stdin/stdout', { skip, timeout: 120_000 }, async (t) => {
  const h = await makeEngineHarness('cp');
  const dir = mkdtempSync(join(tmpdir(), 'stack-cp-'));
  t.teardown(async () => {
    await h.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });
  const cli = (...argv: string[]) => runCli(argv, { cwd: dir, env: h.env });
  const inside = async (script: string) => (await cli('exec', 'c', 'sh', '-c', script)).stdout;
  t.equal((await cli('run', '-d', '--name', 'c', 'busybox:test', 'sh', '-c', SETUP)).code, 0);
  for (let i = 0; i < 100 && (await cli('exec', 'c', 'test', '-f', '/ready')).code !== 0; i++) await new Promise((r) => setTimeout(r, 50));

  t.same(await cli('cp', 'c:/data/a.txt', 'a-copy.txt'), { code: 0, stdout: '', stderr: '' });
  t.equal(readFileSync(join(dir, 'a-copy.txt'), 'utf8'), 'hi\n', 'a file onto a new name');
  t.equal(lstatSync(join(dir, 'a-copy.txt')).mode & 0o777, 0o640, 'its mode kept');
  t.equal((await cli('cp', 'c:/data', 'fresh')).code, 0);
  t.equal(readFileSync(join(dir, 'fresh/sub/b.txt'), 'utf8'), 'deep\n', 'a directory onto a new name becomes it');
  t.equal(readlinkSync(join(dir, 'fresh/link')), 'a.txt', 'symlinks copied as symlinks');
  mkdirSync(join(dir, 'existing'));
  t.equal((await cli('cp', 'c:/data', 'existing')).code, 0);
  t.equal(readFileSync(join(dir, 'existing/data/a.txt'), 'utf8'), 'hi\n', 'a directory onto a directory goes inside it');
  mkdirSync(join(dir, 'contents'));
  t.equal((await cli('cp', 'c:/data/.', 'contents')).code, 0);
  t.equal(readFileSync(join(dir, 'contents/a.txt'), 'utf8'), 'hi\n', '/. copies the contents');

  writeFileSync(join(dir, 'up.txt'), 'uploaded\n');
  t.equal((await cli('cp', 'up.txt', 'c:/data/')).code, 0);
  t.equal((await cli('cp', 'up.txt', 'c:/data/renamed.txt')).code, 0);
  t.equal((await cli('cp', 'existing', 'c:/tmp/')).code, 0);
  t.equal((await cli('cp', 'contents/.', 'c:/srv')).code, 0);
  t.equal(await inside('cat /data/up.txt /data/renamed.txt /tmp/existing/data/sub/b.txt /srv/a.txt'), 'uploaded\nuploaded\ndeep\nhi\n', 'into a directory, onto a new name, a directory, contents');

  const out = await runCli(['cp', 'c:/data/sub', '-'], { cwd: dir, env: h.env });
  const names: string[] = [];
  const extract = tar.extract();
  extract.on('entry', (header, stream, next) => {
    names.push(header.name);
    stream.on('end', next).resume();
  });
  await new Promise((resolve, reject) => Readable.from([Buffer.from(out.stdout, 'latin1')]).pipe(extract).on('finish', () => resolve(undefined)).on('error', reject));
  t.same(names.sort(), ['sub', 'sub/b.txt'], '- writes a tar to stdout');
  const pack = tar.pack();
  pack.entry({ name: 'from-stdin.txt', mode: 0o600 }, 'piped\n');
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack as AsyncIterable<Buffer>) chunks.push(chunk);
  const fed = await runCli(['cp', '-', 'c:/tmp'], { cwd: dir, env: h.env, stdin: Buffer.concat(chunks) });
  t.equal(fed.code, 0, fed.stderr);
  t.equal(await inside('cat /tmp/from-stdin.txt; stat -c %a /tmp/from-stdin.txt'), 'piped\n600\n', '- reads a tar from stdin');

  for (const [argv, message] of [
    [['c:/nope', 'x'], '/nope: no such file or directory in the container'],
    [['nope', 'c:/x'], 'nope: no such file or directory'],
    [['c:/data', 'up.txt'], 'cannot copy the directory /data over the file up.txt'],
    [['c:/data/a.txt', 'no-dir/'], 'no-dir/: no such directory'],
    [['c:/data/a.txt', 'missing/deeper/x'], 'missing/deeper: no such directory to copy into'],
    [['up.txt', 'c:/no/such/place'], '/no/such: no such directory in the container to copy into'],
    [['existing', 'c:/data/a.txt'], 'cannot copy the directory existing over the file /data/a.txt in the container'],
    [['up.txt', 'c:relative'], '"relative": the path in the container must be absolute'],
    [['a', 'b'], 'one side must be CONTAINER:PATH'],
    [['c:/a', 'c:/b'], 'copying between two containers is not supported'],
    [['gone:/a', '.'], 'No such container: gone'],
  ] as const) {
    const bad = await cli('cp', ...argv);
    t.not(bad.code, 0, argv.join(' '));
    t.match(bad.stderr, message);
  }
});

t.test('compose cp: SERVICE:PATH, --index for a replica', { skip, timeout: 120_000 }, async (t) => {
  const { p } = await engineWithProject(t, 'cp-project', `name: cpp
services:
  app:
    image: busybox:test
    command: ["sh", "-c", "hostname > /id; exec sleep 300"]
    init: true
    deploy: { replicas: 2 }
`);
  t.equal((await p.stack('up', '-d')).code, 0);
  for (let i = 0; i < 100 && (await p.stack('exec', '--index', '2', 'app', 'test', '-s', '/id')).code !== 0; i++) await new Promise((r) => setTimeout(r, 50));
  t.equal((await p.stack('cp', 'app:/id', 'one')).code, 0);
  t.equal((await p.stack('cp', '--index', '2', 'app:/id', 'two')).code, 0);
  const [one, two] = ['one', 'two'].map((f) => readFileSync(join(p.dir, f), 'utf8'));
  t.not(one, two, 'replica 1 by default, replica 2 with --index 2');
  t.equal(one, `${(await p.stack('exec', 'app', 'hostname')).stdout}`);
  t.equal((await p.stack('cp', 'one', 'app:/copied')).code, 0);
  t.equal((await p.stack('exec', 'app', 'cat', '/copied')).stdout, one);
  t.match((await p.stack('cp', '--index', '3', 'app:/id', 'x')).stderr, 'service "app" has no replica 3');
  t.match((await p.stack('cp', 'ap:/id', 'x')).stderr, 'no service or container "ap" in project "cpp" (did you mean "app"?)');
});
