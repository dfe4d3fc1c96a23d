// `icmp-flood`: ICMP packets (any type: echo floods, BlackNurse-style type 3 floods) to one host.
//
// Anchors: FastNetMon (fastnetmon.conf) per-protocol threshold_icmp_pps = 10000. Benign ICMP to one host is small:
// monitoring pings at about one per second per monitor, and ICMP errors are rate-limited by the hosts that send
// them (Linux net.ipv4.icmp_ratelimit = 1000 ms per destination, icmp_msgs_per_sec = 1000 in all).
// Default: 1,000 ICMP packets to one host within 10 s (100/s on average), a tenth of FastNetMon's floor because
// ICMP volume is that much smaller; hping3 --flood --icmp on loopback reaches it in a fraction of a second.
// On loopback a flood's replies go back to 127.0.0.1 too: a UDP flood to a closed port there also shows its ICMP
// port-unreachable answers as an ICMP flood on 127.0.0.1 (on a real network, on the flooding host: backscatter).
import { FloodDetector, type FloodConfig } from './floodDetector.ts';
import { PROTO_ICMP, PROTO_ICMPV6 } from './flowTraits.ts';

export const ICMP_FLOOD_DEFAULTS: Readonly<FloodConfig> = { enabled: true, minPackets: 1000, windowSec: 10, maxKeys: 50_000 };

export function createIcmpFloodDetector(cfg: FloodConfig): FloodDetector {
  return new FloodDetector({
    id: 'icmp-flood',
    selects: (f) => f.proto === PROTO_ICMP || f.proto === PROTO_ICMPV6,
    keyOf: (f) => f.dstAddr,
    title: (f) => `ICMP flood on ${f.dstAddr}`,
    portOf: () => 0,
    unit: 'ICMP packets',
  }, cfg);
}
