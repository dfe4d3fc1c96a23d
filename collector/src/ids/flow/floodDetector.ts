// The machinery shared by `syn-flood`, `udp-flood` and `icmp-flood`: packets of the selected flows to one victim,
// summed over a sliding window of event time; an alert when the sum reaches the threshold. Packets, not flows: a
// NetFlow exporter (softflowd, a dvSwitch) folds a whole flood from one source port into one or a few records.
// A record longer than the window brings only the share of its packets that fits in the window.
import type { EnrichedFlow } from '../../storage/flowRows.ts';
import type { Emit, FlowDetector } from '../idsTypes.ts';
import { candidateFromFlow, fmtCount, fmtDuration, SampleRing, seconds } from './alertEvidence.ts';
import { BoundedStates, type TimedState } from './boundedStates.ts';
import { WindowedDistinctEstimate } from './distinctEstimate.ts';
import { BucketWindow, episodeOver, NOT_ALERTED } from './eventWindows.ts';
import { endOf, flowWeight, isCountable, packetsWithin } from './flowTraits.ts';

export interface FloodConfig {
  enabled: boolean;
  /** Packets of the selected kind to one victim ... */
  minPackets: number;
  /** ... within this many seconds (so minPackets / windowSec packets/s on average). */
  windowSec: number;
  /** Victims tracked at once; the oldest goes first. */
  maxKeys: number;
}

/** What makes one flood detector differ from another. */
export interface FloodKind {
  id: 'syn-flood' | 'udp-flood' | 'icmp-flood';
  /** Does this flow's traffic count toward a flood? */
  selects(f: EnrichedFlow): boolean;
  /** The victim: a host, or a host and port. */
  keyOf(f: EnrichedFlow): string;
  /** "SYN flood on 10.0.0.9:443" */
  title(f: EnrichedFlow): string;
  /** Destination port for the alert (0 when the victim is a host). */
  portOf(f: EnrichedFlow): number;
  /** What the packets are, in the summary: "SYN packets". */
  unit: string;
}

/** Windows are kept in this many buckets: the window slides by a tenth of itself. */
const BUCKETS = 10;
/** Shortest span a rate is computed over. */
const MIN_RATE_SPAN_MS = 100;
/** Source addresses are estimated only for victims past this share of the threshold (memory per victim). */
const SOURCES_FROM = 0.1;

interface FloodState extends TimedState {
  since: number;
  alertedAt: number;
  window: BucketWindow;
  flows: number;
  sources: WindowedDistinctEstimate | null;
  samples: SampleRing;
}

export class FloodDetector implements FlowDetector {
  readonly id: FloodKind['id'];
  readonly states: BoundedStates<FloodState>;
  private readonly windowMs: number;

  constructor(private readonly kind: FloodKind, private readonly cfg: FloodConfig) {
    this.id = kind.id;
    this.windowMs = cfg.windowSec * 1000;
    this.states = new BoundedStates(cfg.maxKeys);
  }

  onFlows(flows: readonly EnrichedFlow[], emit: Emit): void {
    for (let i = 0; i < flows.length; i++) {
      const f = flows[i];
      if (f.dstAddr !== '' && this.kind.selects(f) && isCountable(f)) this.count(f, emit);
    }
  }

  expire(now: number): void {
    this.states.expireBefore(now - this.windowMs);
  }

  private count(f: EnrichedFlow, emit: Emit): void {
    const t = endOf(f);
    const key = this.kind.keyOf(f);
    const s = this.stateOf(key, t);
    if (!s.window.add(t, packetsWithin(f, this.windowMs))) return;
    if (t > s.last) s.last = t;
    s.flows += flowWeight(f);
    const total = s.window.total;
    if (s.sources === null && total >= this.cfg.minPackets * SOURCES_FROM) s.sources = new WindowedDistinctEstimate(this.windowMs, t);
    s.sources?.add(f.srcAddr, t);
    if (s.alertedAt !== NOT_ALERTED) return;
    if (total * 2 >= this.cfg.minPackets) s.samples.push(f);
    if (total < this.cfg.minPackets) return;
    s.alertedAt = t;
    this.report(f, s, key, t, emit);
  }

  private stateOf(key: string, t: number): FloodState {
    const s = this.states.get(key);
    if (s === undefined) {
      return this.states.add(key, {
        last: t, since: t, alertedAt: NOT_ALERTED, window: new BucketWindow(this.windowMs, BUCKETS), flows: 0,
        sources: null, samples: new SampleRing(),
      });
    }
    if (episodeOver(s.last, s.alertedAt, t, this.windowMs)) {
      s.last = t;
      s.since = t;
      s.alertedAt = NOT_ALERTED;
      s.window.clear();
      s.flows = 0;
      s.sources = null;
      s.samples.clear();
    }
    return s;
  }

  private report(f: EnrichedFlow, s: FloodState, key: string, t: number, emit: Emit): void {
    const packets = s.window.total;
    // A burst shorter than the window is rated over its own length, not diluted over the window; the floor keeps a
    // burst within one millisecond from reading as millions per second.
    const spanMs = Math.min(this.windowMs, Math.max(MIN_RATE_SPAN_MS, t - s.since));
    const pps = packets / (spanMs / 1000);
    const sources = s.sources?.estimate() ?? 1;
    emit(candidateFromFlow(f, 'victim', {
      detector: this.id, severity: 'high', time: t,
      summary: `${this.kind.title(f)}: ${fmtCount(packets)} ${this.kind.unit} in ${fmtDuration(spanMs)}`
        + ` (${fmtCount(pps)}/s) from ${sources > 1 ? `≈${fmtCount(sources)} sources` : f.srcAddr}`,
      src: sources > 1 ? '' : f.srcAddr, dst: f.dstAddr, dstPort: this.kind.portOf(f), proto: f.proto, key,
      counts: {
        packets: Math.round(packets), pps: Math.round(pps), flows: s.flows, sources, spanSec: seconds(spanMs),
        windowSec: this.cfg.windowSec, threshold: this.cfg.minPackets,
      },
      samples: s.samples.list(),
    }));
  }
}
