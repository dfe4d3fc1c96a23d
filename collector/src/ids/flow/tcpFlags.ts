// `tcp-flags`: TCP flag combinations no real connection produces, even OR-ed over its whole life.
//
// NetFlow, IPFIX, softflowd and our flow table OR the flags of all a flow's packets, so a normal connection reads
// SYN|ACK|PSH|FIN and a reset one SYN|ACK|RST: a flag set is only anomalous when no sequence of legitimate packets
// could OR to it. Every packet after a handshake carries ACK, so the rules only look at flows without ACK:
//  - null: no flag at all (nmap -sN), reported only when the exporter is known to export flags (FlagVisibility):
//    a NetFlow v9 template without TCP_FLAGS reads 0 on every flow;
//  - syn-fin: SYN and FIN without ACK (hping3 -SF, OS fingerprinting): a connection that never got an answer
//    never sends a FIN;
//  - xmas: FIN+PSH+URG without ACK (nmap -sX);
//  - fin: FIN without SYN or ACK (nmap -sF); real stacks send FIN with ACK.
// Not reported: SYN+RST. In one packet it is invalid, but in a flow it is also a SYN and then a RST, which a
// half-open scan (port-scan, trw-scan) and a client that cancels a connect both produce; the packet detectors see
// single packets. Nor FIN+ACK-based (Maimon) or ACK scans, which look like ordinary connection ends.
// Anchors: nmap's scan types (nmap.org/book/scan-methods-null-fin-xmas-scan.html); Snort 3 port_scan counts the same
// "unusual flag combinations (Xmas tree, FIN, NULL)" as TCP probes.
// Default: one flow is enough (no legitimate traffic makes these); once per (source, kind) per 5 minutes, because
// a scan sends the same flags to every port and host and one alert says it all.
import type { EnrichedFlow } from '../../storage/flowRows.ts';
import type { Emit, FlowDetector } from '../idsTypes.ts';
import { candidateFromFlow, SampleRing } from './alertEvidence.ts';
import { BoundedStates, type TimedState } from './boundedStates.ts';
import { episodeOver, NOT_ALERTED } from './eventWindows.ts';
import { ACK, FIN, FlagVisibility, isCountable, PROTO_TCP, PSH, startOf, SYN, URG } from './flowTraits.ts';

export type FlagAnomaly = 'null' | 'syn-fin' | 'xmas' | 'fin';

const DESCRIPTION: Record<FlagAnomaly, string> = {
  'null': 'TCP flows with no flags (null scan)',
  'syn-fin': 'TCP flows with SYN and FIN and no ACK',
  'xmas': 'TCP flows with FIN, PSH and URG and no ACK (Xmas scan)',
  'fin': 'TCP flows with FIN and no ACK (FIN scan)',
};

export interface TcpFlagsConfig {
  enabled: boolean;
  /** Anomalous flows of one kind from one source before an alert ... */
  minFlows: number;
  /** ... within this many seconds; also the time before the same source and kind can alert again. */
  windowSec: number;
  /** (source, kind) keys tracked at once; the oldest goes first. */
  maxKeys: number;
}

export const TCP_FLAGS_DEFAULTS: Readonly<TcpFlagsConfig> = { enabled: true, minFlows: 1, windowSec: 300, maxKeys: 50_000 };

/** The anomaly a flow's OR-ed flags show, if any (see the file comment). */
export function flagAnomalyOf(flags: number, flagsTrusted: boolean): FlagAnomaly | null {
  if ((flags & ACK) !== 0) return null;
  if (flags === 0) return flagsTrusted ? 'null' : null;
  if ((flags & (SYN | FIN)) === (SYN | FIN)) return 'syn-fin';
  if ((flags & (FIN | PSH | URG)) === (FIN | PSH | URG)) return 'xmas';
  if ((flags & (SYN | FIN)) === FIN) return 'fin';
  return null;
}

interface FlagState extends TimedState {
  alertedAt: number;
  flows: number;
  /** The one destination, or '' once there were several. */
  target: string;
  samples: SampleRing;
}

export class TcpFlagsDetector implements FlowDetector {
  readonly id = 'tcp-flags';
  readonly states: BoundedStates<FlagState>;
  private readonly flags = new FlagVisibility();
  private readonly windowMs: number;

  constructor(private readonly cfg: TcpFlagsConfig) {
    this.states = new BoundedStates(cfg.maxKeys);
    this.windowMs = cfg.windowSec * 1000;
  }

  onFlows(flows: readonly EnrichedFlow[], emit: Emit): void {
    for (let i = 0; i < flows.length; i++) {
      const f = flows[i];
      if (f.proto !== PROTO_TCP) continue;
      const kind = flagAnomalyOf(f.tcpFlags, this.flags.observe(f));
      if (kind !== null && isCountable(f)) this.count(f, kind, emit);
    }
  }

  expire(now: number): void {
    this.states.expireBefore(now - this.windowMs);
  }

  private count(f: EnrichedFlow, kind: FlagAnomaly, emit: Emit): void {
    const t = startOf(f);
    const key = `${f.srcAddr}|${kind}`;
    let s = this.states.get(key);
    if (s === undefined) s = this.states.add(key, { last: t, alertedAt: NOT_ALERTED, flows: 0, target: f.dstAddr, samples: new SampleRing() });
    else if (episodeOver(s.last, s.alertedAt, t, this.windowMs)) {
      s.alertedAt = NOT_ALERTED;
      s.flows = 0;
      s.target = f.dstAddr;
      s.samples.clear();
    }
    if (t > s.last) s.last = t;
    s.flows++;
    if (s.target !== f.dstAddr) s.target = '';
    if (s.alertedAt !== NOT_ALERTED) return;
    s.samples.push(f, kind);
    if (s.flows < this.cfg.minFlows) return;
    s.alertedAt = t;
    const to = s.target ? `${s.target}` : 'several hosts';
    emit(candidateFromFlow(f, 'source', {
      detector: this.id, severity: 'medium', time: t,
      summary: `${f.srcAddr} sent ${DESCRIPTION[kind]} to ${to}`,
      src: f.srcAddr, dst: s.target, dstPort: s.target ? f.dstPort : 0, proto: PROTO_TCP, key,
      counts: { flows: s.flows, tcpFlags: f.tcpFlags, windowSec: this.cfg.windowSec, threshold: this.cfg.minFlows },
      samples: s.samples.list(),
    }));
  }
}
