// Aggregation (-a, -A, -b, -P) through the daemon's API against nfdump 1.7.1 on the same datagrams: nfcapd
// receives softflowd's export and repeats every datagram to an in-process dvflow.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import dgram from 'node:dgram';
import { startNfcapd, runSoftflowd, type Nfcapd , stopAllPeers } from '../helpers/peers.ts';
import { v5Packet, v5Record, type V5Record } from '../decoders/datagramBuilder.ts';
import { renderResponse } from '../../src/cli/nfdumpOutput.ts';
import type { FlowRow } from '../../src/query/flowQuery.ts';
import { dvflow } from '../helpers/cliDaemon.ts';

const run = promisify(execFile);
const pcaps = ['lo-http.pcap', 'hping-udp-flood.pcap'].map((p) => `/work/shared/testdata/ids/generated/${p}`);

let t: TestDaemon;
let nf: Nfcapd;

before(async () => {
  t = await startTestDaemon();
  nf = await startNfcapd({ repeatTo: t.udpPort });
  for (const p of pcaps) await runSoftflowd(p, nf.port, 9);
  await sendSyntheticV5(nf.port);
  await nf.stop();
  await t.settle();
});
after(async () => t?.close());

/** NetFlow v5 flows between a few networks, with repeated 5-tuples and replies, deterministic. */
async function sendSyntheticV5(port: number): Promise<void> {
  let seed = 12345;
  const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2147483648), seed % n);
  const now = Math.floor(Date.now() / 1000);
  const recs: V5Record[] = [];
  for (let i = 0; i < 600; i++) {
    const src = `10.${1 + rnd(3)}.${rnd(4)}.${1 + rnd(6)}`, dst = `192.168.${rnd(3)}.${1 + rnd(4)}`;
    const proto = [6, 6, 17, 1][rnd(4)]!;
    const dstPort = proto === 1 ? 0 : [22, 53, 80, 443][rnd(4)]!, srcPort = proto === 1 ? 0 : 40000 + rnd(5);
    const packets = 1 + rnd(20), bytes = packets * (40 + rnd(1400)), first = 1000 + i * 50;
    recs.push({ src, dst, srcPort, dstPort, proto, packets, bytes, first, last: first + rnd(5000) });
    if (rnd(3) === 0) recs.push({ src: dst, dst: src, srcPort: dstPort, dstPort: srcPort, proto, packets: 1 + rnd(9), bytes: 60 * (1 + rnd(9)), first: first + 5, last: first + 4000 });
  }
  const sock = dgram.createSocket('udp4');
  for (let i = 0, seq = 0; i < recs.length; i += 30) {
    const chunk = recs.slice(i, i + 30);
    const pkt = v5Packet({ sysUptime: 200_000, unixSecs: now, unixNsecs: 0, sequence: seq }, chunk.map(v5Record));
    seq += chunk.length;
    await new Promise<void>((r, j) => sock.send(pkt, port, '127.0.0.1', (e) => (e ? j(e) : r())));
    await new Promise((r) => setTimeout(r, 5));
  }
  sock.close();
}

/** nfdump with a '|'-separated fmt: one array of trimmed cells per record. */
async function nfdump(args: string[], fmt: string): Promise<string[][]> {
  const { stdout } = await run('nfdump', ['-R', nf.dir, '-N', '-q', ...args, '-o', `fmt:${fmt}`]);
  return stdout.split('\n').filter((l) => l.includes('|')).map((l) => l.split('|').map((c) => c.trim()));
}

type Counts = Map<string, [number, number, number]>;

function fromNfdump(rows: string[][], keys: number): Counts {
  const m: Counts = new Map();
  for (const r of rows) m.set(r.slice(0, keys).join(' '), [Number(r[keys]), Number(r[keys + 1]), Number(r[keys + 2])]);
  return m;
}

function fromDvflow(rows: FlowRow[], keys: string[]): Counts {
  const m: Counts = new Map();
  for (const r of rows) m.set(keys.map((k) => String(r[k] || (k.endsWith('addr') ? '0.0.0.0' : 0))).join(' '), [Number(r.flows), Number(r.packets), Number(r.bytes)]);
  return m;
}

/** ICMP type/code as nfdump prints them in %dp. */
const icmpPort = (proto: unknown, port: unknown) => (Number(proto) === 1 || Number(proto) === 58 ? `${Number(port) >> 8}.${Number(port) & 255}` : String(port));

const sortDesc = (m: Counts) => [...m.entries()].sort((a, b) => b[1][0] - a[1][0] || (a[0] < b[0] ? -1 : 1));

test('-A srcip: every aggregated record equals nfdump\'s (flows, packets, bytes per key)', async () => {
  const nd = fromNfdump(await nfdump(['-A', 'srcip'], '%sa|%fl|%pkt|%byt'), 1);
  const dv = await t.query({ aggregateFields: ['srcip'], order: 'flows' });
  assert.ok(nd.size > 1, 'nfdump found several sources');
  assert.deepEqual(fromDvflow(dv.flows!, ['src_addr']), nd);
  assert.deepEqual(sortDesc(fromDvflow(dv.flows!, ['src_addr']))[0], sortDesc(nd)[0], 'same top record');
});

test('-A srcip,dstport ordered by flows: the same records and the same top records as nfdump', async () => {
  const nd = fromNfdump(await nfdump(['-A', 'srcip,dstport', '-O', 'flows'], '%sa|%dp|%fl|%pkt|%byt'), 2);
  const dv = await t.query({ aggregateFields: ['srcip,dstport'], order: 'flows' });
  assert.deepEqual(fromDvflow(dv.flows!, ['src_addr', 'dst_port']), nd);
  const top = await t.query({ aggregateFields: ['srcip', 'dstport'], order: 'flows', limit: 3 });
  assert.deepEqual(top.flows!.map((r) => r.flows), sortDesc(nd).slice(0, 3).map(([, v]) => v[0]));
});

test('-a aggregates on the 5-tuple as nfdump does', async () => {
  const nd = fromNfdump(await nfdump(['-a'], '%pr|%sa|%sp|%da|%dp|%fl|%pkt|%byt'), 5);
  const dv = await t.query({ aggregate: true });
  const m: Counts = new Map();
  for (const r of dv.flows!) m.set([r.proto, r.src_addr, r.src_port, r.dst_addr, icmpPort(r.proto, r.dst_port)].join(' '), [Number(r.flows), Number(r.packets), Number(r.bytes)]);
  assert.deepEqual(m, nd);
  assert.ok([...nd.values()].some((v) => v[0] > 1), 'some 5-tuples hold several flows');
});

test('-A srcip4/24 masks the addresses as nfdump does', async () => {
  const nd = fromNfdump(await nfdump(['-A', 'srcip4/24'], '%sa|%fl|%pkt|%byt'), 1);
  const dv = await t.query({ aggregateFields: ['srcip4/24'] });
  assert.deepEqual(fromDvflow(dv.flows!, ['src_addr']), nd);
});

test('-b folds both directions: one record per connection, both counters', async () => {
  const nd = await nfdump(['-b'], '%pr|%sa|%sp|%da|%dp|%fl|%ipkt|%opkt|%ibyt|%obyt');
  const dv = await t.query({ bidirectional: true });
  const key = (a: string, ap: string | number, b: string, bp: string | number, p: string | number) => {
    const x = `${a}:${ap}`, y = `${b}:${bp}`;
    return `${p} ${x < y ? x + ' ' + y : y + ' ' + x}`;
  };
  const ndm = new Map(nd.map((r) => [key(r[1]!, r[2]!, r[3]!, r[4]!, r[0]!), [Number(r[5]), Number(r[6]) + Number(r[7]), Number(r[8]) + Number(r[9])]]));
  const dvm = new Map(dv.flows!.map((r) => [key(String(r.src_addr), r.src_port!, String(r.dst_addr), icmpPort(r.proto, r.dst_port), r.proto!), [Number(r.flows), Number(r.packets), Number(r.bytes)]]));
  assert.deepEqual(dvm, ndm);
  const both = dv.flows!.filter((r) => Number(r.out_packets) > 0);
  assert.ok(both.length > 0, 'some records fold a flow and its reverse');
  for (const r of both) assert.equal(Number(r.in_packets) + Number(r.out_packets), Number(r.packets));
  const text = renderResponse(dv, { format: 'line', plain: true, quiet: false, topN: 10 });
  assert.match(text, /<->/);
  assert.match(text.split('\n')[0]!, /Out Pkt\s+In Pkt Out Byte\s+In Byte Flows/);
});

test('-P filters the aggregated records, not the flows', async () => {
  const all = await t.query({ aggregateFields: ['srcip'] });
  const big = await t.query({ aggregateFields: ['srcip'], postFilter: 'flows > 1' });
  assert.deepEqual(big.flows!.map((r) => r.src_addr), all.flows!.filter((r) => Number(r.flows) > 1).map((r) => r.src_addr));
  assert.ok(big.flows!.length > 0 && big.flows!.length < all.flows!.length);
  const pkts = await t.query({ aggregateFields: ['srcip', 'dstport'], postFilter: 'packets > 5 and dst port 22' });
  assert.ok(pkts.flows!.every((r) => Number(r.packets) > 5 && r.dst_port === 22));
  // A raw-flow filter would keep flows with more than 5 packets; -P keeps aggregates whose sum is above 5.
  const raw = await t.query({ filter: 'packets > 5 and dst port 22', aggregateFields: ['srcip', 'dstport'] });
  assert.notDeepEqual(pkts.flows!.map((r) => r.packets), raw.flows!.map((r) => r.packets));
});

test('the aggregated listing prints nfdump\'s -A header', async () => {
  const res = await t.query({ aggregateFields: ['srcip', 'dstport'], order: 'flows', limit: 2 });
  const ours = renderResponse(res, { format: 'line', plain: false, quiet: false, topN: 10 }).split('\n');
  const { stdout } = await run('nfdump', ['-R', nf.dir, '-A', 'srcip,dstport', '-O', 'flows', '-c', '2']);
  assert.equal(ours[0], stdout.split('\n')[0]);
});

test('a bad -A field or -P term is a 400 with a clear message', async () => {
  for (const body of [{ aggregateFields: ['srcip,bogus'] }, { aggregateFields: ['srcip4/40'] }, { aggregateFields: ['srcip'], postFilter: 'dst port 80' }, { postFilter: 'flows > 1' }]) {
    const res = await fetch(`${t.api}/api/v1/query`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    assert.equal(res.status, 400, JSON.stringify(body));
    const j = (await res.json()) as { message: string };
    assert.match(j.message, /aggregat|-P/, j.message);
  }
  const bad = await fetch(`${t.api}/api/v1/query`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ aggregate: 'yes' }) });
  assert.equal(bad.status, 400);
});

const allTags = '%ts %te %td %pr %sa %da %sap %dap %sp %dp %pkt %byt %fl %flg %tos %stos %dtos %in %out %sas %das %smk %dmk %svln %dvln %ra %bps %pps %bpp %ismc %odmc %nh %nhb %dir %ipkt %ibyt';

test('-o fmt: with nfdump\'s tags prints the same header and the same lines as nfdump', async () => {
  const fmt = `fmt:${allTags}`;
  const { stdout } = await run('nfdump', ['-R', nf.dir, '-o', fmt, 'proto tcp or proto udp or proto icmp'], { maxBuffer: 256 * 1024 * 1024 });
  const nd = stdout.split('\n');
  const res = await t.query({ filter: 'proto tcp or proto udp or proto icmp' });
  const ours = renderResponse(res, { format: fmt, plain: false, quiet: false, topN: 10 }).split('\n');
  assert.equal(ours[0], nd[0], 'header');
  const body = (l: string[]) => l.filter((x) => /^\d{4}-/.test(x)).sort();
  assert.equal(body(ours).length, res.flows!.length);
  assert.deepEqual(body(ours), body(nd));
});

test('-A with -o fmt: prints nfdump\'s aggregated values (unaggregated keys as 0 / 0.0.0.0)', async () => {
  const fmt = 'fmt:%sa|%da|%sp|%dp|%pr|%fl|%pkt|%byt|%bpp';
  const { stdout } = await run('nfdump', ['-R', nf.dir, '-q', '-N', '-A', 'srcip4/16,dstport', '-o', fmt]);
  const res = await t.query({ aggregateFields: ['srcip4/16', 'dstport'] });
  const lines = (text: string) => text.split('\n').filter((l) => l !== '').sort();
  const ours = lines(renderResponse(res, { format: fmt, plain: true, quiet: true, topN: 10 }));
  assert.deepEqual(ours, lines(stdout));
  assert.ok(ours.some((l) => /^\s+10\.1\.0\.0\|\s+0\.0\.0\.0\|\s+0\|/.test(l)), 'masked source, zero destination and source port');
});

test('dvflow query -A / -b / -P / -o fmt: through the daemon prints what nfdump prints', async () => {
  const split = (text: string) => {
    const l = text.split('\n').filter((x) => x !== '' && !/^(Total flows processed|Sys:)/.test(x));
    return { header: l[0], body: l.filter((x) => /^\d{4}-/.test(x)).sort(), summary: l.filter((x) => /^(Summary|Time window)/.test(x)) };
  };
  for (const args of [['-A', 'srcip,dstport'], ['-A', 'proto,dstip4/24'], ['-b'], ['-A', 'srcip', '-o', 'fmt:%sa %fl %pkt %byt %bps']]) {
    const mine = await dvflow(['query', '--api', t.api, ...args]);
    assert.equal(mine.code, 0, mine.stderr);
    const { stdout } = await run('nfdump', ['-R', nf.dir, ...args], { maxBuffer: 256 * 1024 * 1024 });
    const a = split(mine.stdout), b = split(stdout);
    assert.equal(a.header, b.header, args.join(' '));
    if (args[0] !== '-b') assert.deepEqual(a.body, b.body, args.join(' '));
    else assert.equal(a.body.length, b.body.length);
    assert.deepEqual(a.summary, b.summary);
  }
  const p = await dvflow(['query', '--api', t.api, '-A', 'srcip', '-P', 'flows > 100', '-N', '-q', '-o', 'fmt:%sa|%fl']);
  assert.equal(p.code, 0, p.stderr);
  const rows = p.stdout.trim().split('\n').map((l) => l.split('|').map((c) => c.trim()));
  assert.ok(rows.length > 0 && rows.every((r) => Number(r[1]) > 100), p.stdout);
  const bad = await dvflow(['query', '--api', t.api, '-A', 'srcip,colour']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /unknown aggregation field 'colour'/);
  const badFmt = await dvflow(['query', '--api', t.api, '-o', 'fmt:%sa %nope']);
  assert.notEqual(badFmt.code, 0);
  assert.match(badFmt.stderr, /unknown format tag '%nope'/);
});

after(() => stopAllPeers());
