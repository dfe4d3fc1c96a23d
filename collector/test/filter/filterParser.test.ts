import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  compileSql, FilterError, formatFilter, parseFilter, protocolName, protocolNumber, tokenize,
  type FilterNode,
} from '../../src/filter/index.ts';
import { filterCorpus, invalidFilters, unsupportedFilters } from './filterCorpus.ts';
import { sampleExporterIds } from './sampleFlows.ts';

/** The tree without positions, for structural comparison. */
function shape(n: FilterNode): unknown {
  return JSON.parse(JSON.stringify(n, (k, v) => (k === 'pos' || k === 'end' ? undefined : typeof v === 'bigint' ? `0x${v.toString(16)}` : v)));
}

function errorOf(fn: () => unknown): FilterError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof FilterError, `expected a FilterError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected a FilterError');
}

const port = (qualifier: string, value: number, cmp = '=') => ({ type: 'compare', field: 'port', qualifier, cmp, value });
const proto = (value: number) => ({ type: 'compare', field: 'proto', qualifier: 'none', cmp: '=', value });

test('the whole corpus parses, and its canonical text parses back to the same meaning', () => {
  assert.ok(filterCorpus.length >= 100, `corpus has ${filterCorpus.length} filters`);
  for (const { filter } of filterCorpus) {
    const tree = parseFilter(filter);
    const canonical = formatFilter(tree);
    const again = parseFilter(canonical);
    assert.deepEqual(shape(again), shape(tree), `${JSON.stringify(filter)} -> ${canonical}`);
    const opts = { exporterIds: sampleExporterIds };
    assert.deepEqual(compileSql(again, opts), compileSql(tree, opts), canonical);
  }
});

test('precedence: not binds tighter than and, and tighter than or', () => {
  assert.deepEqual(shape(parseFilter('src ip 1.2.3.4 or dst port 80 and proto tcp')), {
    type: 'or',
    left: { type: 'address', target: 'flow', side: 'src', form: 'host', ranges: [{ lo: '0xffff01020304', hi: '0xffff01020304', bits: 128, family: 4, text: '1.2.3.4' }] },
    right: { type: 'and', left: port('dst', 80), right: proto(6) },
  });
  assert.deepEqual(shape(parseFilter('not proto tcp and port 80')), {
    type: 'and', left: { type: 'not', operand: proto(6) }, right: port('either', 80),
  });
  assert.deepEqual(shape(parseFilter('proto udp || proto tcp && ! port 22')), {
    type: 'or', left: proto(17), right: { type: 'and', left: proto(6), right: { type: 'not', operand: port('either', 22) } },
  });
});

test('operators are left-associative and parentheses group', () => {
  assert.deepEqual(shape(parseFilter('port 1 or port 2 or port 3')), {
    type: 'or', left: { type: 'or', left: port('either', 1), right: port('either', 2) }, right: port('either', 3),
  });
  assert.deepEqual(shape(parseFilter('port 1 and (port 2 or port 3)')), {
    type: 'and', left: port('either', 1), right: { type: 'or', left: port('either', 2), right: port('either', 3) },
  });
  assert.deepEqual(shape(parseFilter('((port 1))')), port('either', 1));
  assert.equal(formatFilter(parseFilter('port 1 or (port 2 or port 3)')), 'port 1 or (port 2 or port 3)');
  assert.equal(formatFilter(parseFilter('not (port 1 and port 2) and port 3')), 'not (port 1 and port 2) and port 3');
});

test('negated lists keep the whole list under the not', () => {
  assert.deepEqual(shape(parseFilter('not port in [80, 443 8080]')), {
    type: 'not', operand: { type: 'numberList', field: 'port', qualifier: 'either', values: [80, 443, 8080] },
  });
  const tree = parseFilter('not src ip in [10.0.0.0/8 2001:db8::/32 192.0.2.1]');
  assert.equal(tree.type, 'not');
  const list = (tree as Extract<FilterNode, { type: 'not' }>).operand;
  assert.equal(list.type, 'address');
  if (list.type === 'address') {
    assert.equal(list.form, 'list');
    assert.equal(list.side, 'src');
    assert.deepEqual(list.ranges.map((r) => r.text), ['10.0.0.0/8', '2001:db8::/32', '192.0.2.1']);
  }
});

test('IPv4 addresses and networks live in the IPv4-mapped IPv6 space', () => {
  const net = parseFilter('net 172.16/16');
  assert.equal(net.type, 'address');
  if (net.type === 'address') {
    assert.equal(net.ranges[0].lo, 0xffffac100000n);
    assert.equal(net.ranges[0].hi, 0xffffac10ffffn);
    assert.equal(net.ranges[0].bits, 112);
  }
  const masked = parseFilter('net 10.1.2.3 255.255.0.0');
  if (masked.type === 'address') assert.equal(masked.ranges[0].text, '10.1.0.0/16');
  const v6 = parseFilter('dst net 2001:DB8:ABCD::1/48');
  if (v6.type === 'address') {
    assert.equal(v6.side, 'dst');
    assert.equal(v6.ranges[0].lo, 0x20010db8abcd00000000000000000000n);
    assert.equal(v6.ranges[0].hi, 0x20010db8abcdffffffffffffffffffffn);
    assert.equal(v6.ranges[0].text, '2001:db8:abcd::/48');
  }
  const embedded = parseFilter('ip ::ffff:10.0.0.1');
  if (embedded.type === 'address') assert.equal(embedded.ranges[0].lo, 0xffff0a000001n);
});

test('numbers take k/m/g/t (x1000) and hex', () => {
  const value = (f: string) => {
    const t = parseFilter(f);
    assert.equal(t.type, 'compare');
    return t.type === 'compare' ? t.value : NaN;
  };
  assert.equal(value('bytes > 1k'), 1000);
  assert.equal(value('bytes > 1K'), 1000);
  assert.equal(value('packets > 2m'), 2_000_000);
  assert.equal(value('bytes >= 3g'), 3_000_000_000);
  assert.equal(value('bytes < 4t'), 4_000_000_000_000);
  assert.equal(value('port 0x50'), 80);
  assert.equal(value('duration > 1500'), 1500);
  assert.equal(errorOf(() => parseFilter('bytes > 99999999t')).kind, 'value');
});

test('flags: letters mean every listed flag set, =letters exactly those, a number compares', () => {
  const flags = (f: string) => shape(parseFilter(f));
  assert.deepEqual(flags('flags SA'), { type: 'flags', mode: 'all', value: 18, text: 'SA' });
  assert.deepEqual(flags('flags FSRPAU'), { type: 'flags', mode: 'all', value: 63, text: 'FSRPAU' });
  assert.deepEqual(flags('flags X'), { type: 'flags', mode: 'all', value: 63, text: 'X' });
  assert.deepEqual(flags('flags CE'), { type: 'flags', mode: 'all', value: 192, text: 'CE' });
  assert.deepEqual(flags('flags =S'), { type: 'flags', mode: 'exact', value: 2, text: 'S' });
  assert.deepEqual(flags('flags > 16'), { type: 'compare', field: 'flags', qualifier: 'none', cmp: '>', value: 16 });
  assert.deepEqual(flags('flags 0x12'), { type: 'compare', field: 'flags', qualifier: 'none', cmp: '=', value: 18 });
});

test('keywords are case-insensitive; comments run to the end of the line', () => {
  assert.deepEqual(shape(parseFilter('SRC Port GT 1024 AnD PROTO udp')), shape(parseFilter('src port > 1024 and proto udp')));
  const multi = parseFilter('# clients of the web VIP\nsrc net 10.0.0.0/8   # inside\n  and dst port in [ 80 443 ] # http(s)\n');
  assert.equal(formatFilter(multi), 'src net 10.0.0.0/8 and dst port in [ 80 443 ]');
  assert.deepEqual(shape(parseFilter('')), { type: 'any' });
  assert.deepEqual(shape(parseFilter('  # nothing but a comment\n')), { type: 'any' });
  // Carriage returns (filter files from Windows editors) are whitespace, unlike in nfdump.
  assert.deepEqual(shape(parseFilter('proto tcp\r\nand port 80\r\n')), shape(parseFilter('proto tcp and port 80')));
});

test('qualifiers: 1.7.1 src and/or dst, in/out, next/prev, bgp next, router, min/max', () => {
  assert.deepEqual(shape(parseFilter('src and dst port 0')), port('both', 0));
  assert.deepEqual(shape(parseFilter('dst or src port 80')), port('either', 80));
  assert.deepEqual(shape(parseFilter('tos 5')), { type: 'compare', field: 'tos', qualifier: 'src', cmp: '=', value: 5 });
  assert.deepEqual(shape(parseFilter('out if 7')), { type: 'compare', field: 'if', qualifier: 'out', cmp: '=', value: 7 });
  assert.deepEqual(shape(parseFilter('prev as 65000')), { type: 'compare', field: 'as', qualifier: 'prev', cmp: '=', value: 65000 });
  assert.deepEqual(shape(parseFilter('out packets > 5')), { type: 'compare', field: 'packets', qualifier: 'out', cmp: '>', value: 5 });
  assert.deepEqual(shape(parseFilter('min ttl < 5')), { type: 'compare', field: 'ttl', qualifier: 'min', cmp: '<', value: 5 });
  assert.deepEqual(shape(parseFilter('ttl 64')), { type: 'compare', field: 'ttl', qualifier: 'either', cmp: '=', value: 64 });
  const target = (f: string) => {
    const t = parseFilter(f);
    return t.type === 'address' ? t.target : t.type;
  };
  assert.equal(target('next ip 10.0.0.1'), 'nextHop');
  assert.equal(target('bgp next ip 10.0.0.1'), 'bgpNextHop');
  assert.equal(target('bgpnext ip 10.0.0.1'), 'bgpNextHop');
  assert.equal(target('router ip 10.0.0.1'), 'router');
  assert.equal(target('exporter ip 10.0.0.1'), 'router');
  assert.deepEqual(shape(parseFilter('in dst mac 00:50:56:AA:bb:cc')), { type: 'mac', selector: 'inDst', value: 0x005056aabbcc, text: '00:50:56:aa:bb:cc' });
});

test('protocols by nfdump name (prefix, 1.7.8) or number; the table prints as nfdump does', () => {
  assert.equal(protocolName(6), 'TCP');
  assert.equal(protocolName(17), 'UDP');
  assert.equal(protocolName(1), 'ICMP');
  assert.equal(protocolName(58), 'ICMP6');
  assert.equal(protocolName(47), 'GRE');
  assert.equal(protocolName(50), 'ESP');
  assert.equal(protocolName(51), 'AH');
  assert.equal(protocolName(200), '200');
  assert.equal(protocolNumber('tcp'), 6);
  assert.equal(protocolNumber('TC'), 6);
  assert.equal(protocolNumber('icmp'), 1);
  assert.equal(protocolNumber('icmp6'), 58);
  assert.equal(protocolNumber('ipv6'), 41);
  assert.equal(protocolNumber('udp-l'), 136);
  assert.equal(protocolNumber('nosuch'), undefined);
  assert.equal(protocolNumber('tcpxyz'), undefined);
  assert.deepEqual(shape(parseFilter('proto ICMP6')), proto(58));
  assert.deepEqual(shape(parseFilter('proto ipv6')), proto(41));
  assert.equal(errorOf(() => parseFilter('proto ip')).position, 7);
});

test('dvflow terms: portgroup, vip, exporter, source, vni', () => {
  assert.deepEqual(shape(parseFilter('portgroup "VM Network"')), { type: 'portgroup', side: 'either', name: 'VM Network' });
  assert.deepEqual(shape(parseFilter("in portgroup 'dv-PG 10'")), { type: 'portgroup', side: 'in', name: 'dv-PG 10' });
  assert.deepEqual(shape(parseFilter('vip web-frontend')), { type: 'vip', name: 'web-frontend' });
  const vip = parseFilter('vip 192.0.2.10:443');
  assert.ok(vip.type === 'vip' && vip.address?.text === '192.0.2.10' && vip.port === 443);
  const vip6 = parseFilter('vip [2001:db8::10]:8443');
  assert.ok(vip6.type === 'vip' && vip6.address?.text === '2001:db8::10' && vip6.port === 8443);
  const vip6bare = parseFilter('vip 2001:db8::10');
  assert.ok(vip6bare.type === 'vip' && vip6bare.address?.text === '2001:db8::10' && vip6bare.port === undefined);
  assert.deepEqual(shape(parseFilter('exporter esx-01')), { type: 'exporter', name: 'esx-01' });
  const exp = parseFilter('exporter 10.1.1.1');
  assert.ok(exp.type === 'exporter' && exp.address?.text === '10.1.1.1');
  // nfdump's `exporter sysid N` / `exporter id N` keep their meaning.
  assert.deepEqual(shape(parseFilter('exporter sysid 3')), { type: 'compare', field: 'sysid', qualifier: 'none', cmp: '=', value: 3 });
  assert.deepEqual(shape(parseFilter('exporter id > 2')), { type: 'compare', field: 'sysid', qualifier: 'none', cmp: '>', value: 2 });
  assert.deepEqual(shape(parseFilter('source pcap')), { type: 'source', source: 'pcap' });
  assert.deepEqual(shape(parseFilter('vni 5001')), { type: 'compare', field: 'vni', qualifier: 'none', cmp: '=', value: 5001 });
});

test('first/last seen read ISO 8601 in local time, as nfdump does', () => {
  const t = parseFilter('first seen >= 2024-07-11T09:15:10.020');
  assert.ok(t.type === 'compare' && t.value === new Date(2024, 6, 11, 9, 15, 10, 20).getTime());
  const day = parseFilter('last seen < 2024-07');
  assert.ok(day.type === 'compare' && day.value === new Date(2024, 6, 1).getTime());
  const year = parseFilter('first seen > 2024');
  assert.ok(year.type === 'compare' && year.value === new Date(2024, 0, 1).getTime());
  assert.equal(errorOf(() => parseFilter('first seen > 2024-13-01')).kind, 'value');
  assert.equal(errorOf(() => parseFilter('first seen > yesterday')).position, 14);
});

test('spans are 1-based offsets into the text', () => {
  const tree = parseFilter('  port 80 and  not proto udp');
  assert.ok(tree.type === 'and');
  if (tree.type === 'and') {
    assert.deepEqual([tree.pos, tree.end], [3, 29]);
    assert.deepEqual([tree.left.pos, tree.left.end], [3, 10]);
    assert.deepEqual([tree.right.pos, tree.right.end], [16, 29]);
  }
  const toks = tokenize('port>=0x10 # c\n!x');
  assert.deepEqual(toks.map((t) => [t.kind, t.text, t.pos]), [
    ['word', 'port', 1], ['cmp', '>=', 5], ['number', '0x10', 7], ['not', '!', 16], ['word', 'x', 17], ['eof', '', 18],
  ]);
});

test('invalid filters fail at the right place with a clear message', () => {
  for (const c of invalidFilters) {
    const e = errorOf(() => compileSql(c.filter));
    assert.equal(e.position, c.position, `${c.filter}: ${e.message}`);
    assert.ok(e.message.includes(c.message), `${c.filter}: '${e.message}' lacks '${c.message}'`);
    assert.equal(e.message, `error at ${e.position}: ${e.detail}`);
    assert.notEqual(e.kind, 'unsupported', c.filter);
  }
  assert.equal(errorOf(() => parseFilter('port')).message, "error at 5: expected a port number after 'port'");
  const e = errorOf(() => parseFilter('port'));
  assert.ok(e.expected.includes('<number>') && e.expected.includes('in') && e.expected.includes('>='));
  assert.ok(errorOf(() => parseFilter('src ')).expected.includes('port'));
});

test('terms without data in dvflow are "not supported" errors at their position, never a match-all', () => {
  for (const c of unsupportedFilters) {
    const e = errorOf(() => compileSql(c.filter));
    assert.equal(e.kind, 'unsupported', `${c.filter}: ${e.message}`);
    assert.equal(e.position, c.position, `${c.filter}: ${e.message}`);
    assert.match(e.detail, /^not supported: /);
  }
});
