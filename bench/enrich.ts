// bench/enrich: what the portgroup/VIP enrichment costs at ingest, with a 10k-dvPort inventory and 500 VIPs.
//
// 1. Record a real NetFlow v9 stream (softflowd over ../shared/testdata captures) and decode it once.
// 2. Build an inventory: one dvSwitch whose 10,000 dvPorts cover the stream's interface numbers (and many more),
//    100 CIDRs, and 500 VIPs with 4 real servers each, a share of them on addresses the stream really uses so
//    legs and backends are found; written to files and read back as the daemon reads them.
// 3. Time the ingest pipeline in this process, as the daemon runs it (decode → enrich → Native encode → insert
//    into the embedded ClickHouse, flows + rollups), with enrichment off and on, alternating, and print
//    records/s for each and the cost of enrichment in % of throughput; plus enrichment alone in µs/record.
// bench/ingest --only dvflow,dvflow-enriched measures the same through the daemon, as the highest lossless rate.
//
// Usage: node --import tsx bench/enrich.ts [--records 1000000] [--rounds 7] [--ports dvswitch|uniform]
import { parseArgs } from 'node:util';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { recordSoftflowdStream, spreadInterfaces } from './netflowStream.ts';
import { decodeDatagram } from '../collector/src/decoders/decodeDatagram.ts';
import { TemplateCache } from '../collector/src/decoders/templateCache.ts';
import { SamplingTable } from '../collector/src/decoders/samplingTable.ts';
import { benchEnricherFromFiles, BENCH_PORTS, BENCH_UPLINKS } from './benchInventory.ts';
import { ClickHouseStore } from '../collector/src/storage/clickhouseStore.ts';
import { migrate } from '../collector/src/storage/migrator.ts';
import { defaultConfig } from '../collector/src/config/config.ts';
import { flowColumns, newFlowBlock, type EnrichedFlow } from '../collector/src/storage/flowRows.ts';
import { median } from './stats.ts';

const { values: args } = parseArgs({
  options: { records: { type: 'string', default: '1000000' }, rounds: { type: 'string', default: '7' }, ports: { type: 'string', default: 'dvswitch' } },
});
if (args.ports !== 'dvswitch' && args.ports !== 'uniform') throw new Error(`--ports: dvswitch or uniform, not ${args.ports}`);
const wanted = Number(args.records);
const rounds = Number(args.rounds);

const datagrams = await recordSoftflowdStream(['generated/hping-syn-flood.pcap', 'generated/hping-udp-flood.pcap', 'generated/nmap-syn-scan.pcap', 'zeek/wikipedia.pcap', 'zeek/ssh_sshguess.pcap']);
// softflowd exports no interfaces; a dvSwitch exports dvPort keys. Spread them over the 10,000 ports so the
// dvPort lookups (the portgroup path) are measured, not skipped (--ports: how, netflowStream.ts).
spreadInterfaces(datagrams, BENCH_PORTS, BENCH_UPLINKS, args.ports);
const ctx = { exporterKey: '10.0.0.21', exporterAddr: '10.0.0.21', exporterPort: 2055, receivedMs: Date.now(), templates: new TemplateCache(), sampling: new SamplingTable() };
const sample = datagrams.flatMap((d) => decodeDatagram(d, ctx).records);
console.log(`recorded ${datagrams.length} datagrams, ${sample.length} flows a pass`);

// ---- the inventory ----
const addrs = [...new Set(sample.flatMap((r) => [r.srcAddr, r.dstAddr]))];
const enricher = benchEnricherFromFiles(addrs, '10.0.0.21');
console.log(`inventory: ${JSON.stringify(enricher.stats)}`);

/**
 * Freshly decoded records, as the collector hands them over. (Not copies made with `{ ...r }`: V8 gives every
 * such clone its own hidden class when properties are added, and enrichment then costs ~15 µs a record, a
 * benchmark artefact the daemon never sees.)
 */
function batchOf(n: number): EnrichedFlow[] {
  const out: EnrichedFlow[] = [];
  for (let i = 0; out.length < n; i++) {
    for (const r of decodeDatagram(datagrams[i % datagrams.length]!, ctx).records) out.push(r);
  }
  out.length = n;
  return out;
}

// ---- enrichment alone ----
// On fresh 50,000-record batches, as the collector hands them over: a second pass over the same records costs a
// third as much (their fields already hold the values), which the daemon never sees.
{
  const n = 50_000;
  enricher.enrich(batchOf(10_000));
  const us: number[] = [];
  let hit = 0, named = 0;
  for (let k = 0; k < 10; k++) {
    const b = batchOf(n);
    const t0 = performance.now();
    enricher.enrich(b);
    us.push(((performance.now() - t0) * 1000) / n);
    hit += b.filter((r) => r.vip).length;
    named += b.filter((r) => r.inPortgroup || r.outPortgroup).length;
  }
  console.log(`enrichment alone: ${median(us).toFixed(3)} µs/record (median of 10 fresh batches of ${n}; ${(100 * hit / n / 10).toFixed(0)}% got a VIP, ${(100 * named / n / 10).toFixed(0)}% a portgroup)`);
}

// ---- the ingest pipeline, off and on ----
const dir = mkdtempSync(join(tmpdir(), 'bench-enrich-'));
const store = await ClickHouseStore.open({ ...defaultConfig.clickhouse, dataDir: dir });
await migrate(store, { cluster: '', retention: defaultConfig.retention as unknown as Record<string, string> });
const now = Date.now();
for (const r of sample) {
  // Recent timestamps so the rollups keep the rows (their TTLs) and do the work they do in production.
  const d = r.last - r.first;
  r.last = now - 60_000;
  r.first = r.last - d;
  r.timeReceived = now;
}

/** Time per record in each stage, summed over the measured rounds: decode, enrich, Native encode, insert. */
const stages = { off: { decode: 0, enrich: 0, encode: 0, insert: 0 }, on: { decode: 0, enrich: 0, encode: 0, insert: 0 } };

async function pipeline(enrich: boolean, measured = true): Promise<number> {
  const st = stages[enrich ? 'on' : 'off'];
  const batchRows = 50_000;
  let done = 0;
  const t0 = performance.now();
  let t = t0;
  const lap = (stage: keyof typeof st) => {
    const now = performance.now();
    if (measured) st[stage] += now - t;
    t = now;
  };
  while (done < wanted) {
    const n = Math.min(batchRows, wanted - done);
    // Decode cost is included: the records are re-decoded from the datagrams, as the collector does.
    const recs: EnrichedFlow[] = [];
    let i = 0;
    while (recs.length < n) {
      for (const r of decodeDatagram(datagrams[i++ % datagrams.length]!, ctx).records) recs.push(r);
    }
    recs.length = n;
    lap('decode');
    if (enrich) enricher.enrich(recs);
    lap('enrich');
    const block = newFlowBlock(n);
    for (const r of recs) block.add(r);
    const body = block.encode();
    lap('encode');
    await store.insertNative('flows', flowColumns, body);
    lap('insert');
    done += n;
  }
  return wanted / ((performance.now() - t0) / 1000);
}

await pipeline(false, false);
// Off and on alternate; the machine's speed drifts between rounds (other work, ClickHouse merges), so each round's
// pair gives its own cost and the median of those is the figure; the medians of each side are printed too.
const off: number[] = [];
const on: number[] = [];
const cost: number[] = [];
for (let k = 0; k < rounds; k++) {
  off.push(await pipeline(false));
  on.push(await pipeline(true));
  cost.push(100 * (1 - on.at(-1)! / off.at(-1)!));
  console.log(`round ${k + 1}: without enrichment ${off.at(-1)!.toFixed(0)} records/s, with ${on.at(-1)!.toFixed(0)} records/s (${cost.at(-1)!.toFixed(1)}%)`);
}
const a = median(off), b = median(on);
console.log(`\nmedian of ${rounds} rounds: without ${a.toFixed(0)} records/s, with ${b.toFixed(0)} records/s (${(100 * (1 - b / a)).toFixed(1)}% apart)`);
console.log(`enrichment costs ${median(cost).toFixed(1)}% of ingest throughput (median of the ${rounds} paired rounds; they range ${Math.min(...cost).toFixed(1)}% to ${Math.max(...cost).toFixed(1)}%)`);
const total = rounds * wanted;
for (const side of ['off', 'on'] as const) {
  const st = stages[side];
  console.log(`${side === 'off' ? 'without' : 'with   '}: ${Object.entries(st).map(([k, v]) => `${k} ${((v * 1000) / total).toFixed(2)}`).join(', ')} µs/record`);
}
await store.close();
rmSync(dir, { recursive: true, force: true });
