// Alert outputs against real receivers: a webhook HTTP server (JSON body, token, a failing receiver counted and
// the next alert still sent), syslog over UDP and TCP (octet counting), and the RFC 5424 line checked by tshark's
// syslog dissector, a parser we did not write.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { WebhookOutput, SyslogOutput, formatSyslog } from '../../src/ids/alertOutputs.ts';
import type { StoredAlert } from '../../src/ids/alertManager.ts';
import { pcapFile, udp4Frame } from '../pcap/packetBuilder.ts';

const alert = (o: Partial<StoredAlert> = {}): StoredAlert => ({
  id: '6f1c1a8e-8d5c-4d7e-9a43-0c9c2b0e2f11', time: Date.UTC(2026, 10, 21, 9, 30, 0, 123), last: Date.UTC(2026, 10, 21, 9, 31), raised: 0, updated: 0,
  detector: 'port-scan', severity: 'high', summary: '10.0.0.5 probed 87 ports of 10.0.0.9 in 60 s', subject: 'x', src: '10.0.0.5', dst: '10.0.0.9',
  dstPort: 0, proto: 6, vip: 'web "vip"]', portgroup: '', origin: 'pcap', capture: 'scan.pcap', sid: 0, classtype: '', occurrences: 2,
  counts: { distinctPorts: 87 }, samples: [], version: 1, ...o,
});

test('webhook: one JSON POST per alert with the token; a failing receiver is counted and the next alert still goes', async () => {
  const got: { auth: string | undefined; body: Record<string, unknown> }[] = [];
  let failNext = true;
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c));
    req.on('end', () => {
      if (failNext) {
        failNext = false;
        res.writeHead(500).end();
        return;
      }
      got.push({ auth: req.headers.authorization, body: JSON.parse(body) as Record<string, unknown> });
      res.writeHead(204).end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  const out = new WebhookOutput({ url: `http://127.0.0.1:${port}/hook`, token: 'hook-secret', timeoutMs: 2000 });
  out.send(alert({ summary: 'first' }));
  out.send(alert({ summary: 'second' }));
  await out.idle();
  server.close();
  assert.deepEqual(out.stats, { sent: 1, failed: 1, dropped: 0 });
  assert.equal(got.length, 1);
  assert.equal(got[0]!.auth, 'Bearer hook-secret');
  assert.equal(got[0]!.body.summary, 'second');
  assert.equal(got[0]!.body.detector, 'port-scan');
  assert.equal(got[0]!.body.time, '2026-11-21T09:30:00.123Z');
  assert.deepEqual(got[0]!.body.counts, { distinctPorts: 87 });

  // Nobody listening: counted as failed, no throw.
  const dead = new WebhookOutput({ url: `http://127.0.0.1:${port}/hook`, token: '', timeoutMs: 500 });
  dead.send(alert());
  await dead.idle();
  assert.equal(dead.stats.failed, 1);
});

test('syslog: RFC 5424 over UDP, parsed by tshark', async () => {
  const sock = createSocket('udp4');
  sock.bind(0, '127.0.0.1');
  await once(sock, 'listening');
  const port = sock.address().port;
  const out = new SyslogOutput({ host: '127.0.0.1', port, protocol: 'udp', facility: 16, appName: 'dvflow' });
  const received = once(sock, 'message') as Promise<[Buffer]>;
  out.send(alert());
  const [msg] = await received;
  out.close();
  sock.close();
  const line = msg.toString('utf8');
  // local0 (16) * 8 + error (3, for high).
  assert.match(line, /^<131>1 2026-11-21T09:30:00\.123Z \S+ dvflow \d+ port-scan \[dvflow@32473 /);
  assert.ok(line.includes('vip="web \\"vip\\"\\]"'), 'SD-PARAM escaping of " and ]');
  assert.ok(line.endsWith('\ufeff10.0.0.5 probed 87 ports of 10.0.0.9 in 60 s'));
  // tshark reads it as syslog: facility, level, and the RFC 5424 header fields.
  const dir = mkdtempSync(join(tmpdir(), 'dvflow-syslog-'));
  try {
    const file = join(dir, 's.pcap');
    writeFileSync(file, pcapFile([{ ts: Date.now(), data: udp4Frame('127.0.0.1', '127.0.0.1', 40000, 514, msg) }]));
    const out2 = execFileSync('tshark', ['-r', file, '-T', 'fields', '-E', 'separator=|', '-e', 'syslog.facility', '-e', 'syslog.level', '-e', 'syslog.version',
      '-e', 'syslog.appname', '-e', 'syslog.procid', '-e', 'syslog.msgid'], { encoding: 'utf8' }).trim().split('|');
    // tshark 4.0 has no structured-data field: its msgid runs on to the message; the first word is ours.
    assert.deepEqual(out2.slice(0, 5), ['16', '3', '1', 'dvflow', String(process.pid)]);
    assert.equal(out2[5]!.split(' ')[0], 'port-scan');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('syslog: TCP with octet counting (RFC 6587); severities map to syslog levels', async () => {
  const chunks: Buffer[] = [];
  const server = createTcpServer((s) => s.on('data', (d: Buffer) => chunks.push(d)));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  const out = new SyslogOutput({ host: '127.0.0.1', port, protocol: 'tcp', facility: 4, appName: 'dvflow' });
  out.send(alert({ severity: 'critical', summary: 'one' }));
  out.send(alert({ severity: 'info', summary: 'two' }));
  for (let i = 0; i < 100 && out.stats.sent < 2; i++) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 50));
  out.close();
  server.close();
  const text = Buffer.concat(chunks).toString('utf8');
  const frames: string[] = [];
  for (let rest = text; rest.length;) {
    const m = /^(\d+) /.exec(rest);
    assert.ok(m, `octet count expected at: ${rest.slice(0, 20)}`);
    const len = Number(m[1]);
    const body = Buffer.from(rest.slice(m[0].length), 'utf8').subarray(0, len).toString('utf8');
    frames.push(body);
    rest = rest.slice(m[0].length + body.length);
  }
  assert.equal(frames.length, 2);
  assert.match(frames[0]!, /^<34>1 /, 'auth (4) * 8 + crit (2)');
  assert.match(frames[1]!, /^<38>1 /, 'auth (4) * 8 + info (6)');
  assert.equal(formatSyslog(alert({ detector: 'a b\u00e9c' }), { facility: 16, appName: '' }, 'host name').split(' ').slice(2, 6).join(' '), `hostname - ${process.pid} abc`);
});
