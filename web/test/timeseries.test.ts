// GET /api/v1/timeseries on a real embedded store: exact values from known flows, the table chosen, raw and
// rollup answers equal, top N + "other", zero-filled buckets, splits, and 400s (never 500s) for bad input.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../src/server.ts';
import { openTempStore } from '../../collector/test/helpers/tempStore.ts';
import { FlowQuery } from '../../collector/src/query/flowQuery.ts';
import { compileFilter } from '../../collector/src/query/filterSql.ts';
import { TimeSeriesQuery, autoStep, type TimeSeriesRequest, type TimeSeriesResponse } from '../../collector/src/query/timeSeries.ts';
import { createCollectorMetrics } from '../../collector/src/collector/collectorMetrics.ts';
import { flowColumns, flowsToNative, type EnrichedFlow } from '../../collector/src/storage/flowRows.ts';
import { emptyFlowRecord } from '../../collector/src/flow/flowRecord.ts';
import type { ClickHouseStore } from '../../collector/src/storage/clickhouseStore.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
// Two days back, on an hour boundary: inside every rollup's retention, and wholly in the past.
const base = Math.floor((Date.now() - 2 * 24 * HOUR) / HOUR) * HOUR;

let app: FastifyInstance;
let store: ClickHouseStore;
let cleanup: () => Promise<void>;

function flow(at: number, o: Partial<EnrichedFlow>): EnrichedFlow {
  return Object.assign(emptyFlowRecord(), {
    timeReceived: at + 5000, first: at, last: at + 2000, exporter: '192.0.2.1', version: 10,
    srcAddr: '10.0.0.1', dstAddr: '10.1.0.1', proto: 6, srcPort: 40000, dstPort: 443, bytes: 1000, packets: 10,
  }, o);
}

const flows: EnrichedFlow[] = [
  // minute 0: 3 TCP flows of 1000 bytes, 10 packets, portgroup web, VIP www
  flow(base + 10_000, { inPortgroup: 'web', vip: 'www', backend: 'web1' }),
  flow(base + 20_000, { inPortgroup: 'web', vip: 'www', backend: 'web2', srcAddr: '10.0.0.2' }),
  flow(base + 30_000, { inPortgroup: 'web', vip: 'www', backend: 'web1', srcAddr: '10.0.0.3' }),
  // minute 2: UDP to db (out portgroup only)
  flow(base + 2 * MIN + 5000, { outPortgroup: 'db', proto: 17, dstPort: 53, bytes: 600, packets: 6 }),
  // minute 3: ICMP from app
  flow(base + 3 * MIN, { inPortgroup: 'app', proto: 1, srcPort: 0, dstPort: 0, bytes: 300, packets: 3 }),
  // minute 4: GRE, no portgroup
  flow(base + 4 * MIN + 59_000, { proto: 47, srcPort: 0, dstPort: 0, bytes: 60, packets: 1 }),
  // an hour later: 2 more web flows
  flow(base + HOUR + MIN, { inPortgroup: 'web', bytes: 500, packets: 5 }),
  flow(base + HOUR + MIN + 1000, { inPortgroup: 'web', bytes: 500, packets: 5, srcAddr: '10.0.0.4' }),
  // Before the window and after it: never counted.
  flow(base - 1, { inPortgroup: 'web', bytes: 99_999 }),
  flow(base + 2 * HOUR, { inPortgroup: 'web', bytes: 99_999 }),
];

before(async () => {
  const t = await openTempStore();
  store = t.store;
  cleanup = t.cleanup;
  await store.insertNative('flows', flowColumns, flowsToNative(flows));
  app = await buildServer({
    flowQuery: new FlowQuery(store, compileFilter), exporters: null, metrics: createCollectorMetrics().registry, token: 's3cret',
    health: async () => ({}), runner: store,
  }, false);
});
after(async () => {
  await app.close();
  await cleanup();
});

async function get(q: Record<string, string | number>): Promise<TimeSeriesResponse> {
  const r = await app.inject({ method: 'GET', url: '/api/v1/timeseries', query: Object.fromEntries(Object.entries(q).map(([k, v]) => [k, String(v)])) });
  assert.equal(r.statusCode, 200, r.body);
  return r.json();
}

const byName = (r: TimeSeriesResponse) => Object.fromEntries(r.series.map((s) => [s.name, s]));

test('bits per second per bucket, from a rollup, every bucket present', async () => {
  const r = await get({ metric: 'bps', from: base, to: base + 5 * MIN, step: 60 });
  assert.equal(r.table, 'flows_1m');
  assert.equal(r.step, 60);
  assert.deepEqual(r.times, [0, 1, 2, 3, 4].map((i) => base + i * MIN));
  assert.equal(r.series.length, 1);
  const [s] = r.series;
  assert.equal(s.name, 'total');
  // 3 flows of 1000 bytes in minute 0: 3000 * 8 / 60 bits per second; minute 1 had none.
  assert.deepEqual(s.values, [3000 * 8 / 60, 0, 600 * 8 / 60, 300 * 8 / 60, 60 * 8 / 60]);
  assert.equal(s.total, (3000 + 600 + 300 + 60) * 8);
  assert.equal(r.from, base);
  assert.equal(r.to, base + 5 * MIN);
});

test('packets and flows per second; raw flows count rows, rollups their flows column', async () => {
  const pps = await get({ metric: 'pps', from: base, to: base + 5 * MIN, step: 60 });
  assert.deepEqual(pps.series[0].values, [30 / 60, 0, 6 / 60, 3 / 60, 1 / 60]);
  const fps = await get({ metric: 'fps', from: base, to: base + 5 * MIN, step: 60 });
  assert.equal(fps.table, 'flows_1m');
  assert.deepEqual(fps.series[0].values, [3 / 60, 0, 1 / 60, 1 / 60, 1 / 60]);
  assert.equal(fps.series[0].total, 6);
  // A 30-s step only the raw table can answer.
  const raw = await get({ metric: 'fps', from: base, to: base + 2 * MIN, step: 30 });
  assert.equal(raw.table, 'flows');
  assert.deepEqual(raw.series[0].values, [2 / 30, 1 / 30, 0, 0]);
});

test('rollup and raw answer the same question identically', async () => {
  const all = new TimeSeriesQuery(store, compileFilter);
  // Every rollup "expired": the planner has only the raw table left.
  const rawOnly = new TimeSeriesQuery(store, compileFilter, { retention: { flows_1m: '1 SECOND', flows_5m: '1 SECOND', flows_1h: '1 SECOND' } });
  const questions: TimeSeriesRequest[] = [
    { metric: 'bps', split: 'portgroup', from: base, to: base + 2 * HOUR, step: 300 },
    { metric: 'fps', split: 'protocol', from: base, to: base + 2 * HOUR, step: 3600 },
    { metric: 'pps', split: 'vip', filter: 'proto tcp', from: base, to: base + HOUR, step: 60 },
    { metric: 'bps', split: 'backend', filter: 'vip www', from: base, to: base + HOUR, step: 60 },
  ];
  for (const q of questions) {
    const a = await all.run(q);
    const b = await rawOnly.run(q);
    assert.notEqual(a.table, 'flows', JSON.stringify(q));
    assert.equal(b.table, 'flows');
    assert.deepEqual({ ...a, table: '', elapsedMs: 0 }, { ...b, table: '', elapsedMs: 0 }, JSON.stringify(q));
    assert.ok(a.series.length > 0);
  }
  const h = await all.run(questions[1]!);
  assert.equal(h.table, 'flows_1h');
});

test('top N series by total, then "other"', async () => {
  const r = await get({ split: 'portgroup', from: base, to: base + 2 * HOUR, step: 3600, top: 2 });
  assert.equal(r.table, 'flows_1h');
  assert.deepEqual(r.series.map((s) => s.name), ['web', 'db', 'other']);
  const s = byName(r);
  assert.deepEqual(s.web.values, [3000 * 8 / 3600, 1000 * 8 / 3600]);
  assert.equal(s.web.total, 4000 * 8);
  assert.equal(s.db.total, 600 * 8, 'db is an out portgroup: counted under it');
  assert.equal(s.other.total, (300 + 60) * 8);
  const all = await get({ split: 'portgroup', from: base, to: base + 2 * HOUR, step: 3600 });
  assert.deepEqual(all.series.map((x) => x.name), ['web', 'db', 'app', '(none)']);
  assert.ok(!all.series.some((x) => x.name === 'other'));
});

test('protocol split is nfsen\'s TCP/UDP/ICMP/other; proto names protocols; any -s element splits', async () => {
  const p = await get({ split: 'protocol', metric: 'fps', from: base, to: base + 2 * HOUR, step: 3600 });
  // Equal totals rank by name.
  assert.deepEqual(p.series.map((s) => [s.name, s.total]), [['TCP', 5], ['ICMP', 1], ['UDP', 1], ['other', 1]]);
  // With top 2 the unnamed rest (UDP) folds into the one "other" series, with the protocol "other" (GRE).
  const p2 = await get({ split: 'protocol', metric: 'fps', from: base, to: base + 2 * HOUR, step: 3600, top: 2 });
  assert.deepEqual(p2.series.map((s) => [s.name, s.total]), [['TCP', 5], ['ICMP', 1], ['other', 2]]);
  const b = await get({ split: 'protocol', metric: 'bps', from: base, to: base + 2 * HOUR, step: 3600, top: 3 });
  assert.deepEqual(b.series.map((s) => [s.name, s.total / 8]), [['TCP', 4000], ['UDP', 600], ['ICMP', 300], ['other', 60]]);
  const proto = await get({ split: 'proto', metric: 'fps', from: base, to: base + 2 * HOUR, step: 3600 });
  assert.deepEqual(proto.series.map((s) => s.name).sort(), ['GRE', 'ICMP', 'TCP', 'UDP']);
  const port = await get({ split: 'dstport', metric: 'fps', from: base, to: base + 2 * HOUR, step: 3600 });
  assert.equal(port.table, 'flows', 'dst_port is not in the rollups');
  assert.deepEqual(port.series.map((s) => [s.name, s.total]), [['443', 5], ['0', 2], ['53', 1]]);
  const src = await get({ split: 'srcip', metric: 'fps', from: base, to: base + 5 * MIN, step: 60, top: 1 });
  assert.deepEqual(src.series.map((s) => [s.name, s.total]), [['10.0.0.1', 4], ['other', 2]]);
  const leg = await get({ split: 'backend', filter: 'vip www', metric: 'fps', from: base, to: base + HOUR, step: 300 });
  assert.equal(leg.table, 'flows_5m');
  assert.deepEqual(leg.series.map((s) => [s.name, s.total]), [['web1', 2], ['web2', 1]]);
  // Two-sided elements count each side, as nfdump's -s does.
  const ip = await get({ split: 'ip', metric: 'fps', from: base, to: base + MIN, step: 60 });
  assert.deepEqual(ip.series.map((s) => [s.name, s.total]), [['10.1.0.1', 3], ['10.0.0.1', 1], ['10.0.0.2', 1], ['10.0.0.3', 1]]);
});

test('many keys: the ranking moves into ClickHouse and gives the same answer', async () => {
  const q: TimeSeriesRequest = { split: 'srcip', metric: 'bps', from: base, to: base + 2 * HOUR, step: 300, top: 2 };
  const inJs = await new TimeSeriesQuery(store, compileFilter).run(q);
  const inCh = await new TimeSeriesQuery(store, compileFilter, { maxGroupRows: 2 }).run(q);
  assert.deepEqual({ ...inCh, elapsedMs: 0 }, { ...inJs, elapsedMs: 0 });
  assert.deepEqual(inJs.series.map((s) => s.name), ['10.0.0.1', '10.0.0.2', 'other']);
  const ip = await new TimeSeriesQuery(store, compileFilter, { maxGroupRows: 1 }).run({ split: 'ip', metric: 'fps', from: base, to: base + MIN, step: 60, top: 2 });
  assert.deepEqual(ip.series.map((s) => [s.name, s.total]), [['10.1.0.1', 3], ['10.0.0.1', 1], ['other', 2]]);
});

test('an empty window has buckets and no series; defaults are the last hour in 100-300 buckets', async () => {
  const empty = await get({ from: base - 10 * HOUR, to: base - 9 * HOUR, step: 600 });
  assert.equal(empty.times.length, 6);
  assert.deepEqual(empty.series, []);
  const d = await get({});
  assert.equal(d.metric, 'bps');
  assert.equal(d.split, 'none');
  assert.ok(d.times.length >= 100 && d.times.length <= 301, String(d.times.length));
  assert.ok(Math.abs(d.to - Date.now()) < d.step * 1000 + 5000);
  assert.equal(autoStep(24 * HOUR), 300);
  assert.equal(autoStep(7 * 24 * HOUR), 3600);
  // Unaligned window: widened to whole steps.
  const w = await get({ from: base + 7 * MIN + 3, to: base + 17 * MIN, step: 300 });
  assert.equal(w.from, base + 5 * MIN);
  assert.equal(w.to, base + 20 * MIN);
});

test('bad parameters are 400s with a message, never 500s', async () => {
  const cases: Array<[Record<string, string | number>, RegExp]> = [
    [{ metric: 'bytes' }, /metric/],
    [{ from: base + HOUR, to: base }, /ends before it starts/],
    [{ from: base, to: base }, /ends before it starts/],
    [{ from: base - 30 * 24 * HOUR, to: base, step: 60 }, /too long for a 60 s step/],
    [{ split: 'nosuch' }, /unknown split 'nosuch'/],
    [{ split: 'srcip/bytes' }, /not an element|unknown split/],
    [{ split: 'record' }, /not an element/],
    [{ top: 0 }, /top/],
    [{ top: 1000 }, /top/],
    [{ step: 0 }, /step/],
    [{ step: 'x' }, /step/],
    [{ from: -5 }, /from/],
    [{ nosuch: 1 }, /additional properties|nosuch/],
    [{ filter: 'port 99999' }, /error at/],
    [{ filter: 'sysid 1 and' }, /error at/],
  ];
  for (const [query, msg] of cases) {
    const r = await app.inject({ method: 'GET', url: '/api/v1/timeseries', query: Object.fromEntries(Object.entries(query).map(([k, v]) => [k, String(v)])) });
    assert.equal(r.statusCode, 400, `${JSON.stringify(query)}: ${r.body}`);
    assert.match(r.json().message, msg, JSON.stringify(query));
  }
  const bad = await app.inject({ method: 'GET', url: '/api/v1/timeseries', query: { filter: 'proto tcp and port' } });
  assert.equal(bad.statusCode, 400);
  assert.equal(bad.json().position, 19, 'the filter error carries its position (end of text)');
  assert.match(bad.json().message, /^error at 19:/);
});

test('a process without a store answers 503; the route is in the OpenAPI document', async () => {
  const bare = await buildServer({ flowQuery: new FlowQuery(store, compileFilter), exporters: null, metrics: createCollectorMetrics().registry, token: '', health: async () => ({}) }, false);
  try {
    const r = await bare.inject({ method: 'GET', url: '/api/v1/timeseries' });
    assert.equal(r.statusCode, 503);
    const d = await bare.inject({ method: 'GET', url: '/api/docs/json' });
    const paths = d.json().paths;
    for (const p of ['/api/v1/timeseries', '/api/v1/channels', '/api/v1/channels/{name}', '/api/v1/events', '/api/v1/alerts', '/api/v1/alert-rules']) assert.ok(paths[p], p);
    const a = await bare.inject({ method: 'GET', url: '/api/v1/alerts', query: { from: '1', to: '2' } });
    assert.equal(a.statusCode, 503);
    assert.match(a.json().message, /no store/);
    assert.equal((await bare.inject({ method: 'GET', url: '/api/v1/alerts', query: { from: '3', to: '2' } })).statusCode, 400);
  } finally {
    await bare.close();
  }
});

test('sysid N in the filter uses the exporter numbering (exporter_stats), as the query API does', async () => {
  await store.command(`INSERT INTO exporter_stats (minute, exporter, exporter_port, version, domain, packets, flows, first_seen, last_seen) VALUES
    (toStartOfMinute(now()), '::ffff:192.0.2.1', 2055, 10, 0, 1, 1, now64(3) - 10, now64(3)),
    (toStartOfMinute(now()), '::ffff:192.0.2.9', 2055, 10, 0, 1, 1, now64(3), now64(3))`);
  const all = await get({ from: base, to: base + 2 * HOUR, metric: 'fps', split: 'none', step: 3600 });
  const one = await get({ from: base, to: base + 2 * HOUR, metric: 'fps', split: 'none', step: 3600, filter: 'sysid 1' });
  assert.equal(one.series[0]!.total, all.series[0]!.total, 'every flow comes from 192.0.2.1, the first exporter heard');
  const two = await get({ from: base, to: base + 2 * HOUR, metric: 'fps', split: 'none', step: 3600, filter: 'sysid 2' });
  assert.equal(two.series.length, 0, 'exporter 2 sent none of them');
});
