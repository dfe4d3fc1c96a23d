// The query engine on the real embedded engine: windows with nfdump's rule, statistics, listing orders.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openTempStore } from '../helpers/tempStore.ts';
import { FlowQuery, computeSummary } from '../../src/query/flowQuery.ts';
import { compileFilter } from '../../src/query/filterSql.ts';
import { statOrders } from '../../src/query/queryShapes.ts';
import { flowColumns, flowsToNative } from '../../src/storage/flowRows.ts';
import { emptyFlowRecord, type FlowRecord } from '../../src/flow/flowRecord.ts';
import type { ClickHouseStore } from '../../src/storage/clickhouseStore.ts';

let store: ClickHouseStore;
let cleanup: () => Promise<void>;
let q: FlowQuery;
const T = Date.UTC(2026, 0, 1, 12, 0, 0);

before(async () => {
  ({ store, cleanup } = await openTempStore());
  q = new FlowQuery(store, compileFilter);
  const f = (o: Partial<FlowRecord>) => Object.assign(emptyFlowRecord(), { timeReceived: Date.now(), exporter: "10.0.0.1", proto: 6 }, o) as FlowRecord;
  const rows = [
    f({ first: T, last: T + 1000, srcAddr: '10.1.1.1', dstAddr: '10.2.2.2', dstPort: 80, bytes: 1000, packets: 10 }),
    f({ first: T + 2000, last: T + 4000, srcAddr: '10.1.1.1', dstAddr: '10.2.2.3', dstPort: 443, bytes: 5000, packets: 5 }),
    f({ first: T + 5000, last: T + 60_000, srcAddr: '10.1.1.9', dstAddr: '10.2.2.2', dstPort: 53, proto: 17, bytes: 300, packets: 3 }),
  ];
  await store.insertNative('flows', flowColumns, flowsToNative(rows));
});
after(async () => cleanup());

test('the time window keeps flows wholly inside it, as nfdump does', async () => {
  const all = await q.run({ statistics: ['proto'] });
  assert.equal(all.summary.flows, 3);
  const w = await q.run({ statistics: ['proto'], window: { from: T, to: T + 5000 } });
  assert.equal(w.summary.flows, 2, 'the flow that ends after the window is out');
  const l = await q.run({ window: { from: T + 1000, to: T + 100_000 } });
  assert.deepEqual(l.flows!.map((r) => r.dst_port), [443, 53], 'the flow that starts before the window is out');
  assert.equal(l.flows![0]!.first, T + 2000);
});

test('summary arithmetic is nfdump\'s', async () => {
  const r = await q.run({ statistics: ['proto'] });
  assert.deepEqual(r.summary, computeSummary(3, 6300, 18, T, T + 60_000));
  assert.equal(r.summary.bps, Math.floor((6300 * 8) / 60));
  assert.equal(r.summary.bpp, 350);
});

test('statistics with filters and every order', async () => {
  const r = await q.run({ filter: 'src ip 10.1.1.1', statistics: ['dstip/bytes'] });
  assert.deepEqual(r.statistics![0]!.rows.map((x) => [x.key, x.bytes]), [['10.2.2.3', 5000], ['10.2.2.2', 1000]]);
  const ip = await q.run({ statistics: ['ip'] });
  assert.equal(ip.statistics![0]!.rows.reduce((s, x) => s + x.flows, 0), 6, 'two-sided elements count each side');
  for (const order of statOrders) {
    const s = await q.run({ statistics: [`dstport/${order}`] });
    assert.equal(s.statistics![0]!.rows.length, 3, `-s dstport/${order}`);
    const l = await q.run({ order, limit: 2 });
    assert.equal(l.flows!.length, 2, `-O ${order}`);
  }
  const bps = await q.run({ order: 'bps' });
  assert.equal(bps.flows![0]!.dst_port, 443, 'highest bit rate first');
});

test('a bad filter is a FilterError with a position, not a query', async () => {
  await assert.rejects(q.run({ filter: 'port' }), (e: Error & { position?: number }) => e.name === 'FilterError' && typeof e.position === 'number');
});

test('filters on counters work in every query shape (aliases must not shadow columns)', async () => {
  for (const filter of ['bytes > 1k', 'packets < 4', 'bps > 1000', 'first seen > 2020-01-01T00:00:00']) {
    const s = await q.run({ filter, statistics: ['dstport/bytes'] });
    const l = await q.run({ filter, limit: 10 });
    assert.equal(s.statistics![0]!.rows.reduce((n, r) => n + r.flows, 0), s.summary.flows, filter);
    assert.equal(l.flows!.length, s.summary.flows, filter);
  }
  const big = await q.run({ filter: 'bytes > 1k', statistics: ['proto'] });
  assert.equal(big.summary.flows, 1);
});
