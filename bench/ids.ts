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

const flows: EnrichedFlow[] = [];
const packets: { p: CapturePacket; d: DecodeResult }[] = [];
for (const c of captures) {
  await ingestCapture(join(ids, c), {
    onRecords: (r) => void flows.push(...r),
    onPacket: (p, d) => void packets.push({ p, d }),
  });
}
console.log(`${flows.length} flows and ${packets.length} packets from ${captures.length} captures`);

/** Flows repeated with times shifted by a day per round and addresses varied, so windows and keys keep moving. */
function* workload(n: number): Generator<EnrichedFlow[]> {
  const batch = 1000;
  let out: EnrichedFlow[] = [];
  for (let i = 0, round = 0; i < n; round++) {
    const shift = round * 86_400_000;
    for (const f of flows) {
      if (i++ >= n) break;
      out.push({ ...f, first: f.first + shift, last: f.last + shift, srcAddr: round % 2 ? f.srcAddr : f.dstAddr, dstAddr: round % 2 ? f.dstAddr : f.srcAddr });
      if (out.length === batch) {
        yield out;
        out = [];
      }
    }
  }
  if (out.length) yield out;
}

function timeFlows(detectors: FlowDetector[]): { perSec: number; alerts: number } {
  const alerts = new AlertManager({ write: async () => {}, flushMs: 0 });
  const engine = new IdsEngine(detectors, [], alerts);
  const batches = [...workload(wantFlows)];
  const t0 = performance.now();
  for (const b of batches) engine.onFlows(b);
  const s = (performance.now() - t0) / 1000;
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
const all = timeFlows(createFlowDetectors());
console.log(`\nflow detectors, all ${createFlowDetectors().length}: ${fmt(all.perSec)} flows/s (${(1e9 / all.perSec).toFixed(0)} ns/flow), ${all.alerts} alerts`);
console.log(`  at ${fmt(ingestRate)} flows/s (bench/ingest's highest lossless rate) they take ${((ingestRate / all.perSec) * 100).toFixed(0)}% of one core`);
for (const d of createFlowDetectors()) {
  const one = timeFlows([d]);
  console.log(`  ${d.id.padEnd(12)} ${fmt(one.perSec).padStart(12)} flows/s  ${(1e9 / one.perSec).toFixed(0).padStart(5)} ns/flow`);
}
const rules = await createRuleDetector([join(ids, 'rules', 'emerging-scan.rules'), join(ids, 'rules', 'emerging-dos.rules')]);
const rounds = Math.max(1, Math.ceil(1_000_000 / packets.length));
console.log(`\npacket detectors (${createPacketDetectors().map((d) => d.id).join(', ')}): ${fmt(timePackets(createPacketDetectors(), rounds))} packets/s`);
console.log(`  with the ${rules.loaded.stats.used} ET scan/dos rules: ${fmt(timePackets([...createPacketDetectors(), rules.detector], rounds))} packets/s`);
