// dvflow's own filter terms for the inventory (vm, backend, leg, duplicate), the VXLAN tenant 5-tuple and the
// capture facts of port-mirror flows (encap, mirror session/index, gre key, outer/inner vlan, fragments, nfdump's
// tun ip / tunip): round trip through formatFilter, and clear errors. (Matching, SQL and the store are covered by
// the corpus, filterMatch.test.ts and ../pcap/captureFilters.test.ts.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  compileMatcher, compileSql, completeFilter, describeFilter, ENCAP_NAMES, formatFilter, FilterError, parseFilter,
} from '../../src/filter/index.ts';
import { emptyFlowRecord } from '../../src/flow/flowRecord.ts';

test('inventory and tenant terms print back as they parse', () => {
  for (const [input, canonical] of [
    ['in VM "web 01"', 'in vm "web 01"'],
    ['backend web1 and leg server-client', 'backend web1 and leg server-client'],
    ['not duplicate', 'not duplicate'],
    ['tenant src ip 10.1.1.1', 'tenant src ip 10.1.1.1'],
    ['tenant port 443', 'tenant port 443'],
  ]) {
    assert.equal(formatFilter(parseFilter(input!)), canonical, input);
    assert.equal(formatFilter(parseFilter(canonical!)), canonical);
  }
});

test('bad inventory and tenant terms: position and message', () => {
  for (const [input, pos, re] of [
    ['leg sideways', 5, /unknown leg 'sideways'/],
    ['backend', 8, /real server name/],
    ['tenant flags S', 1, /'tenant' takes/],
    ['tenant', 7, /expected a filter term/],
    ['src vm x', 1, /'src' cannot qualify 'vm'/],
  ] as const) {
    assert.throws(() => parseFilter(input), (e: unknown) => {
      assert.ok(e instanceof FilterError, String(e));
      assert.equal(e.position, pos, `${input}: ${e.message}`);
      assert.match(e.message, re);
      return true;
    });
  }
});

test('capture-fact terms and nfdump\'s tunnel addresses print back as they parse', () => {
  for (const [input, canonical] of [
    ['ENCAP GRE and not encap none', 'encap gre and not encap none'],
    ['encap "ip-in-ip"', 'encap ip-in-ip'],
    ['mirror session 100', 'mirror session 100'],
    ['Mirror Index >= 0x10', 'mirror index >= 16'],
    ['gre key gt 1k', 'gre key > 1000'],
    ['outer vlan 10 and inner vlan > 0', 'outer vlan 10 and inner vlan > 0'],
    ['fragments >= 2', 'fragments >= 2'],
    ['tun ip 192.0.2.1', 'tun ip 192.0.2.1'],
    ['tun host 2001:db8::1', 'tun ip 2001:db8::1'],
    ['src tun net 10.0.0.0 255.255.0.0', 'src tun net 10.0.0.0/16'],
    ['dst tun ip in [192.0.2.1, 10.0.0.0/8]', 'dst tun ip in [ 192.0.2.1 10.0.0.0/8 ]'],
    ['tunip 192.0.2.1', 'tun ip 192.0.2.1'],
    ['src and dst tunip 192.0.2.1', 'src and dst tun ip 192.0.2.1'],
    ['dst or src tunip 192.0.2.1', 'tun ip 192.0.2.1'],
    ['proto gre and proto encap', 'proto gre and proto encap'],
  ]) {
    assert.equal(formatFilter(parseFilter(input!)), canonical, input);
    assert.equal(formatFilter(parseFilter(canonical!)), canonical);
  }
  for (const name of ENCAP_NAMES) assert.equal(formatFilter(parseFilter(`encap ${name.toUpperCase()}`)), `encap ${name}`);
});

test('the tunnel terms lower to the outermost tunnel\'s endpoints, by side', () => {
  const sql = (f: string) => compileSql(f).sql;
  assert.equal(sql('tun ip 192.0.2.1'), '(outer_src = {p0:IPv6} OR outer_dst = {p0:IPv6})');
  assert.equal(sql('src tun ip 192.0.2.1'), 'outer_src = {p0:IPv6}');
  assert.equal(sql('dst tunip 192.0.2.1'), 'outer_dst = {p0:IPv6}');
  assert.equal(sql('src and dst tun ip 192.0.2.1'), '(outer_src = {p0:IPv6} AND outer_dst = {p0:IPv6})');
  // '::' is what a flow without a tunnel stores: never a tunnel endpoint.
  assert.equal(sql('tun ip ::'), '0');
  assert.equal(sql('not tun ip ::'), '1');
  // As for flow addresses, an IPv6 network leaves out IPv4 (mapped) and '::'.
  assert.deepEqual(compileSql('src tun net ::/0').params, compileSql('src net ::/0').params);
  assert.ok(!compileMatcher('tun net ::/0')({ ...emptyFlowRecord() }));
  assert.ok(compileMatcher('not tun ip ::')({ ...emptyFlowRecord() }));
});

test('bad capture-fact and tunnel terms: position, kind and message', () => {
  for (const [input, pos, kind, re] of [
    ['encap erspan', 7, 'value', /unknown encapsulation 'erspan': expected one of vlan, qinq, .*, ip-in-ip, ipv6-in-ip, none$/],
    ['encap ERSPAN4 or port 80', 7, 'value', /unknown encapsulation 'ERSPAN4'/],
    ['port 80 and encap', 18, 'syntax', /expected an encapsulation after 'encap'$/],
    ['encap (gre)', 7, 'syntax', /expected an encapsulation after 'encap', found '\('/],
    ['mirror session 1024', 16, 'value', /ERSPAN session id 1024 is out of range \(0\.\.1023\)/],
    ['mirror session > 65536', 18, 'value', /out of range \(0\.\.1023\)/],
    ['mirror 5', 8, 'syntax', /expected 'session' or 'index' after 'mirror'/],
    ['mirror index', 13, 'syntax', /expected an ERSPAN index after 'index'/],
    ['gre keys 1', 5, 'syntax', /expected 'key' after 'gre'/],
    ['gre key -1', 9, 'syntax', /expected a GRE key after 'key', found '-1'/],
    ['outer vlan 5000', 12, 'value', /VLAN id 5000 is out of range \(0\.\.4095\)/],
    ['inner', 6, 'syntax', /expected 'vlan' after 'inner'/],
    ['fragments > 4294967296', 13, 'value', /fragment count 4294967296 is out of range/],
    ['in encap gre', 1, 'syntax', /'in' cannot qualify 'encap'/],
    ['tun', 4, 'syntax', /expected 'ip', 'net' or 'proto' after 'tun'/],
    ['tun ip', 7, 'syntax', /expected an IP address after 'ip'/],
    ['src tun port 80', 9, 'syntax', /expected 'ip' or 'net' after 'src tun'/],
    ['tun net 10.0.0.0/33', 18, 'value', /prefix length 33 is out of range/],
    ['tun ip gw.example', 8, 'value', /dvflow does not resolve host names/],
    ['next tun ip 192.0.2.1', 1, 'syntax', /'next' cannot qualify 'tun'/],
    ['tunip in [192.0.2.1]', 7, 'syntax', /'tunip' takes one address/],
    ['tun proto 47', 1, 'unsupported', /not supported: 'tun proto' \(the tunnel's IP protocol is not stored; .*use encap gre/],
    ['port 80 or tun proto gre', 12, 'unsupported', /not supported: 'tun proto'/],
    ['dst tun proto 47', 1, 'syntax', /'dst' cannot qualify 'tun proto'/],
    ['tun geo CH', 5, 'unsupported', /not supported: 'geo'/],
  ] as const) {
    assert.throws(() => compileSql(input), (e: unknown) => {
      assert.ok(e instanceof FilterError, String(e));
      assert.equal(e.position, pos, `${input}: ${e.message}`);
      assert.equal(e.kind, kind, `${input}: ${e.message}`);
      assert.match(e.detail, re, input);
      return true;
    }, input);
  }
});

test('completion offers the capture-fact terms and the encapsulation names', () => {
  assert.deepEqual(completeFilter('encap ip').suggestions, ['ip-in-ip', 'ipv6-in-ip']);
  assert.deepEqual(completeFilter('encap ').suggestions, [...ENCAP_NAMES, 'none']);
  assert.deepEqual(completeFilter('mirror ').suggestions, ['session', 'index']);
  assert.deepEqual(completeFilter('gre ').suggestions, ['key']);
  assert.deepEqual(completeFilter('outer ').suggestions, ['vlan']);
  assert.deepEqual(completeFilter('tun ').suggestions, ['ip', 'host', 'net', 'proto']);
  assert.deepEqual(completeFilter('src tun ').suggestions, ['ip', 'host', 'net']);
  assert.deepEqual(completeFilter('fr').suggestions, ['fragments']);
  assert.deepEqual(describeFilter('encap gre and gre key 5 or tun ip 192.0.2.1').columns, ['encap', 'gre_key', 'outer_dst', 'outer_src']);
  assert.deepEqual(describeFilter('mirror session 1 and mirror index 2 and outer vlan 3 and inner vlan 4 and fragments 5').columns,
    ['fragments', 'inner_vlan', 'mirror_index', 'mirror_session', 'outer_vlan']);
});
