// Saved channels: the token guards writes, filters are checked (400 with the position), the list survives a
// restart (channels.json in the data directory, written atomically), and split=channel draws each channel
// with its sign.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildServer, type DvflowContext } from '../src/server.ts';
import { openTempStore } from '../../collector/test/helpers/tempStore.ts';
import { FlowQuery } from '../../collector/src/query/flowQuery.ts';
import { compileFilter } from '../../collector/src/query/filterSql.ts';
import { createCollectorMetrics } from '../../collector/src/collector/collectorMetrics.ts';
import { flowColumns, flowsToNative, type EnrichedFlow } from '../../collector/src/storage/flowRows.ts';
import { emptyFlowRecord } from '../../collector/src/flow/flowRecord.ts';

const AUTH = { authorization: 'Bearer s3cret' };
const MIN = 60_000;
const base = Math.floor((Date.now() - 24 * 3_600_000) / 3_600_000) * 3_600_000;

let app: FastifyInstance;
let ctx: DvflowContext;
let dataDir: string;
let cleanup: () => Promise<void>;

const flow = (at: number, o: Partial<EnrichedFlow>): EnrichedFlow => Object.assign(emptyFlowRecord(), {
  timeReceived: at, first: at, last: at + 1000, exporter: '192.0.2.1', srcAddr: '10.0.0.1', dstAddr: '10.0.0.2', proto: 6, bytes: 1000, packets: 10,
}, o);

before(async () => {
  const t = await openTempStore();
  cleanup = t.cleanup;
  dataDir = t.dir;
  await t.store.insertNative('flows', flowColumns, flowsToNative([
    flow(base + 1000, { inPortgroup: 'web', bytes: 1500 }),
    flow(base + 2000, { inPortgroup: 'web', proto: 17, bytes: 300 }),
    flow(base + MIN + 1000, { inPortgroup: 'db', proto: 17, bytes: 600 }),
  ]));
  ctx = { flowQuery: new FlowQuery(t.store, compileFilter), exporters: null, metrics: createCollectorMetrics().registry, token: 's3cret', health: async () => ({}), runner: t.store, dataDir };
  app = await buildServer(ctx, false);
});
after(async () => {
  await app.close();
  await cleanup();
});

test('writes need the bearer token: 401 with a wrong or missing one, 403 when no token is configured', async () => {
  const put = (headers: Record<string, string>) => app.inject({ method: 'PUT', url: '/api/v1/channels/web', headers, payload: { filter: 'portgroup web' } });
  assert.equal((await put({})).statusCode, 401);
  assert.equal((await put({ authorization: 'Bearer nope' })).statusCode, 401);
  assert.equal((await app.inject({ method: 'DELETE', url: '/api/v1/channels/web' })).statusCode, 401);
  const open = await buildServer({ ...ctx, token: '' }, false);
  try {
    const r = await open.inject({ method: 'PUT', url: '/api/v1/channels/web', headers: AUTH, payload: { filter: 'portgroup web' } });
    assert.equal(r.statusCode, 403);
    assert.match(r.json().message, /token/);
  } finally {
    await open.close();
  }
  assert.deepEqual((await app.inject({ method: 'GET', url: '/api/v1/channels' })).json(), { channels: [] }, 'nothing was stored');
});

test('bad channels are 400s: the filter error with its position, the name, the colour, the sign', async () => {
  const bad = await app.inject({ method: 'PUT', url: '/api/v1/channels/web', headers: AUTH, payload: { filter: 'portgroup web and port' } });
  assert.equal(bad.statusCode, 400);
  assert.equal(bad.json().position, 23);
  assert.match(bad.json().message, /^error at 23:/);
  const cases: Array<[string, unknown]> = [
    ['bad%20name', { filter: 'any' }],
    ['-lead', { filter: 'any' }],
    ['x'.repeat(65), { filter: 'any' }],
    ['ok', { filter: 'any', color: 'red' }],
    ['ok', { filter: 'any', sign: 2 }],
    ['ok', { color: '#ffffff' }],
    ['ok', { filter: 'any', extra: 1 }],
  ];
  for (const [name, payload] of cases) {
    const r = await app.inject({ method: 'PUT', url: `/api/v1/channels/${name}`, headers: AUTH, payload: payload as object });
    assert.equal(r.statusCode, 400, `${name} ${JSON.stringify(payload)}: ${r.body}`);
    assert.ok(r.json().message, 'with a message');
  }
});

test('channels are stored in channels.json, survive a restart, and draw with their sign', async () => {
  const a = await app.inject({ method: 'PUT', url: '/api/v1/channels/web', headers: AUTH, payload: { filter: 'portgroup web', color: '#112233' } });
  assert.equal(a.statusCode, 200, a.body);
  assert.deepEqual(a.json(), { name: 'web', filter: 'portgroup web', color: '#112233', sign: 1 });
  const b = await app.inject({ method: 'PUT', url: '/api/v1/channels/udp', headers: AUTH, payload: { filter: 'proto udp', sign: -1 } });
  assert.equal(b.statusCode, 200, b.body);
  assert.match(b.json().color, /^#[0-9a-f]{6}$/, 'a colour is given when none is sent');

  const file = join(dataDir, 'channels.json');
  assert.ok(existsSync(file));
  assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')).channels.map((c: { name: string }) => c.name), ['web', 'udp']);
  assert.ok(!readdirSync(dataDir).some((f) => f.endsWith('.tmp')), 'no temporary file is left behind');

  const r = await app.inject({ method: 'GET', url: '/api/v1/timeseries', query: { split: 'channel', from: String(base), to: String(base + 2 * MIN), step: '60' } });
  assert.equal(r.statusCode, 200, r.body);
  const ts = r.json();
  assert.equal(ts.table, 'flows_1m');
  assert.deepEqual(ts.series.map((s: { name: string }) => s.name), ['web', 'udp']);
  assert.deepEqual(ts.series[0].values, [1800 * 8 / 60, 0]);
  assert.deepEqual(ts.series[1].values, [-300 * 8 / 60, -600 * 8 / 60], 'sign -1: below the axis');
  assert.equal(ts.series[1].total, -900 * 8);
  // The request's filter applies on top of each channel's.
  const f = await app.inject({ method: 'GET', url: '/api/v1/timeseries', query: { split: 'channel', filter: 'portgroup db', from: String(base), to: String(base + 2 * MIN), step: '60' } });
  assert.deepEqual(f.json().series.map((s: { values: number[] }) => s.values), [[0, 0], [0, -600 * 8 / 60]]);

  // Replacing keeps the colour unless a new one is sent.
  const c = await app.inject({ method: 'PUT', url: '/api/v1/channels/web', headers: AUTH, payload: { filter: 'portgroup web and proto tcp' } });
  assert.equal(c.json().color, '#112233');

  // A new server on the same data directory reads them back.
  const again = await buildServer(ctx, false);
  try {
    const l = await again.inject({ method: 'GET', url: '/api/v1/channels' });
    assert.deepEqual(l.json().channels.map((x: { name: string; filter: string; sign: number }) => [x.name, x.filter, x.sign]), [['web', 'portgroup web and proto tcp', 1], ['udp', 'proto udp', -1]]);
  } finally {
    await again.close();
  }

  const d = await app.inject({ method: 'DELETE', url: '/api/v1/channels/udp', headers: AUTH });
  assert.equal(d.statusCode, 200);
  assert.equal((await app.inject({ method: 'DELETE', url: '/api/v1/channels/udp', headers: AUTH })).statusCode, 404);
  assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')).channels.map((x: { name: string }) => x.name), ['web']);
});
