// The alert manager against the real embedded ClickHouse: detections of one subject within the suppression window
// become one alert whose counts grow (one row after FINAL), a new window or subject makes a new alert, severity
// escalation is re-announced, a failed write is retried; and the alert list reads them back with nfdump filters.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openTempStore } from '../helpers/tempStore.ts';
import type { ClickHouseStore } from '../../src/storage/clickhouseStore.ts';
import { AlertManager, alertColumns, alertsToTsv, type StoredAlert } from '../../src/ids/alertManager.ts';
import { AlertQueryError, getAlert, listAlerts } from '../../src/query/alertQuery.ts';
import type { AlertCandidate } from '../../src/ids/idsTypes.ts';

let store: ClickHouseStore;
let cleanup: () => Promise<void>;
const T0 = Date.UTC(2026, 10, 20, 12, 0, 0);
const MIN = 60_000;

const cand = (o: Partial<AlertCandidate>): AlertCandidate => ({
  time: T0, detector: 'port-scan', severity: 'medium', summary: 'scan', src: '10.0.0.5', dst: '10.0.0.9', dstPort: 0, proto: 6,
  vip: '', portgroup: '', key: '10.0.0.5>10.0.0.9', counts: { distinctPorts: 20 }, samples: [], origin: 'pcap', ...o,
});

before(async () => {
  const t = await openTempStore();
  store = t.store;
  cleanup = t.cleanup;
});
after(async () => cleanup());

function manager(extra: Partial<ConstructorParameters<typeof AlertManager>[0]> = {}) {
  const raised: StoredAlert[] = [];
  const m = new AlertManager({
    flushMs: 0, suppressionMs: 10 * MIN, write: (rows) => store.insertTsv('alerts', alertColumns, alertsToTsv(rows)),
    onRaised: (a) => raised.push({ ...a }), ...extra,
  });
  return { m, raised };
}

test('detections of one subject within the window merge into one alert; the largest counts and the latest time win', async () => {
  const { m, raised } = manager();
  const a = m.offer(cand({ counts: { distinctPorts: 20 }, samples: [{ time: T0, srcAddr: '10.0.0.5', dstAddr: '10.0.0.9', srcPort: 40000, dstPort: 22, proto: 6, tcpFlags: 2, packets: 1, bytes: 44 }] }), 'scan.pcap');
  await m.flush();
  m.offer(cand({ time: T0 + 5 * MIN, counts: { distinctPorts: 87 } }));
  m.offer(cand({ time: T0 + 14 * MIN, counts: { distinctPorts: 40 } }));
  await m.flush();
  assert.equal(raised.length, 1, 'merges are not announced again');
  const got = await getAlert(store, a.id);
  assert.ok(got);
  assert.equal(got.occurrences, 3);
  assert.equal(got.counts.distinctPorts, 87);
  assert.equal(got.time, T0);
  assert.equal(got.last, T0 + 14 * MIN);
  assert.equal(got.capture, 'scan.pcap');
  assert.equal(got.samples.length, 1);
  assert.equal(got.samples[0]!.dstPort, 22);
  assert.equal(got.src, '10.0.0.5');
  // One row per alert once versions are collapsed.
  const rows = await store.queryRows<{ n: number }>('SELECT count() AS n FROM alerts FINAL WHERE id = {id:UUID}', { id: a.id });
  assert.equal(Number(rows[0]!.n), 1);
  // Beyond the window after the last evidence: a new alert.
  const b = m.offer(cand({ time: T0 + 25 * MIN }));
  assert.notEqual(b.id, a.id);
  // Another subject: another alert.
  const c = m.offer(cand({ time: T0 + 1000, key: '10.0.0.6>10.0.0.9', src: '10.0.0.6' }));
  assert.notEqual(c.id, a.id);
  await m.close();
  assert.equal(m.stats.raised, 3);
  assert.equal(m.stats.merged, 2);
});

test('an alert from an old capture (event time years back) is kept: retention counts from when it was raised', async () => {
  const { m } = manager();
  const old = Date.UTC(2015, 2, 30, 14, 45);
  const a = m.offer(cand({ detector: 'brute-force', key: 'old', time: old }));
  await m.close();
  await store.command('OPTIMIZE TABLE alerts FINAL');
  const got = await getAlert(store, a.id);
  assert.ok(got, 'not dropped by the TTL');
  assert.equal(got.time, old);
});

test('a rise in severity is announced again; the stored alert keeps the highest', async () => {
  const { m, raised } = manager();
  const a = m.offer(cand({ detector: 'syn-flood', key: 'v1', severity: 'medium', time: T0 + 60 * MIN }));
  m.offer(cand({ detector: 'syn-flood', key: 'v1', severity: 'low', time: T0 + 61 * MIN }));
  m.offer(cand({ detector: 'syn-flood', key: 'v1', severity: 'critical', time: T0 + 62 * MIN }));
  await m.close();
  assert.deepEqual(raised.map((r) => r.severity), ['medium', 'critical']);
  assert.equal((await getAlert(store, a.id))!.severity, 'critical');
});

test('a failed write keeps the alert and the next flush stores it', async () => {
  let fail = true;
  const errors: string[] = [];
  const { m } = manager({
    write: async (rows) => {
      if (fail) throw new Error('store down');
      await store.insertTsv('alerts', alertColumns, alertsToTsv(rows));
    },
    onWriteError: (e) => errors.push(e.message),
  });
  const a = m.offer(cand({ detector: 'land', key: 'retry', time: T0 + 120 * MIN }));
  await m.flush();
  assert.deepEqual(errors, ['store down']);
  assert.equal(m.pending, 1);
  fail = false;
  await m.flush();
  assert.equal(m.pending, 0);
  assert.ok(await getAlert(store, a.id));
});

test('text from captures is stored as text: quotes, tabs, newlines and non-addresses do not break the row', async () => {
  const { m } = manager();
  const a = m.offer(cand({
    detector: 'snort-rule', key: 'x', time: T0 + 200 * MIN, summary: "ET SCAN \"odd\"\tname\nwith 'quotes' \\ and <script>", src: 'not-an-ip',
    counts: { "bad key'": 1, good_key: 2 }, samples: [{ time: T0, srcAddr: '1.2.3.4', dstAddr: '5.6.7.8', srcPort: 1, dstPort: 2, proto: 6, tcpFlags: 0, packets: 1, bytes: 1, note: 'content "|0d 0a|"\t' }],
  }));
  await m.close();
  const got = (await getAlert(store, a.id))!;
  assert.equal(got.summary, "ET SCAN \"odd\"\tname\nwith 'quotes' \\ and <script>");
  assert.equal(got.src, '');
  assert.deepEqual(got.counts, { good_key: 2 });
  assert.equal(got.samples[0]!.note, 'content "|0d 0a|"\t');
});

test('listing: window overlap, nfdump filters on the alert, detectors, minimum severity, facets', async () => {
  const { m } = manager();
  m.offer(cand({ detector: 'brute-force', key: 'b1', time: T0 + 300 * MIN, src: '192.0.2.7', dst: '10.1.1.1', dstPort: 22, severity: 'high' }));
  m.offer(cand({ detector: 'brute-force', key: 'b2', time: T0 + 301 * MIN, src: '192.0.2.8', dst: '10.1.1.2', dstPort: 3389, severity: 'medium' }));
  m.offer(cand({ detector: 'vip-ddos', key: 'web', time: T0 + 302 * MIN, src: '', dst: '10.9.9.9', dstPort: 443, vip: 'web-vip', portgroup: 'pg-web', severity: 'critical' }));
  m.offer(cand({ detector: 'port-scan', key: 'ip6', time: T0 + 303 * MIN, src: '2001:db8::5', dst: '2001:db8::9', severity: 'low' }));
  await m.close();
  const win = { from: T0 + 299 * MIN, to: T0 + 310 * MIN };
  const all = await listAlerts(store, win);
  assert.equal(all.total, 4);
  assert.deepEqual(all.alerts.map((a) => a.detector), ['port-scan', 'vip-ddos', 'brute-force', 'brute-force'], 'newest first');
  assert.deepEqual(all.byDetector, { 'brute-force': 2, 'vip-ddos': 1, 'port-scan': 1 });
  assert.equal((await listAlerts(store, { ...win, filter: 'dst port 22' })).alerts[0]!.src, '192.0.2.7');
  assert.equal((await listAlerts(store, { ...win, filter: 'src net 192.0.2.0/24 and not dst port 22' })).alerts[0]!.dstPort, 3389);
  assert.equal((await listAlerts(store, { ...win, filter: 'port 443' })).total, 1, 'port: src or dst; alerts have no source port');
  assert.equal((await listAlerts(store, { ...win, filter: 'vip web-vip' })).total, 1);
  assert.equal((await listAlerts(store, { ...win, filter: 'portgroup pg-web' })).total, 1);
  assert.equal((await listAlerts(store, { ...win, filter: 'inet6' })).total, 1);
  assert.equal((await listAlerts(store, { ...win, filter: 'src ip 2001:db8::5' })).total, 1);
  assert.equal((await listAlerts(store, { ...win, detectors: ['brute-force'] })).total, 2);
  assert.equal((await listAlerts(store, { ...win, minSeverity: 'high' })).total, 2);
  assert.equal((await listAlerts(store, { ...win, limit: 1 })).alerts.length, 1);
  assert.equal((await listAlerts(store, { from: T0 + 304 * MIN })).total, 0);
  await assert.rejects(listAlerts(store, { filter: 'bytes > 10' }), (e: Error) => e instanceof AlertQueryError && /not supported on alerts.*bytes/.test(e.message));
  await assert.rejects(listAlerts(store, { filter: 'dst port' }), (e: Error) => e instanceof AlertQueryError && (e as AlertQueryError).position !== undefined);
});

test('the engine expires detector state on the slowest source clock: an old capture keeps its windows while live flows arrive', async () => {
  const { IdsEngine } = await import('../../src/ids/idsEngine.ts');
  const { emptyFlowRecord } = await import('../../src/flow/flowRecord.ts');
  const expired: number[] = [];
  const detector = { id: 'probe', onFlows: () => {}, expire: (now: number) => void expired.push(now) };
  const e = new IdsEngine([detector], [], new AlertManager({ write: async () => {}, flushMs: 0 }));
  const flow = (last: number, capture = '') => Object.assign(emptyFlowRecord(), { first: last, last, source: capture ? 'pcap' as const : 'netflow' as const, capture });
  const old = Date.UTC(2015, 2, 30);
  e.onFlows([flow(old, 'old.pcap')]);
  e.onFlows([flow(T0)]);
  e.onFlows([flow(T0 + 10 * MIN)]);
  assert.ok(expired.every((t) => t <= old), `expiry held at the capture's clock: ${expired.map((t) => new Date(t).toISOString())}`);
  e.onFlows([flow(old + 5 * MIN, 'old.pcap')]);
  assert.equal(Math.max(...expired), old + 5 * MIN, 'the capture advances its own clock');
  e.finishCapture('old.pcap');
  e.onFlows([flow(T0 + 11 * MIN)]);
  assert.equal(Math.max(...expired), T0 + 11 * MIN, 'after the capture, live time drives expiry again');
});
