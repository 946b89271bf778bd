// The pure parts of the embedded DNS server: reading headers, reverse names, upstream
// addresses, and fitting answers into a size.

import t from 'tap';
import dnsPacket from 'dns-packet';
import { canonicalName, encodeWithin, readHeader, reverseNameToAddress } from '../../src/network/dns-message.js';
import { parseUpstream } from '../../src/network/dns-upstream.js';

t.test('reverse names: only well-formed d.c.b.a.in-addr.arpa', async (t) => {
  t.equal(reverseNameToAddress('2.0.1.10.in-addr.arpa'), '10.1.0.2');
  t.equal(reverseNameToAddress('255.255.255.255.in-addr.arpa'), '255.255.255.255');
  t.equal(reverseNameToAddress('256.0.1.10.in-addr.arpa'), undefined, 'octet over 255');
  t.equal(reverseNameToAddress('02.0.1.10.in-addr.arpa'), undefined, 'leading zero');
  t.equal(reverseNameToAddress('0.1.10.in-addr.arpa'), undefined, 'a network, not an address');
  t.equal(reverseNameToAddress('2.0.1.10.ip6.arpa'), undefined);
});

t.test('canonical names: lower case, no trailing dot', async (t) => {
  t.equal(canonicalName('Web.Stack.'), 'web.stack');
  t.equal(canonicalName('db'), 'db');
});

t.test('headers are read without decoding the body', async (t) => {
  t.equal(readHeader(Buffer.alloc(11)), undefined);
  const query = dnsPacket.encode({ id: 7, type: 'query', flags: dnsPacket.RECURSION_DESIRED, questions: [{ name: 'a', type: 'A' }] });
  t.same(readHeader(query), { id: 7, isResponse: false, opcode: 0, recursionDesired: true, questionCount: 1 });
});

t.test('upstreams: ip, ip:port, bare and bracketed IPv6', async (t) => {
  t.same(parseUpstream('192.0.2.1'), { host: '192.0.2.1', port: 53 });
  t.same(parseUpstream('192.0.2.1:5353'), { host: '192.0.2.1', port: 5353 });
  t.same(parseUpstream('2001:db8::1'), { host: '2001:db8::1', port: 53 });
  t.same(parseUpstream('[2001:db8::1]:5353'), { host: '2001:db8::1', port: 5353 });
  t.throws(() => parseUpstream('192.0.2.1:70000'), /valid port/);
  t.throws(() => parseUpstream('resolver.example:53'), /not an IP address/);
});

t.test('answers too large for the limit keep whole records and set TC', async (t) => {
  const answers = Array.from({ length: 40 }, (_, i) => ({ type: 'A' as const, name: 'worker', ttl: 60, data: `10.0.0.${i + 1}` }));
  const packet = { id: 1, type: 'response' as const, questions: [{ name: 'worker', type: 'A' as const }], answers };
  const small = encodeWithin(packet, 512);
  t.ok(small.length <= 512);
  const decoded = dnsPacket.decode(small);
  t.ok(decoded.flag_tc);
  t.ok(512 - small.length < 22, 'no room left for one more 22-byte record');
  const whole = encodeWithin(packet, 65535);
  t.notOk(dnsPacket.decode(whole).flag_tc);
  t.equal(dnsPacket.decode(whole).answers?.length, 40);
});
