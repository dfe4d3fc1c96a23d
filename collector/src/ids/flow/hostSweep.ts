// `host-sweep`: one source probing one port on many hosts (a horizontal scan, worm-style spreading).
//
// Anchors:
//  - Zeek policy/misc/scan.zeek: Scan::addr_scan_threshold = 25 unique hosts with failed connections on a single
//    port, over Scan::addr_scan_interval = 5 min.
//  - Snort 3 snort_defaults.lua: tcp_low_sweep = { rejects = 5, nets = 5 } in 60 s (per-packet, sees rejections).
// Default: Zeek's 25 hosts in 300 s, counting the same probe flows as port-scan (no ACK from the source).
// TCP only by default, as Zeek's scan.zeek ("TCP Scan detection"): from one unidirectional flow a UDP query cannot be
// told from a failed one, and a recursive DNS resolver asks hundreds of servers on udp/53 in one-packet flows.
// ICMP echo sweeps are off by default for the same reason: monitoring servers ping every host they watch.
// Both can be switched on where that traffic is known.
import type { EnrichedFlow } from '../../storage/flowRows.ts';
import type { Emit, FlowDetector } from '../idsTypes.ts';
import { candidateFromFlow, fmtDuration, seconds } from './alertEvidence.ts';
import { DistinctTracker } from './distinctTracker.ts';
import { FlagVisibility, isCountable, isEchoRequest, isTcpProbe, isUdpProbe, PROTO_TCP, protoName, startOf } from './flowTraits.ts';

export interface HostSweepConfig {
  enabled: boolean;
  /** Distinct hosts probed on one port by one source ... */
  distinctHosts: number;
  /** ... within this many seconds. */
  windowSec: number;
  /** Count one- or two-packet UDP flows as probes (off: resolvers and NTP clients look like sweeps). */
  udp: boolean;
  /** Count ICMP echo requests as probes (off: monitoring pings look like sweeps). */
  icmpEcho: boolean;
  /** (source, protocol, port) keys tracked at once; the oldest goes first. */
  maxKeys: number;
}

export const HOST_SWEEP_DEFAULTS: Readonly<HostSweepConfig> = {
  enabled: true, distinctHosts: 25, windowSec: 300, udp: false, icmpEcho: false, maxKeys: 100_000,
};

export class HostSweepDetector implements FlowDetector {
  readonly id = 'host-sweep';
  readonly tracker: DistinctTracker<string>;
  private readonly flags = new FlagVisibility();

  constructor(private readonly cfg: HostSweepConfig) {
    this.tracker = new DistinctTracker(cfg.distinctHosts, cfg.windowSec * 1000, cfg.maxKeys);
  }

  onFlows(flows: readonly EnrichedFlow[], emit: Emit): void {
    for (let i = 0; i < flows.length; i++) {
      const f = flows[i];
      if (!isCountable(f) || f.dstAddr === '') continue;
      if (this.isProbe(f)) this.count(f, emit);
    }
  }

  expire(now: number): void {
    this.tracker.expire(now);
  }

  private isProbe(f: EnrichedFlow): boolean {
    if (f.proto === PROTO_TCP) return isTcpProbe(f, this.flags.observe(f));
    return (this.cfg.udp && isUdpProbe(f)) || (this.cfg.icmpEcho && isEchoRequest(f));
  }

  private count(f: EnrichedFlow, emit: Emit): void {
    const t = startOf(f);
    const key = `${f.srcAddr}|${f.proto}/${f.dstPort}`;
    const crossed = this.tracker.see(key, f.dstAddr, f, t);
    if (crossed === null) return;
    const service = `${protoName(f.proto)}/${f.dstPort}`;
    emit(candidateFromFlow(f, 'source', {
      detector: this.id, severity: 'medium', time: t,
      summary: `${f.srcAddr} probed ${service} on ${crossed.distinct} hosts in ${fmtDuration(crossed.spanMs)}`,
      src: f.srcAddr, dst: '', dstPort: f.dstPort, proto: f.proto, key,
      counts: {
        distinctHosts: crossed.distinct, flows: crossed.flows, spanSec: seconds(crossed.spanMs),
        windowSec: this.cfg.windowSec, threshold: this.cfg.distinctHosts,
      },
      samples: this.tracker.samplesOf(key)?.list() ?? [],
    }));
  }
}
