// bench/query: how fast `dvflow query` (its HTTP API, embedded ClickHouse) answers nfdump-style questions,
// against `nfdump -R` on the same flows.
//
// 1. Record a NetFlow v9 stream: softflowd exports real captures (../shared/testdata) to a recording socket.
// 2. Replay it in a loop (<= --rate datagrams/s, so neither collector drops anything) to nfcapd, which repeats
//    every datagram (-R) to a `dvflow start` subprocess: both store the same flows, --flows in all.
// 3. Time each query --runs times (median) with nfdump -R and with dvflow's POST /api/v1/query:
//    -s srcip/bytes, -s dstport, -A srcip,dstport, a selective filter, -c 100. Print the times and the ratio.
//
// Usage: node --import tsx bench/query.ts [--flows 5000000] [--rate 1500] [--runs 3] [--keep]
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { recordSoftflowdStream, v9DataRecords } from './netflowStream.ts';
import { freeUdpPort } from '../collector/test/helpers/peers.ts';
import { freeTcpPort } from '../collector/test/helpers/cliDaemon.ts';
import { median } from './stats.ts';
import { ensureCliBundle } from './cliBundle.ts';

const { values: args } = parseArgs({
  options: {
    flows: { type: 'string', default: '5000000' },
    // softflowd packs ~26 flows a datagram: 5000/s is ~130k flows/s, more than the embedded store inserts on
    // 2 cores (its write queue fills and drops). 1500/s (~40k flows/s) stores everything.
    rate: { type: 'string', default: '1500' },
    runs: { type: 'string', default: '3' },
    keep: { type: 'boolean', default: false },
    // Reuse stores kept by an earlier --keep run: skip recording and replaying.
    'dvflow-data': { type: 'string' },
    'nfcapd-dir': { type: 'string' },
  },
});
const wantFlows = Number(args.flows);
const rate = Number(args.rate);
const runs = Math.max(1, Number(args.runs));
const root = join(import.meta.dirname, '..');
const testdata = join(root, '..', 'shared', 'testdata', 'ids');
const dvflowBin = join(root, 'collector', 'bin', 'dvflow.js');
ensureCliBundle();

function tmp(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** What softflowd sends (v9) for a varied set of captures. */
function recordStream(): Promise<Buffer[]> {
  return recordSoftflowdStream(['generated/hping-syn-flood.pcap', 'generated/hping-udp-flood.pcap', 'generated/nmap-syn-scan.pcap',
    'generated/hping-icmp-flood.pcap', 'generated/bruteforce-22.pcap', 'zeek/wikipedia.pcap', 'zeek/ssh_sshguess.pcap', 'zeek/nmap-vsn.pcap']);
}

/** Send datagrams in a loop at <= rate/s until `flows` data records went out. */
async function replay(datagrams: Buffer[], perDatagram: number[], port: number, flows: number): Promise<{ sent: number; flows: number }> {
  const sock = dgram.createSocket({ type: 'udp4', sendBufferSize: 8 << 20 });
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  sock.connect(port, '127.0.0.1');
  await new Promise<void>((r) => sock.once('connect', () => r()));
  const t0 = performance.now();
  let sent = 0, done = 0, i = 0, lastReport = 0;
  while (done < flows) {
    const due = Math.floor(((performance.now() - t0) / 1000) * rate) + 1;
    while (sent < due && done < flows) {
      // Finish on a whole pass boundary only when the count is reached; templates recur in the stream.
      done += perDatagram[i]!;
      await new Promise<void>((r) => sock.send(datagrams[i]!, () => r()));
      i = (i + 1) % datagrams.length;
      sent++;
    }
    if (done - lastReport >= 500_000) {
      lastReport = done;
      process.stderr.write(`  sent ${done} flows in ${sent} datagrams (${((performance.now() - t0) / 1000).toFixed(0)} s)\n`);
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  await new Promise((r) => setTimeout(r, 200));
  sock.close();
  return { sent, flows: done };
}

function waitExit(c: ChildProcess): Promise<void> {
  return c.exitCode !== null ? Promise.resolve() : new Promise((r) => c.once('exit', () => r()));
}

async function startDvflow(data: string): Promise<{ child: ChildProcess; port: number; api: string }> {
  const port = await freeUdpPort();
  const http = await freeTcpPort();
  const child = spawn(process.execPath, [dvflowBin, 'start', '--data', data, '--netflow-port', String(port), '--bind', '127.0.0.1', '--http-port', String(http), '--log-level', 'warn'],
    { stdio: ['ignore', 'ignore', 'inherit'] });
  const api = `http://127.0.0.1:${http}`;
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error(`dvflow start exited ${child.exitCode}`);
    try {
      if ((await fetch(`${api}/api/v1/health`)).ok) return { child, port, api };
    } catch { /* starting */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('dvflow did not start');
}

async function post(api: string, body: Record<string, unknown>): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${api}/api/v1/query`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

async function dvflowFlows(api: string): Promise<number> {
  const r = await post(api, { statistics: ['proto'], topN: 0 });
  return (r.json.summary as { flows: number }).flows;
}

function nfdumpFlows(dir: string): number {
  const out = execFileSync('nfdump', ['-R', dir, '-o', 'csv', '-N', '-s', 'proto'], { maxBuffer: 1 << 26 }).toString().trim().split('\n');
  const i = out.indexOf('Summary');
  return i < 0 ? 0 : Number(out[i + 2]!.split(',')[0]);
}

/** Wall time of one nfdump run, output discarded (it is still formatted). */
function timeNfdump(argv: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const c = spawn('nfdump', argv, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    c.stderr!.on('data', (d) => (err += d));
    c.once('exit', (code) => (code === 0 ? resolve(performance.now() - t0) : reject(new Error(`nfdump ${argv.join(' ')}: ${err}`))));
  });
}

async function timeDvflow(api: string, body: Record<string, unknown>): Promise<number> {
  const t0 = performance.now();
  const r = await post(api, body);
  if (r.status !== 200) throw new Error(`dvflow ${JSON.stringify(body)}: ${r.status} ${String(r.json.message)}`);
  return performance.now() - t0;
}

function timeDvflowCli(api: string, argv: string[]): number {
  const t0 = performance.now();
  execFileSync(process.execPath, [dvflowBin, 'query', '--api', api, ...argv], { stdio: ['ignore', 'ignore', 'inherit'], maxBuffer: 1 << 30 });
  return performance.now() - t0;
}

async function medianOfRuns(f: () => Promise<number> | number): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < runs; i++) xs.push(await f());
  return median(xs);
}

// ---- set up: record, replay through nfcapd -R into dvflow (or reuse kept stores) ----
const reuse = args['dvflow-data'] !== undefined && args['nfcapd-dir'] !== undefined;
const data = args['dvflow-data'] ?? tmp('bench-query-dvflow-');
const nfDir = args['nfcapd-dir'] ?? tmp('bench-query-nfcapd-');
const dv = await startDvflow(data);
const t0 = performance.now();
let sent = { sent: 0, flows: 0 };
if (!reuse) {
  const datagrams = await recordStream();
  const per = v9DataRecords(datagrams);
  const perPass = per.reduce((a, b) => a + b, 0);
  console.log(`recorded ${datagrams.length} v9 datagrams, ${perPass} flows a pass; replaying ${wantFlows} flows at <= ${rate} datagrams/s`);
  const nfPort = await freeUdpPort();
  const nf = spawn('nfcapd', ['-p', String(nfPort), '-b', '127.0.0.1', '-w', nfDir, '-t', '86400', '-B', String(32 << 20), '-R', `127.0.0.1/${dv.port}`], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 500));
  sent = await replay(datagrams, per, nfPort, wantFlows);
  nf.kill('SIGTERM');
  await waitExit(nf);
}
// Wait for dvflow's queue to drain and its count to stand still for 5 s (an insert may be in flight).
let stored = -1, still = 0, dropped = 0;
for (let i = 0; i < 900 && still < 5; i++) {
  await new Promise((r) => setTimeout(r, 1000));
  const h = (await (await fetch(`${dv.api}/api/v1/health`)).json()) as { queueRows?: number; droppedRows?: number };
  dropped = h.droppedRows ?? 0;
  const n = await dvflowFlows(dv.api);
  still = (h.queueRows ?? 0) === 0 && n === stored ? still + 1 : 0;
  stored = n;
}
const ex = (await (await fetch(`${dv.api}/api/v1/exporters`)).json()) as { exporters: Array<{ packets: number; flows: number }> };
console.log(`dvflow received ${ex.exporters.reduce((a, e) => a + e.packets, 0)} datagrams, ${ex.exporters.reduce((a, e) => a + e.flows, 0)} flows; write queue dropped ${dropped}`);
const ref = nfdumpFlows(nfDir);
console.log(`sent ${sent.flows} flows in ${sent.sent} datagrams in ${((performance.now() - t0) / 1000).toFixed(0)} s; stored: nfcapd ${ref}, dvflow ${stored}`);
if (ref !== stored) console.log(`WARNING: the stores differ by ${ref - stored} flows`);

// ---- the queries ----
interface Case { name: string; nfdump: string[]; dvflow?: Record<string, unknown>; cli?: string[] }
const sel = 'proto tcp and dst port in [22 80 443] and src net 192.168.0.0/16';
const cases: Case[] = [
  { name: '-s srcip/bytes', nfdump: ['-s', 'srcip/bytes', '-n', '10'], dvflow: { statistics: ['srcip/bytes'], topN: 10 } },
  { name: '-s dstport', nfdump: ['-s', 'dstport', '-n', '10'], dvflow: { statistics: ['dstport'], topN: 10 } },
  { name: '-A srcip,dstport', nfdump: ['-A', 'srcip,dstport'], dvflow: { aggregateFields: ['srcip,dstport'] }, cli: ['-A', 'srcip,dstport'] },
  { name: `-s srcip '${sel}'`, nfdump: ['-s', 'srcip', '-n', '10', sel], dvflow: { statistics: ['srcip'], topN: 10, filter: sel } },
  { name: '-c 100', nfdump: ['-c', '100'], dvflow: { limit: 100 } },
];

const results: Array<{ name: string; nfdump: number; dvflow: number | null; how: string }> = [];
for (const c of cases) {
  const nfMs = await medianOfRuns(() => timeNfdump(['-R', nfDir, '-N', ...c.nfdump]));
  let dvMs: number | null = null;
  let how = 'API';
  try {
    dvMs = await medianOfRuns(() => timeDvflow(dv.api, c.dvflow!));
  } catch (e) {
    if (c.cli) {
      // The API route does not take this option: the CLI against the daemon (includes node's start-up).
      how = `CLI (API refused: ${(e as Error).message.slice(0, 60)})`;
      try {
        dvMs = await medianOfRuns(() => timeDvflowCli(dv.api, c.cli!));
      } catch (e2) {
        how = `skipped: ${(e2 as Error).message.slice(0, 80)}`;
      }
    } else how = `failed: ${(e as Error).message.slice(0, 80)}`;
  }
  results.push({ name: c.name, nfdump: nfMs, dvflow: dvMs, how });
  console.log(`${c.name.padEnd(70)} nfdump ${nfMs.toFixed(0).padStart(7)} ms  dvflow ${dvMs === null ? '      -' : dvMs.toFixed(0).padStart(7)} ms  ${dvMs === null ? '' : `ratio dvflow/nfdump ${(dvMs / nfMs).toFixed(2)}`}  [${how}]`);
}

console.log(`\n${stored} flows (nfcapd ${ref}); median of ${runs} runs`);
console.log('| query | nfdump -R ms | dvflow ms | dvflow/nfdump | how |');
console.log('|---|---:|---:|---:|---|');
for (const r of results) console.log(`| ${r.name} | ${r.nfdump.toFixed(0)} | ${r.dvflow === null ? '-' : r.dvflow.toFixed(0)} | ${r.dvflow === null ? '-' : (r.dvflow / r.nfdump).toFixed(2)} | ${r.how} |`);

dv.child.kill('SIGTERM');
await waitExit(dv.child);
if (!args.keep && !reuse) {
  rmSync(data, { recursive: true, force: true });
  rmSync(nfDir, { recursive: true, force: true });
} else console.log(`kept: dvflow data ${data}, nfcapd ${nfDir}`);
