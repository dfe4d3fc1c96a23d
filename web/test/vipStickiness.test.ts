// GET /api/v1/vips/:name/stickiness on a real embedded store, with a real inventory (VIP YAML, haproxy.cfg and a
// dvPort map) whose enricher names the legs and real servers of the test flows, as ingest does: a DR VIP with
// persistence where one client moves, a NAT VIP whose LB health checks must not count, a proxy VIP (not
// measurable), a transparent proxy (measurable), and bad input.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../src/server.ts';
import { openTempStore } from '../../collector/test/helpers/tempStore.ts';
import { FlowQuery } from '../../collector/src/query/flowQuery.ts';
import { compileFilter } from '../../collector/src/query/filterSql.ts';
import { persistenceOf, stickinessWindow, StickinessError, VipStickinessQuery, type VipStickiness } from '../../collector/src/query/vipStickiness.ts';
import { createCollectorMetrics } from '../../collector/src/collector/collectorMetrics.ts';
import { flowColumns, flowsToNative, type EnrichedFlow } from '../../collector/src/storage/flowRows.ts';
import { emptyFlowRecord } from '../../collector/src/flow/flowRecord.ts';
import { InventoryService } from '../../collector/src/inventory/inventoryService.ts';
import { defaultConfig } from '../../collector/src/config/config.ts';
import type { Vip } from '../../collector/src/inventory/inventoryModel.ts';
import type { ClickHouseStore } from '../../collector/src/storage/clickhouseStore.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
// Two days back, on an hour boundary, wholly in the past.
const base = Math.floor((Date.now() - 2 * 24 * HOUR) / HOUR) * HOUR;
const EXPORTER = '192.0.2.1';

const portgroupsYaml = `
switches:
  - name: dvs
    exporters: [${EXPORTER}]
    ports:
      - { key: 1, portgroup: uplinks, kind: uplink }
      - { key: 11, portgroup: shop-servers, vm: dr1, ips: [10.2.0.11], kind: vm }
      - { key: 12, portgroup: shop-servers, vm: dr2, ips: [10.2.0.12], kind: vm }
`;

const vipsYaml = `
vips:
  - name: shop                      # LVS DR with persistence: a client should stay on one server
    address: 10.2.0.100
    port: 443
    kind: dr
    balance: wlc
    persistenceTimeout: 300
    servers:
      - { name: dr1, address: 10.2.0.11 }
      - { name: dr2, address: 10.2.0.12 }
  - name: api                       # LVS NAT, round robin: moves are expected
    address: 10.3.0.100
    port: 8080
    kind: nat
    balance: rr
    servers:
      - { name: api1, address: 10.3.0.11, port: 8080 }
      - { name: api2, address: 10.3.0.12, port: 8080 }
  - name: bare                      # a VRRP-style address with no real servers
    address: 10.6.0.100
    kind: nat
`;

const haproxyCfg = `
frontend wiki
    bind 10.4.0.100:80
    default_backend wiki-servers

backend wiki-servers
    balance source
    server w1 10.4.0.11:80 check
    server w2 10.4.0.12:80 check

frontend tp
    bind 10.5.0.100:80
    default_backend tp-servers

backend tp-servers
    balance roundrobin
    source 0.0.0.0 usesrc clientip
    server t1 10.5.0.11:80
    server t2 10.5.0.12:80
`;

let app: FastifyInstance;
let bare: FastifyInstance;
let store: ClickHouseStore;
let inventory: InventoryService;
let cleanup: () => Promise<void>;
let dir: string;

/** A TCP flow `minute` minutes into the window; the enricher fills vip, leg and backend. */
function flow(minute: number, src: string, sport: number, dst: string, dport: number, o: Partial<EnrichedFlow> = {}): EnrichedFlow {
  const at = base + minute * MIN;
  return Object.assign(emptyFlowRecord(), {
    timeReceived: at + 5000, first: at, last: at + 2000, exporter: EXPORTER, version: 10,
    srcAddr: src, dstAddr: dst, proto: 6, srcPort: sport, dstPort: dport, bytes: 1000, packets: 10,
  }, o);
}

const shopClientA = '198.51.100.10';
const shopClientB = '198.51.100.11';
const shopClientC = '198.51.100.12';
const apiClientA = '203.0.113.5';
const apiClientB = '203.0.113.6';
const apiLb = '10.3.0.2';

const flows: EnrichedFlow[] = [
  // shop (DR): client A reaches dr1 twice, then dr2 (moved); B only dr1; C only dr2 (twice).
  flow(1, shopClientA, 50001, '10.2.0.100', 443, { inIf: 1 }),
  flow(1, '10.2.0.100', 443, shopClientA, 50001, { inIf: 11, outIf: 1 }),
  flow(2, '10.2.0.100', 443, shopClientA, 50002, { inIf: 11, outIf: 1 }),
  flow(30, '10.2.0.100', 443, shopClientA, 50003, { inIf: 12, outIf: 1 }),
  flow(3, '10.2.0.100', 443, shopClientB, 50004, { inIf: 11, outIf: 1 }),
  flow(4, '10.2.0.100', 443, shopClientC, 50005, { inIf: 12, outIf: 1 }),
  flow(5, '10.2.0.100', 443, shopClientC, 50006, { inIf: 12, outIf: 1 }),
  // a direct return from a dvPort the inventory does not map: no real server named
  flow(6, '10.2.0.100', 443, shopClientB, 50007, { inIf: 99, outIf: 1 }),
  // outside the window [base, base + 1 h): B reaching dr2 would make it move
  flow(-1, '10.2.0.100', 443, shopClientB, 50008, { inIf: 12, outIf: 1 }),
  flow(60, '10.2.0.100', 443, shopClientB, 50009, { inIf: 12, outIf: 1 }),

  // api (NAT): A → VIP, LB → api1 (source still A), reply api1 → A, later LB → api2: moved. B stays on api1.
  flow(1, apiClientA, 40001, '10.3.0.100', 8080),
  flow(1, apiClientA, 40001, '10.3.0.11', 8080),
  flow(1, '10.3.0.11', 8080, apiClientA, 40001),
  flow(20, apiClientA, 40002, '10.3.0.100', 8080),
  flow(20, apiClientA, 40002, '10.3.0.12', 8080),
  flow(2, apiClientB, 40003, '10.3.0.100', 8080),
  flow(2, apiClientB, 40003, '10.3.0.11', 8080),
  // the LB's health checks reach both servers from its own address, which never sends to the VIP
  flow(3, apiLb, 33001, '10.3.0.11', 8080),
  flow(3, apiLb, 33002, '10.3.0.12', 8080),
  flow(3, '10.3.0.12', 8080, apiLb, 33002),
  // a later hour with health checks only (client → VIP flows not exported)
  flow(125, apiLb, 33003, '10.3.0.11', 8080),
  flow(126, apiLb, 33004, '10.3.0.12', 8080),

  // wiki (HAProxy, balance source): the LB's own connections to the servers
  flow(1, '198.51.100.20', 45001, '10.4.0.100', 80),
  flow(1, '10.4.0.1', 36001, '10.4.0.11', 80),
  flow(2, '10.4.0.1', 36002, '10.4.0.12', 80),

  // tp (transparent HAProxy): connections to the servers come from the clients' addresses
  flow(1, '198.51.100.30', 46001, '10.5.0.100', 80),
  flow(1, '198.51.100.30', 46001, '10.5.0.11', 80),
  flow(8, '198.51.100.30', 46002, '10.5.0.100', 80),
  flow(8, '198.51.100.30', 46002, '10.5.0.12', 80),
  flow(9, '198.51.100.31', 46003, '10.5.0.100', 80),
  flow(9, '198.51.100.31', 46003, '10.5.0.11', 80),
];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dvflow-stick-'));
  const files = { pg: join(dir, 'portgroups.yaml'), vips: join(dir, 'vips.yaml'), haproxy: join(dir, 'haproxy.cfg') };
  writeFileSync(files.pg, portgroupsYaml);
  writeFileSync(files.vips, vipsYaml);
  writeFileSync(files.haproxy, haproxyCfg);
  inventory = new InventoryService({
    config: { ...defaultConfig, data: join(dir, 'data'), inventory: { ...defaultConfig.inventory, files: [files.pg], vipFiles: [files.vips, files.haproxy] } },
    log: pino({ level: 'silent' }),
    onChange: () => undefined,
  });
  inventory.scan(true);
  inventory.enricher.enrich(flows);
  const t = await openTempStore();
  store = t.store;
  cleanup = t.cleanup;
  await store.insertNative('flows', flowColumns, flowsToNative(flows));
  const ctx = { flowQuery: new FlowQuery(store, compileFilter), exporters: null, metrics: createCollectorMetrics().registry, token: 's3cret', health: async () => ({}) };
  app = await buildServer({ ...ctx, runner: store, inventory }, false);
  bare = await buildServer({ ...ctx, runner: null, inventory }, false);
});
after(async () => {
  await app?.close();
  await bare?.close();
  await cleanup?.();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function stickiness(name: string, from = base, to = base + HOUR): Promise<VipStickiness> {
  const r = await app.inject({ method: 'GET', url: `/api/v1/vips/${encodeURIComponent(name)}/stickiness`, query: { from: String(from), to: String(to) } });
  assert.equal(r.statusCode, 200, r.body);
  return r.json();
}

test('the enricher named the legs and servers the measure reads', () => {
  const legs = flows.map((f) => `${f.vip}/${f.vipLeg}/${f.backend ?? ''}`);
  assert.equal(legs[1], 'shop/server-client/dr1');
  assert.equal(legs[3], 'shop/server-client/dr2');
  assert.equal(legs[7], 'shop/server-client/', 'unmapped dvPort: no server');
  assert.equal(legs[11], 'api/lb-server/api1');
  assert.equal(legs[12], 'api/server-lb/api1');
});

test('DR with persistence: one client of three moved, with its servers and flows per server', async () => {
  const s = await stickiness('shop');
  assert.equal(s.measurable, true);
  assert.equal(s.reason, undefined);
  assert.equal(s.lbKind, 'dr');
  assert.deepEqual(s.legs, ['server-client']);
  assert.equal(s.persistent, true);
  assert.deepEqual(s.persistence, ['persistence timeout 300 s']);
  assert.equal(s.clients, 3);
  assert.equal(s.moved, 1);
  assert.equal(s.movedShare, 1 / 3);
  assert.equal(s.examples.length, 1);
  const [ex] = s.examples;
  assert.equal(ex.client, shopClientA);
  assert.deepEqual(ex.servers.map((x) => [x.server, x.flows, x.bytes]), [['dr1', 2, 2000], ['dr2', 1, 1000]]);
  assert.equal(ex.servers[0].first, base + MIN);
  assert.equal(ex.servers[0].last, base + 2 * MIN + 2000);
  assert.equal(s.unattributedFlows, 1);
  assert.ok(s.notes.some((n) => n.includes('1 direct-return flows name no real server')), s.notes.join(' | '));
  assert.equal(s.from, base);
  assert.equal(s.to, base + HOUR);
});

test('the window is [from, to) on the flow start: a wider one makes client B move too', async () => {
  const s = await stickiness('shop', base - HOUR, base + 2 * HOUR);
  assert.equal(s.clients, 3);
  assert.equal(s.moved, 2);
  assert.deepEqual(s.examples.map((e) => e.client).sort(), [shopClientA, shopClientB]);
  // A window with only client C in it: nobody moved.
  const c = await stickiness('shop', base + 4 * MIN, base + 6 * MIN);
  assert.deepEqual([c.clients, c.moved, c.movedShare, c.examples.length], [1, 0, 0, 0]);
  // Nothing at all.
  const none = await stickiness('shop', base + 40 * MIN, base + 50 * MIN);
  assert.deepEqual([none.measurable, none.clients, none.moved, none.movedShare], [true, 0, 0, 0]);
});

test('NAT: the client is the lb-server source and the server-lb destination; the LB\'s health checks do not count', async () => {
  const s = await stickiness('api');
  assert.equal(s.measurable, true);
  assert.deepEqual(s.legs, ['lb-server', 'server-lb']);
  assert.equal(s.persistent, false, 'round robin: moves are expected');
  assert.deepEqual(s.persistence, []);
  assert.equal(s.clients, 2, 'the LB address 10.3.0.2 never sent to the VIP: not a client');
  assert.equal(s.moved, 1);
  assert.equal(s.movedShare, 0.5);
  assert.equal(s.examples[0].client, apiClientA);
  assert.deepEqual(s.examples[0].servers.map((x) => [x.server, x.flows]), [['api1', 2], ['api2', 1]]);
  assert.deepEqual(s.notes, []);
  // With no client → VIP flows in the window, the health checks cannot be told apart: said so.
  const hc = await stickiness('api', base + 2 * HOUR, base + 3 * HOUR);
  assert.equal(hc.clients, 1);
  assert.equal(hc.moved, 1);
  assert.equal(hc.examples[0].client, apiLb);
  assert.ok(hc.notes.some((n) => n.includes('health checks')), hc.notes.join(' | '));
});

test('proxy mode is not measurable, with the reason; the config still says it asks for persistence', async () => {
  const s = await stickiness('wiki');
  assert.equal(s.lbKind, 'proxy');
  assert.equal(s.measurable, false);
  assert.match(s.reason ?? '', /^proxy mode: .*own connections/);
  assert.equal(s.persistent, true);
  assert.deepEqual(s.persistence, ['balance source: the client address picks the server']);
  assert.deepEqual([s.clients, s.moved, s.movedShare, s.examples.length, s.legs.length], [0, 0, 0, 0, 0]);
});

test('a transparent proxy (servers see client addresses) is measured like NAT', async () => {
  const s = await stickiness('tp');
  assert.equal(s.measurable, true);
  assert.equal(s.transparentProxy, true);
  assert.equal(s.persistent, false);
  assert.deepEqual([s.clients, s.moved], [2, 1]);
  assert.equal(s.examples[0].client, '198.51.100.30');
  assert.ok(s.notes.some((n) => n.startsWith('transparent proxy: 2 of 2')), s.notes.join(' | '));
});

test('the query alone, with no address to leave out (a wildcard VIP, no LB addresses)', async () => {
  const shop = inventory.current().vips.vips.find((v) => v.name === 'shop')!;
  const wild = { ...shop, address: '0.0.0.0' };
  const s = await new VipStickinessQuery(store).run(wild, { from: base, to: base + HOUR }, [wild]);
  assert.deepEqual([s.measurable, s.clients, s.moved], [true, 3, 1]);
});

test('a VIP without real servers is not measurable', async () => {
  const s = await stickiness('bare');
  assert.equal(s.measurable, false);
  assert.match(s.reason ?? '', /no real servers/);
});

test('bad input: 400 for a bad window, 404 for an unknown VIP, 503 without a store', async () => {
  const get = (url: string) => app.inject({ method: 'GET', url });
  for (const q of [`from=${base + HOUR}&to=${base}`, `from=${base}&to=${base}`, 'from=-5', 'from=abc', `from=0&to=${400 * 24 * HOUR}`, 'step=60']) {
    const r = await get(`/api/v1/vips/shop/stickiness?${q}`);
    assert.equal(r.statusCode, 400, `${q}: ${r.body}`);
    assert.equal(r.json().error, 'Bad Request');
  }
  const unknown = await get(`/api/v1/vips/nope/stickiness?from=${base}&to=${base + HOUR}`);
  assert.equal(unknown.statusCode, 404);
  assert.match(unknown.json().message, /no VIP 'nope'/);
  // Defaults: the last hour (nothing there), still a 200.
  const dflt = await get('/api/v1/vips/shop/stickiness');
  assert.equal(dflt.statusCode, 200, dflt.body);
  assert.equal(dflt.json().to - dflt.json().from, HOUR);
  const noStore = await bare.inject({ method: 'GET', url: '/api/v1/vips/shop/stickiness' });
  assert.equal(noStore.statusCode, 503);
});

test('persistence from the config: stick rules, source hashing, cookies; a counting stick table is not one', () => {
  const vip = (pool: Partial<Vip['pools'][number]>): Vip => ({
    name: 'v', address: '10.0.0.1', port: 80, proto: 'tcp', mode: 'tcp', lbKind: 'nat', lbAddresses: [],
    pools: [{ name: 'p', servers: [{ name: 's1', address: '10.0.0.11', port: null }], ...pool }],
  });
  assert.deepEqual(persistenceOf(vip({ balance: 'roundrobin' })), []);
  assert.deepEqual(persistenceOf(vip({ stick: 'stick-table type ip size 1m store http_req_rate(10s)' })), []);
  assert.deepEqual(persistenceOf(vip({ stick: 'stick-table type ip size 200k expire 30m; stick on src' })), ['stick on src']);
  assert.deepEqual(persistenceOf(vip({ balance: 'sh' })), ['balance sh: the client address picks the server']);
  assert.deepEqual(persistenceOf(vip({ balance: 'hash src' })), ['balance hash src: the client address picks the server']);
  assert.deepEqual(persistenceOf(vip({ balance: 'uri' })), []);
  assert.deepEqual(persistenceOf(vip({ servers: [{ name: 's1', address: '10.0.0.11', port: null, cookie: 'a' }] })), ['server cookies (HTTP cookie persistence)']);
  assert.throws(() => stickinessWindow({ from: 10, to: 5 }), StickinessError);
  assert.deepEqual(stickinessWindow({ to: 2 * HOUR }), { from: HOUR, to: 2 * HOUR });
});
