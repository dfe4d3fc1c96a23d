// `syn-flood`: many SYN packets that never complete a handshake, to one service (host and port).
//
// Anchors:
//  - FastNetMon (pavel-odintsov/fastnetmon, fastnetmon.conf): per-host thresholds threshold_pps = 20000,
//    threshold_flows = 3500 flows/s, and per protocol threshold_tcp_pps = 10000: volume alone, every TCP packet.
//  - The floods in our corpus: real-ddos/pkt.TCP.synflood.spoofed.pcap is ≈1,600 SYN/s from 37,600 spoofed
//    sources for 24 s to one port (25565); pkt.TCP.DOMINATE.syn.ecn.cwr ≈290 SYN/s to one port; hping3 --flood
//    on loopback ≈3,700 SYN/s.
// Default: 1,000 SYN-without-ACK packets to one host:port within 10 s (100/s on average). Far below FastNetMon's
// volume floors because only unanswered SYNs count: a healthy service's clients send an ACK right after their SYN
// (the flow then carries SYN|ACK and does not count), so even a busy VIP sees few SYN-only flows. What does reach the
// threshold besides a flood is a service that went down under load (clients retrying) — worth an alert too.
// The victim is a host and port, as real SYN floods aim at a service; a scan touches each port once or twice and
// never gets near. A flood spread over random ports of one host is left to the port-scan and vip-ddos detectors.
// A flow counts with all its packets (a SYN+RST flow of a half-open scan has one more; close enough).
import type { EnrichedFlow } from '../../storage/flowRows.ts';
import { FloodDetector, type FloodConfig } from './floodDetector.ts';
import { isSynWithoutAck } from './flowTraits.ts';

export const SYN_FLOOD_DEFAULTS: Readonly<FloodConfig> = { enabled: true, minPackets: 1000, windowSec: 10, maxKeys: 50_000 };

export function createSynFloodDetector(cfg: FloodConfig): FloodDetector {
  return new FloodDetector({
    id: 'syn-flood',
    selects: isSynWithoutAck,
    keyOf: (f: EnrichedFlow) => `${f.dstAddr}|${f.dstPort}`,
    title: (f: EnrichedFlow) => `SYN flood on ${f.dstAddr} port ${f.dstPort}`,
    portOf: (f: EnrichedFlow) => f.dstPort,
    unit: 'SYN packets',
  }, cfg);
}
