// Terminals. exec: a real pty on our side (python3's pty module) drives
// `stack-shim exec -t`, and the Node API's tty option with pipes; the process must see
// /dev/pts/N of its container as its controlling terminal, with the size set. The main
// process (process.terminal): /dev/pts/0 of the container's own devpts, its output in
// the log as stdout.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { DEFAULT_SHIM_PATH } from '../../src/runtime/shim-runtime.js';
import { leftoverCgroups, makeHarness, skipReason, waitUntil, type Harness } from './fixtures.js';

const reason = skipReason() ?? (spawnSync('python3', ['-c', 'import pty']).status === 0 ? undefined : 'tty tests need python3');
if (reason) {
  t.plan(0, reason);
} else {
  const h: Harness = makeHarness('tty');
  t.teardown(() => h.cleanup());

  async function running(): Promise<string> {
    const id = h.newId();
    await h.runtime.start(id, await h.bundle(id, { args: ['sleep', '60'] }));
    return id;
  }

  // Runs argv on a fresh pty of ours sized rows x cols, types `input`, returns all output.
  const DRIVER = [
    'import os, pty, sys, fcntl, termios, struct, select',
    'rows, cols, text = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3].encode()',
    'pid, fd = pty.fork()',
    'if pid == 0:',
    '    fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))',
    '    os.execv(sys.argv[4], sys.argv[4:])',
    'os.write(fd, text)',
    'out = b""',
    'while True:',
    '    r, _, _ = select.select([fd], [], [], 10)',
    '    if not r: break',
    '    try: d = os.read(fd, 4096)',
    '    except OSError: break',
    '    if not d: break',
    '    out += d',
    '_, st = os.waitpid(pid, 0)',
    'sys.stdout.write(out.decode(errors="replace"))',
    'sys.stdout.write("\\nEXIT=%d\\n" % os.waitstatus_to_exitcode(st))',
  ].join('\n');

  function processFile(id: string, args: string[]): string {
    const file = join(h.root, `${id}-process.json`);
    writeFileSync(file, JSON.stringify({ args, env: ['PATH=/bin'], cwd: '/', user: { uid: 0, gid: 0 } }));
    return file;
  }

  t.test('exec -t from a real terminal: /dev/pts/N, the caller\'s size, an interactive shell', async (t) => {
    const id = await running();
    const proc = processFile(id, ['sh']);
    const r = spawnSync('python3', ['-c', DRIVER, '33', '101', 'tty; stty size; echo pgrp=$(ps -o pid,tpgid | wc -l); exit 42\n',
      DEFAULT_SHIM_PATH, 'exec', '-t', '--state', h.runtime.statePath(id), '--process', proc], { encoding: 'utf8', timeout: 20_000 });
    t.equal(r.status, 0, r.stderr);
    t.match(r.stdout, /\r\n\/dev\/pts\/\d+\r\n/, 'tty names a pts of the container');
    t.match(r.stdout, /\r\n33 101\r\n/, 'stty size is the caller\'s terminal size');
    t.match(r.stdout, /EXIT=42\n$/, 'the shell\'s exit code comes back');
  });

  t.test('exec -t with --rows/--cols and a size file followed on SIGWINCH', async (t) => {
    const id = await running();
    const sizeFile = join(h.root, `${id}-size`);
    writeFileSync(sizeFile, '50 132\n');
    const proc = processFile(id, ['sh', '-c', 'stty size; trap "stty size; exit 3" WINCH; i=0; while [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done']);
    const { spawn } = await import('node:child_process');
    const child = spawn(DEFAULT_SHIM_PATH, ['exec', '-t', '--rows', '24', '--cols', '80', '--size-file', sizeFile,
      '--state', h.runtime.statePath(id), '--process', proc], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    const deadline = Date.now() + 5000;
    while (!out.includes('24 80') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGWINCH');
    const code = await new Promise<number | null>((r) => child.on('close', r));
    t.equal(out, '24 80\r\n50 132\r\n');
    t.equal(code, 3);
  });

  t.test('ShimRuntime.exec with tty: pipes in, terminal output out, exit code', async (t) => {
    const id = await running();
    const stdin = new PassThrough();
    const stdout = new PassThrough();
    let seen = '';
    stdout.setEncoding('utf8').on('data', (d: string) => (seen += d));
    stdin.end('tty; stty size; [ -t 0 ] && echo stdin-is-a-terminal; exit 5\n');
    const r = await h.runtime.exec(id, { args: ['sh'], tty: true, rows: 40, cols: 120, stdin, stdout });
    t.equal(r.exitCode, 5);
    t.match(seen, /\/dev\/pts\/\d+\r\n/);
    t.match(seen, /\r\n40 120\r\n/);
    t.match(seen, /stdin-is-a-terminal\r\n/);
    const plain = await h.runtime.exec(id, { args: ['sh', '-c', 'tty; stty size'] });
    t.equal(plain.stdout, 'not a tty\n', 'without tty the process has no terminal');
    t.equal(plain.exitCode, 1);
  });

  t.test('ShimRuntime.exec with tty: resize reaches the terminal as SIGWINCH', async (t) => {
    const id = await running();
    const stdout = new PassThrough();
    let seen = '';
    stdout.setEncoding('utf8').on('data', (d: string) => (seen += d));
    const script = 'stty size; trap "stty size; exit 4" WINCH; i=0; while [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done';
    const r = await h.runtime.exec(id, {
      args: ['sh', '-c', script], tty: true, rows: 30, cols: 90, stdout,
      onResizable: (resize) => {
        void (async () => {
          const deadline = Date.now() + 5000;
          while (!seen.includes('30 90') && Date.now() < deadline) await new Promise((res) => setTimeout(res, 20));
          await resize(45, 160);
        })();
      },
    });
    t.equal(seen, '30 90\r\n45 160\r\n');
    t.equal(r.exitCode, 4);
  });

  t.test('exec -t into a stopped container is refused', async (t) => {
    const { id } = await h.runToExit({ args: ['true'] });
    await t.rejects(h.runtime.exec(id, { args: ['sh'], tty: true }), { message: `cannot exec in container ${id}: it is stopped` });
  });

  t.test('process.terminal: pid 1 on /dev/pts/0 of its own devpts, 24x80, all output logged as stdout, exit code kept', async (t) => {
    const script = 'tty; stty size; [ -t 0 ] && [ -t 1 ] && echo stdio-is-the-terminal; ls -l /dev/console | cut -c1; echo on-stderr >&2; exit 7';
    const r = await h.runToExit({ args: ['sh', '-c', script], terminal: true });
    t.equal(r.state.exitCode, 7);
    t.equal(r.state.error, null);
    t.same(r.logs.map((l) => l.log), ['/dev/pts/0\r\n', '24 80\r\n', 'stdio-is-the-terminal\r\n', 'c\r\n', 'on-stderr\r\n'], 'a terminal has one stream, lines end in \\r\\n');
    t.ok(r.logs.every((l) => l.stream === 'stdout'), 'logged as stdout, as Docker does');
    const hostPts = readFileSync('/proc/self/mountinfo', 'utf8');
    await h.runtime.delete(r.id);
    t.same(leftoverCgroups(r.id), [], 'no cgroups left');
    t.notOk(hostPts.includes(`${h.rootfs}/dev`), 'the container\'s /dev and /dev/console stayed in its mount namespace');
  });

  t.test('process.terminal: consoleSize, a user\'s own terminal, and init as pid 1', async (t) => {
    const sized = await h.runToExit({ args: ['sh', '-c', 'stty size; id -u; stat -c %u $(tty)'], terminal: true, consoleSize: { rows: 50, cols: 132 }, user: { uid: 1000, gid: 1000 } });
    t.same(sized.logs.map((l) => l.log), ['50 132\r\n', '1000\r\n', '1000\r\n']);
    const withInit = await h.runToExit({ args: ['sh', '-c', 'tty; exit 3'], terminal: true, init: true });
    t.same(withInit.logs.map((l) => l.log), ['/dev/pts/0\r\n']);
    t.equal(withInit.state.exitCode, 3);
  });

  t.test('process.terminal: a shell stays up on it (without one it ends at once), and exec sees it', async (t) => {
    const plain = await h.runToExit({ args: ['sh'] });
    t.equal(plain.state.exitCode, 0, 'without a terminal sh reads EOF and exits');
    const id = h.newId();
    await h.runtime.start(id, await h.bundle(id, { args: ['sh'], terminal: true }));
    t.ok(await waitUntil(async () => (await h.runtime.logs(id)).some((l) => l.log.includes('BusyBox')), 5000), 'the shell\'s banner reached the log');
    t.equal((await h.runtime.state(id)).status, 'running', 'sh is still waiting at its prompt');
    const inside = await h.runtime.exec(id, { args: ['sh', '-c', 'tty; ls /dev/pts | sort | tr "\\n" " "'] });
    t.equal(inside.stdout, 'not a tty\n0 ptmx ', 'an exec without -t has no terminal; pid 1\'s is pts 0');
    const stopped = await h.runtime.stop(id, { graceMs: 100 });
    t.equal(stopped.exitCode, 137, 'sh as pid 1 ignores SIGTERM, as under Docker: killed after the grace');
    t.match((await h.runtime.logs(id)).at(-1)?.log ?? '', /# /, 'the unfinished prompt is logged at the end');
  });

  t.test('process.terminal: resize writes the size file and the shim sizes the terminal on SIGWINCH', async (t) => {
    const id = h.newId();
    const script = 'stty size; trap "stty size; exit 4" WINCH; i=0; while [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done';
    await h.runtime.start(id, await h.bundle(id, { args: ['sh', '-c', script], terminal: true }));
    t.ok(await waitUntil(async () => (await h.runtime.logs(id)).length > 0, 5000), 'the first size is logged');
    await h.runtime.resize(id, 45, 160);
    const state = await h.runtime.waitForExit(id, 10_000);
    t.same((await h.runtime.logs(id)).map((l) => l.log), ['24 80\r\n', '45 160\r\n'], 'the kernel told the foreground process of the new size');
    t.equal(state.exitCode, 4);
  });
}
