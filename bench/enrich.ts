// bench/enrich: what the portgroup/VIP enrichment costs at ingest, with a 10k-dvPort inventory and 500 VIPs.
//
// 1. Record a real NetFlow v9 stream (softflowd over ../shared/testdata captures) and decode it once.
// 2. Build an inventory: one dvSwitch whose 10,000 dvPorts cover the stream's interface numbers (and many more),
//    100 CIDRs, and 500 VIPs with 4 real servers each, a share of them on addresses the stream really uses so
//    legs and backends are found.
// 3. Time the ingest pipeline in this process, as the daemon runs it (decode → enrich → Native encode → insert
//    into the embedded ClickHouse, flows + rollups), with enrichment off and on, alternating, and print
//    records/s for each and the cost of enrichment in % of throughput; plus enrichment alone in µs/record.
//
// Usage: node --import tsx bench/enrich.ts [--records 1000000] [--rounds 3]
import { parseArgs } from 'node:util';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { recordSoftflowdStream } from './netflowStream.ts';
import { decodeDatagram } from '../collector/src/decoders/decodeDatagram.ts';
import { TemplateCache } from '../collector/src/decoders/templateCache.ts';
import { SamplingTable } from '../collector/src/decoders/samplingTable.ts';
import { Enricher } from '../collector/src/inventory/enricher.ts';
import type { PortgroupInventory, Vip } from '../collector/src/inventory/inventoryModel.ts';
import { ClickHouseStore } from '../collector/src/storage/clickhouseStore.ts';
import { migrate } from '../collector/src/storage/migrator.ts';
import { defaultConfig } from '../collector/src/config/config.ts';
import { flowColumns, newFlowBlock, type EnrichedFlow } from '../collector/src/storage/flowRows.ts';

const { values: args } = parseArgs({ options: { records: { type: 'string', default: '1000000' }, rounds: { type: 'string', default: '3' } } });
const wanted = Number(args.records);
const rounds = Number(args.rounds);

const datagrams = await recordSoftflowdStream(['generated/hping-syn-flood.pcap', 'generated/hping-udp-flood.pcap', 'generated/nmap-syn-scan.pcap', 'zeek/wikipedia.pcap', 'zeek/ssh_sshguess.pcap']);
const ctx = { exporterKey: '10.0.0.21', exporterAddr: '10.0.0.21', exporterPort: 2055, receivedMs: Date.now(), templates: new TemplateCache(), sampling: new SamplingTable() };
const sample = datagrams.flatMap((d) => decodeDatagram(d, ctx).records);
console.log(`recorded ${datagrams.length} datagrams, ${sample.length} flows a pass`);

// ---- the inventory ----
const addrs = [...new Set(sample.flatMap((r) => [r.srcAddr, r.dstAddr]))].filter((a) => a.includes('.'));
const pg: PortgroupInventory = {
  switches: [{
    name: 'dvs-bench', exporters: ['10.0.0.21'],
    ports: Array.from({ length: 10_000 }, (_, i) => ({ key: i, portgroup: `pg-${i % 200}`, vm: `vm-${i}`, kind: i < 8 ? 'uplink' as const : 'vm' as const, ips: [`10.${(i >> 8) & 255}.${i & 255}.1`] })),
  }],
  portgroups: [], vlans: Array.from({ length: 200 }, (_, i) => ({ vlan: i + 1, portgroup: `pg-${i}` })),
  cidrs: Array.from({ length: 100 }, (_, i) => ({ cidr: `172.${16 + (i >> 4)}.${(i & 15) * 16}.0/20`, portgroup: `pg-${i}` })),
};
const vips: Vip[] = Array.from({ length: 500 }, (_, i) => ({
  name: `vip-${i}`, address: i < addrs.length / 2 ? addrs[i]! : `192.0.${i >> 8}.${i & 255}`, port: null, proto: 'any', mode: 'tcp', lbKind: i % 3 === 0 ? 'dr' : 'proxy',
  lbAddresses: [], pools: [{ name: `pool-${i}`, servers: Array.from({ length: 4 }, (_, s) => ({ name: `srv-${i}-${s}`, address: addrs[(i * 4 + s + addrs.length / 2) % addrs.length] ?? `198.18.${i >> 6}.${(i & 63) * 4 + s}`, port: null })) }],
}));
const enricher = new Enricher(pg, { vips });
console.log(`inventory: ${JSON.stringify(enricher.stats)}`);

/**
 * Freshly decoded records, as the collector hands them over. (Not copies made with `{ ...r }`: V8 gives every
 * such clone its own hidden class when properties are added, and enrichment then costs ~15 µs a record, a
 * benchmark artefact the daemon never sees.)
 */
function batchOf(n: number): EnrichedFlow[] {
  const out: EnrichedFlow[] = [];
  for (let i = 0; out.length < n; i++) {
    for (const r of decodeDatagram(datagrams[i % datagrams.length]!, ctx).records) {
      // softflowd exports no interfaces; a dvSwitch exports dvPort keys. Spread them over the 10,000 ports so the
      // dvPort lookups (the portgroup path) are measured, not skipped.
      const k = out.length;
      r.inIf = (k * 7919) % 10_000;
      r.outIf = (k * 104_729 + 1) % 10_000;
      out.push(r);
    }
  }
  out.length = n;
  return out;
}

// ---- enrichment alone ----
{
  const b = batchOf(Math.min(wanted, 500_000));
  enricher.enrich(b.slice(0, 10_000));
  const t0 = performance.now();
  enricher.enrich(b);
  const ms = performance.now() - t0;
  const hit = b.filter((r) => r.vip).length;
  const named = b.filter((r) => r.inPortgroup || r.outPortgroup).length;
  console.log(`enrichment alone: ${((ms * 1000) / b.length).toFixed(3)} µs/record (${b.length} records; ${(100 * hit / b.length).toFixed(0)}% got a VIP, ${(100 * named / b.length).toFixed(0)}% a portgroup)`);
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

async function pipeline(enrich: boolean): Promise<number> {
  const batchRows = 50_000;
  let done = 0;
  const t0 = performance.now();
  while (done < wanted) {
    const n = Math.min(batchRows, wanted - done);
    // Decode cost is included: the records are re-decoded from the datagrams, as the collector does.
    const recs: EnrichedFlow[] = [];
    let i = 0;
    while (recs.length < n) {
      for (const r of decodeDatagram(datagrams[i++ % datagrams.length]!, ctx).records) recs.push(r);
    }
    recs.length = n;
    if (enrich) enricher.enrich(recs);
    const block = newFlowBlock(n);
    for (const r of recs) block.add(r);
    await store.insertNative('flows', flowColumns, block.encode());
    done += n;
  }
  return wanted / ((performance.now() - t0) / 1000);
}

await pipeline(false);
const off: number[] = [];
const on: number[] = [];
for (let k = 0; k < rounds; k++) {
  off.push(await pipeline(false));
  on.push(await pipeline(true));
  console.log(`round ${k + 1}: without enrichment ${off.at(-1)!.toFixed(0)} records/s, with ${on.at(-1)!.toFixed(0)} records/s`);
}
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const a = med(off), b = med(on);
console.log(`\nmedian of ${rounds}: without ${a.toFixed(0)} records/s, with ${b.toFixed(0)} records/s: enrichment costs ${(100 * (1 - b / a)).toFixed(1)}% of ingest throughput`);
await store.close();
rmSync(dir, { recursive: true, force: true });
