// nfsen-style user alert rules on the real embedded ClickHouse: totals by receive time for the cycle, absolute and
// average-based conditions, the three triggers, rule checking, and the dashboard rule file.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openTempStore } from '../helpers/tempStore.ts';
import type { ClickHouseStore } from '../../src/storage/clickhouseStore.ts';
import { flowColumns, flowsToNative, type EnrichedFlow } from '../../src/storage/flowRows.ts';
import { emptyFlowRecord } from '../../src/flow/flowRecord.ts';
import { checkUserRule, type UserAlertRule } from '../../src/ids/userAlerts.ts';
import { RuleError, UserRuleStore } from '../../src/ids/userRuleStore.ts';
import { IdsService } from '../../src/ids/idsService.ts';
import { listAlerts } from '../../src/query/alertQuery.ts';

let store: ClickHouseStore;
let cleanup: () => Promise<void>;
const CYCLE = 300_000;
// Cycle boundaries: history of 12 cycles at a steady rate, then a burst in the cycle ending at T.
const T = Math.floor(Date.UTC(2026, 10, 21, 12, 0) / CYCLE) * CYCLE;

const flow = (at: number, o: Partial<EnrichedFlow> = {}): EnrichedFlow => Object.assign(emptyFlowRecord(), {
  timeReceived: at, first: at - 1000, last: at, exporter: '192.0.2.1', srcAddr: '10.0.0.1', dstAddr: '10.0.0.2', dstPort: 443, proto: 6, bytes: 1000, packets: 10,
}, o);

before(async () => {
  const t = await openTempStore();
  store = t.store;
  cleanup = t.cleanup;
  const rows: EnrichedFlow[] = [];
  // 12 history cycles (1 h) with 10 flows each to port 443, then 100 flows in the last cycle; 5 DNS flows per cycle.
  for (let c = 12; c >= 1; c--) {
    const start = T - (c + 1) * CYCLE;
    for (let i = 0; i < 10; i++) rows.push(flow(start + 1000 + i * 1000));
    for (let i = 0; i < 5; i++) rows.push(flow(start + 2000 + i * 1000, { proto: 17, dstPort: 53, bytes: 100, packets: 1 }));
  }
  for (let i = 0; i < 100; i++) rows.push(flow(T - CYCLE + 1000 + i * 100));
  for (let i = 0; i < 5; i++) rows.push(flow(T - CYCLE + 2000 + i * 1000, { proto: 17, dstPort: 53, bytes: 100, packets: 1 }));
  await store.insertNative('flows', flowColumns, flowsToNative(rows));
});
after(async () => cleanup());

const rule = (o: Partial<UserAlertRule>): UserAlertRule => ({
  name: 'r', filter: 'dst port 443', metric: 'flows', op: '>', value: 50, trigger: 'each', severity: 'medium', ...o,
});

function service(rules: UserAlertRule[]) {
  const ids = new IdsService({
    store, flowDetectors: [], packetDetectors: [], suppressionMs: 600_000, userRules: new UserRuleStore(rules, null), userCycleMs: CYCLE, flushMs: 0,
  });
  return ids;
}

test('absolute and average conditions on flows, packets, bytes and rates', async () => {
  const ids = service([
    rule({ name: 'flows-gt-50' }),
    rule({ name: 'flows-gt-500', value: 500 }),
    rule({ name: 'bps-gt', metric: 'bps', value: (100 * 1000 * 8) / 300 - 1 }),
    rule({ name: 'avg-plus-200pct', average: '1h', percent: 200 }),
    rule({ name: 'avg-plus-1000pct', average: '1h', percent: 1000 }),
    rule({ name: 'dns-below-avg', filter: 'proto udp and port 53', op: '<', average: '30m', percent: 10 }),
    rule({ name: 'dns-equal', filter: 'proto udp', metric: 'packets', op: '=', value: 5 }),
  ]);
  const fired = await ids.evaluateUserRules(T);
  assert.deepEqual(fired.sort(), ['avg-plus-200pct', 'bps-gt', 'dns-equal', 'flows-gt-50']);
  const st = ids.userRunner.state('avg-plus-200pct')!;
  assert.equal(st.value, 100);
  assert.equal(st.threshold, 30, 'average 10 flows per cycle + 200 %');
  assert.equal(ids.userRunner.state('avg-plus-1000pct')!.holds, false);
  await ids.close();
  const alerts = await listAlerts(store, { detectors: ['user-rule'] });
  assert.equal(alerts.total, 4);
  const a = alerts.alerts.find((x) => x.summary.startsWith('avg-plus-200pct'))!;
  assert.equal(a.severity, 'medium');
  assert.equal(a.origin, 'rule');
  assert.deepEqual(a.counts, { value: 100, threshold: 30, cycleSeconds: 300 });
  assert.match(a.summary, /flows 100 > the 1h average \+ 200% \(30\) over 5 min for 'dst port 443'/);
});

test('triggers: each time, once only, once while the condition holds', async () => {
  const ids = service([rule({ name: 'each', trigger: 'each' }), rule({ name: 'once', trigger: 'once' }), rule({ name: 'while', trigger: 'while' })]);
  // Cycles: burst (holds), burst again (holds), quiet (T + CYCLE: no flows → false), burst again (T, evaluated again).
  assert.deepEqual((await ids.evaluateUserRules(T)).sort(), ['each', 'once', 'while']);
  assert.deepEqual((await ids.evaluateUserRules(T)).sort(), ['each']);
  assert.deepEqual(await ids.evaluateUserRules(T + CYCLE), []);
  assert.deepEqual((await ids.evaluateUserRules(T)).sort(), ['each', 'while']);
  assert.equal(ids.userRunner.state('once')!.fired, 1);
  await ids.close();
});

test('a rule that cannot be evaluated records its error and the others still run', async () => {
  // The store refuses one rule's query (a server going away mid-cycle looks the same).
  const failing = {
    insertTsv: store.insertTsv.bind(store),
    queryRows: <T>(q: string, p?: Record<string, unknown>) => (p?.u0 === 444 ? Promise.reject(new Error('server went away')) : store.queryRows<T>(q, p)),
  };
  const ids = new IdsService({
    store: failing, flowDetectors: [], packetDetectors: [], suppressionMs: 600_000, userCycleMs: CYCLE, flushMs: 0,
    userRules: new UserRuleStore([rule({ name: 'broken', filter: 'dst port 444' }), rule({ name: 'ok' })], null),
  });
  assert.deepEqual(await ids.evaluateUserRules(T), ['ok']);
  assert.equal(ids.userRunner.state('broken')!.error, 'server went away');
  await ids.close();
});

test('rule checks give clear messages', () => {
  assert.equal(checkUserRule(rule({})), null);
  assert.match(checkUserRule(rule({ name: 'bad name!' }))!, /rule name/);
  assert.match(checkUserRule(rule({ filter: 'dst port' }))!, /rule 'r': filter: .*port/);
  assert.match(checkUserRule(rule({ metric: 'octets' as never }))!, /metric must be one of/);
  assert.match(checkUserRule(rule({ value: undefined }))!, /give a value, or an average/);
  assert.match(checkUserRule(rule({ value: undefined, average: '2h' as never }))!, /average must be one of 10m/);
  assert.match(checkUserRule(rule({ trigger: 'always' as never }))!, /trigger must be one of each, once, while/);
  assert.match(checkUserRule(null)!, /mapping/);
  assert.match(checkUserRule(rule({ filter: 'sysid 3' }))!, /not supported: exporter ids/);
});

test('dashboard rules persist in alert-rules.json; config rules are read-only; a damaged file is set aside', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dvflow-rules-'));
  try {
    const s1 = UserRuleStore.inDataDir([rule({ name: 'from-config' })], dir);
    await s1.put(rule({ name: 'mine', value: 7 }));
    await assert.rejects(s1.put(rule({ name: 'from-config' })), RuleError);
    await assert.rejects(s1.put(rule({ name: 'x', filter: 'port' })), RuleError);
    await assert.rejects(s1.remove('from-config'), RuleError);
    const s2 = UserRuleStore.inDataDir([rule({ name: 'from-config' })], dir);
    assert.deepEqual(s2.list().map((r) => `${r.name}:${r.from}`), ['from-config:config', 'mine:dashboard']);
    assert.equal(s2.rules()[1]!.value, 7);
    assert.equal(await s2.remove('mine'), true);
    assert.equal(await s2.remove('mine'), false);
    assert.deepEqual(JSON.parse(readFileSync(join(dir, 'alert-rules.json'), 'utf8')), { rules: [] });
    writeFileSync(join(dir, 'alert-rules.json'), '{not json');
    const s3 = UserRuleStore.inDataDir([], dir);
    assert.equal(s3.list().length, 0);
    assert.match(s3.warnings[0]!, /unreadable.*moved to/);
    assert.ok(readdirSync(dir).some((f) => f.startsWith('alert-rules.json.damaged-')));
    assert.throws(() => UserRuleStore.inDataDir([rule({ name: 'a' }), rule({ name: 'a' })], null), /two rules named 'a'/);
    assert.throws(() => UserRuleStore.inDataDir([{ name: 'a' }], null), /ids.userAlerts: rule 'a': filter must be a string/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
