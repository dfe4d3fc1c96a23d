// The IDS as a user runs it: `dvflow start` with the ET rule files and a webhook configured, captures sent with
// `dvflow pcap` (flows and packets), NetFlow from softflowd, then `dvflow alerts` lists what was raised — flow
// detections, packet detections (invalid packets), rule hits — the webhook received them, and a restart keeps them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { dvflow, startCliDaemon, type CliDaemon } from '../helpers/cliDaemon.ts';
import { runSoftflowd, stopAllPeers } from '../helpers/peers.ts';

const testdata = join(import.meta.dirname, '..', '..', '..', '..', 'shared', 'testdata', 'ids');
const TOKEN = 'ids-test-token';
let dir: string;
let d: CliDaemon;
const hooked: Record<string, unknown>[] = [];
const hookServer = createServer((req, res) => {
  let body = '';
  req.on('data', (c: Buffer) => (body += c));
  req.on('end', () => {
    hooked.push(JSON.parse(body) as Record<string, unknown>);
    res.writeHead(204).end();
  });
});

async function start(): Promise<CliDaemon> {
  process.env.DVFLOW_HTTP_TOKEN = TOKEN;
  try {
    return await startCliDaemon(join(dir, 'data'), ['--config', join(dir, 'dvflow.yaml')]);
  } finally {
    delete process.env.DVFLOW_HTTP_TOKEN;
  }
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dvflow-ids-daemon-'));
  hookServer.listen(0, '127.0.0.1');
  await once(hookServer, 'listening');
  const hookPort = (hookServer.address() as AddressInfo).port;
  writeFileSync(join(dir, 'dvflow.yaml'), [
    'ids:',
    `  rules: { files: [${join(testdata, 'rules', 'emerging-scan.rules')}, ${join(testdata, 'rules', 'emerging-dos.rules')}] }`,
    `  webhook: { url: "http://127.0.0.1:${hookPort}/alerts", token: "", timeoutMs: 3000 }`,
  ].join('\n'));
  d = await start();
});

after(async () => {
  await d?.stop();
  hookServer.close();
  stopAllPeers();
  rmSync(dir, { recursive: true, force: true });
});

async function alerts(args: string[] = []): Promise<{ detector: string; src: string; dst: string; dstPort: number; sid: number; origin: string; capture: string; id: string }[]> {
  const r = await dvflow(['alerts', '--api', d.api, '-o', 'json', '-n', '1000', ...args]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

test('captures through dvflow pcap raise flow, packet and rule alerts; dvflow alerts lists and filters them', { timeout: 180_000 }, async () => {
  for (const f of ['zeek/ssh_sshguess.pcap', 'suricata-verify/decode-too-small_test.pcap', 'generated/nmap-syn-scan.pcap']) {
    const r = await dvflow(['pcap', join(testdata, f), '--api', d.api, '--token', TOKEN, '--no-progress']);
    assert.equal(r.code, 0, `${f}: ${r.stderr}`);
  }
  const all = await alerts();
  const by = (det: string) => all.filter((a) => a.detector === det);
  const brute = by('brute-force').find((a) => a.src === '192.168.56.1' && a.dst === '192.168.56.103' && a.dstPort === 22);
  assert.ok(brute, `brute-force from ssh_sshguess: ${JSON.stringify(all.map((a) => a.detector))}`);
  assert.equal(brute.origin, 'pcap');
  assert.equal(brute.capture, 'ssh_sshguess.pcap');
  assert.ok(by('snort-rule').some((a) => a.sid === 2001219), 'ET SCAN Potential SSH Scan fires on the SSH guessing');
  assert.ok(by('invalid-packet').length >= 2, 'the truncated headers of decode-too-small');
  assert.ok(by('port-scan').length >= 1, 'the nmap SYN scan');
  // The CLI's filter and options.
  const ssh = await alerts(['dst port 22 and src ip 192.168.56.1']);
  assert.ok(ssh.length >= 2 && ssh.every((a) => a.dstPort === 22 && a.src === '192.168.56.1'));
  assert.deepEqual([...new Set((await alerts(['--detector', 'snort-rule'])).map((a) => a.detector))], ['snort-rule']);
  const line = await dvflow(['alerts', '--api', d.api, '--detector', 'brute-force']);
  assert.match(line.stdout, /^Date first seen\s+Severity\s+Detector/);
  assert.match(line.stdout, /brute-force\s+192\.168\.56\.1\s+192\.168\.56\.103:22/);
  assert.match(line.stdout, /Summary: \d+ alerts? \(brute-force \d+\)/);
  const show = await dvflow(['alerts', '--api', d.api, '--show', brute.id]);
  assert.match(show.stdout, /sample\s+\S+ \S+ TCP 192\.168\.56\.1:\d+ -> 192\.168\.56\.103:22/);
  const bad = await dvflow(['alerts', '--api', d.api, 'flags S']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /not supported on alerts/);
  // The webhook heard each new alert.
  for (let i = 0; i < 50 && hooked.length < all.length; i++) await new Promise((r) => setTimeout(r, 100));
  assert.ok(hooked.some((h) => h.id === brute.id && h.detector === 'brute-force'), 'webhook got the brute-force alert');
});

test('NetFlow from softflowd raises the same kind of alerts, and they survive a restart', { timeout: 180_000 }, async () => {
  await runSoftflowd(join(testdata, 'generated', 'hping-syn-flood.pcap'), d.udpPort, 10);
  let flood: { origin: string }[] = [];
  for (let i = 0; i < 100 && flood.length === 0; i++) {
    await new Promise((r) => setTimeout(r, 200));
    flood = (await alerts(['--detector', 'syn-flood'])).filter((a) => a.origin === 'netflow');
  }
  assert.equal(flood.length, 1, 'one syn-flood alert from the IPFIX flows');
  const before = (await alerts()).length;
  assert.equal(await d.stop(), 0);
  d = await start();
  assert.equal((await alerts()).length, before, 'alerts are stored, not kept in memory');
  const status = await (await fetch(`${d.api}/api/v1/alerts/status`)).json() as { running: boolean; rules: { used: number }; detectors: { id: string }[] };
  assert.equal(status.running, true);
  assert.equal(status.rules.used, 84);
  assert.ok(status.detectors.some((x) => x.id === 'snort-rule'));
});
