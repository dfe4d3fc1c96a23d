// API routes through fastify's inject(): schemas reject bad input with 400 and a message, never a 500.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../src/server.ts';
import { openTempStore } from '../../collector/test/helpers/tempStore.ts';
import { FlowQuery } from '../../collector/src/query/flowQuery.ts';
import { compileFilter } from '../../collector/src/query/filterSql.ts';
import { ExporterRegistry } from '../../collector/src/collector/exporterRegistry.ts';
import { createCollectorMetrics } from '../../collector/src/collector/collectorMetrics.ts';
import { flowColumns, flowsToNative } from '../../collector/src/storage/flowRows.ts';
import { emptyFlowRecord } from '../../collector/src/flow/flowRecord.ts';

let app: FastifyInstance;
let cleanup: () => Promise<void>;

before(async () => {
  const t = await openTempStore();
  cleanup = t.cleanup;
  const now = Date.now();
  const rec = Object.assign(emptyFlowRecord(), { timeReceived: now, first: now - 1000, last: now, exporter: '192.0.2.1', srcAddr: '10.0.0.1', dstAddr: '10.0.0.2', proto: 17, dstPort: 53, bytes: 80, packets: 1 });
  await t.store.insertNative('flows', flowColumns, flowsToNative([rec]));
  const exporters = new ExporterRegistry(true);
  const e = exporters.get({ address: '<script>alert(1)</script>', port: 1, version: 10, domain: 0 }, now);
  exporters.addError(e, 'truncated');
  const metrics = createCollectorMetrics();
  metrics.datagrams.inc({ exporter: e.key, version: '10' });
  app = await buildServer({ flowQuery: new FlowQuery(t.store, compileFilter), exporters, metrics: metrics.registry, token: 's3cret', health: async () => ({ store: 'test' }) }, false);
});
after(async () => {
  await app.close();
  await cleanup();
});

test('POST /api/v1/query answers statistics and listings', async () => {
  const r = await app.inject({ method: 'POST', url: '/api/v1/query', payload: { filter: 'proto udp and dst port 53', statistics: ['proto'] } });
  assert.equal(r.statusCode, 200);
  const body = r.json();
  assert.equal(body.summary.flows, 1);
  assert.equal(body.statistics[0].rows[0].key, 17);
  const l = await app.inject({ method: 'POST', url: '/api/v1/query', payload: { limit: 5 } });
  assert.equal(l.json().flows[0].src_addr, '10.0.0.1');
});

test('bad query input is a 400 with a message', async () => {
  const cases: Array<[unknown, RegExp]> = [
    [{ filter: 'port' }, /error at \d+: .*port/],
    [{ filter: 'net 1.2.3.4/33' }, /error at/],
    [{ window: '2024/13/45' }, /invalid start time/],
    [{ statistics: ['nosuch'] }, /unknown statistic 'nosuch'/],
    [{ statistics: ['srcip/sideways'] }, /unknown order/],
    [{ limit: -1 }, /limit/],
    [{ unknownKey: 1 }, /additional properties|unknownKey/],
    [{ filter: 42 }, /filter/],
  ];
  for (const [payload, msg] of cases) {
    const r = await app.inject({ method: 'POST', url: '/api/v1/query', payload: payload as object });
    assert.equal(r.statusCode, 400, JSON.stringify(payload));
    assert.match(r.json().message, msg, JSON.stringify(payload));
  }
  const pos = await app.inject({ method: 'POST', url: '/api/v1/query', payload: { filter: 'proto tcp and port' } });
  assert.equal(typeof pos.json().position, 'number', 'filter errors carry their position');
  const notJson = await app.inject({ method: 'POST', url: '/api/v1/query', headers: { 'content-type': 'application/json' }, payload: '{"filter":' });
  assert.equal(notJson.statusCode, 400);
});

test('GET /api/v1/exporters lists exporters with counters, as data (never markup)', async () => {
  const r = await app.inject({ method: 'GET', url: '/api/v1/exporters' });
  assert.equal(r.statusCode, 200);
  assert.match(r.headers['content-type'] as string, /application\/json/);
  const [e] = r.json().exporters;
  assert.equal(e.address, '<script>alert(1)</script>');
  assert.equal(e.decodeErrors, 1);
  assert.deepEqual(e.errorsByKind, { truncated: 1 });
});

test('/metrics is Prometheus text; /api/docs serves OpenAPI', async () => {
  const m = await app.inject({ method: 'GET', url: '/metrics' });
  assert.equal(m.statusCode, 200);
  assert.match(m.body, /dvflow_datagrams_total\{exporter=".*",version="10"\} 1/);
  const d = await app.inject({ method: 'GET', url: '/api/docs/json' });
  assert.equal(d.statusCode, 200);
  assert.ok(d.json().paths['/api/v1/query'], 'the query route is documented');
});
