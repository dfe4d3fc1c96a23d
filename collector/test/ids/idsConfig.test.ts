// The IDS configuration: the README's example loads as written (rule files pointed at the ET files in testdata),
// settings reach the detectors, and mistakes (unknown detector or setting, wrong type, bad user rule, unreadable
// rule file) give messages instead of silently falling back to defaults.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/config.ts';
import { createIds, detectorSettings, IdsConfigError } from '../../src/ids/createIds.ts';

const repo = join(import.meta.dirname, '..', '..', '..');
const rulesDir = join(repo, '..', 'shared', 'testdata', 'ids', 'rules');
const store = { insertTsv: async () => {}, queryRows: async <T>() => [] as T[] };

function readmeExample(): string {
  const readme = readFileSync(join(repo, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Intrusion detection'));
  const m = /```yaml\n([\s\S]*?)```/.exec(section);
  assert.ok(m, 'the README has an IDS config example');
  return m[1]!.replaceAll('/etc/dvflow/', `${rulesDir}/`);
}

test("the README's IDS example loads and configures what it says", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dvflow-idscfg-'));
  try {
    const file = join(dir, 'dvflow.yaml');
    writeFileSync(file, readmeExample());
    const config = loadConfig(file, { data: dir });
    assert.equal(config.ids.detectors.portScan!.distinctPorts, 30);
    const built = await createIds(config.ids, { store, dataDir: dir });
    const status = built.status() as { detectors: { id: string }[] };
    const ids = status.detectors.map((d) => d.id);
    assert.ok(!ids.includes('udp-flood'), 'udpFlood: { enabled: false }');
    assert.ok(ids.includes('port-scan') && ids.includes('snort-rule') && ids.includes('invalid-packet'));
    assert.equal(built.rules!.used, 84, 'the ET scan and dos rules: 69 + 15 used');
    assert.deepEqual(built.ids.userRules.list().map((r) => r.name), ['web-bytes', 'dns-drop']);
    await built.ids.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('mistakes in ids.detectors are errors that name the key', () => {
  assert.throws(() => detectorSettings({ portscan: {} }), (e: Error) => e instanceof IdsConfigError && /ids.detectors.portscan: no such detector \(known: portScan/.test(e.message));
  assert.throws(() => detectorSettings({ portScan: { ports: 5 } }), /ids.detectors.portScan.ports: no such setting/);
  assert.throws(() => detectorSettings({ portScan: { distinctPorts: '30' } }), /must be a number, got "30"/);
  assert.throws(() => detectorSettings({ bruteForce: { rules: 'ssh' } }), /must be a array/);
  const s = detectorSettings({ portScan: { distinctPorts: 40 }, invalidPacket: { enabled: false } });
  assert.deepEqual(s.flow, { portScan: { distinctPorts: 40 } });
  assert.deepEqual(s.packet, { invalidPacket: { enabled: false } });
});

test('bad values, user rules and rule files', async () => {
  await assert.rejects(createIds({ ...loadConfig(undefined, {}).ids, detectors: { portScan: { distinctPorts: 0 } } }, { store, dataDir: null }), /positive number/);
  await assert.rejects(createIds({ ...loadConfig(undefined, {}).ids, userAlerts: [{ name: 'x', filter: 'port', metric: 'flows', op: '>', value: 1, trigger: 'each', severity: 'low' }] }, { store, dataDir: null }),
    (e: Error) => e instanceof IdsConfigError && /rule 'x': filter/.test(e.message));
  // An unreadable rule file is reported, the others load and the daemon runs.
  const built = await createIds({ ...loadConfig(undefined, {}).ids, rules: { files: ['/nonexistent.rules', join(rulesDir, 'emerging-dos.rules')], vars: {} } }, { store, dataDir: null });
  assert.equal(built.rules!.used, 15);
  assert.equal(built.rules!.files[0]!.errors, 1);
  await built.ids.close();
  assert.throws(() => loadConfig(undefined, { ids: { syslog: { protocol: 'http' } } }), /ids.syslog.protocol must be udp or tcp/);
  assert.throws(() => loadConfig(undefined, { ids: { webhook: { url: 'ftp://x' } } }), /ids.webhook.url/);
  assert.throws(() => loadConfig(undefined, { ids: { rules: { vars: { 'BAD-NAME': 'x' } } } }), /ids.rules.vars/);
  assert.throws(() => loadConfig(undefined, { ids: { detector: {} } }), /unknown configuration key 'ids.detector'/);
});
