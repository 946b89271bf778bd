import t from 'tap';
import type { RestartPolicy } from '../../src/common/api-types.js';
import { UsageError } from '../../src/common/errors.js';
import {
  nextRestartDelay,
  parseRestartPolicy,
  RESTART_BACKOFF,
  shouldRestart,
  validateRestartPolicy,
  type RestartQuestion,
} from '../../src/engine/restart-policy.js';

const ask = (policy: RestartPolicy | undefined, rest: Partial<RestartQuestion> = {}): boolean =>
  shouldRestart({ policy, exitCode: 1, restartCount: 0, stoppedByUser: false, ...rest });

t.test('no, or no policy at all, never restarts', async (t) => {
  t.equal(ask(undefined), false);
  t.equal(ask({ Name: 'no' }), false);
  t.equal(ask({ Name: '' }), false, 'the empty name Docker <25 stored');
  t.equal(ask({ Name: 'no' }, { engineStarting: true }), false);
});

t.test('always: any exit, but not after a user stop until the engine restarts', async (t) => {
  const always: RestartPolicy = { Name: 'always' };
  t.equal(ask(always, { exitCode: 0 }), true);
  t.equal(ask(always, { exitCode: 137, restartCount: 1000 }), true, 'no retry limit');
  t.equal(ask(always, { stoppedByUser: true }), false);
  t.equal(ask(always, { stoppedByUser: true, engineStarting: true }), true, 'the engine starting undoes a user stop');
  t.equal(ask(always, { engineStarting: true, exitCode: 0 }), true);
});

t.test('unless-stopped: like always, except a user stop holds across engine restarts', async (t) => {
  const unlessStopped: RestartPolicy = { Name: 'unless-stopped' };
  t.equal(ask(unlessStopped, { exitCode: 0 }), true);
  t.equal(ask(unlessStopped, { exitCode: 2 }), true);
  t.equal(ask(unlessStopped, { stoppedByUser: true }), false);
  t.equal(ask(unlessStopped, { stoppedByUser: true, engineStarting: true }), false);
  t.equal(ask(unlessStopped, { engineStarting: true }), true);
});

t.test('on-failure: non-zero exits only, below the maximum when there is one', async (t) => {
  t.equal(ask({ Name: 'on-failure' }, { exitCode: 0 }), false);
  t.equal(ask({ Name: 'on-failure' }, { exitCode: 1, restartCount: 500 }), true, 'no maximum: unlimited');
  t.equal(ask({ Name: 'on-failure', MaximumRetryCount: 0 }, { exitCode: 1, restartCount: 500 }), true, 'maximum 0: unlimited');
  t.equal(ask({ Name: 'on-failure', MaximumRetryCount: 3 }, { restartCount: 2 }), true);
  t.equal(ask({ Name: 'on-failure', MaximumRetryCount: 3 }, { restartCount: 3 }), false, 'three restarts made: done');
  t.equal(ask({ Name: 'on-failure' }, { exitCode: 143, stoppedByUser: true }), false, 'a user stop is not a failure');
  t.equal(ask({ Name: 'on-failure' }, { exitCode: 143, stoppedByUser: true, engineStarting: true }), false);
  t.equal(ask({ Name: 'on-failure' }, { exitCode: 255, engineStarting: true }), true, 'died with the engine: a failure');
  t.equal(ask({ Name: 'on-failure' }, { exitCode: -1 }), true, 'any non-zero code');
});

t.test('an unknown name in a stored record never restarts', async (t) => {
  t.equal(ask(JSON.parse('{"Name":"sometimes"}') as RestartPolicy), false);
});

t.test('backoff: 100ms doubling to a one-minute cap', async (t) => {
  const delays: number[] = [];
  let previousDelayMs = 0;
  for (let i = 0; i < 12; i += 1) {
    previousDelayMs = nextRestartDelay({ previousDelayMs, ranForMs: 50 });
    delays.push(previousDelayMs);
  }
  t.same(delays, [100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600, 51200, 60000, 60000]);
  t.equal(nextRestartDelay({ ranForMs: 0 }), RESTART_BACKOFF.firstDelayMs, 'the first restart');
});

t.test('backoff: starts over after a run of ten seconds or more', async (t) => {
  t.equal(nextRestartDelay({ previousDelayMs: 60000, ranForMs: 10_000 }), 100);
  t.equal(nextRestartDelay({ previousDelayMs: 60000, ranForMs: 3_600_000 }), 100);
  t.equal(nextRestartDelay({ previousDelayMs: 6400, ranForMs: 9_999 }), 12800, 'just short of ten seconds: still a crash loop');
});

t.test('parseRestartPolicy: CLI and Compose forms', async (t) => {
  t.same(parseRestartPolicy('no'), { Name: 'no', MaximumRetryCount: 0 });
  t.same(parseRestartPolicy(''), { Name: 'no', MaximumRetryCount: 0 });
  t.same(parseRestartPolicy('always'), { Name: 'always', MaximumRetryCount: 0 });
  t.same(parseRestartPolicy('unless-stopped'), { Name: 'unless-stopped', MaximumRetryCount: 0 });
  t.same(parseRestartPolicy('on-failure'), { Name: 'on-failure', MaximumRetryCount: 0 });
  t.same(parseRestartPolicy('on-failure:3'), { Name: 'on-failure', MaximumRetryCount: 3 });
  t.same(parseRestartPolicy('on-failure:0'), { Name: 'on-failure', MaximumRetryCount: 0 });
});

t.test('parseRestartPolicy: bad input names the value and the valid forms', async (t) => {
  const valid = 'use one of no, always, on-failure, on-failure:<max-retries>, unless-stopped';
  t.throws(() => parseRestartPolicy('sometimes'), new UsageError(`invalid restart policy "sometimes": ${valid}`));
  t.throws(() => parseRestartPolicy('Always'), new UsageError(`invalid restart policy "Always": ${valid}`), 'names are case-sensitive, as in Docker');
  t.throws(() => parseRestartPolicy(':3'), new UsageError(`invalid restart policy ":3": ${valid}`));
  t.throws(() => parseRestartPolicy('on-failure:three'), /invalid restart policy "on-failure:three": the maximum retry count after ":" must be a whole number/);
  t.throws(() => parseRestartPolicy('on-failure:'), /must be a whole number/);
  t.throws(() => parseRestartPolicy('on-failure:1.5'), /must be a whole number/);
  t.throws(() => parseRestartPolicy('on-failure:-1'), new UsageError('invalid restart policy "on-failure:-1": the maximum retry count cannot be negative'));
  t.throws(() => parseRestartPolicy('always:3'), new UsageError('invalid restart policy "always:3": a maximum retry count can only be used with on-failure, as in on-failure:3'));
  t.throws(() => parseRestartPolicy('unless-stopped:2'), UsageError);
});

t.test('validateRestartPolicy: what dockerd refuses at create', async (t) => {
  t.doesNotThrow(() => validateRestartPolicy({ Name: 'on-failure', MaximumRetryCount: 5 }));
  t.doesNotThrow(() => validateRestartPolicy({ Name: 'always' }));
  t.doesNotThrow(() => validateRestartPolicy({ Name: '', MaximumRetryCount: 3 }), 'Docker <25 records load');
  t.throws(() => validateRestartPolicy({ Name: 'no', MaximumRetryCount: 1 }), /only be used with on-failure/);
  t.throws(() => validateRestartPolicy({ Name: 'on-failure', MaximumRetryCount: -2 }), /cannot be negative/);
  t.throws(() => validateRestartPolicy(JSON.parse('{"Name":"sometimes"}') as RestartPolicy),
    new UsageError('invalid restart policy "sometimes": use one of no, always, on-failure, on-failure:<max-retries>, unless-stopped'));
});
