import t from 'tap';
import { parsePortLongSyntax, parsePortShortSyntax } from '../../../src/compose/short-syntax/ports.js';

const ports = (spec: string | number) => {
  const r = parsePortShortSyntax(spec);
  return r.ok ? r.value : r.error;
};

t.test('every short form', async (t) => {
  t.strictSame(ports('3000'), [{ target: 3000, protocol: 'tcp', mode: 'ingress' }]);
  t.strictSame(ports(3000), [{ target: 3000, protocol: 'tcp', mode: 'ingress' }]);
  t.strictSame(ports('8000:8000'), [{ target: 8000, protocol: 'tcp', mode: 'ingress', published: '8000' }]);
  t.strictSame(ports('127.0.0.1:8001:8001'), [{ target: 8001, protocol: 'tcp', mode: 'ingress', host_ip: '127.0.0.1', published: '8001' }]);
  t.strictSame(ports('127.0.0.1::80'), [{ target: 80, protocol: 'tcp', mode: 'ingress', host_ip: '127.0.0.1' }]);
  t.strictSame(ports('6060:6060/udp'), [{ target: 6060, protocol: 'udp', mode: 'ingress', published: '6060' }]);
  t.strictSame(ports('[::1]:6001:6001'), [{ target: 6001, protocol: 'tcp', mode: 'ingress', host_ip: '::1', published: '6001' }]);
  t.strictSame(ports('::1:6001:6001'), [{ target: 6001, protocol: 'tcp', mode: 'ingress', host_ip: '::1', published: '6001' }]);
  t.strictSame(ports('53/SCTP'), [{ target: 53, protocol: 'sctp', mode: 'ingress' }]);
});

t.test('ranges expand to one entry per port', async (t) => {
  t.strictSame(
    (ports('3000-3002') as { target: number }[]).map((p) => p.target),
    [3000, 3001, 3002],
  );
  t.strictSame(ports('9090-9091:8080-8081'), [
    { target: 8080, protocol: 'tcp', mode: 'ingress', published: '9090' },
    { target: 8081, protocol: 'tcp', mode: 'ingress', published: '9091' },
  ]);
  // One container port behind a host range: the range is kept for the engine to pick from.
  t.strictSame(ports('8000-8010:80'), [{ target: 80, protocol: 'tcp', mode: 'ingress', published: '8000-8010' }]);
});

t.test('malformed mappings say what is wrong', async (t) => {
  t.equal(ports('80:80:80:80'), '"80:80:80:80" is not a valid port mapping: use "HOST:CONTAINER" like "8080:80"');
  t.equal(ports('9090-9092:8080-8081'), '"9090-9092:8080-8081" maps 3 host ports to 2 container ports: the two ranges must be the same length');
  t.equal(ports('80/http'), '"80/http" is not a valid port mapping: unknown protocol "http", use tcp, udp or sctp');
  t.equal(ports('localhost:80:80'), '"localhost:80:80" is not a valid port mapping: "localhost" is not an IP address');
  t.equal(ports('70000'), '"70000" is not a valid port mapping: port 70000 is out of range 1-65535');
  t.equal(ports('3005-3000'), '"3005-3000" is not a valid port mapping: range 3005-3000 ends before it starts');
  t.equal(ports('web:80'), '"web:80" is not a valid port mapping: "web" is not a port or a port range');
  t.equal(ports(0), '0 is not a valid port: use a number from 1 to 65535');
  t.equal(ports('[::1:80:80'), '"[::1:80:80" is not a valid port mapping: use "HOST:CONTAINER" like "8080:80"');
});

t.test('long syntax gets defaults and a string published port', async (t) => {
  t.strictSame(parsePortLongSyntax({ target: 80, published: 8080 }), { ok: true, value: { target: 80, protocol: 'tcp', mode: 'ingress', published: '8080' } });
  t.strictSame(parsePortLongSyntax({ target: '80', published: '8000-8010', host_ip: '127.0.0.1', protocol: 'udp', mode: 'host', name: 'web', app_protocol: 'http' }), {
    ok: true,
    value: { target: 80, protocol: 'udp', mode: 'host', published: '8000-8010', host_ip: '127.0.0.1', name: 'web', app_protocol: 'http' },
  });
  t.strictSame(parsePortLongSyntax({ target: 0 }), { ok: false, error: 'target 0 is not a valid port: use a number from 1 to 65535' });
  t.strictSame(parsePortLongSyntax({ target: 80, published: 'x' }), { ok: false, error: 'published "x" is not valid: "x" is not a port or a port range' });
});
