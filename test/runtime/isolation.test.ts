// Isolation checks issue 3 asks for that shim.test.ts does not already make: more exit
// codes (1, 42, a signal through init), an unbounded fork bomb held at pids.max, and
// the process settings the spec may ask for: oomScoreAdj and rlimits.
import t from 'tap';
import { readFileSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeHarness, skipReason, type Harness } from './fixtures.js';

const reason = skipReason();
if (reason) {
  t.plan(0, reason);
} else {
  const h: Harness = makeHarness('iso');
  t.teardown(() => h.cleanup());
  const sh = (script: string): string[] => ['sh', '-c', script];

  t.test('exit codes propagate: 1, 42, and 128+n for a signal', async (t) => {
    t.equal((await h.runToExit({ args: ['false'] })).state.exitCode, 1);
    t.equal((await h.runToExit({ args: sh('exit 42') })).state.exitCode, 42);
    // pid 1 ignores signals it has no handler for, so the program runs under init as pid 2.
    const killed = await h.runToExit({ args: sh('kill -TERM $$'), init: true });
    t.equal(killed.state.exitCode, 143, 'SIGTERM -> 143');
  });

  t.test('a fork bomb stays within pids.max and is stopped', async (t) => {
    const id = h.newId();
    await h.runtime.start(id, await h.bundle(id, { args: sh('f() { f | f & }; f; sleep 30'), resources: { pidsLimit: 20 } }));
    const s = await h.runtime.state(id);
    const pids = s.cgroups.find((c) => c.controller === 'pids')?.path ?? '';
    t.equal(readFileSync(`${pids}/pids.max`, 'utf8').trim(), '20');
    let most = 0;
    const until = Date.now() + 3000;
    while (Date.now() < until) {
      most = Math.max(most, Number(readFileSync(`${pids}/pids.current`, 'utf8').trim()));
      await new Promise((r) => setTimeout(r, 25));
    }
    t.ok(most > 5, `the bomb did fork (${most} at most)`);
    t.ok(most <= 20, `never more than pids.max (${most} at most)`);
    const failures = Number(readFileSync(`${pids}/pids.events`, 'utf8').match(/max (\d+)/)?.[1] ?? '0');
    t.ok(failures > 0, `forks were refused at the limit (${failures})`);
    const stopped = await h.runtime.stop(id, { graceMs: 200 });
    t.equal(stopped.status, 'stopped');
    t.equal(stopped.exitCode, 137, 'ended by SIGKILL after the grace period');
    await h.runtime.delete(id);
    t.notOk(existsSync(pids), 'the pids cgroup is gone with every process in it');
  });

  t.test('process.oomScoreAdj is applied', async (t) => {
    const id = h.newId();
    const bundle = await h.bundle(id, { args: ['cat', '/proc/self/oom_score_adj'] });
    // ContainerSpec has no oomScoreAdj yet; the shim reads it from config.json.
    const config = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8')) as { process: Record<string, unknown> };
    config.process.oomScoreAdj = 500;
    writeFileSync(join(bundle, 'config.json'), JSON.stringify(config));
    await h.runtime.start(id, bundle);
    await h.runtime.waitForExit(id, 5000);
    const out = (await h.runtime.logs(id)).map((l) => l.log).join('');
    t.equal(out, '500\n');
  });

  t.test('rlimits only when the spec asks', async (t) => {
    const asked = await h.runToExit({ args: sh('ulimit -n; ulimit -Hn'), rlimits: [{ type: 'RLIMIT_NOFILE', soft: 100, hard: 200 }] });
    t.equal(asked.stdout, '100\n200\n');
    const inherited = await h.runToExit({ args: sh('ulimit -Hn') });
    const hostHard = /Max open files\s+\S+\s+(\S+)/.exec(readFileSync(`/proc/${process.pid}/limits`, 'utf8'))?.[1];
    t.equal(inherited.stdout, `${hostHard}\n`, 'without rlimits the limit is left as inherited');
  });
}
