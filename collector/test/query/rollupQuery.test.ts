// Statistics and summaries answered from the rollups must equal the raw table's answers exactly: counters,
// first/last seen (nfdump's pps/bps columns), flows older than a rollup's retention (replayed captures,
// exporters with clocks at 1970), and nfdump's window rule. Also -c listings and `sysid N`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openTempStore } from '../helpers/tempStore.ts';
import { prng } from '../helpers/prng.ts';
import { FlowQuery, type QueryRequest } from '../../src/query/flowQuery.ts';
import { compileFilter } from '../../src/query/filterSql.ts';
import { flowColumns, flowsToNative, type EnrichedFlow } from '../../src/storage/flowRows.ts';
import { emptyFlowRecord } from '../../src/flow/flowRecord.ts';
import { defaultConfig } from '../../src/config/config.ts';
import type { ClickHouseStore } from '../../src/storage/clickhouseStore.ts';

let store: ClickHouseStore;
let cleanup: () => Promise<void>;
let rollup: FlowQuery;
let raw: FlowQuery;
const HOUR = 3_600_000;
const now = Date.now();
const hourStart = Math.floor(now / HOUR) * HOUR;
const retention = { ...defaultConfig.retention } as unknown as Record<string, string>;

before(async () => {
  ({ store, cleanup } = await openTempStore());
  rollup = new FlowQuery(store, compileFilter, { retention });
  raw = new FlowQuery(store, compileFilter, { retention, rollups: false });
  const rnd = prng(7);
  const rows: EnrichedFlow[] = [];
  const groups = ['web', 'db', 'backup', ''];
  for (let i = 0; i < 3000; i++) {
    // Mostly the last 30 hours; some years old (beyond every rollup's retention) and some at the epoch.
    const age = i % 50 === 0 ? 3 * 365 * 24 * HOUR : i % 77 === 0 ? now - 5000 : Math.floor(rnd() * 30 * HOUR);
    const first = now - age;
    rows.push(Object.assign(emptyFlowRecord(), {
      timeReceived: now, first, last: first + Math.floor(rnd() * 120_000),
      exporter: i % 3 === 0 ? '10.0.0.2' : '10.0.0.1', version: 10, domain: i % 3 === 0 ? 7 : 0,
      proto: [6, 17, 1][i % 3]!, srcAddr: `10.1.${i % 7}.${i % 200}`, dstAddr: '10.2.0.1', dstPort: [80, 443, 53][i % 3]!,
      bytes: 40 + Math.floor(rnd() * 1_000_000), packets: 1 + Math.floor(rnd() * 1000),
      inPortgroup: groups[i % 4]!, outPortgroup: groups[(i + 1) % 4]!, vip: i % 5 === 0 ? 'www' : '', backend: i % 5 === 0 ? `s${i % 3}` : '',
      // A VM name comes from a mapped dvPort (the enricher), so it follows from the interface, as the rollups assume.
      inIf: i % 6 === 0 ? 100 + (i % 4) : 0, inVm: i % 6 === 0 ? `vm-${100 + (i % 4)}` : '',
      outIf: i % 4 === 1 ? 200 + (i % 3) : 0, outVm: i % 4 === 1 ? `vm-${200 + (i % 3)}` : '',
    }) as EnrichedFlow);
  }
  await store.insertNative('flows', flowColumns, flowsToNative(rows));
  // Exporter accounting as the daemon writes it: 10.0.0.2/7 was heard first, so it is sysid 1.
  await store.command(`INSERT INTO exporter_stats (minute, exporter, exporter_port, version, domain, packets, flows, first_seen, last_seen) VALUES
    (toStartOfMinute(now()), '::ffff:10.0.0.1', 2055, 10, 0, 5, 100, now64(3), now64(3)),
    (toStartOfMinute(now()), '::ffff:10.0.0.2', 2055, 10, 7, 5, 100, now64(3) - 60, now64(3))`);
});
after(async () => cleanup());

async function same(req: QueryRequest, expectTable: string): Promise<void> {
  const a = await rollup.run(req);
  const b = await raw.run(req);
  assert.deepEqual(b.answeredFrom, ['flows'], 'the comparison side reads the raw table');
  assert.ok(a.answeredFrom!.includes(expectTable), `${JSON.stringify(req)} answered from ${a.answeredFrom} (wanted ${expectTable})`);
  assert.deepEqual(a.summary, b.summary, `summary of ${JSON.stringify(req)}`);
  assert.deepEqual(a.statistics, b.statistics, `statistics of ${JSON.stringify(req)}`);
  assert.ok(b.summary.flows > 0, 'the question has an answer');
}

test('whole-store statistics on rollup dimensions equal the raw answers, old flows included', async () => {
  await same({ statistics: ['proto', 'portgroup/bytes', 'exporter/pps', 'vip/bps', 'backend/tstart', 'srctos'], topN: 0 }, 'flows_1h');
  const all = await rollup.run({ statistics: ['proto'] });
  assert.equal(all.summary.flows, 3000, 'flows beyond the rollups\' retention are counted');
});

test('filters on rollup dimensions use the rollup; other filters and elements read the raw table', async () => {
  await same({ filter: 'proto udp or portgroup web', statistics: ['inportgroup', 'proto:p/packets'], topN: 3 }, 'flows_1h');
  await same({ filter: 'not vip www and exporter 10.0.0.1', statistics: ['leg', 'outvm'] }, 'flows_1h');
  // VM names are rollup dimensions (schema/009): per-VM statistics and filters need no raw flows.
  await same({ filter: 'in vm vm-102 or out vm vm-201', statistics: ['vm/bytes', 'invm', 'outif'], topN: 0 }, 'flows_1h');
  const vm = await rollup.run({ window: { from: hourStart - 24 * HOUR }, statistics: ['outvm'] });
  assert.deepEqual(vm.answeredFrom, ['flows_1h']);
  const r = await rollup.run({ filter: 'dst port 53', statistics: ['proto'] });
  assert.deepEqual(r.answeredFrom, ['flows']);
  const s = await rollup.run({ statistics: ['srcip'] });
  assert.deepEqual(s.answeredFrom, ['flows_1h', 'flows'], 'the summary from the rollup; source addresses are not in it');
});

test('windows: an hour-aligned start ending now uses the hourly rollup; other windows keep nfdump\'s rule on the raw table', async () => {
  await same({ window: { from: hourStart - 24 * HOUR }, statistics: ['portgroup'] }, 'flows_1h');
  await same({ window: { from: hourStart - 24 * HOUR + 60_000, to: now + HOUR }, statistics: ['proto'] }, 'flows_1m');
  const past = await rollup.run({ window: { from: hourStart - 24 * HOUR, to: hourStart - HOUR }, statistics: ['proto'] });
  assert.deepEqual(past.answeredFrom, ['flows'], 'a window that ends in the past needs each flow\'s end');
});

test('-c N lists the N earliest flows and the summary covers them, as nfdump -c does', async () => {
  const all = await raw.run({ limit: 0 });
  const firsts = all.flows!.map((f) => Number(f.first)).sort((x, y) => x - y);
  const r = await rollup.run({ limit: 10 });
  assert.equal(r.flows!.length, 10);
  assert.deepEqual(r.flows!.map((f) => Number(f.first)), firsts.slice(0, 10));
  assert.equal(r.summary.flows, 10);
  assert.equal(r.summary.bytes, r.flows!.reduce((n, f) => n + Number(f.bytes), 0));
  const tcp = await rollup.run({ filter: 'proto tcp', limit: 5 });
  assert.ok(tcp.flows!.every((f) => f.proto === 6) && tcp.flows!.length === 5);
  const all2 = await rollup.run({ filter: 'proto icmp' });
  assert.equal(all2.summary.flows, 1000, 'without -c the listing and its summary cover every match');
});

test('sysid N names the Nth exporter heard, as nfcapd numbers them', async () => {
  const one = await rollup.run({ filter: 'sysid 1', statistics: ['router'] });
  assert.deepEqual(one.statistics![0]!.rows.map((r) => r.key), ['10.0.0.2']);
  assert.equal(one.summary.flows, 1000);
  const two = await rollup.run({ filter: 'exporter id 2 and proto udp', statistics: ['router'] });
  assert.deepEqual(two.statistics![0]!.rows.map((r) => r.key), ['10.0.0.1']);
  const none = await rollup.run({ filter: 'sysid 3', statistics: ['proto'] });
  assert.equal(none.summary.flows, 0, 'an unknown id matches nothing');
});
