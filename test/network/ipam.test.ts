// Subnets out of a pool, addresses inside a subnet, MACs, and reading what the host routes.
import t from 'tap';
import {
  allocateAddress, contains, defaultGateway, formatSubnet, ipToNumber, isHostAddress, macForAddress, numberToIp, overlaps, parseSubnet, pickSubnet,
} from '../../src/network/ipam.js';
import { parseProcRoutes, resolvConfAddresses } from '../../src/network/host-subnets.js';

t.test('addresses and subnets parse, print and refuse what is not one', async (t) => {
  t.equal(ipToNumber('10.89.0.1'), 0x0a590001);
  t.equal(numberToIp(0xffffffff), '255.255.255.255');
  t.equal(formatSubnet(parseSubnet('10.89.3.0/24')), '10.89.3.0/24');
  t.throws(() => parseSubnet('10.89.3.1/24'), /host bits set: did you mean 10\.89\.3\.0\/24\?/);
  t.throws(() => parseSubnet('10.89.3.0/31'), /between \/8 and \/30/);
  t.throws(() => parseSubnet('10.89.3.0'), /CIDR form/);
  t.throws(() => ipToNumber('10.256.0.1'), /not an IPv4 address/);
  t.throws(() => ipToNumber('fe80::1'), /not an IPv4 address/);
});

t.test('a subnet is picked that overlaps nothing taken, from a start index, wrapping around', async (t) => {
  const pool = parseSubnet('10.89.0.0/16');
  t.equal(formatSubnet(pickSubnet(pool, 24, [])!), '10.89.0.0/24');
  t.equal(formatSubnet(pickSubnet(pool, 24, [parseSubnet('10.89.0.0/23')])!), '10.89.2.0/24');
  t.equal(formatSubnet(pickSubnet(pool, 24, [], 255)!), '10.89.255.0/24');
  t.equal(formatSubnet(pickSubnet(pool, 24, [parseSubnet('10.89.255.0/24')], 255)!), '10.89.0.0/24', 'wraps');
  t.equal(pickSubnet(pool, 24, [parseSubnet('10.0.0.0/8')]), undefined, 'a route covering the whole pool leaves nothing');
  t.equal(pickSubnet(parseSubnet('10.89.0.0/24'), 16, []), undefined, 'a subnet bigger than the pool');
  t.ok(overlaps(parseSubnet('10.89.0.0/16'), { base: ipToNumber('10.89.7.9'), prefix: 32 }));
  t.notOk(overlaps(parseSubnet('10.89.0.0/24'), parseSubnet('10.89.1.0/24')));
});

t.test('addresses: gateway first, then the lowest free, never network or broadcast', async (t) => {
  const s = parseSubnet('10.89.4.0/29');
  t.equal(defaultGateway(s), '10.89.4.1');
  t.equal(allocateAddress(s, new Set(['10.89.4.1'])), '10.89.4.2');
  t.equal(allocateAddress(s, new Set(['10.89.4.1', '10.89.4.2', '10.89.4.4'])), '10.89.4.3');
  const full = new Set(['1', '2', '3', '4', '5', '6'].map((n) => `10.89.4.${n}`));
  t.equal(allocateAddress(s, full), undefined, 'a full subnet has nothing left');
  t.notOk(isHostAddress(s, '10.89.4.0'));
  t.notOk(isHostAddress(s, '10.89.4.7'));
  t.ok(isHostAddress(s, '10.89.4.6'));
  t.ok(contains(s, '10.89.4.7'));
  t.notOk(contains(s, '10.89.4.8'));
  t.equal(macForAddress('10.89.4.2'), '02:42:0a:59:04:02');
});

t.test('the host\'s routes and nameservers are read as subnets to keep clear of', async (t) => {
  const routes = [
    'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT',
    'eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0',
    'eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0',
    'docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0',
  ].join('\n');
  t.same(parseProcRoutes(routes).map(formatSubnet), ['192.0.2.0/24', '172.17.0.0/16'], 'the default route is not a subnet');
  t.same(resolvConfAddresses('search x\nnameserver 10.255.255.53\nnameserver ::1\n').map(formatSubnet), ['10.255.255.53/32']);
});
