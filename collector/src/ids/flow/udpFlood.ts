// `udp-flood`: UDP packets to one host far above what a host normally receives.
//
// Anchor: FastNetMon (fastnetmon.conf) per-protocol threshold_udp_pps = 10000 (and threshold_pps = 20000 for all
// protocols), packets per second to one host.
// Default: FastNetMon's 10,000 packets/s, as 100,000 UDP packets to one host within 10 s. UDP has no handshake to
// tell an answered request from a flood, so only volume is left, and benign volume is high: a busy DNS server, a
// QUIC download (1 Gbit/s is ~85,000 packets/s), NFS, media. The lab captures in our corpus (hping3 --flood --udp,
// 2,000 packets; real-ddos/amp.UDP.isakmp, 4,000 packets in 0.4 s) are excerpts far below this floor; lower
// `minPackets` where UDP traffic is known to be light.
import { FloodDetector, type FloodConfig } from './floodDetector.ts';
import { PROTO_UDP } from './flowTraits.ts';

export const UDP_FLOOD_DEFAULTS: Readonly<FloodConfig> = { enabled: true, minPackets: 100_000, windowSec: 10, maxKeys: 50_000 };

export function createUdpFloodDetector(cfg: FloodConfig): FloodDetector {
  return new FloodDetector({
    id: 'udp-flood',
    selects: (f) => f.proto === PROTO_UDP,
    keyOf: (f) => f.dstAddr,
    title: (f) => `UDP flood on ${f.dstAddr}`,
    portOf: () => 0,
    unit: 'UDP packets',
  }, cfg);
}
