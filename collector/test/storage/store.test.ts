import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, copyFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { openTempStore } from '../helpers/tempStore.ts';
import { tempDir } from '../helpers/peers.ts';
import { migrate, schemaDir, MigrationError, renderMigration, splitStatements } from '../../src/storage/migrator.ts';
import { defaultConfig } from '../../src/config/config.ts';
import { flowColumns, flowsToNative, newFlowBlock, type EnrichedFlow } from '../../src/storage/flowRows.ts';
import { NameNumbers } from '../../src/storage/nameNumbers.ts';
import { emptyFlowRecord, type FlowRecord } from '../../src/flow/flowRecord.ts';
import { BatchWriter, type RowBatch } from '../../src/storage/batchWriter.ts';
import { TsvBuffer } from '../../src/storage/tsvBuffer.ts';
import type { ClickHouseStore } from '../../src/storage/clickhouseStore.ts';

let store: ClickHouseStore;
let cleanup: () => Promise<void>;
before(async () => ({ store, cleanup } = await openTempStore()));
after(async () => cleanup());

function flow(over: Partial<FlowRecord>): FlowRecord {
  return Object.assign(emptyFlowRecord(), { timeReceived: Date.now(), first: Date.now() - 1000, last: Date.now(), exporter: '10.0.0.1', srcAddr: '10.1.1.1', dstAddr: '10.2.2.2', proto: 6, bytes: 100, packets: 1 }, over);
}

test('migrations are recorded and not applied twice', async () => {
  const rows = await store.queryRows<{ name: string }>('SELECT name FROM schema_migrations ORDER BY name');
  const files = readdirSync(schemaDir).filter((f) => f.endsWith('.sql')).sort();
  assert.ok(files.length >= 4);
  assert.deepEqual(rows.map((r) => r.name), files);
  const again = await migrate(store, { cluster: '', retention: { ...defaultConfig.retention } });
  assert.deepEqual(again, []);
});

test('a failing migration names its file and statement', async () => {
  const dir = tempDir('dvflow-schema-');
  for (const f of ['001_flows.sql', '002_rollups.sql', '003_exporter_stats.sql']) copyFileSync(join(schemaDir, f), join(dir, f));
  writeFileSync(join(dir, '004_broken.sql'), 'CREATE TABLE ok_table (a UInt8) ENGINE = MergeTree ORDER BY a;\nCREATE TABLE broken (a NoSuchType) ENGINE = MergeTree ORDER BY a;\n');
  await assert.rejects(migrate(store, { cluster: '', retention: { ...defaultConfig.retention }, dir }), (e: Error) => {
    assert.ok(e instanceof MigrationError);
    assert.match(e.message, /004_broken\.sql failed at statement 2/);
    return true;
  });
  const recorded = await store.queryRows('SELECT name FROM schema_migrations WHERE name = {n:String}', { n: '004_broken.sql' });
  assert.equal(recorded.length, 0, 'a failed migration is not recorded, so it runs again after a fix');
});

test('changing the configured retention alters the TTL', async () => {
  await migrate(store, { cluster: '', retention: { ...defaultConfig.retention, flows: '9 DAY' } });
  const [t] = await store.queryRows<{ q: string }>("SELECT create_table_query AS q FROM system.tables WHERE database = currentDatabase() AND name = 'flows'");
  assert.match(t!.q, /toIntervalDay\(9\)/);
});

test('cluster rendering uses ON CLUSTER and Replicated engines', () => {
  const sql = renderMigration('CREATE TABLE t {{on_cluster}} (a UInt8) ENGINE = {{engine:SummingMergeTree}}((a)) TTL x + INTERVAL {{ttl_flows}}', { cluster: 'dv', retention: { flows: '3 DAY' } });
  assert.match(sql, /ON CLUSTER dv/);
  assert.match(sql, /ReplicatedSummingMergeTree\('\/clickhouse\/tables\/\{shard\}\/\{database\}\/\{table\}', '\{replica\}'\)\(\(a\)\)/);
  assert.match(sql, /INTERVAL 3 DAY/);
  assert.throws(() => renderMigration('{{on_cluster}}', { cluster: 'x; DROP', retention: {} }), MigrationError);
  assert.equal(splitStatements('-- c\nA;\nB;\n').length, 2);
});

test('exporter-supplied strings survive the Native path exactly', async () => {
  const nasty = 'tab\there\nnew\\line\r\0end';
  await store.insertNative('flows', flowColumns, flowsToNative([flow({ vmwVirtualObsId: nasty, capture: 'x\ty', srcAddr: '2001:db8::5', srcPort: 443, inPortgroup: 'pg-é-☃-𝄞' } as unknown as Partial<FlowRecord>)]));
  const rows = await store.queryRows<{ o: string; c: string; s: string; p: string }>("SELECT vmw_virtual_obs_id AS o, capture AS c, toString(src_addr) AS s, in_portgroup AS p FROM flows WHERE src_port = 443");
  assert.equal(rows.length, 1);
  assert.equal(rows[0]!.o, nasty);
  assert.equal(rows[0]!.c, 'x\ty');
  assert.equal(rows[0]!.s, '2001:db8::5');
  assert.equal(rows[0]!.p, 'pg-é-☃-𝄞', 'non-ASCII names keep every code point');
});

test('names are stored right whether the record gives their number or not, and past a full numbering', async () => {
  // A numbering that holds 4 names: the rest take the per-block path. Records carry the right number, none, or
  // (a name the block has seen by number before) none again; one block mixes all three.
  const numbers = new NameNumbers(4);
  const a = numbers.of('pg-a'), b = numbers.of('vm-b');
  const recs: EnrichedFlow[] = [
    { inPortgroup: 'pg-a', inPortgroupNo: a, inVm: 'vm-b', inVmNo: b },
    { inPortgroup: 'pg-a', inPortgroupNo: 0, inVm: 'vm-c', inVmNo: 0 },
    { inPortgroup: 'pg-d', inPortgroupNo: 0, inVm: 'vm-b', inVmNo: 0 },
    { inPortgroup: 'pg-e', inPortgroupNo: 0, inVm: '', inVmNo: 0 },
    { inPortgroup: 'pg-f ☃', inPortgroupNo: 0, inVm: 'vm-b', inVmNo: b },
    { inPortgroup: '', inPortgroupNo: 0, inVm: 'vm-c', inVmNo: 0 },
  ].map((x, i) => Object.assign(flow({ srcPort: 7000 + i }), x));
  const block = newFlowBlock(2, numbers);
  for (const r of recs) block.add(r);
  await store.insertNative('flows', flowColumns, block.encode());
  const rows = await store.queryRows<{ p: string; v: string }>('SELECT in_portgroup AS p, in_vm AS v FROM flows WHERE src_port BETWEEN 7000 AND 7099 ORDER BY src_port');
  assert.deepEqual(rows, recs.map((r) => ({ p: r.inPortgroup, v: r.inVm })));
  assert.equal(numbers.size, 4, 'the numbering stops at its size');
  // The block reused (as the writer does) with the rows in another order: a name's key from the first block must
  // not stand for it in the second, where the keys are given in a new order.
  block.reset();
  const again = [...recs].reverse().map((r, i) => Object.assign(flow({ srcPort: 7100 + i }), {
    inPortgroup: r.inPortgroup, inPortgroupNo: r.inPortgroupNo, inVm: r.inVm, inVmNo: r.inVmNo,
  }));
  for (const r of again) block.add(r);
  await store.insertNative('flows', flowColumns, block.encode());
  const rows2 = await store.queryRows<{ p: string; v: string }>('SELECT in_portgroup AS p, in_vm AS v FROM flows WHERE src_port BETWEEN 7100 AND 7199 ORDER BY src_port');
  assert.deepEqual(rows2, again.map((r) => ({ p: r.inPortgroup, v: r.inVm })));
});

test('an insert of a writer block of flows is a Compact part; merged parts of 100,000 rows and more are Wide', async () => {
  // schema/012: a capture's end inserts blocks of writer.batchRows flows, and a Wide part costs ~200 files each.
  const rows = defaultConfig.writer.batchRows;
  const now = Date.now();
  const make = (k: number) => flowsToNative(Array.from({ length: rows }, (_, i) => flow({
    first: now - 2000, last: now - 1000, srcAddr: `10.${k}.${(i >> 8) & 255}.${i & 255}`, dstAddr: `2001:db8:${k}::${i.toString(16)}`,
    srcPort: 1024 + (i % 60000), dstPort: 443, bytes: 1000 + i, packets: 1 + (i % 7), source: 'pcap', nextHop: '192.0.2.1',
    capture: `mirror-session-of-the-web-portgroup-${k}.pcap`, vmwVirtualObsId: `vds-observation-point-${i % 100}`,
  })));
  // The same block into a table of the same columns with ClickHouse's default thresholds: Wide, so the block is
  // large enough for the setting to be what makes the difference.
  await store.command('DROP TABLE IF EXISTS flows_part_control');
  await store.command('CREATE TABLE flows_part_control AS flows ENGINE = MergeTree ORDER BY tuple()');
  await store.command('TRUNCATE TABLE flows');
  await store.command('SYSTEM STOP MERGES flows');
  const parts = (table: string) => store.queryRows<{ part_type: string; rows: number }>(
    `SELECT part_type, rows FROM system.parts WHERE database = currentDatabase() AND table = {t:String} AND active ORDER BY name`, { t: table });
  try {
    const block = make(1);
    await store.insertNative('flows_part_control', flowColumns, block);
    assert.deepEqual((await parts('flows_part_control')).map((p) => [p.part_type, Number(p.rows)]), [['Wide', rows]]);
    await store.insertNative('flows', flowColumns, block);
    await store.insertNative('flows', flowColumns, make(2));
    assert.deepEqual((await parts('flows')).map((p) => [p.part_type, Number(p.rows)]), [['Compact', rows], ['Compact', rows]]);
  } finally {
    await store.command('SYSTEM START MERGES flows');
    await store.command('DROP TABLE IF EXISTS flows_part_control');
  }
  await store.command('OPTIMIZE TABLE flows FINAL');
  assert.deepEqual((await parts('flows')).map((p) => [p.part_type, Number(p.rows)]), [['Wide', 2 * rows]]);
  await store.command('TRUNCATE TABLE flows');
});

test('rollups count flows, not rows', async () => {
  await store.command('TRUNCATE TABLE flows');
  for (const t of ['flows_1m', 'flows_5m', 'flows_1h']) await store.command(`TRUNCATE TABLE ${t}`);
  const now = Date.now();
  const body = flowsToNative(Array.from({ length: 500 }, () => flow({ first: now - 2000, last: now - 1000, bytes: 10, packets: 2, proto: 17 })));
  await store.insertNative('flows', flowColumns, body);
  for (const t of ['flows_1m', 'flows_5m', 'flows_1h']) {
    const [r] = await store.queryRows<{ rows: number; flows: number; bytes: number }>(`SELECT count() AS rows, sum(flows) AS flows, sum(bytes) AS bytes FROM ${t} FINAL`);
    assert.equal(r!.flows, 500, `${t} flows counter`);
    assert.equal(r!.bytes, 5000);
    assert.ok(r!.rows < 500, `${t} aggregates rows`);
  }
});

test('rollups keep flows apart by their names: portgroups, VIP, leg, backend, exporter name', async () => {
  await store.command('TRUNCATE TABLE flows');
  for (const t of ['flows_1m', 'flows_5m', 'flows_1h']) await store.command(`TRUNCATE TABLE ${t}`);
  const now = Date.now();
  // Every other rollup key is equal: only the names tell these groups apart (the views group on a hash of them).
  const names: Partial<EnrichedFlow>[] = [
    {},
    { inPortgroup: 'pg-web', inVm: 'web-1' },
    { inPortgroup: 'pg-web', outPortgroup: 'pg-db', outVm: 'db-1' },
    { outPortgroup: 'pg-web' },
    { vip: 'shop', vipLeg: 'client-vip' },
    { vip: 'shop', vipLeg: 'lb-server', backend: 'web-1' },
    { vip: 'shop', vipLeg: 'lb-server', backend: 'web-2' },
    { exporterName: 'esx-01' },
  ];
  const recs = names.flatMap((n, i) => Array.from({ length: i + 1 }, () => Object.assign(flow({ first: now - 2000, last: now - 1000, bytes: 10, packets: 1 }), n)));
  await store.insertNative('flows', flowColumns, flowsToNative(recs));
  const cols = 'exporter_name AS e, in_portgroup AS ip, out_portgroup AS op, vip AS v, vip_leg AS l, backend AS b';
  const raw = await store.queryRows(`SELECT ${cols}, count() AS flows, sum(bytes) AS bytes, any(in_vm) AS iv, any(out_vm) AS ov FROM flows GROUP BY e, ip, op, v, l, b ORDER BY e, ip, op, v, l, b`);
  assert.equal(raw.length, names.length);
  for (const t of ['flows_1m', 'flows_5m', 'flows_1h']) {
    const rows = await store.queryRows(`SELECT ${cols}, sum(flows) AS flows, sum(bytes) AS bytes, any(in_vm) AS iv, any(out_vm) AS ov FROM ${t} FINAL GROUP BY e, ip, op, v, l, b ORDER BY e, ip, op, v, l, b`);
    assert.deepEqual(rows, raw, `${t} has one row per set of names, with its own counts`);
  }
});

/** Rows of one text column, a line each: what the batch writer tests send. */
function lines(): RowBatch<string> {
  const rows: string[] = [];
  return { get rows() { return rows.length; }, add: (r) => rows.push(r), encode: () => [Buffer.from(rows.join(''))] };
}

test('batch writer sends by size and by time, never one insert per row', async () => {
  const sent: number[] = [];
  const w = new BatchWriter<string>({ table: 't', columns: ['a'], newBatch: lines, batchRows: 100, flushMs: 50, maxQueueRows: 1000, insert: async (_t, _c, body) => { sent.push(Buffer.concat(body).toString().split('\n').length - 1); } });
  for (let i = 0; i < 250; i++) w.push(`${i}\n`);
  await new Promise((r) => setTimeout(r, 150));
  assert.deepEqual(sent, [100, 100, 50]);
  await w.close();
  assert.equal(w.stats.rowsWritten, 250);
});

test('numbers are written exactly, bad values as 0', () => {
  const t = new TsvBuffer(4);
  for (const v of [0, 7, 10, 65535, 4294967295, 2 ** 53 - 1, 1795294296250, -5, NaN, 3.9]) { t.u(v); t.tab(); }
  assert.equal(t.bytes().toString(), '0\t7\t10\t65535\t4294967295\t9007199254740991\t1795294296250\t0\t0\t3\t');
});

test('a full queue drops rows and counts them; a failed insert is counted', async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let calls = 0;
  const w = new BatchWriter<string>({
    table: 't', columns: ['a'], newBatch: lines, batchRows: 10, flushMs: 1000, maxQueueRows: 30,
    insert: async () => { calls++; await gate; if (calls === 1) throw new Error('server gone'); },
  });
  const errors: Error[] = [];
  w.on('insertError', (e: Error) => errors.push(e));
  let accepted = 0;
  for (let i = 0; i < 100; i++) if (w.push(`${i}\n`)) accepted++;
  assert.equal(accepted, 30);
  assert.equal(w.stats.rowsDropped, 70);
  release();
  await w.flush();
  assert.equal(errors.length, 1);
  assert.equal(w.stats.rowsFailed, 10);
  assert.equal(w.stats.rowsWritten, 20);
  assert.ok(w.push('again\n'), 'accepts rows again once the queue drains');
  await w.close();
});

test('flow times from 1970 to 2286 are stored exactly (ClickHouse reads short bare numbers as dates)', async () => {
  const times = [0, 5000, 86_400_000, 999_999_999, 1_000_000_000, 99_999_999_999, 100_000_000_000, 999_999_999_999, 1_700_000_000_123, 9_999_999_999_999];
  const rows = times.map((t, i) => Object.assign(emptyFlowRecord(), { timeReceived: Date.now(), first: t, last: t, exporter: '192.0.2.77', srcPort: i }) as FlowRecord);
  await store.insertNative('flows', flowColumns, flowsToNative(rows));
  const back = await store.queryRows<{ src_port: number; ms: string }>(
    "SELECT src_port, toUnixTimestamp64Milli(first) AS ms FROM flows WHERE exporter = toIPv6('192.0.2.77') ORDER BY src_port");
  assert.deepEqual(back.map((r) => Number(r.ms)), times);
  const t = new TsvBuffer(64);
  t.ms(-5);
  t.tab();
  t.ms(42);
  assert.equal(t.bytes().toString(), '0000000000000\t0000000000042', 'negative times are written as the epoch');
});
