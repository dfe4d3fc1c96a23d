// bench/ids: what the IDS detectors cost per flow and per packet, in-process, on flows and packets from real captures
// (the attack and benign captures in ../shared/testdata/ids), repeated with shifted times until --flows flows went
// through. Prints flows/s through all flow detectors (and each alone), packets/s through the packet detectors, and
// the share of one core the detectors would take at the collector's highest lossless rate (bench/ingest).
//
// Usage: node --import tsx bench/ids.ts [--flows 2000000] [--ingest-rate 158000]
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ingestCapture } from '../collector/src/pcap/ingestCapture.ts';
import { createFlowDetectors } from '../collector/src/ids/flow/index.ts';
import { createPacketDetectors } from '../collector/src/ids/packet/index.ts';
import { createRuleDetector } from '../collector/src/ids/rules/ruleLoader.ts';
import { AlertManager } from '../collector/src/ids/alertManager.ts';
import { IdsEngine } from '../collector/src/ids/idsEngine.ts';
import type { FlowDetector, PacketDetector } from '../collector/src/ids/idsTypes.ts';
import type { EnrichedFlow } from '../collector/src/storage/flowRows.ts';
import type { CapturePacket } from '../collector/src/pcap/captureReader.ts';
import type { DecodeResult } from '../collector/src/pcap/packetDecoder.ts';

const { values: args } = parseArgs({ options: { flows: { type: 'string', default: '2000000' }, 'ingest-rate': { type: 'string', default: '158000' } } });
const wantFlows = Number(args.flows);
const ingestRate = Number(args['ingest-rate']);
const ids = join(import.meta.dirname, '..', '..', 'shared', 'testdata', 'ids');
const captures = ['generated/nmap-syn-scan.pcap', 'generated/hping-syn-flood.pcap', 'generated/hping-udp-flood.pcap', 'generated/bruteforce-22.pcap',
  'zeek/wikipedia.pcap', 'zeek/ssh_sshguess.pcap', 'real-ddos/pkt.TCP.synflood.spoofed.pcap', 'real-ddos/amp.dns.RRSIG.fragmented.pcap', 'generated/lo-http.pcap'];

/** Ordinary traffic: web, DNS, mail, tunnels; no attack. */
const benignCaptures = ['zeek/wikipedia.pcap', 'generated/lo-http.pcap', 'zeek/http-qinq-0.pcap', 'zeek/tunnels_vxlan.pcap', 'zeek/icmp_dot1q.pcap'];

const attackFlows: EnrichedFlow[] = [];
const benignFlows: EnrichedFlow[] = [];
const packets: { p: CapturePacket; d: DecodeResult }[] = [];
for (const c of captures) {
  await ingestCapture(join(ids, c), {
    onRecords: (r) => void attackFlows.push(...r),
    onPacket: (p, d) => void packets.push({ p, d }),
  });
}
for (const c of benignCaptures) await ingestCapture(join(ids, c), { onRecords: (r) => void benignFlows.push(...r) });
console.log(`${attackFlows.length} flows and ${packets.length} packets from ${captures.length} captures (mostly attacks); ${benignFlows.length} flows from ${benignCaptures.length} benign ones`);
let flows = attackFlows;

/**
 * Flows repeated with times shifted by a day per round and the direction swapped every other round, so windows and
 * keys keep moving. The same objects are changed in place between rounds: a million copies held at once would make
 * the garbage collector, not the detectors, the thing measured.
 */
function* workload(n: number): Generator<EnrichedFlow[]> {
  const batch = 1000;
  const pool = flows.map((f) => ({ ...f }));
  const batches: EnrichedFlow[][] = [];
  for (let i = 0; i < pool.length; i += batch) batches.push(pool.slice(i, i + batch));
  let done = 0;
  for (let round = 0; done < n; round++) {
    if (round > 0) {
      for (const f of pool) {
        f.first += 86_400_000;
        f.last += 86_400_000;
        const a = f.srcAddr;
        f.srcAddr = f.dstAddr;
        f.dstAddr = a;
      }
    }
    for (const b of batches) {
      if (done >= n) return;
      const part = done + b.length > n ? b.slice(0, n - done) : b;
      done += part.length;
      yield part;
    }
  }
}

function timeFlows(detectors: FlowDetector[]): { perSec: number; alerts: number } {
  const alerts = new AlertManager({ write: async () => {}, flushMs: 0 });
  const engine = new IdsEngine(detectors, [], alerts);
  let busy = 0;
  for (const b of workload(wantFlows)) {
    const t0 = performance.now();
    engine.onFlows(b);
    busy += performance.now() - t0;
  }
  const s = busy / 1000;
  return { perSec: wantFlows / s, alerts: alerts.stats.raised };
}

function timePackets(detectors: PacketDetector[], rounds: number): number {
  const alerts = new AlertManager({ write: async () => {}, flushMs: 0 });
  const engine = new IdsEngine([], detectors, alerts);
  const hook = engine.packetHook('bench')!;
  const t0 = performance.now();
  for (let r = 0; r < rounds; r++) for (const { p, d } of packets) hook(p, d);
  return (rounds * packets.length) / ((performance.now() - t0) / 1000);
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
flows = benignFlows;
const benign = timeFlows(createFlowDetectors());
console.log(`\nflow detectors, all ${createFlowDetectors().length}, ordinary traffic: ${fmt(benign.perSec)} flows/s (${(1e9 / benign.perSec).toFixed(0)} ns/flow), ${benign.alerts} alerts`);
console.log(`  at ${fmt(ingestRate)} flows/s (bench/ingest's highest lossless rate) they take ${((ingestRate / benign.perSec) * 100).toFixed(0)}% of one core`);
flows = attackFlows;
const all = timeFlows(createFlowDetectors());
console.log(`flow detectors, all ${createFlowDetectors().length}, attack traffic (a new key on almost every flow): ${fmt(all.perSec)} flows/s (${(1e9 / all.perSec).toFixed(0)} ns/flow), ${all.alerts} alerts`);
console.log(`  at ${fmt(ingestRate)} flows/s they take ${((ingestRate / all.perSec) * 100).toFixed(0)}% of one core; each alone:`);
for (const d of createFlowDetectors()) {
  const one = timeFlows([d]);
  console.log(`  ${d.id.padEnd(12)} ${fmt(one.perSec).padStart(12)} flows/s  ${(1e9 / one.perSec).toFixed(0).padStart(5)} ns/flow`);
}
const rules = await createRuleDetector([join(ids, 'rules', 'emerging-scan.rules'), join(ids, 'rules', 'emerging-dos.rules')]);
const rounds = Math.max(1, Math.ceil(1_000_000 / packets.length));
console.log(`\npacket detectors (${createPacketDetectors().map((d) => d.id).join(', ')}): ${fmt(timePackets(createPacketDetectors(), rounds))} packets/s`);
console.log(`  with the ${rules.loaded.stats.used} ET scan/dos rules: ${fmt(timePackets([...createPacketDetectors(), rules.detector], rounds))} packets/s`);
