import t from 'tap';
import { parseBytes, parseCpus } from '../../../src/compose/short-syntax/units.js';

const bytes = (s: string | number, unlimited = false) => {
  const r = parseBytes(s, unlimited);
  return r.ok ? r.value : r.error;
};

t.test('sizes are powers of 1024', async (t) => {
  t.equal(bytes('512m'), 536_870_912);
  t.equal(bytes('1g'), 1_073_741_824);
  t.equal(bytes('1.5GB'), 1_610_612_736);
  t.equal(bytes('64k'), 65_536);
  t.equal(bytes('100b'), 100);
  t.equal(bytes('2 MiB'), 2_097_152);
  t.equal(bytes(1024), 1024);
  t.equal(bytes('1024'), 1024);
  t.equal(bytes('-1', true), -1);
  t.equal(bytes(-1, true), -1);
  t.equal(bytes('-1'), '"-1" is not a valid size: use a number of bytes or a number with a unit b, k, m or g, like "512m" or "1.5g"');
  t.equal(bytes('12 parsecs'), '"12 parsecs" is not a valid size: use a number of bytes or a number with a unit b, k, m or g, like "512m" or "1.5g"');
  t.equal(bytes(1.5), '1.5 is not a valid size: use a number of bytes or a number with a unit b, k, m or g, like "512m" or "1.5g"');
});

t.test('cpus', async (t) => {
  t.strictSame(parseCpus('0.5'), { ok: true, value: 0.5 });
  t.strictSame(parseCpus(2), { ok: true, value: 2 });
  t.strictSame(parseCpus('two'), { ok: false, error: '"two" is not a valid number of CPUs: use a decimal number like "0.5" or "2"' });
  t.strictSame(parseCpus(-1), { ok: false, error: '-1 is not a valid number of CPUs: use a decimal number like "0.5" or "2"' });
});
