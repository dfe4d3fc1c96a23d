// End to end: the daemon enriches flows from its inventory. The VMware VDS capture sent over UDP lands in the
// mapped portgroups; unknown dvPorts are listed; `dvflow inventory import` maps them without a restart; and
// softflowd exports traffic between clients, VIPs and real servers (a capture built here) whose per-VIP legs
// and backend shares come out right, including the direct-return leg of a DR VIP.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { dvflow } from '../helpers/cliDaemon.ts';
import { runSoftflowd, tempDir, waitStable } from '../helpers/peers.ts';
import { pcapFile, tcp4Frame, TCP, type FrameRecord } from '../pcap/packetBuilder.ts';

const TESTDATA = new URL('../../../../shared/testdata/netflow/logstash-codec-netflow/', import.meta.url);
const TOKEN = 'inventory-test-token';
let daemon: TestDaemon;
let dir: string;

before(async () => {
  dir = tempDir('dvflow-inv-');
  writeFileSync(join(dir, 'vds.yaml'), `switches:
  - name: DSwitch
    exporters: [127.0.0.1]
    ports:
      - { key: 2, portgroup: DSwitch-DVUplinks, kind: uplink }
      - { key: 3, portgroup: DSwitch-DVUplinks, kind: uplink }
      - { key: 10, portgroup: Servers, vm: win-01, kind: vm }
exporters:
  - { address: 127.0.0.1, name: esxi-lab }
`);
  daemon = await startTestDaemon({ http: { port: 0, bind: '127.0.0.1', token: TOKEN }, inventory: { files: [join(dir, 'vds.yaml')], reloadSeconds: 1 } });
});
after(async () => daemon?.close());

async function send(files: string[]): Promise<void> {
  const sock = dgram.createSocket('udp4');
  for (const f of files) await new Promise<void>((r) => sock.send(readFileSync(new URL(f, TESTDATA)), daemon.udpPort, '127.0.0.1', () => r()));
  sock.close();
  await daemon.settle();
}

async function stat(element: string, filter?: string): Promise<Record<string, number>> {
  const r = await daemon.query({ statistics: [element], topN: 0, filter });
  return Object.fromEntries(r.statistics![0]!.rows.map((x) => [String(x.key), x.flows]));
}

test('VDS flows land in the mapped portgroups; dvPort 11 is unmapped and listed, then an import maps it', async () => {
  await send(['ipfix_test_vmware_vds_tpl.dat', 'ipfix_test_vmware_vds_data264.dat', 'ipfix_test_vmware_vds_data266.dat', 'ipfix_test_vmware_vds_data266_267.dat']);
  assert.deepEqual(await stat('inportgroup'), { 'DSwitch-DVUplinks': 5 });
  assert.deepEqual(await stat('outportgroup'), { Servers: 1, unmapped: 4 });
  assert.deepEqual(await stat('outvm'), { 'win-01': 1, '': 4 });
  assert.deepEqual(await stat('exporter'), { 'esxi-lab': 5 });
  assert.equal((await daemon.query({ filter: 'out portgroup Servers and out vm win-01' })).summary.flows, 1);

  const show = await dvflow(['inventory', 'show', '--api', daemon.api]);
  assert.equal(show.code, 0, show.stderr);
  assert.match(show.stdout, /ok +portgroups +\S+vds\.yaml \(file: 1 switches, 3 ports/);
  assert.match(show.stdout, /Unmapped dvPorts \(1\):/);
  assert.match(show.stdout, /127\.0\.0\.1 +0 +DSwitch +11 +out +4 /);

  const fix = join(dir, 'dvs-more.csv');
  writeFileSync(fix, 'switch,exporters,key,portgroup,vm\nDSwitch,127.0.0.1,11,Management,win-02\n');
  const check = await dvflow(['inventory', 'check', fix, '--api', daemon.api]);
  assert.equal(check.code, 0, check.stderr);
  assert.match(check.stdout, /maps 1 of the 1 unmapped dvPorts/);
  const noToken = await dvflow(['inventory', 'import', fix, '--api', daemon.api, '--token', 'wrong']);
  assert.equal(noToken.code, 1);
  assert.match(noToken.stderr, /bearer token/);
  const imp = await dvflow(['inventory', 'import', fix, '--api', daemon.api, '--token', TOKEN]);
  assert.equal(imp.code, 0, imp.stderr);
  assert.match(imp.stdout, /imported \(file: 1 switches, 1 ports/);
  // Filter completion offers the inventory's names after `portgroup` (quoted when they need it).
  const comp = (await (await fetch(`${daemon.api}/api/v1/filter/complete?text=${encodeURIComponent('out portgroup Ma')}`)).json()) as { suggestions: string[] };
  assert.ok(comp.suggestions.includes('Management'), JSON.stringify(comp));
  assert.ok(!comp.suggestions.includes('Servers'));
  const unmapped = (await (await fetch(`${daemon.api}/api/v1/inventory/unmapped`)).json()) as { unmapped: unknown[] };
  assert.deepEqual(unmapped.unmapped, []);
  await daemon.truncate();
  // A new socket is a new source port: with templates keyed by address and port, the template goes again.
  await send(['ipfix_test_vmware_vds_tpl.dat', 'ipfix_test_vmware_vds_data264.dat', 'ipfix_test_vmware_vds_data266.dat', 'ipfix_test_vmware_vds_data266_267.dat']);
  assert.deepEqual(await stat('outportgroup'), { Servers: 1, Management: 4 });
});

test('a broken inventory file is reported and its last good content kept', async () => {
  const file = join(dir, 'vds.yaml');
  const good = readFileSync(file, 'utf8');
  writeFileSync(file, `${good}\n  - this is: [not valid\n`);
  const deadline = Date.now() + 10_000;
  let src: { ok: boolean; error?: string } | undefined;
  while (Date.now() < deadline) {
    const inv = (await (await fetch(`${daemon.api}/api/v1/inventory`)).json()) as { sources: Array<{ name: string; ok: boolean; error?: string }> };
    src = inv.sources.find((s) => s.name === file);
    if (src && !src.ok) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.equal(src?.ok, false);
  assert.match(src!.error!, /vds\.yaml:\d+: /);
  assert.equal(daemon.d.inventory.enricher.stats.ports, 4, 'the last good ports (3) plus the imported one');
  writeFileSync(file, good);
});

/** A TCP exchange: `n` packets each way, 100 ms apart, starting at t. */
function conversation(frames: FrameRecord[], t: number, a: [string, number], b: [string, number], n = 3): void {
  frames.push({ ts: t, data: tcp4Frame(a[0], b[0], a[1], b[1], TCP.SYN) });
  frames.push({ ts: t + 1, data: tcp4Frame(b[0], a[0], b[1], a[1], TCP.SYN | TCP.ACK) });
  for (let i = 1; i < n; i++) {
    frames.push({ ts: t + 100 * i, data: tcp4Frame(a[0], b[0], a[1], b[1], TCP.ACK | TCP.PSH, { payload: new Uint8Array(200) }) });
    frames.push({ ts: t + 100 * i + 1, data: tcp4Frame(b[0], a[0], b[1], a[1], TCP.ACK, { payload: new Uint8Array(1000) }) });
  }
  frames.push({ ts: t + 100 * n, data: tcp4Frame(a[0], b[0], a[1], b[1], TCP.FIN | TCP.ACK) });
  frames.push({ ts: t + 100 * n + 1, data: tcp4Frame(b[0], a[0], b[1], a[1], TCP.FIN | TCP.ACK) });
}

test('softflowd through a proxy VIP and a DR VIP: legs, real-server shares and the direct return', async () => {
  // haproxy proxies 10.0.0.10:443 (LB address 10.0.0.2) to web1/web2:8443; keepalived/LVS-DR serves 10.0.0.20:80.
  writeFileSync(join(dir, 'haproxy.cfg'), `global
    daemon
defaults
    mode tcp
    balance roundrobin
frontend web
    bind 10.0.0.10:443
    default_backend web_pool
backend web_pool
    source 10.0.0.2
    server web1 10.0.1.11:8443 weight 2 check
    server web2 10.0.1.12:8443 weight 1 check
`);
  writeFileSync(join(dir, 'keepalived.conf'), `virtual_server 10.0.0.20 80 {
    delay_loop 6
    lb_algo rr
    lb_kind DR
    protocol TCP
    real_server 10.0.1.21 80 {
        weight 1
    }
    real_server 10.0.1.22 80 {
        weight 1
    }
}
`);
  for (const f of ['haproxy.cfg', 'keepalived.conf']) {
    const r = await dvflow(['vip', 'import', join(dir, f), '--api', daemon.api, '--token', TOKEN]);
    assert.equal(r.code, 0, r.stderr);
  }
  const show = await dvflow(['vip', 'show', '--api', daemon.api]);
  assert.match(show.stdout, /10\.0\.0\.10:443\/tcp +mode tcp, forwarding proxy/);
  assert.match(show.stdout, /forwarding dr/);

  const frames: FrameRecord[] = [];
  const t0 = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3_600_000;
  // Six clients through the proxy: four connections go to web1, two to web2 (weights 2:1).
  for (let i = 0; i < 6; i++) {
    const client: [string, number] = [`198.51.100.${i + 1}`, 50000 + i];
    const t = t0 + i * 2000;
    conversation(frames, t, client, ['10.0.0.10', 443]);
    conversation(frames, t + 10, ['10.0.0.2', 41000 + i], [i % 3 === 2 ? '10.0.1.12' : '10.0.1.11', 8443]);
  }
  // Three clients to the DR VIP: requests reach the VIP, answers leave from the VIP on the real server.
  for (let i = 0; i < 3; i++) conversation(frames, t0 + 20_000 + i * 2000, [`203.0.113.${i + 1}`, 52000 + i], ['10.0.0.20', 80]);
  frames.sort((a, b) => a.ts! - b.ts!);
  const pcap = join(dir, 'vip.pcap');
  writeFileSync(pcap, pcapFile(frames));

  await daemon.truncate();
  await runSoftflowd(pcap, daemon.udpPort, 9);
  await daemon.settle();
  await waitStable(() => daemon.d.writer!.pendingRows);
  assert.deepEqual(await stat('vip'), { web: 24, '10.0.0.20:80': 6 });
  assert.deepEqual(await stat('leg', 'vip web'), { 'client-vip': 6, 'vip-client': 6, 'lb-server': 6, 'server-lb': 6 });
  assert.deepEqual(await stat('backend', 'vip web and leg lb-server'), { web1: 4, web2: 2 });
  // The rollups carry VIP, leg and backend (the hourly one keeps two years: these flows are from t0).
  const rolled = await daemon.d.store.queryRows<{ k: string; flows: string }>(
    "SELECT concat(vip, '/', vip_leg, '/', backend) AS k, sum(flows) AS flows FROM flows_1h WHERE vip = 'web' AND vip_leg = 'lb-server' GROUP BY k ORDER BY k");
  assert.deepEqual(rolled.map((r) => [r.k, Number(r.flows)]), [['web/lb-server/web1', 4], ['web/lb-server/web2', 2]]);
  const bytes = await daemon.query({ statistics: ['backend/bytes'], topN: 0, filter: 'vip web and leg server-lb' });
  assert.deepEqual(bytes.statistics![0]!.rows.map((r) => [r.key, r.bytes]), [['web1', 4 * 2 * 1040 + 4 * 2 * 40], ['web2', 2 * 2 * 1040 + 2 * 2 * 40]]);
  // DR: replies come from the VIP straight to the clients (direct server return); nothing goes back through an LB.
  assert.deepEqual(await stat('leg', 'vip 10.0.0.20'), { 'client-vip': 3, 'server-client': 3 });
  assert.equal((await daemon.query({ filter: 'leg server-client and src ip 10.0.0.20 and src port 80' })).summary.flows, 3);
});
