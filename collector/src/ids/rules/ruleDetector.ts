// The `snort-rule` packet detector: every captured packet through the rule matcher, each hit through the rule's
// detection_filter or threshold, an alert candidate for what passes. Windows run on packet time.
//
// threshold / detection_filter, per rule and tracked address (by_src, by_dst, by_both: the address pair either way
// round, by_rule: one for the rule), in windows of `seconds` opened by the first hit and reopened by the first hit
// after they end (Snort and Suricata do the same):
// - limit N: alert on the first N hits of a window;
// - threshold N: alert on every Nth hit of a window;
// - both N: alert once per window, on its Nth hit;
// - detection_filter N: alert on every hit after the Nth of a window (the rate must be exceeded, as Snort's manual
//   says); with Suricata's `unique_on dst_port|src_port` the distinct ports of the window's hits are counted instead.
// A pass rule that matches a packet silences every alert on it.
import type { DecodedPacket } from '../../pcap/packetDecoder.ts';
import { formatIp } from '../../pcap/packetDecoder.ts';
import type { AlertCandidate, AlertSample, Emit, PacketDetector, PacketEvent } from '../idsTypes.ts';
import { severityOfPriority } from './classifications.ts';
import { RuleMatcher, type CompiledRule } from './ruleMatcher.ts';
import type { Rule, Track } from './ruleParser.ts';

export const SNORT_RULE_DETECTOR_ID = 'snort-rule';

export interface RuleDetectorOptions {
  /** Most windows kept (per rule and tracked address); past it the oldest go. Default 200000. */
  maxTrackedWindows?: number;
}

export interface RuleDetectorStats {
  packets: number;
  /** Rule hits before thresholds. */
  hits: number;
  /** Hits a pass rule silenced. */
  passed: number;
  /** Hits held back by threshold / detection_filter. */
  held: number;
  alerts: number;
  /** Rule hits per sid (before thresholds). */
  hitsBySid: Record<number, number>;
  /** Alerts per sid. */
  bySid: Record<number, number>;
}

interface Window {
  start: number;
  end: number;
  count: number;
  ports: Set<number> | null;
}

const PROTO_TCP = 6;
const PROTO_UDP = 17;

export class SnortRuleDetector implements PacketDetector {
  readonly id = SNORT_RULE_DETECTOR_ID;
  readonly stats: RuleDetectorStats = { packets: 0, hits: 0, passed: 0, held: 0, alerts: 0, hitsBySid: {}, bySid: {} };
  readonly matcher: RuleMatcher;
  private readonly windows = new Map<string, Window>();
  private readonly maxWindows: number;

  constructor(rules: readonly Rule[] | RuleMatcher, opts: RuleDetectorOptions = {}) {
    this.matcher = rules instanceof RuleMatcher ? rules : new RuleMatcher(rules);
    this.maxWindows = opts.maxTrackedWindows ?? 200_000;
  }

  onPacket(ev: PacketEvent, emit: Emit): void {
    const d = ev.decoded;
    if (d.kind !== 'ip') return;
    this.stats.packets++;
    const hits = this.matcher.match(d);
    if (hits.length === 0) return;
    this.stats.hits += hits.length;
    const hs = this.stats.hitsBySid;
    for (let i = 0; i < hits.length; i++) {
      const sid = hits[i].rule.sid;
      hs[sid] = (hs[sid] ?? 0) + 1;
    }
    for (let i = 0; i < hits.length; i++) {
      if (hits[i].rule.action === 'pass') {
        this.stats.passed += hits.length;
        return;
      }
    }
    const ts = ev.packet.ts;
    let src: string | null = null;
    let dst: string | null = null;
    for (let i = 0; i < hits.length; i++) {
      const c = hits[i];
      const r = c.rule;
      src ??= formatIp(d.src);
      dst ??= formatIp(d.dst);
      let matches = 1;
      if (r.detectionFilter !== null || r.threshold !== null) {
        const n = this.gate(r, d, ts, src, dst);
        if (n === 0) {
          this.stats.held++;
          continue;
        }
        matches = n;
      }
      this.stats.alerts++;
      this.stats.bySid[r.sid] = (this.stats.bySid[r.sid] ?? 0) + 1;
      emit(this.candidate(c, d, ts, src, dst, matches));
    }
  }

  /** Threshold / detection_filter windows held. */
  get trackedWindows(): number {
    return this.windows.size;
  }

  /** Drops windows that ended before `now`. */
  expire(now: number): void {
    for (const [k, w] of this.windows) if (w.end <= now) this.windows.delete(k);
  }

  /** Applies the rule's detection_filter or threshold to a hit: the window's count when it alerts, else 0. */
  private gate(r: Rule, d: DecodedPacket, ts: number, src: string, dst: string): number {
    const df = r.detectionFilter;
    const th = r.threshold;
    const spec = df ?? th!;
    const key = `${r.gid}:${r.sid}|${trackKey(spec.track, src, dst)}`;
    let w = this.windows.get(key);
    if (w === undefined || ts >= w.end) {
      if (w !== undefined) this.windows.delete(key);
      w = { start: ts, end: ts + spec.seconds * 1000, count: 0, ports: df?.uniqueOn ? new Set() : null };
      this.windows.set(key, w);
      if (this.windows.size > this.maxWindows) this.evictOldest();
    }
    if (df !== null) {
      if (w.ports !== null) {
        const hasPorts = d.proto === PROTO_TCP || d.proto === PROTO_UDP;
        w.ports.add(hasPorts ? (df.uniqueOn === 'src_port' ? d.srcPort : d.dstPort) : 0);
        w.count = w.ports.size;
      } else w.count++;
      return w.count > df.count ? w.count : 0;
    }
    const t = th!;
    w.count++;
    switch (t.type) {
      case 'limit':
        return w.count <= t.count ? w.count : 0;
      case 'both':
        return w.count === t.count ? w.count : 0;
      case 'threshold':
        if (w.count >= t.count) {
          const n = w.count;
          w.count = 0;
          return n;
        }
        return 0;
    }
  }

  private evictOldest(): void {
    let drop = Math.ceil(this.maxWindows / 10);
    for (const k of this.windows.keys()) {
      if (drop-- <= 0) break;
      this.windows.delete(k);
    }
  }

  private candidate(c: CompiledRule, d: DecodedPacket, ts: number, src: string, dst: string, matches: number): AlertCandidate {
    const r = c.rule;
    const ports = d.proto === PROTO_TCP || d.proto === PROTO_UDP;
    const sample: AlertSample = {
      time: ts, srcAddr: src, dstAddr: dst, srcPort: d.srcPort, dstPort: d.dstPort, proto: d.proto, tcpFlags: d.tcpFlags,
      packets: 1, bytes: d.ipLength, note: ruleNote(r),
    };
    const counts: Record<string, number> = { sid: r.sid, rev: r.rev, gid: r.gid, priority: r.priority, matches };
    const spec = r.detectionFilter ?? r.threshold;
    if (spec) {
      counts.count = spec.count;
      counts.seconds = spec.seconds;
    }
    return {
      time: ts,
      detector: SNORT_RULE_DETECTOR_ID,
      severity: severityOfPriority(r.priority),
      summary: r.msg || `rule ${r.gid}:${r.sid}:${r.rev}`,
      src, dst,
      dstPort: ports ? d.dstPort : 0,
      proto: d.proto,
      vip: '',
      portgroup: '',
      key: `${r.sid}:${src}>${dst}`,
      counts,
      samples: [sample],
      origin: 'pcap',
      sid: r.sid,
      classtype: r.classtype,
    };
  }
}

function trackKey(t: Track, src: string, dst: string): string {
  switch (t) {
    case 'by_src':
      return src;
    case 'by_dst':
      return dst;
    case 'by_both':
      return src < dst ? `${src}|${dst}` : `${dst}|${src}`;
    case 'by_rule':
      return '';
  }
}

/** `sid 2001219 rev 20: content "SSH-"` — what a reader of the sample wants to know. */
function ruleNote(r: Rule): string {
  const pos = r.contents.filter((c) => !c.negated).map((c) => `"${c.source}"`);
  const shown = pos.slice(0, 2).join(', ');
  const more = pos.length > 2 ? ` +${pos.length - 2}` : '';
  return `sid ${r.sid} rev ${r.rev}${shown ? `: content ${shown}${more}` : ''}`.slice(0, 200);
}
