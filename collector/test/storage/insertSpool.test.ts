// Large embedded TabSeparated inserts (alerts, exporter statistics) go through a spool file (`INSERT ... FROM
// INFILE`, faster to parse for chDB than an inline body): the rows stored must be exactly those of the zero-copy
// path, strings that need escaping included; the spool file is removed whether the insert succeeds or fails, and a
// failure is still the caller's error.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { openTempStore } from '../helpers/tempStore.ts';
import { TsvBuffer } from '../../src/storage/tsvBuffer.ts';
import { INFILE_MIN_BYTES, type ClickHouseStore } from '../../src/storage/clickhouseStore.ts';

let store: ClickHouseStore;
let dir: string;
let cleanup: () => Promise<void>;
before(async () => ({ store, dir, cleanup } = await openTempStore()));
after(async () => cleanup());

const NAMES = ["plain", "quote ' and \\ backslash", 'tab\there', 'new\nline', 'ünïcödé ✓', 'sql\'); DROP TABLE flows; --'];
const columns = ['id', 'name', 'addr', 'n'];

function body(from: number, to: number): Buffer {
  const t = new TsvBuffer(1024);
  for (let i = from; i < to; i++) {
    t.u(i); t.tab(); t.str(`${NAMES[i % NAMES.length]} ${'x'.repeat(i % 300)}`); t.tab(); t.ascii(`10.1.${i >> 8 & 255}.${i & 255}`); t.tab(); t.u(i * 1000); t.nl();
  }
  return Buffer.from(t.bytes());
}

const spool = () => readdirSync(join(dir, 'insert-spool'));
const dump = async (table: string) => (await store.queryRows<Record<string, unknown>>(`SELECT * FROM ${table} ORDER BY id`)).map((r) => JSON.stringify(r));

test('a large body (FROM INFILE) stores exactly the rows small bodies (zero-copy) store', async () => {
  for (const t of ['t_big', 't_small']) await store.command(`CREATE TABLE ${t} (id UInt32, name String, addr IPv6, n UInt64) ENGINE = MergeTree ORDER BY id`);
  const all = body(0, 6000);
  assert.ok(all.length >= 4 * INFILE_MIN_BYTES, `${all.length} bytes`);
  await store.insertTsv('t_big', columns, all);
  for (let i = 0; i < 6000; i += 500) {
    const part = body(i, i + 500);
    assert.ok(part.length < INFILE_MIN_BYTES);
    await store.insertTsv('t_small', columns, part);
  }
  const [big, small] = [await dump('t_big'), await dump('t_small')];
  assert.equal(big.length, 6000);
  assert.deepEqual(big, small);
  const names = await store.queryRows<{ name: string }>("SELECT DISTINCT trimRight(name, ' x') AS name FROM t_big ORDER BY name");
  assert.deepEqual(names.map((r) => r.name), NAMES.map((n) => n.replace(/[ x]+$/, '')).sort());
  assert.deepEqual(spool(), []);
});

test('a failing large insert rejects and leaves no spool file; identifiers are checked', async () => {
  const bad = Buffer.from('not\ta\tflow\n'.repeat(Math.ceil(INFILE_MIN_BYTES / 10)));
  await assert.rejects(store.insertTsv('t_big', columns, bad));
  assert.deepEqual(spool(), []);
  await assert.rejects(store.insertTsv('t_big; DROP TABLE flows', columns, body(0, 3000)), /invalid identifier/);
  const [r] = await store.queryRows<{ n: number }>('SELECT count() AS n FROM t_big');
  assert.equal(Number(r!.n), 6000);
});
