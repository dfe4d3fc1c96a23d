// The table planner: which rollup (if any) can answer a question exactly, and the columns a filter reads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseTable, filterColumns, retentionMs } from '../../src/query/rollupPlanner.ts';

const H = 3_600_000;
const DAY = 24 * H;
const now = Date.UTC(2024, 5, 10, 12, 34, 56);
const hourStart = Date.UTC(2024, 5, 10, 0, 0, 0);
const cols = (...c: string[]) => new Set(c);
const retention = { flows: '30 DAY', flows_1m: '7 DAY', flows_5m: '90 DAY', flows_1h: '730 DAY' };

test('the coarsest rollup whose granularity divides the step and aligns with the window wins', () => {
  const w = { from: hourStart, to: hourStart + DAY };
  assert.deepEqual(chooseTable({ columns: cols('in_portgroup', 'out_portgroup'), window: w, stepSec: 3600, now }), { table: 'flows_1h', timeColumn: 'time', granularitySec: 3600 });
  assert.equal(chooseTable({ columns: cols('proto'), window: w, stepSec: 300, now }).table, 'flows_5m');
  assert.equal(chooseTable({ columns: cols('vip', 'backend'), window: w, stepSec: 600, now }).table, 'flows_5m');
  assert.equal(chooseTable({ columns: cols(), window: w, stepSec: 120, now }).table, 'flows_1m');
  assert.equal(chooseTable({ columns: cols(), window: w, stepSec: 7200, now }).table, 'flows_1h');
  // A step finer than a minute, or not a multiple of it: raw flows, bucketed by their start.
  assert.deepEqual(chooseTable({ columns: cols(), window: w, stepSec: 30, now }), { table: 'flows', timeColumn: 'first', granularitySec: 0 });
  assert.equal(chooseTable({ columns: cols(), window: w, stepSec: 90, now }).table, 'flows');
  // No step: one bucket, any granularity, but the window must still align.
  assert.equal(chooseTable({ columns: cols(), window: w, now }).table, 'flows_1h');
});

test('a column the rollups do not keep sends the question to the raw table', () => {
  const w = { from: hourStart, to: hourStart + H };
  for (const c of ['src_addr', 'dst_port', 'bytes', 'packets', 'first', 'vip_addr', 'tcp_flags']) {
    assert.equal(chooseTable({ columns: cols('proto', c), window: w, stepSec: 3600, now }).table, 'flows', c);
  }
  assert.equal(chooseTable({ columns: cols('duplicate', 'exporter', 'exporter_name', 'source', 'vip_leg', 'src_vlan', 'in_vm', 'out_vm'), window: w, stepSec: 3600, now }).table, 'flows_1h');
});

test('window start must sit on the rollup boundary; the end too unless it is now or later', () => {
  const from = hourStart + 5 * 60_000; // on a 5-minute boundary, not an hour
  assert.equal(chooseTable({ columns: cols(), window: { from, to: from + H }, stepSec: 3600, now }).table, 'flows_5m');
  assert.equal(chooseTable({ columns: cols(), window: { from: from + 1000, to: from + H }, stepSec: 60, now }).table, 'flows');
  // End mid-bucket in the past: the bucket would count flows that started after it.
  assert.equal(chooseTable({ columns: cols(), window: { from: hourStart, to: hourStart + H + 1000 }, stepSec: 60, now }).table, 'flows');
  // ... but nothing is stored after now, so a window ending now (or later) is fine.
  assert.equal(chooseTable({ columns: cols(), window: { from: hourStart, to: now }, stepSec: 60, now }).table, 'flows_1m');
  assert.equal(chooseTable({ columns: cols(), window: { from: hourStart, to: now + 1234 }, stepSec: 3600, now }).table, 'flows_1h');
});

test('rollups whose rows have expired (retention) are skipped for older windows', () => {
  assert.equal(retentionMs('7 DAY'), 7 * DAY);
  assert.equal(retentionMs('2 WEEK'), 14 * DAY);
  assert.equal(retentionMs('nonsense'), undefined);
  const tenDaysAgo = hourStart - 10 * DAY;
  // flows_1m keeps 7 days: a 1-minute step 10 days back has only the raw table left.
  assert.equal(chooseTable({ columns: cols(), window: { from: tenDaysAgo, to: tenDaysAgo + H }, stepSec: 60, now, retention }).table, 'flows');
  assert.equal(chooseTable({ columns: cols(), window: { from: tenDaysAgo, to: tenDaysAgo + H }, stepSec: 60, now }).table, 'flows_1m', 'without retention every rollup is complete');
  assert.equal(chooseTable({ columns: cols(), window: { from: hourStart - DAY, to: hourStart }, stepSec: 60, now, retention }).table, 'flows_1m');
  assert.equal(chooseTable({ columns: cols(), window: { from: tenDaysAgo, to: tenDaysAgo + H }, stepSec: 300, now, retention }).table, 'flows_5m');
  // Open start ("everything"): only rollups that keep at least as long as the raw table.
  assert.equal(chooseTable({ columns: cols(), window: {}, stepSec: 300, now, retention }).table, 'flows_5m');
  assert.equal(chooseTable({ columns: cols(), window: {}, stepSec: 60, now, retention }).table, 'flows');
});

test('filterColumns lists the columns a filter reads, derived fields included', () => {
  assert.deepEqual([...filterColumns('')].sort(), []);
  assert.deepEqual([...filterColumns('any')].sort(), []);
  assert.deepEqual([...filterColumns('portgroup web')].sort(), ['in_portgroup', 'out_portgroup']);
  assert.deepEqual([...filterColumns('in portgroup web and proto tcp')].sort(), ['in_portgroup', 'proto']);
  assert.deepEqual([...filterColumns('vip web and not backend web1 and leg client-vip')].sort(), ['backend', 'vip', 'vip_leg']);
  assert.deepEqual([...filterColumns('vip 10.0.0.10:443')].sort(), ['vip_addr', 'vip_port']);
  assert.deepEqual([...filterColumns('src ip 10.0.0.1 or dst port 80')].sort(), ['dst_port', 'src_addr']);
  assert.deepEqual([...filterColumns('flags S')].sort(), ['proto', 'tcp_flags']);
  assert.deepEqual([...filterColumns('bps > 1M')].sort(), ['bytes', 'first', 'last']);
  assert.deepEqual([...filterColumns('duration > 100')].sort(), ['first', 'last']);
  assert.deepEqual([...filterColumns('exporter 192.0.2.1 and not duplicate')].sort(), ['duplicate', 'exporter']);
  assert.deepEqual([...filterColumns('vm web-01')].sort(), ['in_vm', 'out_vm']);
  // Capture facts (schema/005) are no rollup dimension.
  assert.deepEqual([...filterColumns('encap gre and source pcap')].sort(), ['encap', 'source']);
  assert.deepEqual([...filterColumns('mirror session 5 or gre key 1 or tun ip 192.0.2.1')].sort(), ['gre_key', 'mirror_session', 'outer_dst', 'outer_src']);
  assert.throws(() => filterColumns('port'), (e: Error & { position?: number }) => e.name === 'FilterError' && typeof e.position === 'number');
  // End to end: a VIP filter and a backend split stay on the rollups; a port filter does not.
  const w = { from: hourStart, to: hourStart + DAY };
  assert.equal(chooseTable({ columns: new Set([...filterColumns('vip web'), 'backend']), window: w, stepSec: 300, now }).table, 'flows_5m');
  assert.equal(chooseTable({ columns: new Set([...filterColumns('vip web and dst port 443'), 'backend']), window: w, stepSec: 300, now }).table, 'flows');
  assert.equal(chooseTable({ columns: filterColumns('source pcap and not encap none'), window: w, stepSec: 300, now }).table, 'flows');
});
