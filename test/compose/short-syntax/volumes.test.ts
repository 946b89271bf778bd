import t from 'tap';
import { parseVolumeLongSyntax, parseVolumeShortSyntax } from '../../../src/compose/short-syntax/volumes.js';

const paths = { projectDirectory: '/home/ann/shop', home: '/home/ann' };
const volume = (spec: string, p: { projectDirectory: string; home: string | undefined } = paths) => {
  const r = parseVolumeShortSyntax(spec, p);
  return r.ok ? r.value : r.error;
};

t.test('short forms', async (t) => {
  t.strictSame(volume('/data'), { type: 'volume', target: '/data' });
  t.strictSame(volume('./cache:/tmp/cache'), { type: 'bind', source: '/home/ann/shop/cache', target: '/tmp/cache', bind: { create_host_path: true } });
  t.strictSame(volume('~/x:/y:ro'), { type: 'bind', source: '/home/ann/x', target: '/y', bind: { create_host_path: true }, read_only: true });
  t.strictSame(volume('name:/var/lib/mysql:rw'), { type: 'volume', source: 'name', target: '/var/lib/mysql', volume: {} });
  t.strictSame(volume('.:/app:cached'), { type: 'bind', source: '/home/ann/shop', target: '/app', bind: { create_host_path: true }, consistency: 'cached' });
  t.strictSame(volume('../shared:/shared:ro,z'), {
    type: 'bind',
    source: '/home/ann/shared',
    target: '/shared',
    bind: { create_host_path: true, selinux: 'z' },
    read_only: true,
  });
  t.strictSame(volume('/etc/ssl:/etc/ssl:ro,rslave'), {
    type: 'bind',
    source: '/etc/ssl',
    target: '/etc/ssl',
    bind: { create_host_path: true, propagation: 'rslave' },
    read_only: true,
  });
  t.strictSame(volume('data:/data:nocopy'), { type: 'volume', source: 'data', target: '/data', volume: { nocopy: true } });
  t.strictSame(volume('/cache:ro'), { type: 'volume', target: '/cache', read_only: true });
  t.strictSame(volume('C:\\data:/data'), { type: 'bind', source: 'C:\\data', target: '/data', bind: { create_host_path: true } });
});

t.test('malformed short forms', async (t) => {
  t.equal(volume('a:/b:ro:extra'), '"a:/b:ro:extra" is not a valid volume: use "SOURCE:TARGET[:MODE]" like "./data:/data:ro"');
  t.equal(volume('./x:relative'), '"./x:relative" is not a valid volume: the container path "relative" must be absolute');
  t.equal(volume('./x:/y:fast'), '"./x:/y:fast" is not a valid volume: unknown mode "fast", use ro, rw, z, Z, nocopy, cached, delegated, consistent, or a propagation (shared, slave, private and their r- forms)');
  t.equal(volume('~/x:/y', { projectDirectory: '/p', home: undefined }), '"~/x:/y" is not a valid volume: "~/x" starts with ~ but HOME is not set');
});

t.test('long syntax', async (t) => {
  t.strictSame(parseVolumeLongSyntax({ type: 'bind', source: './src', target: '/app', read_only: true, bind: { propagation: 'rprivate' } }, paths), {
    ok: true,
    value: { type: 'bind', source: '/home/ann/shop/src', target: '/app', read_only: true, bind: { propagation: 'rprivate' } },
  });
  t.strictSame(parseVolumeLongSyntax({ type: 'tmpfs', target: '/run', tmpfs: { size: '64m', mode: 1777 } }, paths), {
    ok: true,
    value: { type: 'tmpfs', target: '/run', tmpfs: { size: 67108864, mode: 1777 } },
  });
  t.strictSame(parseVolumeLongSyntax({ type: 'tmpfs', target: '/run', tmpfs: { size: 'lots' } }, paths), {
    ok: false,
    error: 'tmpfs.size: "lots" is not a valid size: use a number of bytes or a number with a unit b, k, m or g, like "512m" or "1.5g"',
  });
  t.strictSame(parseVolumeLongSyntax({ type: 'bind', target: '/app' }, paths), { ok: false, error: 'a bind mount needs a "source" path on the host' });
});
