// The vCenter inventory (live SOAP sync and govc JSON import) against govmomi's vCenter simulator, built from
// Debian's golang-github-vmware-govmomi-dev by scripts/build-vcsim.sh (collector/test/vcsim/main.go seeds it), and
// against a local HTTP server that answers with broken SOAP. The govc JSON is produced at test time by the
// simulator binary's govc stand-in (the same govmomi calls and JSON encoding as govc; Debian has no govc package).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { fetchVcenterInventory, VcenterSync, type VcenterResult } from '../../src/inventory/vcenter/vcenterInventory.ts';
import { VsphereError, VsphereSoapClient } from '../../src/inventory/vcenter/soapClient.ts';
import { looksLikeGovcJson, parseGovcJson, splitJsonDocuments } from '../../src/inventory/govcImport.ts';
import { ImportError, type DvSwitch, type PortgroupInventory } from '../../src/inventory/inventoryModel.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const USER = 'dvflow';
// XML and URL special characters on purpose: the Login body must escape them.
const PASSWORD = 'Dv&fl<ow>"Secret#1';

function buildSimulator(): { bin?: string; why?: string } {
  const r = spawnSync('bash', [`${ROOT}scripts/build-vcsim.sh`], { encoding: 'utf8', timeout: 540_000 });
  if (r.status === 3) return { why: `vCenter simulator not built: ${r.stderr.trim()}` };
  if (r.status !== 0) throw new Error(`scripts/build-vcsim.sh failed (${r.status}): ${r.stderr}`);
  return { bin: r.stdout.trim().split('\n').pop() };
}

const built = buildSimulator();
const SKIP = built.why ?? false;

let sim: ChildProcess | undefined;
let simUrl = '';

async function startSimulator(bin: string): Promise<string> {
  const child = spawn(bin, ['-user', USER, '-pass', PASSWORD], { stdio: ['ignore', 'pipe', 'pipe'] });
  sim = child;
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += String(d)));
  const lines = createInterface({ input: child.stdout! });
  let url = '';
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  try {
    for await (const line of lines) {
      if (line.startsWith('URL ')) url = line.slice(4).trim();
      if (line === 'READY') break;
    }
  } finally {
    clearTimeout(timer);
  }
  if (!url) throw new Error(`the simulator did not start: ${stderr}`);
  return url;
}

function govc(...args: string[]): string {
  const u = new URL(simUrl);
  u.username = USER;
  u.password = PASSWORD;
  return execFileSync(built.bin!, ['govc', '-u', u.toString(), ...args], { encoding: 'utf8', maxBuffer: 256 << 20 });
}

function sw(inv: PortgroupInventory, name: string): DvSwitch {
  const s = inv.switches.find((x) => x.name === name);
  assert.ok(s, `switch ${name} in ${inv.switches.map((x) => x.name).join(', ')}`);
  return s;
}

/** The inventory without origins, which name the source. */
function facts(inv: PortgroupInventory): PortgroupInventory {
  return { ...inv, switches: inv.switches.map(({ origin: _o, ...rest }) => rest as DvSwitch) };
}

async function freePort(): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('vCenter inventory from govmomi\'s simulator', { skip: SKIP }, () => {
  let live: VcenterResult;

  before(async () => {
    simUrl = await startSimulator(built.bin!);
    live = await fetchVcenterInventory({ url: simUrl, user: USER, password: PASSWORD, insecure: true });
  });
  after(async () => {
    if (sim && sim.exitCode === null) {
      const exited = new Promise((r) => sim!.once('exit', r));
      sim.kill('SIGTERM');
      await exited;
    }
  });

  test('switches, portgroups with VLANs and the uplink portgroup', () => {
    const inv = live.inventory;
    assert.deepEqual(inv.switches.map((s) => s.name), ['DC0_DVS_SIM', 'DVS0']);
    assert.match(sw(inv, 'DVS0').uuid ?? '', /^[0-9a-f-]{36}$/);
    assert.deepEqual(sw(inv, 'DVS0').origin, { kind: 'vcenter', name: simUrl });
    const pgs = inv.portgroups.filter((p) => p.switch === 'DVS0').map(({ key, ...rest }) => ({ ...rest, key: /^dvportgroup-\d+$/.test(key ?? '') }));
    assert.deepEqual(pgs, [
      { name: 'DC0_DVPG0', switch: 'DVS0', kind: 'vm', vlan: 100, key: true },
      { name: 'DC0_DVPG1', switch: 'DVS0', kind: 'vm', vlan: 200, key: true },
      { name: 'DC0_TRUNK', switch: 'DVS0', kind: 'vm', key: true }, // trunk 100-199: no access VLAN
      { name: pgs[3]!.name, switch: 'DVS0', kind: 'uplink', key: true },
    ]);
    assert.match(pgs[3]!.name, /^DVS0-DVUplinks/);
    assert.deepEqual(inv.vlans.filter((v) => v.switch === 'DVS0'), [
      { vlan: 100, portgroup: 'DC0_DVPG0', switch: 'DVS0' },
      { vlan: 200, portgroup: 'DC0_DVPG1', switch: 'DVS0' },
    ]);
    assert.deepEqual(inv.cidrs, []);
  });

  test('dvPort keys map to portgroup, VM, vNIC, MAC, guest addresses and VLAN', () => {
    const ports = sw(live.inventory, 'DVS0').ports;
    assert.deepEqual(ports.map((p) => p.key), [0, 1, 2, 10, 11, 12, 13, 14, 40, 50, 51, 52, 53, 54, 55]);
    const byKey = new Map(ports.map((p) => [p.key, p]));
    assert.deepEqual(byKey.get(10), { key: 10, portgroup: 'DC0_DVPG1', vm: 'DC0_C0_RP0_VM0', vnic: 'Network adapter 1', mac: '00:50:56:ab:00:01', ips: ['10.0.0.10', 'fe80::250:56ff:feab:10'], kind: 'vm', vlan: 200 });
    assert.deepEqual(byKey.get(11), { key: 11, portgroup: 'DC0_DVPG0', vm: 'DC0_C0_RP0_VM0', vnic: 'Network adapter 2', mac: '00:50:56:ab:00:02', ips: ['10.0.0.11', 'fe80::250:56ff:feab:11'], kind: 'vm', vlan: 100 });
    assert.equal(byKey.get(13)!.vm, 'DC0_H0_VM0');
    assert.equal(byKey.get(14)!.portgroup, 'DC0_DVPG1', 'DC0_H0_VM1 was moved to DC0_DVPG1 through ReconfigVM_Task');
    const vms = ports.filter((p) => p.kind === 'vm').map((p) => `${p.vm}/${p.mac}`);
    assert.deepEqual(vms, ['DC0_C0_RP0_VM0/00:50:56:ab:00:01', 'DC0_C0_RP0_VM0/00:50:56:ab:00:02', 'DC0_C0_RP0_VM1/00:50:56:ab:00:03', 'DC0_H0_VM0/00:50:56:ab:00:04', 'DC0_H0_VM1/00:50:56:ab:00:05']);
    // Uplinks: the hosts' vmnic1 in the uplink portgroup, no VLAN.
    const uplinks = ports.filter((p) => p.kind === 'uplink');
    assert.deepEqual(uplinks.map((p) => [p.key, p.vm, p.vnic, p.vlan]), [[0, 'DC0_C0_H0', 'vmnic1', undefined], [1, 'DC0_C0_H1', 'vmnic1', undefined], [2, 'DC0_H0', 'vmnic1', undefined]]);
    assert.deepEqual(byKey.get(40), { key: 40, portgroup: 'DC0_DVPG1', vm: 'DC0_C0_H0', vnic: 'vmk1', mac: '00:50:56:6b:00:01', ips: ['203.0.113.11'], kind: 'vmknic', vlan: 200 });
    // Free ports: portgroup and VLAN only; the trunk portgroup's have no VLAN.
    assert.deepEqual(byKey.get(50), { key: 50, portgroup: 'DC0_DVPG0', vlan: 100 });
    assert.deepEqual(byKey.get(54), { key: 54, portgroup: 'DC0_TRUNK' });
  });

  test('NetFlow/IPFIX settings and the Switch IP as exporter', () => {
    const dvs0 = sw(live.inventory, 'DVS0');
    assert.deepEqual(dvs0.netflow, {
      collectorAddress: '192.0.2.10',
      collectorPort: 4739,
      switchIp: '192.0.2.5',
      observationDomain: 7,
      samplingRate: 64,
      activeTimeout: 60,
      idleTimeout: 15,
      internalFlowsOnly: false,
    });
    assert.deepEqual(dvs0.exporters, ['192.0.2.5']);
    const sim = sw(live.inventory, 'DC0_DVS_SIM');
    assert.equal(sim.netflow, undefined);
    assert.deepEqual(sim.exporters, []);
    assert.deepEqual(live.inventory.exporterNames, [
      { address: '198.51.100.11', name: 'DC0_C0_H0' },
      { address: '203.0.113.11', name: 'DC0_C0_H0' },
      { address: '198.51.100.12', name: 'DC0_C0_H1' },
      { address: '198.51.100.13', name: 'DC0_H0' },
      { address: '192.0.2.5', name: 'DVS0' },
    ]);
  });

  test("the simulator's repeated port keys: one entry per key, chosen by portgroup name, with warnings", () => {
    const s = sw(live.inventory, 'DC0_DVS_SIM');
    assert.deepEqual(s.ports, [0, 1, 2, 3].map((key) => ({ key, portgroup: 'DC0_SIMPG_A', vlan: 300 })));
    const msgs = live.warnings.map((w) => w.message);
    for (const key of [0, 1, 2, 3]) {
      assert.ok(msgs.includes(`switch DC0_DVS_SIM: dvPort key ${key} is listed 2 times (portgroups DC0_SIMPG_A, DC0_SIMPG_B); keeping the one in DC0_SIMPG_A`), msgs.join('\n'));
    }
    assert.ok(msgs.some((m) => /DC0_DVS_SIM: 3 dvPort\(s\) with a non-numeric key skipped \(dvportgroup-\d+/.test(m)), 'the simulator lists each portgroup key as a port');
    assert.ok(live.warnings.every((w) => w.file === simUrl && w.line === 0));
    assert.ok(!msgs.some((m) => m.includes('DVS0:')), 'DVS0 is clean');
  });

  test('a second read gives the same inventory', async () => {
    const again = await fetchVcenterInventory({ url: simUrl.replace('/sdk', ''), user: USER, password: PASSWORD, insecure: true });
    assert.deepEqual(again.inventory, live.inventory);
  });

  test('a wrong password is a clear InvalidLogin error without the password', async () => {
    const wrong = 'Wr0ng&<Pa55word>';
    await assert.rejects(fetchVcenterInventory({ url: simUrl, user: USER, password: wrong, insecure: true }), (e: Error) => {
      assert.ok(e instanceof VsphereError);
      assert.equal(e.faultType, 'InvalidLogin');
      assert.match(e.message, new RegExp(`^vCenter ${simUrl.replace(/[.]/g, '\\.')}: Login: SOAP fault InvalidLogin: `));
      assert.ok(!e.message.includes(wrong) && !e.message.includes('Wr0ng'), e.message);
      assert.ok(!(e.stack ?? '').includes('Wr0ng'));
      return true;
    });
  });

  test("the simulator's self-signed certificate is refused unless insecure", async () => {
    await assert.rejects(fetchVcenterInventory({ url: simUrl, user: USER, password: PASSWORD }), (e: Error) => {
      assert.ok(e instanceof VsphereError);
      assert.match(e.message, /RetrieveServiceContent: cannot connect: .*certificate.*set insecure: true/);
      return true;
    });
  });

  test('credentials in the URL never reach messages or origins', async () => {
    const u = new URL(simUrl);
    u.username = 'someone';
    u.password = 'url-secret';
    const r = await fetchVcenterInventory({ url: u.toString(), user: USER, password: PASSWORD, insecure: true });
    assert.equal(sw(r.inventory, 'DVS0').origin!.name, simUrl);
    assert.ok(!JSON.stringify(r).includes('url-secret'));
  });

  test('VcenterSync keeps the last good inventory when a refresh fails', async () => {
    const dead = `http://127.0.0.1:${await freePort()}/sdk`;
    let call = 0;
    const got: VcenterResult[] = [];
    const errors: Error[] = [];
    const logged: string[] = [];
    const log = { info: (o: object, m: string) => logged.push(`${m} ${JSON.stringify(o)}`), warn: (o: object, m: string) => logged.push(`${m} ${JSON.stringify(o)}`), error: (o: object, m: string) => logged.push(`${m} ${JSON.stringify(o)}`) };
    const sync = new VcenterSync({
      url: simUrl,
      user: USER,
      password: PASSWORD,
      insecure: true,
      intervalMs: 60_000,
      log,
      onInventory: (r) => got.push(r),
      onError: (e) => errors.push(e),
      // The second refresh finds vCenter unreachable.
      fetch: (o) => fetchVcenterInventory(++call === 2 ? { ...o, url: dead } : o),
    });
    assert.equal(await sync.refresh(), true);
    const first = sync.last!;
    assert.deepEqual(first.inventory, live.inventory);
    assert.equal(await sync.refresh(), false);
    assert.equal(got.length, 1, 'no inventory handed on for a failed refresh');
    assert.equal(sync.last, first, 'the last good inventory stays');
    assert.match(sync.lastError!.message, /cannot connect: .*ECONNREFUSED/);
    assert.equal(errors.length, 1);
    assert.ok(logged.some((l) => l.startsWith('vCenter refresh failed; keeping the last good inventory') && l.includes(first.at.toISOString())), logged.join('\n'));
    assert.equal(await sync.refresh(), true);
    assert.equal(got.length, 2);
    assert.equal(sync.lastError, undefined);
    assert.ok(!logged.some((l) => l.includes(PASSWORD) || l.includes('Secret#1')), 'no password in the log');
  });

  test('VcenterSync with a wrong password logs and reports without the password', async () => {
    const logged: string[] = [];
    const errors: Error[] = [];
    const wrong = 'Sync-Wr0ng-Secret';
    const sync = new VcenterSync({
      url: simUrl,
      user: USER,
      password: wrong,
      insecure: true,
      log: { info: (o, m) => logged.push(m + JSON.stringify(o)), warn: (o, m) => logged.push(m + JSON.stringify(o)), error: (o, m) => logged.push(m + JSON.stringify(o)) },
      onInventory: () => assert.fail('no inventory with a wrong password'),
      onError: (e) => errors.push(e),
    });
    assert.equal(await sync.refresh(), false);
    assert.equal(sync.last, undefined);
    assert.match(errors[0]!.message, /InvalidLogin/);
    assert.ok(logged.some((l) => l.startsWith('vCenter refresh failed; no inventory from vCenter yet')));
    assert.ok(!logged.join('\n').includes(wrong) && !errors[0]!.message.includes(wrong));
  });

  test('VcenterSync start() refreshes on its interval until stop()', async () => {
    let calls = 0;
    const got: VcenterResult[] = [];
    const sync = new VcenterSync({
      url: simUrl,
      user: USER,
      password: PASSWORD,
      insecure: true,
      intervalMs: 30,
      onInventory: (r) => got.push(r),
      fetch: (o) => (calls++, fetchVcenterInventory(o)),
    });
    sync.start();
    const deadline = Date.now() + 20_000;
    while (got.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await sync.stop();
    assert.ok(got.length >= 3, `${got.length} refreshes`);
    const after = calls;
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(calls, after, 'no refresh after stop()');
  });

  test('the daemon syncs from vCenter (inventory.vcenter) and names flows with it; the password is never shown', async () => {
    const { startTestDaemon } = await import('../helpers/daemon.ts');
    const { emptyFlowRecord } = await import('../../src/flow/flowRecord.ts');
    const daemon = await startTestDaemon({ inventory: { vcenter: { url: simUrl, user: USER, password: PASSWORD, insecure: true, refreshSeconds: 60 } } });
    try {
      let inv: { sources: Array<{ kind: string; ok: boolean; name: string; counts: Record<string, number> }> } = { sources: [] };
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline) {
        const res = await fetch(`${daemon.api}/api/v1/inventory`);
        inv = (await res.json()) as typeof inv;
        if (inv.sources.some((x) => x.kind === 'vcenter')) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const src = inv.sources.find((x) => x.kind === 'vcenter')!;
      assert.equal(src.ok, true, JSON.stringify(src));
      assert.ok(src.counts.ports! > 0);
      const text = JSON.stringify(inv) + JSON.stringify(await (await fetch(`${daemon.api}/api/v1/portgroups`)).json());
      assert.ok(!text.includes(PASSWORD), 'password in the API output');
      // A flow from the switch's Switch IP through one of its VM ports gets that port's portgroup and VM.
      const snap = daemon.d.inventory.snapshot();
      // (Interface 0 means "not exported" in a flow record, so a port keyed 0 is never looked up.)
      const sw = snap.portgroups.switches.find((x) => x.netflow?.switchIp && x.ports.some((p) => p.vm && p.kind === 'vm' && p.key !== 0))!;
      const port = sw.ports.find((p) => p.vm && p.kind === 'vm' && p.key !== 0)!;
      const r = Object.assign(emptyFlowRecord(), { exporter: sw.netflow!.switchIp!, inIf: port.key, srcAddr: '10.0.0.1', dstAddr: '10.0.0.2' });
      daemon.d.inventory.enricher.enrich([r]);
      assert.deepEqual([(r as { inPortgroup?: string }).inPortgroup, (r as { inVm?: string }).inVm], [port.portgroup, port.vm]);
    } finally {
      await daemon.close();
    }
  });

  describe('govc JSON captured from the simulator', () => {
    let objectsOnly = '';
    let full = '';
    before(() => {
      objectsOnly =
        govc('object.collect', '-type', 'w', '/', 'name', 'uuid', 'config') +
        govc('object.collect', '-type', 'g', '/', 'name', 'key', 'config', 'portKeys', 'tag') +
        govc('object.collect', '-type', 'm', '/', 'name', 'config.hardware.device', 'guest.net') +
        govc('object.collect', '-type', 'h', '/', 'name', 'config.network.vnic', 'config.network.proxySwitch');
      full = objectsOnly;
      for (const dvs of ['DVS0', 'DC0_DVS_SIM']) {
        for (const c of ['true', 'false']) for (const a of ['true', 'false']) for (const u of ['true', 'false']) {
          full += govc('dvs.portgroup.info', '-json', `-connected=${c}`, `-active=${a}`, `-uplinkPort=${u}`, dvs);
        }
      }
    });

    test('the full export imports to the same inventory as the live sync', () => {
      assert.ok(looksLikeGovcJson(full));
      const r = parseGovcJson(full, 'dvs-inventory.json');
      assert.deepEqual(facts(r.inventory), facts(live.inventory));
      assert.deepEqual(sw(r.inventory, 'DVS0').origin, { kind: 'govc', name: 'dvs-inventory.json', line: 1 });
      // The same duplicate/non-numeric warnings, now with the file's lines; the 8 identical copies of each
      // DVS0 port (one per criteria combination; the simulator ignores criteria) are not warned about.
      const msgs = r.warnings.map((w) => w.message);
      assert.equal(msgs.filter((m) => m.includes('is listed')).length, 4, msgs.join('\n'));
      assert.ok(msgs.some((m) => m.includes('dvPort key 0 is listed 16 times (portgroups DC0_SIMPG_A, DC0_SIMPG_B)')));
      assert.ok(r.warnings.every((w) => w.file === 'dvs-inventory.json' && w.line > 0), JSON.stringify(r.warnings));
    });

    test('without dvs.portgroup.info the VM NICs, vmknics and uplinks still give their dvPorts', () => {
      const r = parseGovcJson(objectsOnly, 'objects.json');
      const ports = sw(r.inventory, 'DVS0').ports;
      const liveAttached = sw(live.inventory, 'DVS0').ports.filter((p) => p.kind);
      assert.deepEqual(ports, liveAttached);
      assert.deepEqual(sw(r.inventory, 'DVS0').netflow, sw(live.inventory, 'DVS0').netflow);
      assert.deepEqual(r.inventory.portgroups, live.inventory.portgroups);
    });

    test("newer govc's spelling (WSDL key case) and a jq -s array import the same", () => {
      const docs = splitJsonDocuments(full, 'x');
      const lower = (v: unknown): unknown =>
        Array.isArray(v) ? v.map(lower) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k[0]!.toLowerCase() + k.slice(1), lower(x)])) : v;
      const camel = docs.map((d) => JSON.stringify(lower(d.value), null, 2)).join('\n');
      assert.ok(camel.includes('"portgroupKey"') && !camel.includes('"PortgroupKey"'));
      assert.deepEqual(facts(parseGovcJson(camel, 'camel.json').inventory), facts(live.inventory));
      const slurped = JSON.stringify(docs.map((d) => d.value));
      assert.ok(looksLikeGovcJson(slurped));
      assert.deepEqual(facts(parseGovcJson(slurped, 'slurped.json').inventory), facts(live.inventory));
    });

    test('broken govc output: ImportError with the line', () => {
      const cut = objectsOnly.slice(0, Math.floor(objectsOnly.length / 2));
      assert.throws(() => parseGovcJson(cut, 'cut.json'), (e: Error) => e instanceof ImportError && /unterminated JSON document/.test(e.message) && e.line >= 1);
      const lines = objectsOnly.split('\n');
      assert.equal(lines[1], '  "Kind": "enter",');
      const bad = [lines[0], '  "Kind": enter,', ...lines.slice(2)].join('\n');
      assert.throws(() => parseGovcJson(bad, 'bad.json'), (e: Error) => e instanceof ImportError && e.file === 'bad.json' && e.line === 1 && /invalid JSON in the document starting here: Unexpected token/.test(e.message));
      const comma = [...lines.slice(0, 4), lines[4] + ',', ...lines.slice(5)].join('\n');
      assert.match(lines[4]!, /"Value": /);
      assert.throws(() => parseGovcJson(comma, 'comma.json'), (e: Error) => e instanceof ImportError && e.line === 6 && /invalid JSON: Expected double-quoted property name/.test(e.message));
      assert.throws(() => parseGovcJson('{"switches": []}', 'ours.json'), (e: Error) => e instanceof ImportError && /no govc output recognised/.test(e.message));
      assert.equal(looksLikeGovcJson('switches:\n  - name: x\n'), false);
    });
  });
});

// ---- broken servers ----

const SERVICE_CONTENT = `<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<soapenv:Body><RetrieveServiceContentResponse xmlns="urn:vim25"><returnval>
<rootFolder type="Folder">group-d1</rootFolder><propertyCollector type="PropertyCollector">propertyCollector</propertyCollector>
<viewManager type="ViewManager">ViewManager</viewManager><about><fullName>broken test server</fullName><apiVersion>8.0.2.0</apiVersion></about>
<sessionManager type="SessionManager">SessionManager</sessionManager></returnval></RetrieveServiceContentResponse></soapenv:Body></soapenv:Envelope>`;

const soap = (body: string): string =>
  `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>${body}</soapenv:Body></soapenv:Envelope>`;

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;

describe('vCenter SOAP client against broken answers', () => {
  let server: Server;
  let base = '';
  let handler: Handler = () => undefined;
  const seen: Array<{ action: string; cookie?: string; body: string }> = [];

  before(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += String(d)));
      req.on('end', () => {
        seen.push({ action: String(req.headers.soapaction), cookie: req.headers.cookie, body });
        handler(req, body, res);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  const reply = (status: number, type: string, text: string, headers: Record<string, string> = {}) => (res: ServerResponse) => {
    res.writeHead(status, { 'content-type': type, ...headers });
    res.end(text);
  };
  /** Answers RetrieveServiceContent properly, then `then` for the rest. */
  const afterServiceContent = (then: Handler): Handler => (req, body, res) => {
    if (body.includes('<RetrieveServiceContent')) reply(200, 'text/xml', SERVICE_CONTENT)(res);
    else then(req, body, res);
  };
  const expectError = async (pattern: RegExp, opts: { timeoutMs?: number } = {}): Promise<VsphereError> => {
    let caught: VsphereError | undefined;
    await assert.rejects(fetchVcenterInventory({ url: base, user: USER, password: PASSWORD, ...opts }), (e: Error) => {
      assert.ok(e instanceof VsphereError, String(e));
      assert.match(e.message, pattern);
      assert.ok(e.message.startsWith(`vCenter ${base}/sdk: `), e.message);
      assert.ok(!e.message.includes(PASSWORD) && !e.message.includes('Secret#1') && !e.message.includes('Secret&quot;'), e.message);
      caught = e;
      return true;
    });
    return caught!;
  };

  test('garbage instead of XML', async () => {
    handler = (_q, _b, res) => reply(200, 'text/plain', 'this is <<< not XML at all')(res);
    await expectError(/RetrieveServiceContent: HTTP 200 with a malformed XML response: .* \(text\/plain: "this is <<< not XML at all"\)/);
  });

  test('truncated XML', async () => {
    handler = (_q, _b, res) => reply(200, 'text/xml', SERVICE_CONTENT.slice(0, 300))(res);
    await expectError(/RetrieveServiceContent: HTTP 200 with a malformed XML response/);
  });

  test('XML that is not a SOAP envelope', async () => {
    handler = (_q, _b, res) => reply(200, 'text/html', '<html><body><p>vSphere Client</p></body></html>')(res);
    await expectError(/RetrieveServiceContent: HTTP 200: not a SOAP envelope/);
  });

  test('a SOAP envelope without the method response', async () => {
    handler = (_q, _b, res) => reply(200, 'text/xml', soap('<SomethingElseResponse xmlns="urn:vim25"/>'))(res);
    await expectError(/RetrieveServiceContent: the SOAP body has no RetrieveServiceContentResponse/);
  });

  test('a service content without the managers', async () => {
    handler = (_q, _b, res) => reply(200, 'text/xml', soap('<RetrieveServiceContentResponse xmlns="urn:vim25"><returnval><about><apiVersion>8.0</apiVersion></about></returnval></RetrieveServiceContentResponse>'))(res);
    await expectError(/RetrieveServiceContent: the service content has no rootFolder: is this a vCenter\?/);
  });

  test('HTTP 503 from a proxy', async () => {
    handler = (_q, _b, res) => reply(503, 'text/html', '<html><body>Service Unavailable</body></html>')(res);
    const e = await expectError(/RetrieveServiceContent: HTTP 503 \(text\/html: "<html><body>Service Unavailable<\/body><\/html>"\)/);
    assert.equal(e.httpStatus, 503);
  });

  test('a server that echoes the Login request (with the password) in an HTTP 500', async () => {
    seen.length = 0;
    handler = afterServiceContent((_q, body, res) => reply(500, 'text/plain', `cannot handle: ${body}`)(res));
    await expectError(/Login: HTTP 500 with a malformed XML response|Login: HTTP 500 without a SOAP fault/);
    const login = seen.find((s) => s.body.includes('<Login'))!;
    assert.ok(login.body.includes('<password>Dv&amp;fl&lt;ow&gt;&quot;Secret#1</password>'), 'the password is XML-escaped in the request');
    assert.equal(login.action, 'urn:vim25/8.0.2.0', 'after RetrieveServiceContent the SOAPAction names the server API version');
  });

  test('a SOAP fault whose text repeats the password', async () => {
    handler = afterServiceContent((_q, _b, res) =>
      reply(500, 'text/xml', soap(`<soapenv:Fault><faultcode>ServerFaultCode</faultcode><faultstring>user dvflow with password ${PASSWORD.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')} is locked</faultstring><detail><NoPermissionFault xmlns="urn:vim25" xsi:type="NoPermission"><privilegeId>System.View</privilegeId></NoPermissionFault></detail></soapenv:Fault>`))(res),
    );
    const e = await expectError(/Login: SOAP fault NoPermission: user dvflow with password \*\*\* is locked/);
    assert.equal(e.faultType, 'NoPermission');
  });

  test('a Login without a session cookie', async () => {
    handler = afterServiceContent((_q, _b, res) => reply(200, 'text/xml', soap('<LoginResponse xmlns="urn:vim25"><returnval><key>k</key><userName>dvflow</userName></returnval></LoginResponse>'))(res));
    await expectError(/Login: the server set no vmware_soap_session cookie/);
  });

  test('the session cookie is sent back, and a fault later is reported with its method', async () => {
    seen.length = 0;
    handler = afterServiceContent((_q, body, res) => {
      if (body.includes('<Login')) {
        reply(200, 'text/xml', soap('<LoginResponse xmlns="urn:vim25"><returnval><key>k</key></returnval></LoginResponse>'), { 'set-cookie': 'vmware_soap_session="52a1-session"; Path=/; HttpOnly; Secure;' })(res);
      } else if (body.includes('<Logout')) {
        reply(200, 'text/xml', soap('<LogoutResponse xmlns="urn:vim25"/>'))(res);
      } else {
        reply(500, 'text/xml', soap('<soapenv:Fault><faultcode>ServerFaultCode</faultcode><faultstring>The session is not authenticated.</faultstring><detail><NotAuthenticatedFault xmlns="urn:vim25" xsi:type="NotAuthenticated"/></detail></soapenv:Fault>'))(res);
      }
    });
    const e = await expectError(/CreateContainerView: SOAP fault NotAuthenticated: The session is not authenticated\./);
    assert.equal(e.method, 'CreateContainerView');
    const view = seen.find((s) => s.body.includes('<CreateContainerView'))!;
    assert.equal(view.cookie, 'vmware_soap_session="52a1-session"');
    assert.ok(seen.some((s) => s.body.includes('<Logout')), 'logs out after a failure');
  });

  test('no answer in time', async () => {
    handler = () => undefined; // never answers
    await expectError(/RetrieveServiceContent: no answer within 300 ms/, { timeoutMs: 300 });
  });

  test('nothing listening', async () => {
    const port = await freePort();
    await assert.rejects(fetchVcenterInventory({ url: `http://127.0.0.1:${port}`, user: USER, password: PASSWORD }), (e: Error) => {
      assert.ok(e instanceof VsphereError);
      assert.equal(e.message, `vCenter http://127.0.0.1:${port}/sdk: RetrieveServiceContent: cannot connect: connect ECONNREFUSED 127.0.0.1:${port}`);
      return true;
    });
  });

  test('invalid URLs', async () => {
    assert.throws(() => new VsphereSoapClient({ url: 'ftp://user:pw@host/' }), /vCenter URL must be http\(s\)/);
    assert.throws(() => new VsphereSoapClient({ url: 'https://user:pw@[bad' }), (e: Error) => /invalid vCenter URL/.test(e.message) && !e.message.includes('pw'));
  });
});
