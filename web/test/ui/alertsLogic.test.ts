// Pure logic of the Alerts page (web/ui/src/alertsView.ts): the "Show flows" link and its filter (only validated
// addresses and integer ports; the filter must compile with the real filter module), the facets kept in the URL
// and the requests they plan, the rule form → PUT body (checked with the server's own rule check), and how a
// rule's condition and state read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileSql } from '@dvflow/collector/src/filter/index.ts';
import { checkUserRule, type UserAlertRule } from '@dvflow/collector/src/ids/userAlerts.ts';
import { SEVERITIES as SERVER_SEVERITIES } from '@dvflow/collector/src/ids/idsTypes.ts';
import {
  SEVERITIES, alertFlowFilter, alertFlowWindow, alertListPlan, detectorChips, detectorsFromStatus, detectorsParam, emptyRuleForm,
  exploreLink, formatRuleValue, hostPort, idsRunning, isIpAddress, isIpv4, isIpv6, isPort, nextLimit, parseAlertId, parseAmount,
  parseDetectors, parseLimit, parseSeverity, protoLabel, ruleCondition, ruleFormBody, ruleStateText, ruleStatus, ruleToForm,
  severityChips, severityIncluded, storedAlertsWindow, toggleDetector, toggleSeverity, type ListedRule, type RuleForm,
} from '../../ui/src/alertsView.ts';

const T = Date.UTC(2024, 4, 1, 12, 0, 0);

test('severities are the server\'s, in the same order', () => {
  assert.deepEqual([...SEVERITIES], [...SERVER_SEVERITIES]);
});

test('addresses: IPv4 and IPv6 are recognised, anything else is not', () => {
  for (const ok of ['10.0.0.1', '255.255.255.255', '0.0.0.0', '192.168.1.71']) assert.ok(isIpv4(ok), ok);
  for (const bad of ['256.1.1.1', '1.2.3', '1.2.3.4.5', '01.2.3.4', '1.2.3.4 ', ' 1.2.3.4', '1.2.3.4/24', 'a.b.c.d', '']) assert.ok(!isIpv4(bad), bad);
  for (const ok of ['::1', '::', '2001:db8::1', 'fe80::1:2:3:4', '2001:db8:0:0:0:0:0:1', '::ffff:10.0.0.1', '1:2:3:4:5:6:7:8', '1::']) assert.ok(isIpv6(ok), ok);
  for (const bad of ['1:2:3:4:5:6:7:8:9', '1::2::3', '2001:db8::g', ':::', '1:2:3:4:5:6:7', '12345::1', '::ffff:300.0.0.1', 'fe80::1%eth0', '']) {
    assert.ok(!isIpv6(bad), bad);
  }
  assert.ok(isIpAddress('10.1.2.3') && isIpAddress('2001:db8::5'));
  assert.ok(!isIpAddress('10.0.0.1 or any') && !isIpAddress('host'));
});

test('ports: integers 1-65535 only', () => {
  assert.ok(isPort(22) && isPort(65535) && isPort(1));
  for (const bad of [0, -1, 65536, 22.5, NaN, '22', null, undefined]) assert.ok(!isPort(bad), String(bad));
  assert.equal(hostPort('10.0.0.9', 22), '10.0.0.9:22');
  assert.equal(hostPort('2001:db8::9', 443), '[2001:db8::9]:443');
  assert.equal(hostPort('10.0.0.9', 0), '10.0.0.9');
  assert.equal(hostPort('', 53), '*:53');
  assert.equal(hostPort('', 0), '');
  assert.equal(protoLabel(6), 'TCP');
  assert.equal(protoLabel(0), '');
});

test('the flow filter of an alert: both ends and the port, one end, or nothing', () => {
  assert.equal(alertFlowFilter({ src: '10.0.0.5', dst: '10.0.0.9', dstPort: 22 }), 'src ip 10.0.0.5 and dst ip 10.0.0.9 and dst port 22');
  assert.equal(alertFlowFilter({ src: '10.0.0.5', dst: '10.0.0.9', dstPort: 0 }), 'src ip 10.0.0.5 and dst ip 10.0.0.9');
  assert.equal(alertFlowFilter({ src: '', dst: '10.0.0.9', dstPort: 80 }), 'dst ip 10.0.0.9 and dst port 80');
  assert.equal(alertFlowFilter({ src: '', dst: '10.0.0.9', dstPort: 0 }), 'dst ip 10.0.0.9');
  assert.equal(alertFlowFilter({ src: '192.168.1.71', dst: '', dstPort: 0 }), 'src ip 192.168.1.71');
  assert.equal(alertFlowFilter({ src: '2001:db8::1', dst: '2001:db8::2', dstPort: 443 }), 'src ip 2001:db8::1 and dst ip 2001:db8::2 and dst port 443');
  // A user rule's alert names no address: no filter (a port alone would say little).
  assert.equal(alertFlowFilter({ src: '', dst: '', dstPort: 0 }), '');
  assert.equal(alertFlowFilter({ src: '', dst: '', dstPort: 22 }), '');
});

test('the flow filter never carries text that is not an address or a port', () => {
  const evil = [
    { src: '10.0.0.1 or any', dst: '10.0.0.2', dstPort: 22 },
    { src: '10.0.0.1\n) or (any', dst: '', dstPort: 0 },
    { src: '10.0.0.1', dst: 'net 0.0.0.0/0', dstPort: 1.5 },
    { src: '# comment', dst: '10.0.0.2', dstPort: -3 },
  ];
  assert.equal(alertFlowFilter(evil[0]!), 'dst ip 10.0.0.2 and dst port 22');
  assert.equal(alertFlowFilter(evil[1]!), '');
  assert.equal(alertFlowFilter(evil[2]!), 'src ip 10.0.0.1');
  assert.equal(alertFlowFilter(evil[3]!), 'dst ip 10.0.0.2');
  // A port that is not an integer never shows up; an object pretending to be a port neither.
  assert.equal(alertFlowFilter({ src: '10.0.0.1', dst: '10.0.0.2', dstPort: '22 or any' as unknown as number }), 'src ip 10.0.0.1 and dst ip 10.0.0.2');
});

test('every filter built compiles with the real filter module', () => {
  const cases = [
    { src: '10.0.0.5', dst: '10.0.0.9', dstPort: 22 },
    { src: '', dst: '10.0.0.9', dstPort: 0 },
    { src: '2001:db8::1', dst: '::ffff:10.0.0.1', dstPort: 65535 },
    { src: '192.168.1.71', dst: '', dstPort: 0 },
  ];
  for (const c of cases) {
    const f = alertFlowFilter(c);
    assert.ok(f, JSON.stringify(c));
    assert.doesNotThrow(() => compileSql(f), f);
  }
});

test('the Explore link: list mode, the evidence window widened by a minute, the filter', () => {
  const a = { src: '10.0.0.5', dst: '10.0.0.9', dstPort: 22, time: T, last: T + 90_000 };
  assert.deepEqual(alertFlowWindow(a), { from: T - 60_000, to: T + 150_000 });
  assert.deepEqual(exploreLink(a), {
    path: '/explore',
    query: { window: 'custom', from: String(T - 60_000), to: String(T + 150_000), mode: 'list', filter: 'src ip 10.0.0.5 and dst ip 10.0.0.9 and dst port 22' },
  });
  // A last before time (or missing) counts as the time itself.
  assert.deepEqual(alertFlowWindow({ time: T, last: 0 }), { from: T - 60_000, to: T + 60_000 });
  // No address: the window only, no filter key at all.
  const noAddr = exploreLink({ src: '', dst: '', dstPort: 0, time: T, last: T });
  assert.equal('filter' in noAddr.query, false);
  assert.equal(noAddr.query.window, 'custom');
});

test('the window around stored alerts: whole hours around the newest', () => {
  const w = storedAlertsWindow({ time: T + 30 * 60_000, last: T + 40 * 60_000 });
  assert.deepEqual(w, { from: T - 3_600_000, to: T + 2 * 3_600_000 });
});

test('URL values: severity, detectors, the alert id, the limit', () => {
  assert.equal(parseSeverity('high'), 'high');
  assert.equal(parseSeverity('HIGH'), '');
  assert.equal(parseSeverity('urgent'), '');
  assert.deepEqual(parseDetectors('port-scan,syn-flood'), ['port-scan', 'syn-flood']);
  assert.deepEqual(parseDetectors(' port-scan , ,port-scan,Bad Id,x;drop,snort-rule'), ['port-scan', 'snort-rule']);
  assert.deepEqual(parseDetectors(''), []);
  assert.equal(detectorsParam(['syn-flood', 'port-scan']), 'port-scan,syn-flood');
  assert.equal(detectorsParam([]), undefined);
  assert.equal(detectorsParam(['NOPE']), undefined);
  assert.equal(parseAlertId('0F8FAD5B-D9CB-469F-A165-70867728950E'), '0f8fad5b-d9cb-469f-a165-70867728950e');
  assert.equal(parseAlertId('../alerts/status'), '');
  assert.equal(parseAlertId(''), '');
  assert.equal(parseLimit(''), 100);
  assert.equal(parseLimit('1000'), 1000);
  assert.equal(parseLimit('5000'), 100);
  assert.equal(nextLimit(100), 1000);
  assert.equal(nextLimit(10000), null);
});

test('facet clicks: detectors toggle in and out, a severity is a minimum that a second click clears', () => {
  assert.deepEqual(toggleDetector([], 'port-scan'), ['port-scan']);
  assert.deepEqual(toggleDetector(['port-scan', 'syn-flood'], 'port-scan'), ['syn-flood']);
  assert.equal(toggleSeverity('', 'high'), 'high');
  assert.equal(toggleSeverity('high', 'medium'), 'medium');
  assert.equal(toggleSeverity('high', 'high'), '');
  assert.ok(severityIncluded('critical', 'high'));
  assert.ok(severityIncluded('high', 'high'));
  assert.ok(!severityIncluded('medium', 'high'));
  assert.ok(severityIncluded('info', ''));
});

test('facet chips: every severity most severe first, detectors by count, selected ones kept', () => {
  const sev = severityChips({ high: 2, low: 5 }, 'medium');
  assert.deepEqual(sev.map((c) => c.key), ['critical', 'high', 'medium', 'low', 'info']);
  assert.deepEqual(sev.map((c) => c.count), [0, 2, 0, 5, 0]);
  assert.deepEqual(sev.map((c) => c.active), [true, true, true, false, false]);
  assert.ok(severityChips({}, '').every((c) => !c.active));

  const det = detectorChips({ 'port-scan': 3, 'syn-flood': 7, 'host-sweep': 3 }, ['snort-rule', 'port-scan']);
  assert.deepEqual(det.map((c) => [c.key, c.count, c.active]), [
    ['syn-flood', 7, false], ['host-sweep', 3, false], ['port-scan', 3, true], ['snort-rule', 0, true],
  ]);
});

test('the requests: the list with every constraint, facet counts without their own', () => {
  const none = alertListPlan({ from: T - 3_600_000.4, to: T + 0.4, filter: '  ', detectors: [], severity: '', limit: 100 });
  assert.deepEqual(none.list, { from: Math.floor(T - 3_600_000.4), to: T + 1, limit: 100 });
  assert.equal(none.detectorFacets, null);
  assert.equal(none.severityFacets, null);

  const both = alertListPlan({ from: T - 1000, to: T, filter: 'dst port 22', detectors: ['syn-flood', 'port-scan'], severity: 'high', limit: 1000 });
  assert.deepEqual(both.list, { from: T - 1000, to: T, limit: 1000, filter: 'dst port 22', detector: 'port-scan,syn-flood', severity: 'high' });
  assert.deepEqual(both.detectorFacets, { from: T - 1000, to: T, limit: 1, filter: 'dst port 22', severity: 'high' });
  assert.deepEqual(both.severityFacets, { from: T - 1000, to: T, limit: 1, filter: 'dst port 22', detector: 'port-scan,syn-flood' });

  const sevOnly = alertListPlan({ from: T - 1000, to: T, filter: '', detectors: [], severity: 'low', limit: 100 });
  assert.equal(sevOnly.detectorFacets, null);
  assert.deepEqual(sevOnly.severityFacets, { from: T - 1000, to: T, limit: 1 });
});

test('detectors from /alerts/status, whatever form the list takes', () => {
  assert.deepEqual(detectorsFromStatus({ running: true, detectors: ['port-scan', 'syn-flood', 'port-scan'] }), ['port-scan', 'syn-flood']);
  assert.deepEqual(detectorsFromStatus({ detectors: [{ id: 'port-scan', kind: 'flow' }, { id: 'ip-checksum', enabled: false }, { name: 'snort-rule' }, 3] }), ['port-scan', 'snort-rule']);
  assert.deepEqual(detectorsFromStatus({ detectors: { 'port-scan': { enabled: true }, 'syn-flood': { enabled: false }, dns: {} } }), ['port-scan', 'dns']);
  assert.deepEqual(detectorsFromStatus({ detectors: { flow: ['port-scan', 'host-sweep'], packet: [{ id: 'snort-rule' }] } }), ['port-scan', 'host-sweep', 'snort-rule']);
  assert.deepEqual(detectorsFromStatus({ running: false }), []);
  assert.deepEqual(detectorsFromStatus(null), []);
  assert.ok(idsRunning({ running: true }));
  assert.ok(!idsRunning({ running: false }) && !idsRunning(null) && !idsRunning('yes'));
});

test('amounts as typed: plain, decimal, SI suffixes', () => {
  assert.equal(parseAmount('1500'), 1500);
  assert.equal(parseAmount('1.5k'), 1500);
  assert.equal(parseAmount(' 2 M '), 2e6);
  assert.equal(parseAmount('1G'), 1e9);
  assert.equal(parseAmount('1e3'), 1000);
  assert.ok(Number.isNaN(parseAmount('')));
  assert.ok(Number.isNaN(parseAmount('ten')));
  assert.ok(Number.isNaN(parseAmount('1 GB')));
});

/** What the server would store for this PUT: the body plus the path's name, through its own rule check. */
function serverCheck(name: string, body: object): string | null {
  return checkUserRule({ ...body, name } as UserAlertRule);
}

test('rule form → PUT body: a value rule', () => {
  const f: RuleForm = { ...emptyRuleForm(), name: 'web-bytes', filter: 'portgroup web', metric: 'bytes', op: '>', value: '1G', trigger: 'while', severity: 'high' };
  const r = ruleFormBody(f);
  assert.ok(r.ok);
  assert.equal(r.name, 'web-bytes');
  assert.deepEqual(r.body, { filter: 'portgroup web', metric: 'bytes', op: '>', value: 1e9, trigger: 'while', severity: 'high', enabled: true });
  assert.equal(serverCheck(r.name, r.body), null);
  // The body never names the rule (the path does) nor carries average fields.
  assert.equal('name' in r.body, false);
  assert.equal('average' in r.body, false);
});

test('rule form → PUT body: an average rule (percent defaults to 0)', () => {
  const f: RuleForm = { ...emptyRuleForm(), name: 'flows-drop', metric: 'flows', op: '<', mode: 'average', value: 'ignored', average: '24h', percent: '', trigger: 'once', severity: 'low', enabled: false };
  const r = ruleFormBody(f);
  assert.ok(r.ok);
  assert.deepEqual(r.body, { filter: '', metric: 'flows', op: '<', average: '24h', percent: 0, trigger: 'once', severity: 'low', enabled: false });
  assert.equal(serverCheck(r.name, r.body), null);
});

test('rule form problems name the field', () => {
  const base = { ...emptyRuleForm(), name: 'ok', value: '10' };
  const bad = (patch: Partial<RuleForm>) => {
    const r = ruleFormBody({ ...base, ...patch });
    assert.ok(!r.ok, JSON.stringify(patch));
    return r.field;
  };
  assert.equal(bad({ name: '' }), 'name');
  assert.equal(bad({ name: '-lead' }), 'name');
  assert.equal(bad({ name: 'x'.repeat(65) }), 'name');
  assert.equal(bad({ name: 'a b' }), 'name');
  assert.equal(bad({ value: '' }), 'value');
  assert.equal(bad({ value: 'lots' }), 'value');
  assert.equal(bad({ mode: 'average', percent: '-5' }), 'percent');
  assert.equal(bad({ metric: 'bits' as RuleForm['metric'] }), 'metric');
  assert.equal(bad({ severity: 'urgent' as RuleForm['severity'] }), 'severity');
  assert.ok(ruleFormBody(base).ok);
});

const listed = (r: Partial<ListedRule>): ListedRule => ({
  name: 'r', filter: '', metric: 'bytes', op: '>', value: 1e9, trigger: 'while', severity: 'medium', from: 'dashboard', state: null, ...r,
});

test('a listed rule back into the form and out again gives the same body', () => {
  const value = listed({ name: 'web', filter: 'portgroup web', metric: 'bps', op: '>', value: 5e8, trigger: 'each', severity: 'critical', enabled: false });
  const f1 = ruleToForm(value);
  assert.equal(f1.mode, 'value');
  const r1 = ruleFormBody(f1);
  assert.ok(r1.ok);
  assert.deepEqual(r1.body, { filter: 'portgroup web', metric: 'bps', op: '>', value: 5e8, trigger: 'each', severity: 'critical', enabled: false });

  const avg = listed({ name: 'avg', metric: 'pps', op: '<', value: undefined, average: '6h', percent: 30 });
  const f2 = ruleToForm(avg);
  assert.equal(f2.mode, 'average');
  const r2 = ruleFormBody(f2);
  assert.ok(r2.ok);
  assert.deepEqual(r2.body, { filter: '', metric: 'pps', op: '<', average: '6h', percent: 30, trigger: 'while', severity: 'medium', enabled: true });
});

test('how a rule reads: condition, values with units', () => {
  assert.equal(ruleCondition({ metric: 'bytes', op: '>', value: 1e9 }), 'bytes > 1 GB');
  assert.equal(ruleCondition({ metric: 'bps', op: '>', average: '1h', percent: 50 }), 'bps > 1h average + 50%');
  assert.equal(ruleCondition({ metric: 'flows', op: '<', average: '24h', percent: 20 }), 'flows < 24h average − 20%');
  assert.equal(ruleCondition({ metric: 'flows', op: '>', average: '10m', percent: 0 }), 'flows > 10m average');
  assert.equal(ruleCondition({ metric: 'flows', op: '=', value: 0 }), 'flows = 0');
  assert.equal(formatRuleValue('bps', 1_500_000), '1.5 Mb/s');
  assert.equal(formatRuleValue('pps', 12), '12 p/s');
  assert.equal(formatRuleValue('packets', 1234), '1.23 k');
  assert.equal(formatRuleValue('flows', 42), '42');
  assert.equal(formatRuleValue('bytes', null), '–');
});

test('how a rule\'s state reads', () => {
  const ev = { evaluatedAt: T, value: 2e9, threshold: 1e9, holds: true, fired: 2, error: null };
  assert.equal(ruleStatus(listed({ state: ev })), 'holds');
  assert.equal(ruleStateText(listed({ state: ev })), 'last 2 GB vs 1 GB: holds · fired 2×');
  const calm = { ...ev, value: 5e8, holds: false, fired: 0 };
  assert.equal(ruleStatus(listed({ state: calm })), 'ok');
  assert.equal(ruleStateText(listed({ state: calm })), 'last 500 MB vs 1 GB: does not hold');
  assert.equal(ruleStatus(listed({ state: null })), 'pending');
  assert.equal(ruleStateText(listed({ state: null }), 300), 'not evaluated yet (every 5 min)');
  assert.equal(ruleStateText(listed({ state: null }), 30), 'not evaluated yet (every 30 s)');
  const failing = { evaluatedAt: null, value: null, threshold: null, holds: false, fired: 0, error: 'table flows does not exist' };
  assert.equal(ruleStatus(listed({ state: failing })), 'error');
  assert.equal(ruleStateText(listed({ state: failing })), 'cannot evaluate: table flows does not exist');
  assert.equal(ruleStatus(listed({ enabled: false, state: ev })), 'off');
  assert.equal(ruleStateText(listed({ enabled: false, state: ev })), 'switched off · fired 2×');
  // An average rule before there is any history: no threshold yet.
  const noHist = { evaluatedAt: T, value: 10, threshold: null, holds: false, fired: 0, error: null };
  assert.equal(ruleStateText(listed({ metric: 'flows', state: noHist })), 'last 10 vs no average yet: does not hold');
});
