// `vip-ddos`: a load-balancer VIP receiving far more than its own normal: packets or new flows in the current
// minute above `factor` times the VIP's baseline, above an absolute floor, from many source addresses.
//
// Anchors: the baseline is an exponentially weighted moving average over 1-minute buckets, as in EWMA control
// charts (Roberts 1959). FastNetMon's default per-host floors (fastnetmon.conf: threshold_pps = 20000,
// threshold_flows = 3500 flows/s) are absolute and the same for every host; here a VIP's own baseline does most of
// the work, and the absolute floors sit far below FastNetMon's only to keep small VIPs quiet on small bursts.
// Defaults (ours): 10× the baseline, and at least 1,000 packets/s or 100 new flows/s in the minute, from at least
// 20 source addresses (a single-source flood is the flood detectors' case); EWMA span 30 minutes (α = 2/31);
// warm-up 15 minutes.
// Warm-up: a VIP raises nothing during its first `warmupMinutes` of traffic (after a start of the collector too:
// baselines live in memory). The EWMA is bias-corrected (divided by 1-(1-α)^n after n minutes), so it is on scale
// from the first minutes instead of creeping up from 0.
// Only the client→VIP leg counts (vipLeg 'client-vip', or no leg given): replies and the LB→server legs would count
// the same requests again. A minute that crossed the threshold enters the baseline capped at twice the baseline,
// so an attack does not teach the VIP that floods are normal: the baseline then rises by about 8% a minute at most.
// So a lasting rise to k times the old traffic alerts for about ln(k/10)/ln(1.08) minutes (≈30 for 100×, a few for
// 12×) and then becomes the new normal, whether it was an attack or a launch.
// The current minute is compared as it fills, so an attack is seen within seconds, not at the minute's end.
import type { EnrichedFlow } from '../../storage/flowRows.ts';
import type { Emit, FlowDetector } from '../idsTypes.ts';
import { candidateFromFlow, fmtCount, SampleRing } from './alertEvidence.ts';
import { BoundedStates, type TimedState } from './boundedStates.ts';
import { DistinctEstimate } from './distinctEstimate.ts';
import { NOT_ALERTED } from './eventWindows.ts';
import { endOf, flowWeight, isCountable, PROTO_TCP, SYN, packetsWithin } from './flowTraits.ts';

export interface VipDdosConfig {
  enabled: boolean;
  /** The current minute must exceed this many times the baseline (packets or new flows) ... */
  factor: number;
  /** ... and this many packets per second or new flows per second ... */
  minPps: number;
  minNewFlowsPerSec: number;
  /** ... from at least this many source addresses (estimated). */
  minSources: number;
  /** EWMA span in minutes: α = 2 / (span + 1). */
  baselineMinutes: number;
  /** Minutes of a VIP's traffic before it can alert. */
  warmupMinutes: number;
  /** A VIP's baseline is forgotten after this many minutes without flows. */
  forgetAfterMinutes: number;
  /** VIPs tracked at once; the oldest goes first. */
  maxKeys: number;
}

export const VIP_DDOS_DEFAULTS: Readonly<VipDdosConfig> = {
  enabled: true, factor: 10, minPps: 1000, minNewFlowsPerSec: 100, minSources: 20, baselineMinutes: 30,
  warmupMinutes: 15, forgetAfterMinutes: 1440, maxKeys: 10_000,
};

const MINUTE = 60_000;

interface VipState extends TimedState {
  minute: number;
  firstMinute: number;
  /** The current minute, so far. */
  packets: number;
  newFlows: number;
  sources: DistinctEstimate;
  anomalous: boolean;
  alertedAt: number;
  /** EWMA of packets and new flows per minute (not yet bias-corrected), and minutes folded into it. */
  basePackets: number;
  baseFlows: number;
  folded: number;
  /** Thresholds for the current minute, set when it opens. */
  limitPackets: number;
  limitFlows: number;
  samples: SampleRing;
}

export class VipDdosDetector implements FlowDetector {
  readonly id = 'vip-ddos';
  readonly states: BoundedStates<VipState>;
  private readonly alpha: number;

  constructor(private readonly cfg: VipDdosConfig) {
    this.states = new BoundedStates(cfg.maxKeys);
    this.alpha = 2 / (cfg.baselineMinutes + 1);
  }

  onFlows(flows: readonly EnrichedFlow[], emit: Emit): void {
    for (let i = 0; i < flows.length; i++) {
      const f = flows[i];
      if (f.vip && (!f.vipLeg || f.vipLeg === 'client-vip') && isCountable(f)) this.count(f, emit);
    }
  }

  expire(now: number): void {
    this.states.expireBefore(now - this.cfg.forgetAfterMinutes * MINUTE);
  }

  /** The bias-corrected baseline of a VIP, per minute (for tests and the API). */
  baselineOf(vip: string): { packets: number; newFlows: number; minutes: number } | undefined {
    const s = this.states.get(vip);
    if (s === undefined) return undefined;
    const c = this.correction(s);
    return { packets: s.basePackets / c, newFlows: s.baseFlows / c, minutes: s.folded };
  }

  private count(f: EnrichedFlow, emit: Emit): void {
    const t = endOf(f);
    const s = this.stateOf(f.vip as string, t);
    // A flow that ended in a minute already closed (late NetFlow export) counts in the current one.
    if (Math.floor(t / MINUTE) > s.minute) this.openMinute(s, Math.floor(t / MINUTE));
    if (t > s.last) s.last = t;
    s.packets += packetsWithin(f, MINUTE);
    if (f.proto !== PROTO_TCP || (f.tcpFlags & SYN) !== 0) s.newFlows += flowWeight(f);
    s.sources.add(f.srcAddr);
    if (s.packets < s.limitPackets && s.newFlows < s.limitFlows) {
      if (s.packets * 2 >= s.limitPackets || s.newFlows * 2 >= s.limitFlows) s.samples.push(f);
      return;
    }
    s.anomalous = true;
    if (s.alertedAt !== NOT_ALERTED || s.minute - s.firstMinute < this.cfg.warmupMinutes) return;
    const sources = s.sources.estimate();
    if (sources < this.cfg.minSources) return;
    s.samples.push(f);
    s.alertedAt = t;
    this.report(f, s, sources, t, emit);
  }

  private stateOf(vip: string, t: number): VipState {
    const s = this.states.get(vip);
    if (s !== undefined) return s;
    const minute = Math.floor(t / MINUTE);
    const fresh: VipState = {
      last: t, minute, firstMinute: minute, packets: 0, newFlows: 0, sources: new DistinctEstimate(), anomalous: false,
      alertedAt: NOT_ALERTED, basePackets: 0, baseFlows: 0, folded: 0, limitPackets: 0, limitFlows: 0,
      samples: new SampleRing(),
    };
    this.setLimits(fresh);
    return this.states.add(vip, fresh);
  }

  /** Close the current minute into the baseline (and the empty minutes of a gap), then open minute `m`. */
  private openMinute(s: VipState, m: number): void {
    this.fold(s, s.packets, s.newFlows, s.anomalous);
    const empty = Math.min(m - s.minute - 1, 10 * this.cfg.baselineMinutes);
    for (let i = 0; i < empty; i++) this.fold(s, 0, 0, false);
    s.minute = m;
    s.packets = 0;
    s.newFlows = 0;
    s.sources.clear();
    s.anomalous = false;
    s.alertedAt = NOT_ALERTED;
    s.samples.clear();
    this.setLimits(s);
  }

  private fold(s: VipState, packets: number, flows: number, anomalous: boolean): void {
    if (anomalous && s.folded > 0) {
      // Let an anomalous minute in at no more than twice the baseline (see the file comment).
      const c = this.correction(s);
      packets = Math.min(packets, (2 * s.basePackets) / c);
      flows = Math.min(flows, (2 * s.baseFlows) / c);
    }
    s.basePackets += this.alpha * (packets - s.basePackets);
    s.baseFlows += this.alpha * (flows - s.baseFlows);
    s.folded++;
  }

  /** EWMA bias correction: 1 - (1-α)^n after n minutes (1 before any, to avoid dividing by 0). */
  private correction(s: VipState): number {
    return s.folded === 0 ? 1 : 1 - Math.pow(1 - this.alpha, s.folded);
  }

  private setLimits(s: VipState): void {
    const c = this.correction(s);
    s.limitPackets = Math.max(this.cfg.minPps * 60, (this.cfg.factor * s.basePackets) / c);
    s.limitFlows = Math.max(this.cfg.minNewFlowsPerSec * 60, (this.cfg.factor * s.baseFlows) / c);
  }

  private report(f: EnrichedFlow, s: VipState, sources: number, t: number, emit: Emit): void {
    const c = this.correction(s);
    const basePackets = s.basePackets / c;
    const baseFlows = s.baseFlows / c;
    const byPackets = s.packets >= s.limitPackets;
    const [what, now, base] = byPackets ? ['packets', s.packets, basePackets] : ['new flows', s.newFlows, baseFlows];
    const ratio = base > 0 ? now / base : 0;
    const vipAddr = f.vipAddr || f.dstAddr;
    const vipPort = f.vipPort ?? f.dstPort;
    emit(candidateFromFlow(f, 'victim', {
      detector: this.id, severity: 'high', time: t,
      summary: `VIP ${f.vip} (${vipAddr} port ${vipPort}): ${fmtCount(now)} ${what} this minute so far,`
        + ` ${ratio > 0 ? `${fmtCount(ratio)}× its baseline of ${fmtCount(base)}/min` : 'no baseline traffic'},`
        + ` from ≈${fmtCount(sources)} sources`,
      src: '', dst: vipAddr, dstPort: vipPort, proto: f.proto, key: f.vip as string,
      counts: {
        packets: Math.round(s.packets), newFlows: Math.round(s.newFlows), sources,
        baselinePackets: Math.round(basePackets), baselineNewFlows: Math.round(baseFlows), ratio: Math.round(ratio * 10) / 10,
        factor: this.cfg.factor, thresholdPackets: Math.round(s.limitPackets), thresholdNewFlows: Math.round(s.limitFlows),
        baselineMinutes: s.folded,
      },
      samples: s.samples.list(),
    }));
  }
}
