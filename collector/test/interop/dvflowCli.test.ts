// dvflow as a user runs it: `dvflow start`, exporters and garbage on UDP, `dvflow query` compared with
// nfdump on the same datagrams, a restart that keeps templates, and clear start-up errors.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { startCliDaemon, dvflow, freeTcpPort } from '../helpers/cliDaemon.ts';
import { startNfcapd, runSoftflowd, tempDir , stopAllPeers } from '../helpers/peers.ts';

const run = promisify(execFile);
const gen = join(import.meta.dirname, '..', '..', '..', '..', 'shared', 'testdata', 'ids', 'generated');
const dirs: string[] = [];
after(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

async function exporters(api: string) {
  return ((await (await fetch(`${api}/api/v1/exporters`)).json()) as { exporters: Array<Record<string, number | string | Record<string, number>>> }).exporters;
}

async function settle(api: string): Promise<void> {
  let packets = 0;
  for (let i = 0; i < 100; i++) {
    const ex = await exporters(api);
    const p = ex.reduce((s, e) => s + Number(e.packets), 0);
    const h = (await (await fetch(`${api}/api/v1/health`)).json()) as { queueRows: number };
    if (p === packets && h.queueRows === 0) return;
    packets = p;
    await new Promise((r) => setTimeout(r, 300));
  }
}

function send(sock: dgram.Socket, port: number, buf: Buffer): Promise<void> {
  return new Promise((r, j) => sock.send(buf, port, '127.0.0.1', (e) => (e ? j(e) : r())));
}

test('dvflow start + softflowd + dvflow query answer like nfcapd + nfdump; garbage is counted, not fatal', async () => {
  const data = tempDir('dvflow-cli-'); dirs.push(data);
  const d = await startCliDaemon(data);
  try {
    const junk = dgram.createSocket('udp4');
    await new Promise<void>((r) => junk.bind(0, '127.0.0.1', () => r()));
    const bad = [
      Buffer.from([0x00, 0x05, 0x00]),                                     // v5, truncated header
      Buffer.from([0x04, 0xd2, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19]), // version 1234
      Buffer.concat([Buffer.from([0, 9, 0, 1]), Buffer.alloc(16), Buffer.from([0, 0, 0xff, 0xff])]), // v9 flowset longer than datagram
      Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 7919) & 0xff)),  // noise
    ];
    for (const b of bad) await send(junk, d.udpPort, b);
    const nf = await startNfcapd({ repeatTo: d.udpPort });
    for (const f of ['lo-http.pcap', 'hping-udp-flood.pcap', 'nmap-syn-scan.pcap']) await runSoftflowd(join(gen, f), nf.port, 9);
    await nf.stop();
    await settle(d.api);

    const ex = await exporters(d.api);
    const junkEx = ex.filter((e) => Number(e.port) === junk.address().port);
    const errs = junkEx.reduce((s, e) => s + Number(e.decodeErrors), 0);
    assert.equal(errs, bad.length, 'each bad datagram counted as a decode error');
    const kinds = Object.keys(Object.assign({}, ...junkEx.map((e) => e.errorsByKind as Record<string, number>)));
    assert.ok(kinds.length >= 2, `errors have kinds: ${kinds}`);
    junk.close();

    const mine = await dvflow(['query', '--api', d.api, '-s', 'proto', '-N']);
    assert.equal(mine.code, 0, mine.stderr);
    const ref = await run('nfdump', ['-R', nf.dir, '-s', 'proto', '-N']);
    const summary = (s: string) => s.split('\n').find((l) => l.startsWith('Summary:'));
    assert.ok(summary(ref.stdout), 'nfdump printed a summary');
    assert.equal(summary(mine.stdout), summary(ref.stdout), 'the summary line is nfdump\'s, number for number');
    const rows = (s: string) => s.split('\n').filter((l) => /^\d{4}-\d\d-\d\d /.test(l)).map((l) => l.replace(/\s+/g, ' '));
    assert.deepEqual(rows(mine.stdout), rows(ref.stdout), 'the -s proto table matches nfdump row for row');

    const list = await dvflow(['query', '--api', d.api, '-c', '3', '-o', 'csv']);
    assert.equal(list.stdout.split('\n')[0], (await run('nfdump', ['-R', nf.dir, '-c', '1', '-o', 'csv'])).stdout.split('\n')[0], 'CSV header as nfdump');
    const window = await dvflow(['query', '--api', d.api, '-t', '2000/01/01.00:00:00-2000/01/02', '-s', 'proto', '-N']);
    assert.match(window.stdout, /Summary: total flows: 0, /, 'a window with no flows matches none');
    const badWindow = await dvflow(['query', '--api', d.api, '-t', '2024/13/01']);
    assert.notEqual(badWindow.code, 0);
    assert.match(badWindow.stderr, /invalid start time/);
  } finally {
    assert.equal(await d.stop(), 0, 'SIGTERM stops cleanly');
  }
});

test('a restart keeps templates: data without templates decodes at once', async () => {
  const data = tempDir('dvflow-restart-'); dirs.push(data);
  // Record softflowd's v9 stream, then play it from one fixed source port (the exporter key includes it).
  const rec = dgram.createSocket('udp4');
  const stream: Buffer[] = [];
  rec.on('message', (m) => stream.push(Buffer.from(m)));
  await new Promise<void>((r) => rec.bind(0, '127.0.0.1', () => r()));
  await runSoftflowd(join(gen, 'hping-syn-flood.pcap'), rec.address().port, 9);
  await new Promise((r) => setTimeout(r, 300));
  rec.close();
  const hasTemplate = (b: Buffer) => { for (let o = 20; o + 4 <= b.length; o += Math.max(4, b.readUInt16BE(o + 2))) if (b.readUInt16BE(o) === 0) return true; return false; };
  const dataOnly = stream.filter((b) => !hasTemplate(b));
  assert.ok(dataOnly.length > 5 && dataOnly.length < stream.length, 'the stream has data-only datagrams');

  const src = dgram.createSocket('udp4');
  await new Promise<void>((r) => src.bind(0, '127.0.0.1', () => r()));
  let d = await startCliDaemon(data);
  for (const b of stream) await send(src, d.udpPort, b);
  await settle(d.api);
  assert.equal(await d.stop(), 0);

  d = await startCliDaemon(data);
  try {
    const before = (await exporters(d.api)).reduce((s, e) => s + Number(e.flows), 0);
    for (const b of dataOnly) await send(src, d.udpPort, b);
    await settle(d.api);
    const ex = await exporters(d.api);
    const flows = ex.reduce((s, e) => s + Number(e.flows), 0) - before;
    const missing = ex.reduce((s, e) => s + Number((e.errorsByKind as Record<string, number>)['template-missing'] ?? 0), 0);
    assert.equal(missing, 0, 'no data waits for a template after the restart');
    const expected = dataOnly.reduce((s, b) => s + b.readUInt16BE(2), 0);
    assert.equal(flows, expected, 'every record of the data-only datagrams was decoded');
  } finally {
    src.close();
    await d.stop();
  }
});

test('clear start-up errors: taken port, bad option, unusable data directory', async () => {
  const taken = dgram.createSocket('udp4');
  await new Promise<void>((r) => taken.bind(0, '127.0.0.1', () => r()));
  const data = tempDir('dvflow-err-'); dirs.push(data);
  const http = String(await freeTcpPort());
  const a = await dvflow(['start', '--data', data, '--bind', '127.0.0.1', '--netflow-port', String(taken.address().port), '--http-port', http]);
  assert.notEqual(a.code, 0);
  assert.match(a.stderr, /UDP port \d+ on 127\.0\.0\.1 is already in use/);
  taken.close();
  const b = await dvflow(['start', '--netflow-port', 'abc']);
  assert.notEqual(b.code, 0);
  assert.match(b.stderr, /netflow-port.*whole number/);
  const fileParent = join(data, 'a-file');
  (await import('node:fs')).writeFileSync(fileParent, 'x');
  const c = await dvflow(['start', '--data', join(fileParent, 'data'), '--http-port', http]);
  assert.notEqual(c.code, 0);
  assert.match(c.stderr, /data directory .*a-file\/data is not usable: .*a-file is not a directory/);
  const cfg = join(data, 'bad.yaml');
  (await import('node:fs')).writeFileSync(cfg, 'netflow:\n  prot: 1\n');
  const e = await dvflow(['start', '--config', cfg]);
  assert.equal(e.code, 2);
  assert.match(e.stderr, /unknown configuration key 'netflow\.prot'/);
});

after(() => stopAllPeers());
