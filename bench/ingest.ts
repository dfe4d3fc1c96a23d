// bench/ingest: the highest packet rate that dvflow and nfcapd each store with < 0.1% loss, side by side.
//
// 1. Record a NetFlow v9 stream: softflowd exports real captures (../shared/testdata) to a recording
//    socket; the datagrams are kept in memory.
// 2. For each rate (packets/s, rising), replay the stream for DURATION seconds to nfcapd, then to a fresh
//    `dvflow start` (its own process, embedded ClickHouse), one at a time so they never share the 2 cores.
// 3. Loss = 1 - flows stored / flows sent (nfdump counts nfcapd's; dvflow's own query API counts dvflow's).
//
// 4. dvflow-enriched: dvflow with a 10,000-dvPort / 500-VIP inventory (bench/benchInventory.ts) loaded from files;
//    the stream's interface fields are dvPort keys for every tool (softflowd sends 0), so the lookups are real.
//    --ports dvswitch (the default) uses them as a dvSwitch records flows at the egress port, mostly VM port ↔
//    uplink; --ports uniform puts a VM port on both sides of nearly every flow (bench/netflowStream.ts).
//    `--only dvflow,dvflow-enriched --rates ...` with fine steps gives enrichment's cost as a lossless rate.
//    dvflow-enriched-noids is the same without the IDS; beside dvflow-noids it shows enrichment's own cost, apart
//    from the IDS detectors that only run for flows to a VIP (vip-ddos).
// 5. CPU per flow: for every dvflow run, the daemon's CPU time (all its threads: decoding, the embedded ClickHouse's
//    inserts and merges; from /proc/PID/stat) from the start of the replay until its queue has drained and 3 s more,
//    divided by the flows it stored. On a CPU-bound machine throughput is cores / CPU per flow, so the ratio of two
//    tools' CPU per flow at the same lossless rate is the ratio of their capacities, a finer and steadier measure
//    than the lossless rate (whose steps and bursty loss cannot resolve 10 %). `--repeat N` runs each rate N times,
//    the tools alternating, and prints the median. Each run's CPU is also split by thread (/proc/PID/task): the
//    JavaScript main thread (receive, decode, enrich, IDS, encode), ClickHouse's merges, and the other threads
//    (ClickHouse's inserts with their rollup views, V8's GC helpers), so a difference between two setups shows where it is.
// 6. --cpu-prof DIR: each dvflow daemon writes V8 CPU profiles of its JavaScript threads into DIR when it stops
//    (node --cpu-prof; the main thread's file ends in .0.001.cpuprofile).
// 7. --batch-rows N: every dvflow daemon inserts blocks of up to N flows (writer.batchRows; default: the daemon's).
//
// Usage: npm run bench -- [--duration 10] [--rates 10000,20000,40000,60000,80000]
//          [--only nfcapd,dvflow,dvflow-noids,dvflow-enriched,dvflow-enriched-noids] [--repeat 1] [--cpu-prof DIR]
//          [--ports dvswitch|uniform] [--batch-rows N]
// Prints one line per run and a final table with the ratio dvflow/nfcapd.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, rmSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { recordSoftflowdStream, spreadInterfaces, v9DataRecords, type PortShape } from './netflowStream.ts';
import { BENCH_PORTS, BENCH_UPLINKS, writeBenchInventory } from './benchInventory.ts';
import { median } from './stats.ts';
import { decodeDatagram } from '../collector/src/decoders/decodeDatagram.ts';
import { TemplateCache } from '../collector/src/decoders/templateCache.ts';
import { SamplingTable } from '../collector/src/decoders/samplingTable.ts';
import { freeUdpPort } from '../collector/test/helpers/peers.ts';
import { freeTcpPort } from '../collector/test/helpers/cliDaemon.ts';
import { ensureCliBundle } from './cliBundle.ts';

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    rates: { type: 'string', default: '10000,20000,40000,60000,80000,100000' },
    only: { type: 'string', default: '' },
    repeat: { type: 'string', default: '1' },
    'cpu-prof': { type: 'string', default: '' },
    ports: { type: 'string', default: 'dvswitch' },
    'batch-rows': { type: 'string', default: '' },
  },
});
const duration = Number(args.duration);
const rates = args.rates.split(',').map(Number);
const repeat = Math.max(1, Number(args.repeat));
if (args.ports !== 'dvswitch' && args.ports !== 'uniform') throw new Error(`--ports: dvswitch or uniform, not ${args.ports}`);
const portShape: PortShape = args.ports;
const root = join(import.meta.dirname, '..');
ensureCliBundle();

function tmp(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Record what softflowd sends for a few real captures: templates + data, NetFlow v9, with dvPort keys as interfaces. */
async function recordStream(): Promise<{ datagrams: Buffer[]; perDatagram: number[]; flows: number; addrs: string[] }> {
  const datagrams = await recordSoftflowdStream(['generated/hping-syn-flood.pcap', 'generated/hping-udp-flood.pcap', 'generated/nmap-syn-scan.pcap', 'generated/hping-icmp-flood.pcap']);
  spreadInterfaces(datagrams, BENCH_PORTS, BENCH_UPLINKS, portShape);
  const perDatagram = v9DataRecords(datagrams);
  const ctx = { exporterKey: 'bench', exporterAddr: '127.0.0.1', exporterPort: 0, receivedMs: Date.now(), templates: new TemplateCache(), sampling: new SamplingTable() };
  const addrs = new Set<string>();
  for (const d of datagrams) for (const r of decodeDatagram(d, ctx).records) addrs.add(r.srcAddr).add(r.dstAddr);
  return { datagrams, perDatagram, flows: perDatagram.reduce((a, b) => a + b, 0), addrs: [...addrs] };
}

/** Send the recorded stream in a loop at `rate` packets/s for `seconds`; returns data records sent. */
async function replay(datagrams: Buffer[], flowsPer: number[], port: number, rate: number, seconds: number): Promise<{ packets: number; flows: number; achieved: number }> {
  const sock = dgram.createSocket({ type: 'udp4', sendBufferSize: 8 << 20 });
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  sock.connect(port, '127.0.0.1');
  await new Promise<void>((r) => sock.once('connect', () => r()));
  // Templates first, so nothing is lost to an unknown template.
  const t0 = performance.now();
  const total = Math.round(rate * seconds);
  let sent = 0, flows = 0, i = 0;
  const tickMs = 5;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * rate) + 1);
    let inflight = 0;
    while (sent < due) {
      const d = datagrams[i]!;
      flows += flowsPer[i]!;
      i = (i + 1) % datagrams.length;
      sent++;
      inflight++;
      sock.send(d);
      if (inflight >= 256) {
        await new Promise<void>((r) => setImmediate(r));
        inflight = 0;
      }
    }
    await new Promise((r) => setTimeout(r, tickMs));
  }
  const achieved = sent / ((performance.now() - t0) / 1000);
  await new Promise((r) => setTimeout(r, 200));
  sock.close();
  return { packets: sent, flows, achieved };
}

/** User + system CPU seconds in a /proc stat file: a process's (all its threads) or one thread's (Linux). */
function statCpuSeconds(file: string): number {
  // Fields after the command (which is in parentheses and may hold spaces): utime and stime are the 12th and 13th.
  const stat = readFileSync(file, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

/** CPU seconds a process has used so far, over all its threads. */
function cpuSeconds(pid: number): number {
  return statCpuSeconds(`/proc/${pid}/stat`);
}

/** Where that CPU time went: the JavaScript main thread, ClickHouse's merges, and every other thread (ClickHouse's inserts, GC helpers). */
interface CpuSplit { main: number; merges: number; other: number }

function cpuSplit(pid: number): CpuSplit {
  const split: CpuSplit = { main: 0, merges: 0, other: 0 };
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const comm = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      const s = statCpuSeconds(`/proc/${pid}/task/${tid}/stat`);
      if (tid === String(pid)) split.main += s;
      else if (comm.startsWith('MergeMutate')) split.merges += s;
      else split.other += s;
    } catch { /* the thread ended */ }
  }
  return split;
}

function waitExit(c: ChildProcess): Promise<void> {
  return c.exitCode !== null ? Promise.resolve() : new Promise((r) => c.once('exit', () => r()));
}

async function runNfcapd(datagrams: Buffer[], perDatagram: number[], rate: number): Promise<RunResult> {
  const port = await freeUdpPort();
  const dir = tmp('bench-nfcapd-');
  const c = spawn('nfcapd', ['-p', String(port), '-b', '127.0.0.1', '-w', dir, '-t', '3600', '-B', String(32 << 20)], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 500));
  const r = await replay(datagrams, perDatagram, port, rate, duration);
  c.kill('SIGTERM');
  await waitExit(c);
  let stored = 0;
  if (readdirSync(dir).some((f) => f.startsWith('nfcapd.'))) {
    const out = execFileSync('nfdump', ['-R', dir, '-o', 'csv', '-N', '-s', 'proto'], { maxBuffer: 1 << 26 }).toString().trim().split('\n');
    const i = out.indexOf('Summary');
    stored = Number(out[i + 2]!.split(',')[0]);
  }
  rmSync(dir, { recursive: true, force: true });
  return { stored, sent: r.flows, achieved: r.achieved };
}

interface RunResult { stored: number; sent: number; achieved: number; cpuUsPerFlow?: number; split?: CpuSplit }

async function runDvflow(datagrams: Buffer[], perDatagram: number[], rate: number, ids = true, inventoryOf: string[] = []): Promise<RunResult> {
  const port = await freeUdpPort();
  const http = await freeTcpPort();
  const dir = tmp('bench-dvflow-');
  const extra: string[] = [];
  const config: Record<string, unknown> = {};
  // The replayer sends from 127.0.0.1: that exporter speaks for the bench dvSwitch.
  if (inventoryOf.length) config.inventory = writeBenchInventory(dir, inventoryOf, '127.0.0.1');
  if (args['batch-rows']) config.writer = { batchRows: Number(args['batch-rows']) };
  if (Object.keys(config).length) {
    writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
    extra.push('--config', join(dir, 'config.json'));
  }
  const c = spawn(process.execPath, [...(args['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${args['cpu-prof']}`] : []), join(root, 'collector', 'bin', 'dvflow.js'), 'start', '--data', dir, '--netflow-port', String(port), '--bind', '127.0.0.1', '--http-port', String(http), '--log-level', 'error', ...(ids ? [] : ['--no-ids']), ...extra], { stdio: ['ignore', 'ignore', 'inherit'] });
  const api = `http://127.0.0.1:${http}`;
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`${api}/api/v1/health`)).ok) break;
    } catch { /* starting */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  if (inventoryOf.length) {
    const inv = await (await fetch(`${api}/api/v1/inventory`)).json() as { stats?: { ports: number; vips: number } };
    if (inv.stats?.ports !== BENCH_PORTS || inv.stats.vips !== 500) throw new Error(`the daemon did not load the bench inventory: ${JSON.stringify(inv.stats)}`);
  }
  const cpu0 = cpuSeconds(c.pid!);
  const split0 = cpuSplit(c.pid!);
  let split: CpuSplit | undefined;
  const r = await replay(datagrams, perDatagram, port, rate, duration);
  // Let the queue drain: count until stable.
  let stored = -1;
  let cpu = 0;
  for (let i = 0; i < 120; i++) {
    await new Promise((res) => setTimeout(res, 500));
    const h = await (await fetch(`${api}/api/v1/health`)).json() as { queueRows: number };
    if (h.queueRows === 0) {
      if (cpu === 0) {
        // Read before any counting query runs in the daemon; the 3 s take in merges the inserts set off.
        await new Promise((res) => setTimeout(res, 3000));
        cpu = cpuSeconds(c.pid!) - cpu0;
        const s1 = cpuSplit(c.pid!);
        split = { main: s1.main - split0.main, merges: s1.merges - split0.merges, other: s1.other - split0.other };
      }
      const q = await (await fetch(`${api}/api/v1/query`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ statistics: ['proto'] }) })).json() as { summary: { flows: number } };
      if (q.summary.flows === stored) break;
      stored = q.summary.flows;
    }
  }
  if (inventoryOf.length) {
    // Show that the inventory was applied: the share of stored flows with a portgroup and with a VIP.
    const share = async (element: string) => {
      const q = await (await fetch(`${api}/api/v1/query`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ statistics: [element], topN: 0 }) })).json() as { summary: { flows: number }; statistics: Array<{ rows: Array<{ key: unknown; flows: number }> }> };
      const named = q.statistics[0]!.rows.filter((x) => x.key !== '').reduce((n, x) => n + x.flows, 0);
      return `${((100 * named) / Math.max(1, q.summary.flows)).toFixed(0)}%`;
    };
    console.log(`  (enriched: ${await share('inportgroup')} of flows with an in portgroup, ${await share('vip')} with a VIP)`);
  }
  c.kill('SIGTERM');
  await waitExit(c);
  rmSync(dir, { recursive: true, force: true });
  const perFlow = (x: number) => (x * 1e6) / stored;
  return {
    stored, sent: r.flows, achieved: r.achieved, cpuUsPerFlow: stored > 0 ? perFlow(cpu) : undefined,
    split: stored > 0 && split ? { main: perFlow(split.main), merges: perFlow(split.merges), other: perFlow(split.other) } : undefined,
  };
}

const { datagrams, perDatagram, flows, addrs } = await recordStream();
console.log(`recorded ${datagrams.length} NetFlow v9 datagrams from softflowd, ${flows} data records (${(flows / datagrams.length).toFixed(1)} flows/packet), dvPorts: ${portShape}`);
// dvflow runs with its IDS (every flow through the detectors, the default) and without it (--no-ids), so the
// detectors' cost shows as the difference.
const best: Record<string, number> = { nfcapd: 0, dvflow: 0, 'dvflow-noids': 0, 'dvflow-enriched': 0, 'dvflow-enriched-noids': 0 };
const stopped = new Set<string>();
const tools = args.only ? args.only.split(',') : ['nfcapd', 'dvflow', 'dvflow-noids'];
/** tool → rate → repetition → CPU µs per stored flow of each lossless run (by repetition, to pair the runs made one after the other). */
const cpuByRun = new Map<string, Map<number, Map<number, number>>>(tools.map((t) => [t, new Map()]));
/** tool → rate → the same, split by thread (cpuSplit). */
const splitPerFlow = new Map<string, Map<number, CpuSplit[]>>(tools.map((t) => [t, new Map()]));
const fmtSplit = (x: CpuSplit) => `main thread ${x.main.toFixed(2)}, ClickHouse merges ${x.merges.toFixed(2)}, other threads ${x.other.toFixed(2)}`;
for (const rate of rates) {
  for (let k = 0; k < repeat; k++) {
    for (const tool of tools) {
      if (stopped.has(tool)) continue;
      const r = tool === 'nfcapd' ? await runNfcapd(datagrams, perDatagram, rate) : await runDvflow(datagrams, perDatagram, rate, !tool.endsWith('-noids'), tool.startsWith('dvflow-enriched') ? addrs : []);
      const loss = r.sent > 0 ? 1 - r.stored / r.sent : 1;
      const ok = loss < 0.001;
      const cpu = r.cpuUsPerFlow === undefined ? '' : `  CPU ${r.cpuUsPerFlow.toFixed(2)} µs/flow${r.split ? ` (${fmtSplit(r.split)})` : ''}`;
      console.log(`${tool.padEnd(12)} target ${String(rate).padStart(7)} pkt/s  sent ${Math.round(r.achieved).toString().padStart(7)} pkt/s (${Math.round((r.achieved * flows) / datagrams.length)} flows/s) for ${duration}s  stored ${r.stored}/${r.sent} flows  loss ${(loss * 100).toFixed(3)}%  ${ok ? 'OK' : 'LOSS'}${cpu}`);
      // A run that could not even send at the target rate says nothing about the receiver.
      if (ok) {
        best[tool] = Math.max(best[tool]!, Math.round(r.achieved));
        if (r.cpuUsPerFlow !== undefined) {
          const runs = cpuByRun.get(tool)!;
          if (!runs.has(rate)) runs.set(rate, new Map());
          runs.get(rate)!.set(k, r.cpuUsPerFlow);
          const bySplit = splitPerFlow.get(tool)!;
          if (r.split) bySplit.set(rate, [...(bySplit.get(rate) ?? []), r.split]);
        }
      } else stopped.add(tool);
    }
  }
}
console.log('\nhighest sustained rate with < 0.1% loss (packets/s, flows/s):');
for (const tool of tools) console.log(`  ${tool.padEnd(12)} ${best[tool]!} pkt/s  ${Math.round((best[tool]! * flows) / datagrams.length)} flows/s`);
if (tools.includes('nfcapd') && best.nfcapd! > 0) console.log(`  ratio dvflow/nfcapd: ${(best.dvflow! / best.nfcapd!).toFixed(2)}x (IDS on), ${(best['dvflow-noids']! / best.nfcapd!).toFixed(2)}x (IDS off)`);
/** Setups compared two by two: the base, the one with a feature added, and how the summary names the feature's cost. */
const pairs: Array<{ base: string; other: string; what: string; cost: string; added: string }> = [
  { base: 'dvflow-noids', other: 'dvflow', what: 'IDS', cost: 'IDS cost', added: 'with the detectors on' },
  { base: 'dvflow', other: 'dvflow-enriched', what: 'enrichment (10k dvPorts, 500 VIPs)', cost: 'enrichment cost (10k dvPorts, 500 VIPs)', added: 'with the inventory' },
  { base: 'dvflow-noids', other: 'dvflow-enriched-noids', what: 'enrichment without the IDS (10k dvPorts, 500 VIPs)', cost: 'enrichment cost without the IDS', added: 'with the inventory' },
];
for (const { base, other, cost, added } of pairs) {
  if (tools.includes(base) && tools.includes(other) && best[base]! > 0) {
    console.log(`  ${cost}: the highest lossless rate is ${((1 - best[other]! / best[base]!) * 100).toFixed(1)}% lower ${added}`);
  }
}

// CPU per flow at the rates where both tools of a pair stored everything, each the median of its runs.
for (const { base, other, what } of pairs) {
  if (!tools.includes(base) || !tools.includes(other)) continue;
  for (const rate of rates) {
    const ra = cpuByRun.get(base)!.get(rate), rb = cpuByRun.get(other)!.get(rate);
    const a = [...(ra?.values() ?? [])], b = [...(rb?.values() ?? [])];
    if (!a.length || !b.length) continue;
    const ma = median(a), mb = median(b);
    console.log(`  ${what} at ${rate} pkt/s: CPU per flow ${ma.toFixed(2)} → ${mb.toFixed(2)} µs (median of ${a.length} and ${b.length} runs); `
      + `capacity ${((1 - ma / mb) * 100).toFixed(1)}% lower`);
    // The machine's speed drifts over a long run; the two setups' runs of one repetition are next to each other in
    // time, so the median of their ratios is less moved by that drift than the ratio of the medians.
    const paired = [...(ra?.keys() ?? [])].filter((k) => rb?.has(k)).map((k) => 100 * (1 - ra!.get(k)! / rb!.get(k)!));
    if (paired.length > 1) {
      console.log(`    paired runs: capacity ${median(paired).toFixed(1)}% lower (median of ${paired.length} pairs: ${paired.map((x) => x.toFixed(1)).join(', ')})`);
    }
    const sa = splitPerFlow.get(base)!.get(rate) ?? [], sb = splitPerFlow.get(other)!.get(rate) ?? [];
    if (sa.length && sb.length) {
      const med = (xs: CpuSplit[]): CpuSplit => ({ main: median(xs.map((x) => x.main)), merges: median(xs.map((x) => x.merges)), other: median(xs.map((x) => x.other)) });
      console.log(`    by thread, µs/flow (medians): ${fmtSplit(med(sa))} → ${fmtSplit(med(sb))}`);
    }
  }
}
