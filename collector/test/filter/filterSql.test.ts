import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileSql, FilterError, type CompiledSql } from '../../src/filter/index.ts';
import { filterCorpus } from './filterCorpus.ts';
import { sampleExporterIds } from './sampleFlows.ts';

const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*):([A-Za-z0-9_(), ]+)\}/g;

/** Every placeholder declared once with one type, every parameter used, nothing but our constants in the text. */
function checkWellFormed(c: CompiledSql, label: string): void {
  const used = new Map<string, string>();
  for (const m of c.sql.matchAll(PLACEHOLDER)) {
    const prev = used.get(m[1]);
    assert.ok(prev === undefined || prev === m[2], `${label}: ${m[1]} used with two types`);
    used.set(m[1], m[2]);
  }
  assert.deepEqual([...used.keys()].sort(), Object.keys(c.params).sort(), `${label}: params vs placeholders`);
  for (const [name, type] of used) assert.equal(c.paramTypes[name], type, `${label}: type of ${name}`);
  // dvflow's one string constant: the separator of list columns (`encap`), never a user's value.
  const bare = c.sql.replace(PLACEHOLDER, ' ').replace(/splitByChar\(',', /g, 'splitByChar(').replace(/[A-Za-z_][A-Za-z0-9_]*/g, ' ');
  assert.ok(!/['"`\\;]/.test(bare), `${label}: quotes or separators in ${c.sql}`);
  for (const n of bare.match(/[0-9]+/g) ?? []) assert.ok(['0', '1', '1000', '8000'].includes(n), `${label}: literal ${n} in ${c.sql}`);
  let depth = 0;
  for (const ch of bare) {
    depth += ch === '(' ? 1 : ch === ')' ? -1 : 0;
    assert.ok(depth >= 0, `${label}: unbalanced ${c.sql}`);
  }
  assert.equal(depth, 0, `${label}: unbalanced ${c.sql}`);
}

test('every corpus filter compiles to a well-formed, fully parameterised expression', () => {
  for (const { filter } of filterCorpus) {
    checkWellFormed(compileSql(filter, { exporterIds: sampleExporterIds }), JSON.stringify(filter));
  }
});

test('no value is ever pasted into the SQL text', () => {
  const nasty = [
    "'); DROP TABLE flows; --",
    'a\'b',
    'a"b',
    'back\\slash\\',
    "x' OR 1=1 OR 'y",
    '{evil:String}',
    'ünïcödé ✓',
    '$$; SELECT * FROM system.users',
  ];
  for (const v of nasty) {
    const quoted = v.includes('"') ? `'${v}'` : `"${v}"`;
    for (const filter of [`portgroup ${quoted}`, `in portgroup ${quoted}`, `vip ${quoted}`, `exporter ${quoted}`, `not out portgroup ${quoted} or port 80`]) {
      const c = compileSql(filter);
      checkWellFormed(c, filter);
      assert.ok(!c.sql.includes(v), `${filter} leaked into ${c.sql}`);
      assert.ok(Object.values(c.params).includes(v), `${filter}: value not passed as a parameter`);
    }
  }
  // Numbers and addresses travel as parameters too.
  const c = compileSql('port 31337 and ip 203.0.113.77 and bytes > 123456');
  for (const v of ['31337', '203.0.113.77', '123456']) assert.ok(!c.sql.includes(v), c.sql);
  assert.deepEqual(Object.values(c.params), [31337, 31337, '::ffff:203.0.113.77', 123456]);
  // Characters that are not part of the language never reach the compiler.
  for (const f of ["port 80; DROP TABLE flows", 'port 80 -- x', "ident x'; --"]) {
    assert.throws(() => compileSql(f), FilterError, f);
  }
});

test('SQL shapes of the main terms', () => {
  const shape = (f: string) => compileSql(f);
  assert.deepEqual(shape('port 80'), {
    sql: '(src_port = {p0:UInt16} OR dst_port = {p1:UInt16})',
    params: { p0: 80, p1: 80 },
    paramTypes: { p0: 'UInt16', p1: 'UInt16' },
  });
  assert.equal(shape('src port > 1024').sql, 'src_port > {p0:UInt16}');
  assert.equal(shape('src and dst port 0').sql, '(src_port = {p0:UInt16} AND dst_port = {p1:UInt16})');
  assert.deepEqual(shape('dst ip 10.0.0.1'), { sql: 'dst_addr = {p0:IPv6}', params: { p0: '::ffff:10.0.0.1' }, paramTypes: { p0: 'IPv6' } });
  assert.deepEqual(shape('src net 10.0.0.0/8'), {
    sql: 'src_addr BETWEEN {p0:IPv6} AND {p1:IPv6}',
    params: { p0: '::ffff:10.0.0.0', p1: '::ffff:10.255.255.255' },
    paramTypes: { p0: 'IPv6', p1: 'IPv6' },
  });
  assert.deepEqual(shape('src net 2001:db8::/32').params, { p0: '2001:db8::', p1: '2001:db8:ffff:ffff:ffff:ffff:ffff:ffff' });
  // A list is sent once and tested on both sides.
  assert.deepEqual(shape('ip in [10.0.0.1 10.0.0.2 192.168.0.0/16 2001:db8::/32]'), {
    sql: '((has({p0:Array(IPv6)}, src_addr) OR arrayExists((lo, hi) -> src_addr BETWEEN lo AND hi, {p1:Array(IPv6)}, {p2:Array(IPv6)}))'
      + ' OR (has({p0:Array(IPv6)}, dst_addr) OR arrayExists((lo, hi) -> dst_addr BETWEEN lo AND hi, {p1:Array(IPv6)}, {p2:Array(IPv6)})))',
    params: {
      p0: ['::ffff:10.0.0.1', '::ffff:10.0.0.2'],
      p1: ['::ffff:192.168.0.0', '2001:db8::'],
      p2: ['::ffff:192.168.255.255', '2001:db8:ffff:ffff:ffff:ffff:ffff:ffff'],
    },
    paramTypes: { p0: 'Array(IPv6)', p1: 'Array(IPv6)', p2: 'Array(IPv6)' },
  });
  assert.deepEqual(shape('not port in [80 443]'), {
    sql: 'NOT (has({p0:Array(UInt16)}, src_port) OR has({p1:Array(UInt16)}, dst_port))',
    params: { p0: [80, 443], p1: [80, 443] },
    paramTypes: { p0: 'Array(UInt16)', p1: 'Array(UInt16)' },
  });
  assert.deepEqual(shape('flags SA'), {
    sql: '(proto = {p0:UInt8} AND bitAnd(tcp_flags, {p1:UInt8}) = {p1:UInt8})',
    params: { p0: 6, p1: 18 },
    paramTypes: { p0: 'UInt8', p1: 'UInt8' },
  });
  assert.equal(shape('icmp-type 8').sql, '((proto = {p0:UInt8} OR proto = {p1:UInt8}) AND icmp_type = {p2:UInt8})');
  assert.equal(shape('ipv4').sql, '(src_addr BETWEEN {p0:IPv6} AND {p1:IPv6} OR dst_addr BETWEEN {p0:IPv6} AND {p1:IPv6})');
  assert.deepEqual(shape('ipv4').params, { p0: '::ffff:0.0.0.0', p1: '::ffff:255.255.255.255' });
  assert.equal(shape('bytes > 1k').sql, 'bytes > {p0:UInt64}');
  assert.deepEqual(shape('bytes > 1k').params, { p0: 1000 });
  assert.equal(shape('pps > 10').sql,
    'if(toUInt64(greatest(toUnixTimestamp64Milli(last) - toUnixTimestamp64Milli(first), 0)) = 0, 0, intDiv(packets * 1000, toUInt64(greatest(toUnixTimestamp64Milli(last) - toUnixTimestamp64Milli(first), 0)))) > {p0:UInt64}');
  assert.equal(shape('bpp < 100').sql, 'if(packets = 0, 0, intDiv(bytes, packets)) < {p0:UInt64}');
  assert.equal(shape('first seen > 2024-01-01').sql, 'first > fromUnixTimestamp64Milli({p0:Int64})');
  assert.equal(shape('ttl equal').sql, 'min_ttl = max_ttl');
  assert.equal(shape('mac 00:50:56:00:00:01').sql,
    '(in_src_mac = {p0:UInt64} OR in_dst_mac = {p1:UInt64} OR out_src_mac = {p2:UInt64} OR out_dst_mac = {p3:UInt64})');
  assert.equal(shape('router ip 2001:db8::1').sql, 'exporter = {p0:IPv6}');
  assert.equal(shape('next ip in [10.0.0.1]').sql, 'next_hop = {p0:IPv6}');
  assert.equal(shape('bgp next ip 10.0.0.1').sql, 'bgp_next_hop = {p0:IPv6}');
});

test('enrichment terms compile to their columns (SQL only: the columns fill in later)', () => {
  assert.deepEqual(compileSql('portgroup "VM Network"'), {
    sql: '(in_portgroup = {p0:String} OR out_portgroup = {p1:String})',
    params: { p0: 'VM Network', p1: 'VM Network' },
    paramTypes: { p0: 'String', p1: 'String' },
  });
  assert.equal(compileSql('in portgroup web').sql, 'in_portgroup = {p0:String}');
  assert.equal(compileSql('out portgroup web').sql, 'out_portgroup = {p0:String}');
  assert.equal(compileSql('vip www').sql, 'vip = {p0:String}');
  assert.deepEqual(compileSql('vip 192.0.2.10:443'), {
    sql: '(vip_addr = {p0:IPv6} AND vip_port = {p1:UInt16})',
    params: { p0: '::ffff:192.0.2.10', p1: 443 },
    paramTypes: { p0: 'IPv6', p1: 'UInt16' },
  });
  assert.equal(compileSql('vip [2001:db8::10]').sql, 'vip_addr = {p0:IPv6}');
  assert.equal(compileSql('exporter esx-01').sql, 'exporter_name = {p0:String}');
  assert.equal(compileSql('ident esx-01').sql, 'exporter_name = {p0:String}');
  assert.equal(compileSql('exporter 10.1.1.1').sql, 'exporter = {p0:IPv6}');
  assert.equal(compileSql('source pcap').sql, 'source = {p0:String}');
  assert.equal(compileSql('vni > 5000').sql, 'vni > {p0:UInt32}');
});

test('capture-fact terms compile to their schema/005 columns, every value a parameter', () => {
  assert.deepEqual(compileSql('encap erspan2'), {
    sql: "has(splitByChar(',', encap), {p0:String})",
    params: { p0: 'erspan2' },
    paramTypes: { p0: 'String' },
  });
  assert.deepEqual(compileSql('encap none'), { sql: 'encap = {p0:String}', params: { p0: '' }, paramTypes: { p0: 'String' } });
  assert.equal(compileSql('mirror session 100').sql, 'mirror_session = {p0:UInt16}');
  assert.equal(compileSql('mirror index > 5').sql, 'mirror_index > {p0:UInt32}');
  assert.deepEqual(compileSql('gre key 4294967295').params, { p0: 4294967295 });
  assert.equal(compileSql('gre key 4294967295').sql, 'gre_key = {p0:UInt32}');
  assert.equal(compileSql('outer vlan 10 and inner vlan > 0').sql, '(outer_vlan = {p0:UInt16} AND inner_vlan > {p1:UInt16})');
  assert.equal(compileSql('fragments >= 1').sql, 'fragments >= {p0:UInt32}');
  assert.deepEqual(compileSql('src tun net 192.0.2.0/24'), {
    sql: 'outer_src BETWEEN {p0:IPv6} AND {p1:IPv6}',
    params: { p0: '::ffff:192.0.2.0', p1: '::ffff:192.0.2.255' },
    paramTypes: { p0: 'IPv6', p1: 'IPv6' },
  });
  for (const f of ['encap gre and mirror session 7 or tun ip in [192.0.2.1 2001:db8::/32]', 'not encap none and tunip 192.0.2.9']) {
    checkWellFormed(compileSql(f), f);
  }
});

test('constant terms fold: any, flows, reverse counters', () => {
  assert.deepEqual(compileSql('any'), { sql: '1', params: {}, paramTypes: {} });
  assert.deepEqual(compileSql(''), { sql: '1', params: {}, paramTypes: {} });
  assert.equal(compileSql('flows > 1').sql, '0');
  assert.equal(compileSql('out bytes > 0').sql, '0');
  assert.equal(compileSql('not out bytes > 0').sql, '1');
  assert.equal(compileSql('port 80 and flows = 1').sql, '(src_port = {p0:UInt16} OR dst_port = {p1:UInt16})');
  assert.equal(compileSql('port 80 or flows = 1').sql, '1');
});

test('IPv6 networks never match IPv4 or address-less records, as in nfdump', () => {
  const c = compileSql('src net ::/0');
  assert.equal(c.sql, 'arrayExists((lo, hi) -> src_addr BETWEEN lo AND hi, {p0:Array(IPv6)}, {p1:Array(IPv6)})');
  assert.deepEqual(c.params, { p0: ['::1', '::1:0:0:0'], p1: ['::fffe:ffff:ffff', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'] });
  assert.equal(compileSql('net ::ffff:0:0/96').sql, '0');
});

test('exporter ids need the caller\'s exporter list', () => {
  const e = (() => { try { compileSql('sysid 1'); } catch (x) { return x as FilterError; } })();
  assert.ok(e instanceof FilterError && e.kind === 'unsupported' && e.position === 1);
  const c = compileSql('exporter id 1 or sysid 3', { exporterIds: sampleExporterIds });
  assert.equal(c.sql, '((exporter = {p0:IPv6} AND version = {p1:UInt8} AND domain = {p2:UInt32}) OR exporter = {p3:IPv6})');
  assert.deepEqual(c.params, { p0: '::ffff:172.16.0.1', p1: 9, p2: 7, p3: '2001:db8::100' });
  assert.equal(compileSql('sysid 9', { exporterIds: sampleExporterIds }).sql, '0');
});

test('parameter names take a prefix', () => {
  const c = compileSql('port 80', { paramPrefix: 'flt' });
  assert.equal(c.sql, '(src_port = {flt0:UInt16} OR dst_port = {flt1:UInt16})');
  assert.deepEqual(Object.keys(c.params), ['flt0', 'flt1']);
  assert.throws(() => compileSql('port 80', { paramPrefix: 'x}' }));
});
