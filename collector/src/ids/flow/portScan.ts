// `port-scan`: one source probing many distinct ports of one host (a vertical scan).
//
// Anchors:
//  - Zeek policy/misc/scan.zeek: Scan::port_scan_threshold = 15 unique ports with failed connections on one victim,
//    over Scan::port_scan_interval = 5 min.
//  - Snort 3 snort_defaults.lua, default_low_port_scan: tcp_window = 60 s, tcp_low_ports = { rejects = 5, ports = 5 }.
// Default: Zeek's 15 distinct ports in 300 s, counting only probe flows. Snort's 5 is a per-packet rule that sees
// the rejections themselves; on flows, 5 ports is reached by ordinary clients that fail a few connects (a service
// down, a client trying 80 then 8080 then 443 ...), while 15 unanswered ports of one host in 5 minutes is not.
// Probe flows (see flowTraits.ts): TCP without an ACK from the source (SYN only, SYN+RST of a half-open scan,
// FIN / Xmas / null), and UDP flows of one or two packets that are not a service's reply nor traceroute. Connections
// that completed a handshake never count, so a client talking to many services of one host raises nothing.
// TCP and UDP ports count apart (tcp/53 and udp/53 are two ports).
import type { EnrichedFlow } from '../../storage/flowRows.ts';
import type { Emit, FlowDetector } from '../idsTypes.ts';
import { candidateFromFlow, fmtDuration, seconds } from './alertEvidence.ts';
import { DistinctTracker } from './distinctTracker.ts';
import { FlagVisibility, isCountable, isTcpProbe, isUdpProbe, PROTO_TCP, startOf } from './flowTraits.ts';

export interface PortScanConfig {
  enabled: boolean;
  /** Distinct ports of one host probed by one source ... */
  distinctPorts: number;
  /** ... within this many seconds. */
  windowSec: number;
  /** Count one- or two-packet UDP flows as probes too. */
  udp: boolean;
  /** (source, destination) pairs tracked at once; the oldest goes first. */
  maxKeys: number;
}

export const PORT_SCAN_DEFAULTS: Readonly<PortScanConfig> = {
  enabled: true, distinctPorts: 15, windowSec: 300, udp: true, maxKeys: 100_000,
};

export class PortScanDetector implements FlowDetector {
  readonly id = 'port-scan';
  readonly tracker: DistinctTracker<number>;
  private readonly flags = new FlagVisibility();

  constructor(private readonly cfg: PortScanConfig) {
    this.tracker = new DistinctTracker(cfg.distinctPorts, cfg.windowSec * 1000, cfg.maxKeys);
  }

  onFlows(flows: readonly EnrichedFlow[], emit: Emit): void {
    for (let i = 0; i < flows.length; i++) {
      const f = flows[i];
      if (!isCountable(f) || f.dstAddr === '') continue;
      const probe = f.proto === PROTO_TCP ? isTcpProbe(f, this.flags.observe(f)) : this.cfg.udp && isUdpProbe(f);
      if (probe) this.count(f, emit);
    }
  }

  expire(now: number): void {
    this.tracker.expire(now);
  }

  private count(f: EnrichedFlow, emit: Emit): void {
    const t = startOf(f);
    const key = `${f.srcAddr}>${f.dstAddr}`;
    // TCP and UDP port numbers are different ports: the protocol goes into the value.
    const crossed = this.tracker.see(key, (f.proto << 16) | f.dstPort, f, t);
    if (crossed === null) return;
    emit(candidateFromFlow(f, 'source', {
      detector: this.id, severity: 'medium', time: t,
      summary: `${f.srcAddr} probed ${crossed.distinct} ports of ${f.dstAddr} in ${fmtDuration(crossed.spanMs)}`,
      src: f.srcAddr, dst: f.dstAddr, dstPort: 0, proto: f.proto, key,
      counts: {
        distinctPorts: crossed.distinct, flows: crossed.flows, spanSec: seconds(crossed.spanMs),
        windowSec: this.cfg.windowSec, threshold: this.cfg.distinctPorts,
      },
      samples: this.tracker.samplesOf(key)?.list() ?? [],
    }));
  }
}
