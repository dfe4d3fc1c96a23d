// Aggregation on the real embedded engine with hand-made flows: -A keys and masks, -b folding, -P after
// aggregation, errors; and the fmt:/-6 printing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openTempStore } from '../helpers/tempStore.ts';
import { FlowQuery, QueryError } from '../../src/query/flowQuery.ts';
import { compileFilter } from '../../src/query/filterSql.ts';
import { parseAggregationFields } from '../../src/query/aggregation.ts';
import { flowColumns, flowsToNative } from '../../src/storage/flowRows.ts';
import { emptyFlowRecord, type FlowRecord } from '../../src/flow/flowRecord.ts';
import { renderResponse, checkOutputFormat } from '../../src/cli/nfdumpOutput.ts';
import { parseFmt, condenseV6 } from '../../src/cli/fmtOutput.ts';
import type { ClickHouseStore } from '../../src/storage/clickhouseStore.ts';

let store: ClickHouseStore;
let cleanup: () => Promise<void>;
let q: FlowQuery;
const T = Date.UTC(2026, 0, 1, 12, 0, 0);

before(async () => {
  ({ store, cleanup } = await openTempStore());
  q = new FlowQuery(store, compileFilter);
  const f = (o: Partial<FlowRecord>) => Object.assign(emptyFlowRecord(), { timeReceived: Date.now(), exporter: '10.0.0.1', proto: 6 }, o) as FlowRecord;
  await store.insertNative('flows', flowColumns, flowsToNative([
    f({ first: T, last: T + 1000, srcAddr: '10.1.1.1', dstAddr: '10.2.2.2', srcPort: 40000, dstPort: 80, bytes: 1000, packets: 10 }),
    f({ first: T + 10, last: T + 1000, srcAddr: '10.2.2.2', dstAddr: '10.1.1.1', srcPort: 80, dstPort: 40000, bytes: 30000, packets: 20 }),
    f({ first: T + 2000, last: T + 4000, srcAddr: '10.1.1.1', dstAddr: '10.2.2.3', srcPort: 40001, dstPort: 443, bytes: 5000, packets: 5 }),
    f({ first: T + 3000, last: T + 4000, srcAddr: '10.1.7.9', dstAddr: '10.2.2.3', srcPort: 40002, dstPort: 443, bytes: 700, packets: 7 }),
    f({ first: T + 5000, last: T + 60_000, srcAddr: '2001:db8:1:2:3:4:5:6', dstAddr: '2001:db8::53', srcPort: 5353, dstPort: 53, proto: 17, bytes: 300, packets: 3 }),
  ]));
});
after(async () => cleanup());

test('-A srcip4/16,dstport masks v4 sources and keeps only the named keys', async () => {
  const r = await q.run({ aggregateFields: ['srcip4/16,dstport'], order: 'bytes' });
  assert.deepEqual(r.flows!.map((x) => [x.src_addr, x.dst_port, x.flows, x.packets, x.bytes]), [
    ['10.2.0.0', 40000, 1, 20, 30000], ['10.1.0.0', 443, 2, 12, 5700], ['10.1.0.0', 80, 1, 10, 1000], ['', 53, 1, 3, 300],
  ]);
  assert.equal(r.flows![0]!.dst_addr, undefined, 'unaggregated keys are absent (printed as 0.0.0.0)');
  const v6 = await q.run({ aggregateFields: ['srcip6/32'] });
  assert.ok(v6.flows!.some((x) => x.src_addr === '2001:db8::'));
});

test('-a, -O and -c apply to the aggregated records', async () => {
  const r = await q.run({ aggregate: true, order: 'packets', limit: 2 });
  assert.deepEqual(r.flows!.map((x) => x.packets), [20, 10]);
  assert.equal(r.summary.flows, 5, 'the summary counts the flows');
});

test('-b folds a flow and its reverse into one record, directed as the first one', async () => {
  const r = await q.run({ bidirectional: true, filter: 'port 80' });
  assert.equal(r.flows!.length, 1);
  const b = r.flows![0]!;
  assert.deepEqual([b.src_addr, b.src_port, b.dst_addr, b.dst_port, b.flows], ['10.1.1.1', 40000, '10.2.2.2', 80, 2]);
  assert.deepEqual([b.in_packets, b.out_packets, b.in_bytes, b.out_bytes, b.packets, b.bytes], [10, 20, 1000, 30000, 30, 31000]);
  const text = renderResponse(r, { format: 'line', plain: true, quiet: true, topN: 10 });
  assert.match(text, /10\.1\.1\.1:40000 <->\s+10\.2\.2\.2:80\s+20\s+10\s+30000\s+1000\s+2/);
});

test('-P filters after aggregation: counts and keys of the aggregates', async () => {
  const r = await q.run({ aggregateFields: ['dstip'], postFilter: 'flows > 1' });
  assert.deepEqual(r.flows!.map((x) => [x.dst_addr, x.flows]), [['10.2.2.3', 2]]);
  const p = await q.run({ aggregateFields: ['dstip'], postFilter: 'packets > 11 and packets < 13' });
  assert.deepEqual(p.flows!.map((x) => x.dst_addr), ['10.2.2.3'], 'sum of 5 and 7 packets; neither flow alone passes');
  const k = await q.run({ aggregateFields: ['srcip'], postFilter: 'src net 10.1.0.0/16 and bytes > 2000' });
  assert.deepEqual(k.flows!.map((x) => x.src_addr), ['10.1.1.1']);
});

test('errors: bad -A field, -P on a key not aggregated, -P without aggregation, -A with -b', async () => {
  await assert.rejects(q.run({ aggregateFields: ['srcip', 'flags'] }), (e: Error) => e instanceof QueryError && /unknown aggregation field 'flags'/.test(e.message));
  await assert.rejects(q.run({ aggregateFields: ['dstip4/33'] }), QueryError);
  await assert.rejects(q.run({ aggregateFields: ['srcip'], postFilter: 'dst port 80' }), /cannot be applied after aggregation/);
  await assert.rejects(q.run({ postFilter: 'flows > 1' }), /-P filters aggregated records/);
  await assert.rejects(q.run({ aggregateFields: ['srcip'], bidirectional: true }), QueryError);
  await assert.rejects(q.run({ aggregateFields: ['srcip'], postFilter: 'bytes >' }), (e: Error) => e.name === 'FilterError');
  assert.throws(() => parseAggregationFields(['srcip,srcip']), /repeats/);
});

test('-o fmt: output parses back, -6 prints IPv6 in full, bad tags are refused', async () => {
  const r = await q.run({ filter: 'proto udp' });
  const fmt = 'fmt:%ts|%pr|%sa|%sp|%dap|%pkt|%byt|%fl';
  const lines = renderResponse(r, { format: fmt, plain: true, quiet: false, topN: 10 }).split('\n');
  assert.match(lines[0]!, /^Date first seen\s+ Proto\s+Src IP Addr Src Pt\s+Dst IP Addr:Port\s+Packets\s+Bytes Flows$/);
  const cells = lines[1]!.split('|').map((c) => c.trim());
  assert.deepEqual(cells.slice(1), ['17', '2001:db..3:4:5:6', '5353', '2001:db8::53.53', '3', '300', '1']);
  assert.equal(new Date(cells[0]!.replace(' ', 'T')).getTime(), r.flows![0]!.first);
  const full = renderResponse(r, { format: fmt, plain: true, quiet: true, topN: 10, long6: true });
  assert.match(full, /\|2001:db8:1:2:3:4:5:6\|/);
  assert.match(renderResponse(r, { format: 'line6', plain: true, quiet: true, topN: 10 }), /2001:db8:1:2:3:4:5:6\.5353/);
  assert.match(renderResponse(r, { format: 'line', plain: true, quiet: true, topN: 10 }), /2001:db\.\.3:4:5:6\.5353/);
  assert.equal(condenseV6('2001:620:1000:cafe:20e:35ff:fec0:fed5'), '2001:62..c0:fed5');
  assert.throws(() => parseFmt('%ts %bogus'), /unknown format tag '%bogus'/);
  assert.equal(checkOutputFormat('fmt:%sap %dap'), 'fmt:%sap %dap');
  assert.throws(() => checkOutputFormat('pipe'), /unknown output format/);
});
