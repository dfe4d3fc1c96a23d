// bench/pcap: dvflow's capture ingest against nfpcapd 1.7.1 (Debian 12) on the same ≥ 1 GB capture.
//
// 1. Make the capture once (bench/makeCapture.ts, cached under $TMPDIR/dvflow-bench-pcap/): classic µs pcap,
//    50,000 concurrent TCP/UDP/ICMP flows (about a third of TCP packets the reverse direction), 20 % of the frames
//    802.1Q-tagged and 10 % in plain GRE (encapsulations nfpcapd 1.7.1 also decodes), 40–1514-byte frames.
// 2. Read it once so both tools start from the page cache.
// 3. Time, alternately, `runs` times each (each in its own process, wall clock including start-up):
//    - `nfpcapd -r FILE -w DIR -e 300,60` (its default timeouts; it writes nfcapd files, read back with nfdump);
//    - dvflow's read → decode → flow table path with no storage (`ingestCapture`, what `dvflow pcap` and the daemon
//      run), with dvflow's flow rules, then with nfpcapd's (`nfpcapdCompat`, to show equal flow counts);
//    and once: `dvflow pcap FILE` uploading to a spawned `dvflow start` (embedded ClickHouse): spooling the upload
//    (read as it arrives) and storing every flow, with the stored totals checked against the summary.
// 4. Print packets/s and MB/s (file bytes) per path and the ratio to nfpcapd (best of the runs; the median too).
//
// Usage: node --import tsx bench/pcap.ts [--bytes 1100000000] [--file F] [--runs 3] [--skip-upload]
// (`--pure FILE [--compat]` is the child process of step 3.)
//
// Measured on the 2-core development VM (AMD EPYC, on a shared host: expect ±15 % between runs), 1.10 GB,
// 1,659,995 packets, best of 5 (median in brackets):
//   nfpcapd 1.7.1 -r                        2.60 s (3.01)   639,585 packets/s  424 MB/s  1.00×
//   dvflow read → decode → flows            2.08 s (2.35)   799,396 packets/s  530 MB/s  1.25×
//   dvflow, nfpcapd-compatible flows        2.16 s (2.87)   768,978 packets/s  510 MB/s  1.20×
//   dvflow pcap → dvflow start (stored)     9.27 s          179,054 packets/s  119 MB/s  0.28×
// Packet and byte totals of both tools are equal; flow counts differ by the documented rules (nfpcapd emits every
// ICMP and DNS packet as its own flow: 253,995 flows against dvflow's 126,697) and are equal in nfpcapd mode. The
// stored path is bound by the embedded ClickHouse's inserts (some 30 µs of CPU per flow row here, on the same two cores).
import { spawn, execFile } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { makeCapture } from './makeCapture.ts';
import { ingestCapture } from '../collector/src/pcap/ingestCapture.ts';
import { freeUdpPort, nfdumpTotals } from '../collector/test/helpers/peers.ts';
import { freeTcpPort } from '../collector/test/helpers/cliDaemon.ts';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..');
const dvflowBin = join(root, 'collector', 'bin', 'dvflow.js');

const { values: args } = parseArgs({
  options: {
    bytes: { type: 'string', default: '1100000000' },
    file: { type: 'string' },
    runs: { type: 'string', default: '3' },
    'skip-upload': { type: 'boolean', default: false },
    pure: { type: 'string' },
    compat: { type: 'boolean', default: false },
  },
});

interface Totals {
  flows: number;
  packets: number;
  bytes: number;
}

// ---- child: the pure path --------------------------------------------------------------------------------------

if (args.pure) {
  const t0 = performance.now();
  let flows = 0;
  let packets = 0;
  let bytes = 0;
  const s = await ingestCapture(args.pure, {
    flowTable: { nfpcapdCompat: args.compat, activeTimeoutMs: 300_000, idleTimeoutMs: 60_000 },
    onRecords: (rs) => {
      flows += rs.length;
      for (const r of rs) {
        packets += r.packets;
        bytes += r.bytes;
      }
    },
  });
  process.stdout.write(`${JSON.stringify({ flows, packets, bytes, readPackets: s.packets, fileBytes: s.fileBytes, ms: performance.now() - t0 })}\n`);
  process.exit(0);
}

// ---- parent ----------------------------------------------------------------------------------------------------

async function timed(cmd: string, argv: string[]): Promise<{ ms: number; stdout: string }> {
  const t0 = performance.now();
  const { stdout } = await run(cmd, argv, { maxBuffer: 1 << 26 });
  return { ms: performance.now() - t0, stdout };
}

async function warm(file: string): Promise<void> {
  for await (const _ of createReadStream(file, { highWaterMark: 4 << 20 })) { /* page cache */ }
}

function stats(ms: number[]): { best: number; median: number } {
  const s = [...ms].sort((a, b) => a - b);
  return { best: s[0], median: s[Math.floor(s.length / 2)] };
}

const nf = new Intl.NumberFormat('en-US');
const n = (v: number) => nf.format(Math.round(v));

async function uploadRun(file: string): Promise<{ ms: number; serverMs: number; summary: Totals; stored: Totals }> {
  const data = mkdtempSync(join(tmpdir(), 'dvflow-bench-pcap-d-'));
  const token = 'bench';
  const cfg = join(data, 'dvflow.yaml');
  writeFileSync(cfg, `http: { token: ${token} }\npcap: { maxUploadBytes: ${100 * 1024 ** 3} }\n`);
  const http = await freeTcpPort();
  const udp = await freeUdpPort();
  const api = `http://127.0.0.1:${http}`;
  const d = spawn(process.execPath, [dvflowBin, 'start', '--data', join(data, 'data'), '--config', cfg, '--netflow-port', String(udp),
    '--bind', '127.0.0.1', '--http-port', String(http), '--log-level', 'warn'], { stdio: ['ignore', 'ignore', 'inherit'] });
  try {
    for (let i = 0; i < 600; i++) {
      try {
        if ((await fetch(`${api}/api/v1/health`)).ok) break;
      } catch { /* not up yet */ }
      await new Promise((r) => setTimeout(r, 100));
    }
    const t = await timed(process.execPath, [dvflowBin, 'pcap', '--api', api, '--token', token, '--json', file]);
    const s = JSON.parse(t.stdout.trim().split('\n').at(-1)!) as Totals & { elapsedMs: number };
    const res = await fetch(`${api}/api/v1/query`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ statistics: ['proto'] }) });
    const q = (await res.json()) as { summary: Totals };
    return { ms: t.ms, serverMs: s.elapsedMs, summary: { flows: s.flows, packets: s.packets, bytes: s.bytes }, stored: q.summary };
  } finally {
    const done = new Promise((r) => d.once('exit', r));
    d.kill('SIGTERM');
    await done;
    rmSync(data, { recursive: true, force: true });
  }
}

const bytes = Number(args.bytes);
const runs = Math.max(1, Number(args.runs));
let file = args.file;
if (!file) {
  const dir = join(tmpdir(), 'dvflow-bench-pcap');
  mkdirSync(dir, { recursive: true });
  file = join(dir, `capture-${bytes}.pcap`);
  if (!existsSync(file) || statSync(file).size < bytes) {
    process.stderr.write(`writing ${file} ...\n`);
    const made = makeCapture(file, { bytes, concurrentFlows: 50_000, seed: 1 });
    process.stderr.write(`  ${n(made.packets)} packets (${n(made.plain)} plain, ${n(made.vlan)} 802.1Q, ${n(made.gre)} GRE)\n`);
  }
}
const fileBytes = statSync(file).size;
await warm(file);

const times: Record<'nfpcapd' | 'dvflow' | 'compat', number[]> = { nfpcapd: [], dvflow: [], compat: [] };
let nfTotals: Totals | null = null;
let ours: (Totals & { readPackets: number }) | null = null;
let oursCompat: Totals | null = null;
for (let i = 0; i < runs; i++) {
  const dir = mkdtempSync(join(tmpdir(), 'dvflow-bench-nfpcapd-'));
  let t: { ms: number };
  try {
    t = await timed('nfpcapd', ['-r', file, '-w', dir, '-e', '300,60']);
    times.nfpcapd.push(t.ms);
    nfTotals ??= await nfdumpTotals(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const p = await timed(process.execPath, ['--import', 'tsx', join(root, 'bench', 'pcap.ts'), '--pure', file]);
  times.dvflow.push(p.ms);
  ours = JSON.parse(p.stdout);
  const c = await timed(process.execPath, ['--import', 'tsx', join(root, 'bench', 'pcap.ts'), '--pure', file, '--compat']);
  times.compat.push(c.ms);
  oursCompat = JSON.parse(c.stdout);
  process.stderr.write(`run ${i + 1}: nfpcapd ${(t.ms / 1000).toFixed(2)} s, dvflow ${(p.ms / 1000).toFixed(2)} s, dvflow nfpcapd-mode ${(c.ms / 1000).toFixed(2)} s\n`);
}
const up = args['skip-upload'] ? null : await uploadRun(file);

const packets = ours!.readPackets;
const row = (name: string, ms: { best: number; median: number }, ref: number) =>
  `| ${name} | ${(ms.best / 1000).toFixed(2)} (${(ms.median / 1000).toFixed(2)}) | ${n((packets * 1000) / ms.best)} | ` +
  `${((fileBytes / 1e6) * 1000 / ms.best).toFixed(0)} | ${(ref / ms.best).toFixed(2)}× |`;
const nfs = stats(times.nfpcapd);
const lines = [
  `capture ${file}: ${(fileBytes / 1e9).toFixed(2)} GB, ${n(packets)} packets; best of ${runs} runs (median)`,
  '',
  '| path | wall s | packets/s | MB/s | vs nfpcapd |',
  '| --- | --- | --- | --- | --- |',
  row('nfpcapd 1.7.1 -r FILE -w DIR -e 300,60', nfs, nfs.best),
  row('dvflow read → decode → flows (no storage)', stats(times.dvflow), nfs.best),
  row('dvflow, nfpcapd-compatible flows', stats(times.compat), nfs.best),
];
if (up) lines.push(row('dvflow pcap FILE → dvflow start (upload, store in chDB)', { best: up.ms, median: up.ms }, nfs.best));
lines.push('', 'totals (flows, packets, bytes):',
  `  nfpcapd + nfdump:           ${n(nfTotals!.flows)}, ${n(nfTotals!.packets)}, ${n(nfTotals!.bytes)}`,
  `  dvflow rules:               ${n(ours!.flows)}, ${n(ours!.packets)}, ${n(ours!.bytes)}  (nfpcapd makes a flow of every ICMP and DNS packet)`,
  `  dvflow, nfpcapd mode:       ${n(oursCompat!.flows)}, ${n(oursCompat!.packets)}, ${n(oursCompat!.bytes)}`);
if (up) {
  lines.push(`  dvflow pcap summary:        ${n(up.summary.flows)}, ${n(up.summary.packets)}, ${n(up.summary.bytes)}`,
    `  stored (dvflow query):      ${n(up.stored.flows)}, ${n(up.stored.packets)}, ${n(up.stored.bytes)}`,
    `  dvflow pcap: ${(up.ms / 1000).toFixed(2)} s in all; the daemon read and stored for ${(up.serverMs / 1000).toFixed(2)} s of it (as the upload arrived)`);
}
const same = (a: Totals, b: Totals) => a.packets === b.packets && a.bytes === b.bytes;
lines.push(`packets and bytes equal to nfpcapd's: ${same(ours!, nfTotals!) && same(oursCompat!, nfTotals!) && (!up || same(up.stored, nfTotals!)) ? 'yes' : 'NO'}; ` +
  `flow counts equal in nfpcapd mode: ${oursCompat!.flows === nfTotals!.flows ? 'yes' : 'NO'}`);
process.stdout.write(`${lines.join('\n')}\n`);
