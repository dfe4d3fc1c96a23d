// Large embedded inserts go through a spool file (`INSERT ... FROM INFILE`, faster to parse for chDB than an inline
// body): the rows stored must be exactly those of the zero-copy path, strings that need escaping included; the
// spool file is removed whether the insert succeeds or fails, and a failure is still the caller's error.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { openTempStore } from '../helpers/tempStore.ts';
import { flowColumns, flowsToTsv, type EnrichedFlow } from '../../src/storage/flowRows.ts';
import { emptyFlowRecord } from '../../src/flow/flowRecord.ts';
import { INFILE_MIN_BYTES, type ClickHouseStore } from '../../src/storage/clickhouseStore.ts';

let store: ClickHouseStore;
let dir: string;
let cleanup: () => Promise<void>;
before(async () => ({ store, dir, cleanup } = await openTempStore()));
after(async () => cleanup());

const NAMES = ["plain", "quote ' and \\ backslash", 'tab\there', 'new\nline', 'ünïcödé ✓', 'sql\'); DROP TABLE flows; --'];

function rows(n: number): EnrichedFlow[] {
  const t = Date.now();
  return Array.from({ length: n }, (_, i) => Object.assign(emptyFlowRecord(), {
    timeReceived: t, first: t - 1000 - i, last: t - i, exporter: '10.0.0.1', srcAddr: `10.1.${i >> 8 & 255}.${i & 255}`,
    dstAddr: '2001:db8::1', srcPort: i % 65536, dstPort: 443, proto: 6, bytes: 1000 + i, packets: 1 + (i % 7), source: 'pcap',
    capture: NAMES[i % NAMES.length], encap: 'vlan,gre', outerSrc: '192.0.2.1', outerDst: '192.0.2.2', outerVlan: 100, greKey: 7,
  }) as EnrichedFlow);
}

const spool = () => readdirSync(join(dir, 'insert-spool'));
const dump = async (table: string) => (await store.queryRows<Record<string, unknown>>(`SELECT * FROM ${table}`)).map((r) => JSON.stringify(r)).sort();

test('a large body (FROM INFILE) stores exactly the rows small bodies (zero-copy) store', async () => {
  await store.command('CREATE TABLE flows_big AS flows');
  await store.command('CREATE TABLE flows_small AS flows');
  const all = rows(6000);
  const body = flowsToTsv(all);
  assert.ok(body.length >= 4 * INFILE_MIN_BYTES, `${body.length} bytes`);
  await store.insertTsv('flows_big', flowColumns, body);
  for (let i = 0; i < all.length; i += 500) {
    const part = flowsToTsv(all.slice(i, i + 500));
    assert.ok(part.length < INFILE_MIN_BYTES);
    await store.insertTsv('flows_small', flowColumns, part);
  }
  const [big, small] = [await dump('flows_big'), await dump('flows_small')];
  assert.equal(big.length, 6000);
  assert.deepEqual(big, small);
  const names = await store.queryRows<{ capture: string }>('SELECT DISTINCT capture FROM flows_big ORDER BY capture');
  assert.deepEqual(names.map((r) => r.capture), [...NAMES].sort());
  assert.deepEqual(spool(), []);
});

test('a failing large insert rejects and leaves no spool file; identifiers are checked', async () => {
  const bad = Buffer.from('not\ta\tflow\n'.repeat(Math.ceil(INFILE_MIN_BYTES / 10)));
  await assert.rejects(store.insertTsv('flows', flowColumns, bad));
  assert.deepEqual(spool(), []);
  await assert.rejects(store.insertTsv('flows; DROP TABLE flows', flowColumns, flowsToTsv(rows(3000))), /invalid identifier/);
  const [r] = await store.queryRows<{ n: number }>('SELECT count() AS n FROM flows');
  assert.equal(Number(r.n), 0);
});
