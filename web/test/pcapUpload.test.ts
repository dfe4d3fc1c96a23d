// POST /api/v1/pcap through inject(), on a real embedded store: token, size limit, content types, parameters,
// unreadable and damaged captures (the error names the offset, the flows before the damage are stored), the
// NDJSON progress stream, and the 503 of a process that stores no flows.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import pino from 'pino';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../src/server.ts';
import { openTempStore } from '../../collector/test/helpers/tempStore.ts';
import { FlowQuery } from '../../collector/src/query/flowQuery.ts';
import { compileFilter } from '../../collector/src/query/filterSql.ts';
import { createCollectorMetrics } from '../../collector/src/collector/collectorMetrics.ts';
import { defaultConfig } from '../../collector/src/config/config.ts';
import { createFlowSink, type FlowSink } from '../../collector/src/ingest/flowSink.ts';
import { PcapService } from '../../collector/src/pcap/pcapService.ts';
import type { ClickHouseStore } from '../../collector/src/storage/clickhouseStore.ts';

const TESTDATA = join(import.meta.dirname, '..', '..', '..', 'shared', 'testdata');
const LIMIT = 3_000_000;
const AUTH = { authorization: 'Bearer s3cret' };
const PCAP = { ...AUTH, 'content-type': 'application/vnd.tcpdump.pcap' };

let app: FastifyInstance;
let bare: FastifyInstance;
let store: ClickHouseStore;
let sink: FlowSink;
let uploadDir: string;
let cleanup: () => Promise<void>;

before(async () => {
  const t = await openTempStore();
  store = t.store;
  cleanup = t.cleanup;
  const log = pino({ level: 'silent' });
  const config = { ...defaultConfig, writer: { ...defaultConfig.writer, flushMs: 50 } };
  const metrics = createCollectorMetrics();
  sink = createFlowSink({ store, config, log, metrics });
  uploadDir = join(t.dir, 'uploads');
  const pcap = new PcapService({ sink, config: { ...config.pcap, maxUploadBytes: LIMIT }, uploadDir, log });
  const ctx = { flowQuery: new FlowQuery(store, compileFilter), exporters: null, metrics: metrics.registry, token: 's3cret', health: async () => ({}) };
  app = await buildServer({ ...ctx, pcap }, false);
  bare = await buildServer(ctx, false);
});
after(async () => {
  await app.close();
  await bare.close();
  await sink.close();
  await cleanup();
});

async function stored(capture: string): Promise<{ flows: number; packets: number }> {
  const [r] = await store.queryRows<{ flows: number; packets: number }>(
    'SELECT count() AS flows, sum(packets) AS packets FROM flows WHERE capture = {c:String}', { c: capture });
  return { flows: Number(r.flows), packets: Number(r.packets) };
}

/** Byte offsets of the blocks of a little-endian pcapng file. */
function blockOffsets(b: Buffer): number[] {
  const out: number[] = [];
  for (let o = 0; o + 8 <= b.length; o += b.readUInt32LE(o + 4)) out.push(o);
  return out;
}

test('a capture is stored with source pcap and its name, and the summary says what was in it', async () => {
  const body = readFileSync(join(TESTDATA, 'ids/zeek/erspanII.pcap'));
  const r = await app.inject({ method: 'POST', url: '/api/v1/pcap?name=erspanII.pcap&active=120&idle=30', headers: PCAP, payload: body });
  assert.equal(r.statusCode, 200, r.body);
  const s = r.json();
  assert.equal(s.capture, 'erspanII.pcap');
  assert.equal(s.packets, 4);
  assert.equal(s.complete, true);
  assert.deepEqual([s.activeTimeout, s.idleTimeout], [120, 30]);
  assert.deepEqual(s.byEncap, { gre: 4, erspan2: 4 });
  assert.deepEqual(await stored('erspanII.pcap'), { flows: s.flows, packets: 4 });
  const rows = await store.queryRows<Record<string, unknown>>(
    "SELECT source, encap, mirror_session, toString(outer_src) AS os FROM flows WHERE capture = 'erspanII.pcap'");
  assert.ok(rows.every((x) => x.source === 'pcap' && x.encap === 'gre,erspan2' && x.os === '::ffff:2.2.2.2'), JSON.stringify(rows));
  // The session name, when given, is the capture name; gzip is read as well.
  const gz = await app.inject({ method: 'POST', url: '/api/v1/pcap?name=x.pcap.gz&session=span-7', headers: { ...AUTH, 'content-type': 'application/gzip' }, payload: gzipSync(body) });
  assert.equal(gz.statusCode, 200, gz.body);
  assert.equal(gz.json().compressed, true);
  assert.deepEqual(await stored('span-7'), { flows: s.flows, packets: 4 });
  assert.deepEqual(readdirSync(uploadDir), [], 'the spooled upload is removed');
});

test('no token: 401, before anything is read', async () => {
  const r = await app.inject({ method: 'POST', url: '/api/v1/pcap', headers: { 'content-type': 'application/octet-stream' }, payload: Buffer.alloc(100) });
  assert.equal(r.statusCode, 401);
  assert.match(r.json().message, /bearer token/);
  const wrong = await app.inject({ method: 'POST', url: '/api/v1/pcap', headers: { authorization: 'Bearer nope', 'content-type': 'application/octet-stream' }, payload: Buffer.alloc(100) });
  assert.equal(wrong.statusCode, 401);
});

test('too big: 413 with a message, by announced length or while streaming', async () => {
  const big = Buffer.alloc(LIMIT + 1);
  const r = await app.inject({ method: 'POST', url: '/api/v1/pcap', headers: PCAP, payload: big });
  assert.equal(r.statusCode, 413);
  assert.match(r.json().message, new RegExp(`upload limit of ${LIMIT} bytes`));
  // Chunked, no content-length: cut off once past the limit.
  const chunks = Array.from({ length: 10 }, () => Buffer.alloc(LIMIT / 5));
  const s = await app.inject({ method: 'POST', url: '/api/v1/pcap', headers: PCAP, payload: Readable.from(chunks) });
  assert.equal(s.statusCode, 413);
  assert.deepEqual(readdirSync(uploadDir), []);
});

test('not a capture: 422 with the reader\'s message; empty: 400; JSON without a path: 400; text: 415; bad parameters: 400', async () => {
  const r = await app.inject({ method: 'POST', url: '/api/v1/pcap?name=notes.txt', headers: PCAP, payload: Buffer.from('hello, this is no capture\n') });
  assert.equal(r.statusCode, 422);
  assert.equal(r.json().code, 'unknown-format');
  assert.equal(r.json().offset, 0);
  assert.match(r.json().message, /not a pcap or pcapng capture \(magic 0x68656c6c\)/);
  const gzGarbage = await app.inject({ method: 'POST', url: '/api/v1/pcap', headers: PCAP, payload: gzipSync(Buffer.from('still no capture')) });
  assert.equal(gzGarbage.statusCode, 422);
  const empty = await app.inject({ method: 'POST', url: '/api/v1/pcap', headers: PCAP, payload: Buffer.alloc(0) });
  assert.equal(empty.statusCode, 400);
  assert.match(empty.json().message, /empty body/);
  const json = await app.inject({ method: 'POST', url: '/api/v1/pcap', headers: AUTH, payload: { a: 1 } });
  assert.equal(json.statusCode, 400);
  assert.equal(json.json().code, 'bad-path-body');
  const text = await app.inject({ method: 'POST', url: '/api/v1/pcap', headers: { ...AUTH, 'content-type': 'text/plain' }, payload: 'hello' });
  assert.equal(text.statusCode, 415);
  for (const q of ['active=0', 'idle=abc', 'sesion=x', `name=${'x'.repeat(300)}`]) {
    const b = await app.inject({ method: 'POST', url: `/api/v1/pcap?${q}`, headers: PCAP, payload: Buffer.alloc(10) });
    assert.equal(b.statusCode, 400, q);
    assert.match(b.json().message, /querystring/, q);
  }
});

test('cut in the middle of a packet: 422 naming the offset, the flows before it stored', async () => {
  const full = readFileSync(join(TESTDATA, 'ids/zeek/ssh_sshguess.pcap'));
  const cut = full.subarray(0, Math.floor(full.length / 2));
  const r = await app.inject({ method: 'POST', url: '/api/v1/pcap?name=cut.pcap', headers: PCAP, payload: cut });
  assert.equal(r.statusCode, 422);
  const j = r.json();
  assert.equal(j.code, 'truncated');
  assert.ok(j.offset > 24 && j.offset < cut.length);
  assert.match(j.message, new RegExp(`offset ${j.offset}`));
  assert.equal(j.summary.complete, false);
  assert.ok(j.summary.packets > 100);
  assert.deepEqual(await stored('cut.pcap'), { flows: j.summary.flows, packets: j.summary.packets });
});

test('a corrupt pcapng block: 422 at the block\'s offset, the packets before it stored', async () => {
  const full = Buffer.from(readFileSync(join(TESTDATA, 'ids/generated/lo-http.pcapng')));
  const offsets = blockOffsets(full);
  const k = 9;
  full.writeUInt32LE(0x7fffffff, offsets[k] + 4);
  const r = await app.inject({ method: 'POST', url: '/api/v1/pcap?name=corrupt.pcapng', headers: PCAP, payload: full });
  assert.equal(r.statusCode, 422);
  const j = r.json();
  assert.equal(j.code, 'corrupt');
  assert.equal(j.offset, offsets[k]);
  assert.match(j.message, new RegExp(`corrupt pcapng block at offset ${offsets[k]}`));
  assert.ok(j.summary.packets > 0);
  assert.equal((await stored('corrupt.pcapng')).packets, j.summary.packets);
});

test('Accept: application/x-ndjson streams progress lines and ends with the summary', async () => {
  const body = readFileSync(join(TESTDATA, 'ids/real-ddos/pkt.TCP.synflood.spoofed.pcap'));
  const r = await app.inject({ method: 'POST', url: '/api/v1/pcap?name=flood.pcap', headers: { ...PCAP, accept: 'application/x-ndjson' }, payload: body });
  assert.equal(r.statusCode, 200);
  assert.match(String(r.headers['content-type']), /application\/x-ndjson/);
  const lines = r.body.trim().split('\n').map((l) => JSON.parse(l));
  const progress = lines.filter((l) => l.type === 'progress');
  assert.ok(progress.length >= 1);
  assert.ok(progress.every((p) => p.totalBytes === body.length && p.bytesRead <= body.length && p.packets > 0));
  const last = lines.at(-1);
  assert.equal(last.type, 'summary');
  assert.equal(last.packets, 37841);
  assert.equal((await stored('flood.pcap')).packets, 37841);
  // Damage in stream mode: an error line before the summary.
  const cut = await app.inject({ method: 'POST', url: '/api/v1/pcap?name=cut2.pcap', headers: { ...PCAP, accept: 'application/x-ndjson' }, payload: body.subarray(0, 100_001) });
  const cl = cut.body.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(cut.statusCode, 200);
  assert.deepEqual(cl.slice(-2).map((l) => l.type), ['error', 'summary']);
  assert.equal(cl.at(-2).code, 'truncated');
  // Nothing readable at all: a plain 422, as without streaming.
  const junk = await app.inject({ method: 'POST', url: '/api/v1/pcap', headers: { ...PCAP, accept: 'application/x-ndjson' }, payload: Buffer.from('junk junk junk') });
  assert.equal(junk.statusCode, 422);
  assert.match(junk.json().message, /not a pcap/);
});

test('a process that stores no flows answers 503', async () => {
  const r = await bare.inject({ method: 'POST', url: '/api/v1/pcap', headers: PCAP, payload: readFileSync(join(TESTDATA, 'ids/zeek/erspanII.pcap')) });
  assert.equal(r.statusCode, 503);
  assert.match(r.json().message, /stores no flows/);
});

// ---- path mode: {"path"} from a client on this host -------------------------------------------------------------

const JSON_AUTH = { ...AUTH, 'content-type': 'application/json' };

/** Every stored column but the ingest time and the capture name, sorted: what must not depend on the mode. */
async function rowsOf(capture: string): Promise<string[]> {
  const rows = await store.queryRows<Record<string, unknown>>('SELECT * EXCEPT (time_received, capture) FROM flows WHERE capture = {c:String}', { c: capture });
  return rows.map((r) => JSON.stringify(r)).sort();
}

test('path mode: the daemon reads the file where it is; the same rows and summary as an upload', async () => {
  const file = join(TESTDATA, 'ids/real-ddos/pkt.TCP.synflood.spoofed.pcap');
  const up = await app.inject({ method: 'POST', url: '/api/v1/pcap?name=flood-up.pcap', headers: PCAP, payload: readFileSync(file) });
  assert.equal(up.statusCode, 200, up.body);
  const st = statSync(file);
  const byPath = await app.inject({ method: 'POST', url: '/api/v1/pcap?session=flood-path', headers: JSON_AUTH, payload: { path: file, size: st.size, mtimeMs: st.mtimeMs } });
  assert.equal(byPath.statusCode, 200, byPath.body);
  const a = up.json();
  const b = byPath.json();
  assert.equal(b.name, 'pkt.TCP.synflood.spoofed.pcap', 'the name defaults to the file\'s');
  assert.equal(b.capture, 'flood-path');
  for (const k of ['packets', 'bytes', 'flows', 'fileBytes', 'format', 'malformed', 'byEncap', 'fragments', 'complete', 'errors']) {
    assert.deepEqual(b[k], a[k], k);
  }
  const [ru, rp] = [await rowsOf('flood-up.pcap'), await rowsOf('flood-path')];
  assert.equal(rp.length, b.flows);
  assert.deepEqual(rp, ru, 'the same rows stored');
  assert.deepEqual(readdirSync(uploadDir), [], 'nothing spooled');
});

test('path mode streams progress and reports damage with its offset, keeping the flows before it', async () => {
  const dir = join(uploadDir, '..', 'path-mode');
  mkdirSync(dir, { recursive: true });
  const full = readFileSync(join(TESTDATA, 'ids/real-ddos/pkt.TCP.synflood.spoofed.pcap'));
  const r = await app.inject({ method: 'POST', url: '/api/v1/pcap?name=flood-nd.pcap', headers: { ...JSON_AUTH, accept: 'application/x-ndjson' },
    payload: { path: join(TESTDATA, 'ids/real-ddos/pkt.TCP.synflood.spoofed.pcap') } });
  assert.equal(r.statusCode, 200);
  const lines = r.body.trim().split('\n').map((l) => JSON.parse(l));
  assert.ok(lines.some((l) => l.type === 'progress' && l.totalBytes === full.length));
  assert.equal(lines.at(-1).type, 'summary');
  assert.equal(lines.at(-1).packets, 37841);
  const cutFile = join(dir, 'cut-path.pcap');
  writeFileSync(cutFile, full.subarray(0, 100_001));
  const cut = await app.inject({ method: 'POST', url: '/api/v1/pcap', headers: JSON_AUTH, payload: { path: cutFile } });
  assert.equal(cut.statusCode, 422);
  const j = cut.json();
  assert.equal(j.code, 'truncated');
  assert.ok(j.offset > 24 && j.offset <= 100_001);
  assert.ok(j.summary.packets > 0);
  assert.deepEqual(await stored('cut-path.pcap'), { flows: j.summary.flows, packets: j.summary.packets });
  const junk = join(dir, 'notes.txt');
  writeFileSync(junk, 'hello, this is no capture\n');
  const nc = await app.inject({ method: 'POST', url: '/api/v1/pcap', headers: JSON_AUTH, payload: { path: junk } });
  assert.equal(nc.statusCode, 422);
  assert.equal(nc.json().code, 'unknown-format');
});

test('path mode is refused without the token, from another host, through a proxy, for what cannot be read', async () => {
  const file = join(TESTDATA, 'ids/zeek/erspanII.pcap');
  const noToken = await app.inject({ method: 'POST', url: '/api/v1/pcap', headers: { 'content-type': 'application/json' }, payload: { path: file } });
  assert.equal(noToken.statusCode, 401);
  const remote = await app.inject({ method: 'POST', url: '/api/v1/pcap?name=remote.pcap', headers: JSON_AUTH, payload: { path: file }, remoteAddress: '192.0.2.7' });
  assert.equal(remote.statusCode, 403);
  assert.equal(remote.json().code, 'path-not-local');
  assert.match(remote.json().message, /upload its bytes instead/);
  const proxied = await app.inject({ method: 'POST', url: '/api/v1/pcap?name=remote.pcap', headers: { ...JSON_AUTH, 'x-forwarded-for': '192.0.2.7' }, payload: { path: file } });
  assert.equal(proxied.statusCode, 403);
  const v6 = await app.inject({ method: 'POST', url: '/api/v1/pcap?name=v6.pcap', headers: JSON_AUTH, payload: { path: file }, remoteAddress: '::1' });
  assert.equal(v6.statusCode, 200, 'IPv6 loopback is local');
  assert.equal((await stored('remote.pcap')).flows, 0, 'nothing read for a refused client');

  const dir = join(uploadDir, '..', 'path-refusals');
  mkdirSync(dir, { recursive: true });
  const fifo = join(dir, 'fifo.pcap');
  execFileSync('mkfifo', [fifo]);
  const cases: Array<[object, number, string, RegExp]> = [
    [{ path: join(dir, 'missing.pcap') }, 422, 'path-unreadable', /cannot read .*missing\.pcap: no such file/],
    [{ path: dir }, 422, 'path-unreadable', /is not a regular file/],
    [{ path: fifo }, 422, 'path-unreadable', /is not a regular file/],
    [{ path: file, size: statSync(file).size + 1 }, 422, 'path-changed', /not the file the client named/],
    [{ path: file, mtimeMs: statSync(file).mtimeMs - 60_000 }, 422, 'path-changed', /not the file the client named/],
    [{ path: 'relative/file.pcap' }, 400, 'bad-path-body', /must be absolute/],
    [{ path: file, extra: 1 }, 400, 'bad-path-body', /unknown: extra/],
    [{ path: '' }, 400, 'bad-path-body', /"path"/],
  ];
  for (const [payload, status, code, message] of cases) {
    const r = await app.inject({ method: 'POST', url: '/api/v1/pcap', headers: JSON_AUTH, payload });
    assert.equal(r.statusCode, status, JSON.stringify(payload));
    assert.equal(r.json().code, code, JSON.stringify(payload));
    assert.match(r.json().message, message);
  }
  const bad = await app.inject({ method: 'POST', url: '/api/v1/pcap', headers: JSON_AUTH, payload: '{"path": ' });
  assert.equal(bad.statusCode, 400);
  const none = await bare.inject({ method: 'POST', url: '/api/v1/pcap', headers: JSON_AUTH, payload: { path: file } });
  assert.equal(none.statusCode, 503);
});
