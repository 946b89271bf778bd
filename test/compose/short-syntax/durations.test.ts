import t from 'tap';
import { formatDuration, parseDuration } from '../../../src/compose/short-syntax/durations.js';

const ms = (s: string | number) => {
  const r = parseDuration(s);
  return r.ok ? r.value : r.error;
};

t.test('Go durations to milliseconds', async (t) => {
  t.equal(ms('1m30s'), 90_000);
  t.equal(ms('500ms'), 500);
  t.equal(ms('10s'), 10_000);
  t.equal(ms('1h2m'), 3_720_000);
  t.equal(ms('1.5s'), 1500);
  t.equal(ms('250us'), 0.25);
  t.equal(ms('0'), 0);
  t.equal(ms(0), 0);
  t.equal(ms('10'), '"10" is not a valid duration: use a number with a unit, like "10s", "1m30s" or "500ms"');
  t.equal(ms('1x'), '"1x" is not a valid duration: use a number with a unit, like "10s", "1m30s" or "500ms"');
  t.equal(ms(''), '"" is not a valid duration: use a number with a unit, like "10s", "1m30s" or "500ms"');
  t.equal(ms(30), '30 is not a valid duration: add a unit, like "30s" or "30ms"');
});

t.test('milliseconds printed back as Go prints them', async (t) => {
  t.equal(formatDuration(90_000), '1m30s');
  t.equal(formatDuration(500), '500ms');
  t.equal(formatDuration(10_000), '10s');
  t.equal(formatDuration(3_720_000), '1h2m0s');
  t.equal(formatDuration(1500), '1.5s');
  t.equal(formatDuration(0.25), '250µs');
  t.equal(formatDuration(0), '0s');
  t.equal(formatDuration(61_001), '1m1.001s');
});
