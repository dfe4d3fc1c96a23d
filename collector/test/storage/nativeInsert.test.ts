// `flows` rows go to ClickHouse as Native blocks (storage/nativeBlock.ts, storage/flowRows.ts): every column must
// arrive exactly as the record holds it, with the table's types, bad numbers as 0, and a failed insert must be the
// caller's error with nothing left behind.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { openTempStore } from '../helpers/tempStore.ts';
import { flowColumns, flowNativeColumns, flowsToNative, newFlowBlock, type EnrichedFlow } from '../../src/storage/flowRows.ts';
import { NativeBlock } from '../../src/storage/nativeBlock.ts';
import { BatchWriter } from '../../src/storage/batchWriter.ts';
import { emptyFlowRecord } from '../../src/flow/flowRecord.ts';
import type { ClickHouseStore } from '../../src/storage/clickhouseStore.ts';

let store: ClickHouseStore;
let dir: string;
let cleanup: () => Promise<void>;
before(async () => ({ store, dir, cleanup } = await openTempStore()));
after(async () => cleanup());

const spool = () => readdirSync(join(dir, 'insert-spool'));
const flow = (o: Partial<EnrichedFlow>): EnrichedFlow => Object.assign(emptyFlowRecord(), { timeReceived: Date.now(), first: 1_700_000_000_000, last: 1_700_000_001_000 }, o) as EnrichedFlow;

test('every column is sent with the type the table has (or as text or a name where ClickHouse converts)', async () => {
  const desc = await store.queryRows<{ name: string; type: string }>('DESCRIBE TABLE flows');
  const types = new Map(desc.map((d) => [d.name, d.type]));
  assert.deepEqual(flowNativeColumns.map((c) => c.name), [...flowColumns]);
  for (const c of flowNativeColumns) {
    const t = types.get(c.name);
    assert.ok(t, `${c.name} is a column of flows`);
    if (c.type === 'String') assert.match(t, /^(String|LowCardinality\(String\)|IPv6|Enum8\(.*\))$/, `${c.name}: ${t}`);
    else if (c.type === 'LowCardinality(String)') assert.match(t, /^(LowCardinality\(String\)|Enum8\(.*\))$/, `${c.name}: ${t}`);
    else assert.equal(t, c.type, c.name);
  }
  // Every column of the table is written (the defaults of a column we forgot would hide it).
  assert.deepEqual([...types.keys()].filter((n) => !flowColumns.includes(n as never)), []);
});

test('values arrive exactly: extremes of each width, addresses of both families, any text', async () => {
  const nasty = 'tab\there\nnew\\line\r\0end';
  const rows: EnrichedFlow[] = [
    flow({ srcAddr: '10.1.2.3', dstAddr: '2001:db8::1', exporter: '192.0.2.1', srcPort: 65535, dstPort: 0, proto: 255, tcpFlags: 0x1ff,
      bytes: 2 ** 53 - 1, packets: 4294967296, inIf: 4294967295, srcVlan: 4095, inSrcMac: 0xffffffffffff, samplingRate: 1000,
      vmwVirtualObsId: nasty, capture: 'pg-é-☃-𝄞', source: 'pcap', inPortgroup: 'Web PG', vip: 'www', vipAddr: '198.51.100.7', vipPort: 443,
      vipLeg: 'client-vip', backend: 'web1', duplicate: 1, encap: 'vlan,gre', outerSrc: '192.0.2.9', outerDst: '2001:db8::9', outerVlan: 100,
      innerVlan: 200, mirrorSession: 1023, mirrorIndex: 4294967295, greKey: 7, fragments: 3, vni: 16777215 }),
    flow({ srcAddr: '', dstAddr: '::', srcPort: 1, exporter: '192.0.2.1' }),
  ];
  await store.insertNative('flows', flowColumns, flowsToNative(rows));
  const back = await store.queryRows<Record<string, string | number>>(`SELECT toString(src_addr) AS s, toString(dst_addr) AS d, src_port, dst_port, proto,
    tcp_flags, toString(bytes) AS bytes, toString(packets) AS packets, in_if, src_vlan, toString(in_src_mac) AS mac, sampling_rate,
    vmw_virtual_obs_id, capture, toString(source) AS source, in_portgroup, vip, toString(vip_addr) AS va, vip_port, vip_leg, backend, duplicate,
    encap, toString(outer_src) AS os, toString(outer_dst) AS od, outer_vlan, inner_vlan, mirror_session, mirror_index, gre_key, fragments, vni,
    toUnixTimestamp64Milli(first) AS f FROM flows WHERE exporter = toIPv6('192.0.2.1') ORDER BY src_port DESC`);
  assert.equal(back.length, 2);
  assert.deepEqual({ ...back[0] }, {
    s: '::ffff:10.1.2.3', d: '2001:db8::1', src_port: 65535, dst_port: 0, proto: 255, tcp_flags: 0xff, bytes: String(2 ** 53 - 1), packets: '4294967296',
    in_if: 4294967295, src_vlan: 4095, mac: String(0xffffffffffff), sampling_rate: 1000, vmw_virtual_obs_id: nasty, capture: 'pg-é-☃-𝄞',
    source: 'pcap', in_portgroup: 'Web PG', vip: 'www', va: '::ffff:198.51.100.7', vip_port: 443, vip_leg: 'client-vip', backend: 'web1',
    duplicate: 1, encap: 'vlan,gre', os: '::ffff:192.0.2.9', od: '2001:db8::9', outer_vlan: 100, inner_vlan: 200, mirror_session: 1023,
    mirror_index: 4294967295, gre_key: 7, fragments: 3, vni: 16777215, f: 1_700_000_000_000,
  });
  assert.equal(back[1]!.s, '::');
  assert.equal(back[1]!.source, 'netflow');
  assert.equal(back[1]!.bytes, '0');
  assert.deepEqual(spool(), [], 'the spool file is removed');
});

test('numbers a double or the column cannot hold are stored as 0, fractions truncated, numeric text as its number', () => {
  const b = new NativeBlock<{ v: unknown }>([{ name: 'a', type: 'UInt64', field: 'v' }, { name: 'b', type: 'UInt16', field: 'v' }], 1);
  const vs = [0, 3.9, -5, NaN, Infinity, 2 ** 64, 2 ** 53 - 1, 65535, 65536, undefined, '7'];
  for (const v of vs) b.add({ v });
  const enc = Buffer.concat(b.encode());
  // header: 2 columns, 9 rows; then "a" "UInt64" values, "b" "UInt16" values
  assert.deepEqual([...enc.subarray(0, 2)], [2, vs.length]);
  const a0 = 2 + 1 + 1 + 1 + 6;
  const u64 = Array.from({ length: vs.length }, (_, i) => enc.readBigUInt64LE(a0 + i * 8));
  assert.deepEqual(u64, [0n, 3n, 0n, 0n, 0n, 0n, 2n ** 53n - 1n, 65535n, 65536n, 0n, 7n]);
  const b0 = a0 + vs.length * 8 + 1 + 1 + 1 + 6;
  const u16 = Array.from({ length: vs.length }, (_, i) => enc.readUInt16LE(b0 + i * 2));
  assert.deepEqual(u16, [0, 3, 0, 0, 0, 0, 65535, 65535, 0, 0, 7], 'a value wider than the column keeps its low bits, as ClickHouse parses it');
  assert.equal(enc.length, b0 + vs.length * 2);
});

test('address text is stored as ClickHouse parses it (toIPv6), anything unparsable as ::', async () => {
  const good = ['10.0.0.1', '255.255.255.255', '0.0.0.0', '::', '::1', '1::', '2001:db8::1', 'fe80::1:2', '2001:DB8:0:0:8:800:200C:417A',
    '1:2:3:4:5:6:7:8', '::ffff:192.0.2.1', '64:ff9b::198.51.100.7', '1:2:3:4:5:6:7::', '::2:3:4:5:6:7:8', 'ff02::fb', '2001:db8:0:0:1::1'];
  const bad = ['', '256.1.1.1', '1.2.3', '1.2.3.4.5', '01234::', '1:::2', ':1', '1:2:3:4:5:6:7:8:9', 'fe80::1%eth0', 'x', '1.2.3.4 ', '::1::'];
  await store.command('CREATE TABLE addrs (i UInt16, a IPv6) ENGINE = Memory');
  const rows = [...good, ...bad].map((a, i) => ({ i, a }));
  const b = new NativeBlock<{ i: number; a: string }>([{ name: 'i', type: 'UInt16', field: 'i' }, { name: 'a', type: 'IPv6', field: 'a' }], 4);
  for (const r of rows) b.add(r);
  await store.insertNative('addrs', ['i', 'a'], b.encode());
  const back = await store.queryRows<{ i: number; a: string; ref: string }>(
    'SELECT i, toString(a) AS a, toString(toIPv6OrDefault(arrayElement({list:Array(String)}, i + 1))) AS ref FROM addrs ORDER BY i', { list: rows.map((r) => r.a) });
  assert.equal(back.length, rows.length);
  for (const r of back) {
    if (r.i < good.length) assert.equal(r.a, r.ref, `${good[r.i]} as ClickHouse parses it`);
    else assert.equal(r.a, '::', `${JSON.stringify(bad[r.i - good.length])} is not an address`);
  }
});

test('a block grows past its first size and keeps every row', async () => {
  await store.command('CREATE TABLE flows_grow AS flows');
  const b = newFlowBlock(16);
  for (let i = 0; i < 5000; i++) b.add(flow({ srcAddr: `10.9.${i >> 8}.${i & 255}`, srcPort: i, bytes: i, capture: `c${i % 7}` }));
  await store.insertNative('flows_grow', flowColumns, b.encode());
  const [r] = await store.queryRows<{ n: number; s: number; p: number; c: number }>(
    'SELECT count() AS n, sum(bytes) AS s, sum(src_port) AS p, uniqExact(capture) AS c FROM flows_grow');
  assert.deepEqual({ ...r }, { n: 5000, s: 4999 * 5000 / 2, p: 4999 * 5000 / 2, c: 7 });
});

test('names keep their rows whatever the dictionary size (1-, 2- and 4-byte indexes)', async () => {
  await store.command('CREATE TABLE flows_lc AS flows');
  const n = 70_000;
  const rows = Array.from({ length: n }, (_, i) => flow({ srcPort: i % 65536, inVm: `vm-${i}`, inPortgroup: i % 3 ? `pg-${i % 300}` : '', vip: 'www', capture: 'c' }));
  await store.insertNative('flows_lc', flowColumns, flowsToNative(rows));
  const [r] = await store.queryRows<Record<string, number>>(`SELECT count() AS n, uniqExact(in_vm) AS vms, uniqExact(in_portgroup) AS pgs,
    countIf(in_portgroup = '') AS empty, countIf(vip = 'www') AS www, countIf(in_vm = concat('vm-', toString(src_port)) OR in_vm = concat('vm-', toString(src_port + 65536))) AS vm_ok,
    countIf(in_portgroup != '' AND in_portgroup != concat('pg-', toString(toUInt32(substring(in_vm, 4)) % 300))) AS pg_wrong FROM flows_lc`);
  assert.deepEqual({ ...r }, { n, vms: n, pgs: 201, empty: Math.ceil(n / 3), www: n, vm_ok: n, pg_wrong: 0 });
});


test('text of every length arrives whole: around the hand-copied short ASCII case and past one-byte lengths', async () => {
  await store.command('CREATE TABLE flows_text AS flows');
  const texts = ['', 'a', 'x'.repeat(126), 'y'.repeat(127), 'z'.repeat(128), 'w'.repeat(300), `${'v'.repeat(126)}é`, `é${'u'.repeat(200)}`, 'a\u007fb', 'tab\tnul\0'];
  // Each text as a name (the dictionary of a LowCardinality column) and as a String column (the `source` column is
  // written as text; an unknown value is refused, so the texts ride in capture and in_vm, `source` stays valid).
  const rows = texts.map((t, i) => flow({ srcPort: i, capture: t, inVm: t, source: i % 2 ? 'pcap' : 'netflow' }));
  await store.insertNative('flows_text', flowColumns, flowsToNative(rows));
  const back = await store.queryRows<{ src_port: number; capture: string; in_vm: string; source: string }>(
    'SELECT src_port, capture, in_vm, toString(source) AS source FROM flows_text ORDER BY src_port');
  assert.deepEqual(back.map((r) => [r.capture, r.in_vm, r.source]), texts.map((t, i) => [t, t, i % 2 ? 'pcap' : 'netflow']));
});
test('a failing insert rejects, stores nothing, leaves no spool file; identifiers are checked', async () => {
  await store.command('CREATE TABLE flows_bad AS flows');
  await assert.rejects(store.insertNative('flows_bad', [...flowColumns.slice(0, -1), 'no_such_column'], flowsToNative([flow({ srcAddr: '10.0.0.1' })])));
  assert.deepEqual(spool(), []);
  await assert.rejects(store.insertNative('flows; DROP TABLE flows', flowColumns, flowsToNative([flow({})])), /invalid identifier/);
  const [r] = await store.queryRows<{ n: number }>('SELECT count() AS n FROM flows_bad');
  assert.equal(Number(r!.n), 0);
  await store.insertNative('flows_bad', flowColumns, flowsToNative([flow({ srcAddr: '10.0.0.1' })]));
  const [r2] = await store.queryRows<{ n: number }>('SELECT count() AS n FROM flows_bad');
  assert.equal(Number(r2!.n), 1, 'the next insert works');
});

test('the writer reuses inserted blocks, and a reused block keeps nothing of its earlier rows', async () => {
  await store.command('CREATE TABLE flows_reuse AS flows');
  let made = 0;
  const w = new BatchWriter<EnrichedFlow>({
    table: 'flows_reuse', columns: flowColumns, batchRows: 1000, flushMs: 10_000, maxQueueRows: 100_000, concurrency: 1,
    newBatch: () => (made++, newFlowBlock(16)), insert: (t, c, b) => store.insertNative(t, c, b),
  });
  const full = (i: number) => flow({ srcPort: i, srcAddr: `10.7.${i >> 8}.${i & 255}`, dstAddr: '2001:db8::7', nextHop: '10.0.0.254', inPortgroup: `pg-${i % 9}`, inVm: `vm-${i}`, vip: 'www', vipLeg: 'client-vip', capture: 'first', exporter: '192.0.2.1' });
  // Rows of the later rounds leave names and addresses empty: a reused block must not show its earlier rows' values there.
  const bare = (i: number) => flow({ srcPort: i, exporter: '192.0.2.1', capture: i % 2 ? 'second' : '' });
  for (let round = 0; round < 4; round++) {
    for (let i = 0; i < 1000; i++) w.push(round === 0 ? full(i) : bare(round * 1000 + i));
    await w.flush();
  }
  await w.close();
  assert.equal(made, 2, 'one block made at the start, one while the first was inserted; then only reused');
  assert.equal(w.stats.rowsWritten, 4000);
  assert.equal(w.pendingRows, 0);
  const rows = await store.queryRows<Record<string, number>>(`SELECT src_port >= 1000 AS later, count() AS n, uniqExact(src_port) AS ports,
    countIf(src_addr = toIPv6('::')) AS no_src, countIf(dst_addr = toIPv6('::')) AS no_dst, countIf(next_hop = toIPv6('::')) AS no_nh,
    countIf(in_portgroup = '') AS no_pg, countIf(in_vm = '') AS no_vm, countIf(vip = '') AS no_vip, countIf(vip_leg = '') AS no_leg,
    countIf(capture = 'second') AS second, countIf(in_vm = concat('vm-', toString(src_port))) AS vm_ok
    FROM flows_reuse GROUP BY later ORDER BY later`);
  assert.deepEqual(rows.map((r) => ({ ...r })), [
    { later: 0, n: 1000, ports: 1000, no_src: 0, no_dst: 0, no_nh: 0, no_pg: 0, no_vm: 0, no_vip: 0, no_leg: 0, second: 0, vm_ok: 1000 },
    { later: 1, n: 3000, ports: 3000, no_src: 3000, no_dst: 3000, no_nh: 3000, no_pg: 3000, no_vm: 3000, no_vip: 3000, no_leg: 3000, second: 1500, vm_ok: 0 },
  ]);
});
