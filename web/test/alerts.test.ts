// The alerts API on the real embedded store: list with nfdump filters, detectors and severity; one alert; bad input
// (filters, terms alerts do not have, ids, windows, bodies) answered 400/404 with a message; user rules need the
// token; new alerts reach the event stream at once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../src/server.ts';
import { openTempStore } from '../../collector/test/helpers/tempStore.ts';
import { FlowQuery } from '../../collector/src/query/flowQuery.ts';
import { compileFilter } from '../../collector/src/query/filterSql.ts';
import { createCollectorMetrics } from '../../collector/src/collector/collectorMetrics.ts';
import { IdsService } from '../../collector/src/ids/idsService.ts';
import { UserRuleStore } from '../../collector/src/ids/userRuleStore.ts';
import type { AlertCandidate } from '../../collector/src/ids/idsTypes.ts';

const AUTH = { authorization: 'Bearer s3cret' };
const T0 = Date.UTC(2026, 10, 21, 8, 0);
let app: FastifyInstance;
let ids: IdsService;
let cleanup: () => Promise<void>;

const cand = (o: Partial<AlertCandidate>): AlertCandidate => ({
  time: T0, detector: 'port-scan', severity: 'medium', summary: 'scan <b>bold</b>', src: '10.0.0.5', dst: '10.0.0.9', dstPort: 0, proto: 6,
  vip: '', portgroup: '', key: 'k', counts: { distinctPorts: 20 }, samples: [], origin: 'netflow', ...o,
});

before(async () => {
  const t = await openTempStore();
  cleanup = t.cleanup;
  ids = new IdsService({
    store: t.store, flowDetectors: [], packetDetectors: [], suppressionMs: 600_000, userCycleMs: 0, flushMs: 0,
    userRules: UserRuleStore.inDataDir([{ name: 'cfg', filter: '', metric: 'bps', op: '>', value: 1e9, trigger: 'while', severity: 'high' }], t.dir),
  });
  ids.alerts.offer(cand({ key: 'a' }));
  ids.alerts.offer(cand({ key: 'b', detector: 'brute-force', src: '192.0.2.7', dst: '10.1.1.1', dstPort: 22, severity: 'high', time: T0 + 60_000 }));
  ids.alerts.offer(cand({ key: 'c', detector: 'vip-ddos', src: '', dst: '10.9.9.9', dstPort: 443, vip: 'shop', severity: 'critical', time: T0 + 120_000 }));
  app = await buildServer({
    flowQuery: new FlowQuery(t.store, compileFilter), exporters: null, metrics: createCollectorMetrics().registry, token: 's3cret',
    health: async () => ({}), runner: t.store, dataDir: t.dir, ids, idsStatus: () => ({ detectors: ['port-scan'] }),
  }, false);
});
after(async () => {
  await app.close();
  await ids.close();
  await cleanup();
});

test('list: all, by filter, detector and severity; facets; newest first', async () => {
  const r = await app.inject({ method: 'GET', url: '/api/v1/alerts', query: { from: String(T0 - 1000), to: String(T0 + 3_600_000) } });
  assert.equal(r.statusCode, 200);
  const body = r.json();
  assert.equal(body.total, 3);
  assert.deepEqual(body.alerts.map((a: { detector: string }) => a.detector), ['vip-ddos', 'brute-force', 'port-scan']);
  assert.deepEqual(body.bySeverity, { critical: 1, high: 1, medium: 1 });
  assert.equal(body.alerts[2].summary, 'scan <b>bold</b>', 'text is returned as text; the UI escapes it');
  const f = await app.inject({ method: 'GET', url: '/api/v1/alerts', query: { filter: 'dst port 22 and src net 192.0.2.0/24' } });
  assert.deepEqual(f.json().alerts.map((a: { src: string }) => a.src), ['192.0.2.7']);
  assert.equal((await app.inject({ method: 'GET', url: '/api/v1/alerts', query: { filter: 'vip shop' } })).json().total, 1);
  assert.equal((await app.inject({ method: 'GET', url: '/api/v1/alerts', query: { detector: 'port-scan,brute-force' } })).json().total, 2);
  assert.equal((await app.inject({ method: 'GET', url: '/api/v1/alerts', query: { severity: 'high' } })).json().total, 2);
});

test('bad input: filter errors with a position, terms alerts lack, windows, ids, parameters', async () => {
  const bad = await app.inject({ method: 'GET', url: '/api/v1/alerts', query: { filter: 'dst port x' } });
  assert.equal(bad.statusCode, 400);
  assert.equal(typeof bad.json().position, 'number');
  const lacks = await app.inject({ method: 'GET', url: '/api/v1/alerts', query: { filter: 'packets > 5' } });
  assert.equal(lacks.statusCode, 400);
  assert.match(lacks.json().message, /not supported on alerts/);
  assert.equal((await app.inject({ method: 'GET', url: '/api/v1/alerts', query: { from: '5', to: '1' } })).statusCode, 400);
  assert.equal((await app.inject({ method: 'GET', url: '/api/v1/alerts', query: { severity: 'urgent' } })).statusCode, 400);
  assert.equal((await app.inject({ method: 'GET', url: '/api/v1/alerts', query: { detector: "x'; DROP TABLE alerts" } })).statusCode, 400);
  assert.equal((await app.inject({ method: 'GET', url: '/api/v1/alerts', query: { limit: '0' } })).statusCode, 400);
  assert.equal((await app.inject({ method: 'GET', url: '/api/v1/alerts/not-a-uuid' })).statusCode, 400);
  assert.equal((await app.inject({ method: 'GET', url: '/api/v1/alerts/00000000-0000-4000-8000-000000000000' })).statusCode, 404);
});

test('one alert with its evidence; status', async () => {
  const list = (await app.inject({ method: 'GET', url: '/api/v1/alerts', query: { detector: 'brute-force' } })).json();
  const one = await app.inject({ method: 'GET', url: `/api/v1/alerts/${list.alerts[0].id}` });
  assert.equal(one.statusCode, 200);
  assert.equal(one.json().dstPort, 22);
  assert.deepEqual(one.json().counts, { distinctPorts: 20 });
  const st = (await app.inject({ method: 'GET', url: '/api/v1/alerts/status' })).json();
  assert.equal(st.running, true);
  assert.deepEqual(st.detectors, ['port-scan']);
  assert.equal(st.alerts.raised, 3);
});

test('user rules: read open, changes need the token, invalid rules and config names refused', async () => {
  const rules = (await app.inject({ method: 'GET', url: '/api/v1/alert-rules' })).json();
  assert.equal(rules.cycleSeconds, 300);
  assert.deepEqual(rules.rules.map((r: { name: string; from: string }) => `${r.name}:${r.from}`), ['cfg:config']);
  const body = { filter: 'dst port 22', metric: 'flows', op: '>', value: 100, trigger: 'once', severity: 'medium' };
  assert.equal((await app.inject({ method: 'PUT', url: '/api/v1/alert-rules/ssh', payload: body })).statusCode, 401);
  assert.equal((await app.inject({ method: 'PUT', url: '/api/v1/alert-rules/ssh', payload: body, headers: { authorization: 'Bearer wrong' } })).statusCode, 401);
  const ok = await app.inject({ method: 'PUT', url: '/api/v1/alert-rules/ssh', payload: body, headers: AUTH });
  assert.equal(ok.statusCode, 200);
  assert.equal(ok.json().from, 'dashboard');
  const badFilter = await app.inject({ method: 'PUT', url: '/api/v1/alert-rules/x', payload: { ...body, filter: 'dst port' }, headers: AUTH });
  assert.equal(badFilter.statusCode, 400);
  assert.match(badFilter.json().message, /filter/);
  assert.equal((await app.inject({ method: 'PUT', url: '/api/v1/alert-rules/x', payload: { ...body, metric: 'octets' }, headers: AUTH })).statusCode, 400);
  assert.equal((await app.inject({ method: 'PUT', url: '/api/v1/alert-rules/x', payload: { ...body, extra: 1 }, headers: AUTH })).statusCode, 400);
  assert.equal((await app.inject({ method: 'PUT', url: '/api/v1/alert-rules/x', payload: '{bad json', headers: { ...AUTH, 'content-type': 'application/json' } })).statusCode, 400);
  assert.equal((await app.inject({ method: 'PUT', url: '/api/v1/alert-rules/bad%20name', payload: body, headers: AUTH })).statusCode, 400);
  const cfg = await app.inject({ method: 'PUT', url: '/api/v1/alert-rules/cfg', payload: body, headers: AUTH });
  assert.equal(cfg.statusCode, 400);
  assert.match(cfg.json().message, /config file/);
  assert.equal((await app.inject({ method: 'DELETE', url: '/api/v1/alert-rules/cfg', headers: AUTH })).statusCode, 400);
  assert.equal((await app.inject({ method: 'DELETE', url: '/api/v1/alert-rules/ssh' })).statusCode, 401);
  assert.equal((await app.inject({ method: 'DELETE', url: '/api/v1/alert-rules/ssh', headers: AUTH })).statusCode, 204);
  assert.equal((await app.inject({ method: 'DELETE', url: '/api/v1/alert-rules/ssh', headers: AUTH })).statusCode, 404);
});

test('a new alert reaches the event stream at once', async () => {
  await app.listen({ port: 0, host: '127.0.0.1' });
  const port = (app.server.address() as AddressInfo).port;
  const ac = new AbortController();
  const res = await fetch(`http://127.0.0.1:${port}/api/v1/events`, { signal: ac.signal });
  const reader = res.body!.getReader();
  await reader.read(); // retry line
  ids.alerts.offer(cand({ key: 'live', detector: 'syn-flood', summary: 'flood', time: T0 + 600_000 }));
  let text = '';
  for (let i = 0; i < 10 && !text.includes('event: alert'); i++) text += new TextDecoder().decode((await reader.read()).value);
  ac.abort();
  const m = /event: alert\ndata: (.*)\n/.exec(text);
  assert.ok(m, text);
  const ev = JSON.parse(m[1]!);
  assert.equal(ev.detector, 'syn-flood');
  assert.equal(ev.summary, 'flood');
});
