// `vrrp-flap`: VRRP (keepalived, routers) master changes, flapping, split brain and priority changes, from the
// advertisements on the wire. Only the master of a virtual router advertises (RFC 5798 §6.4.3), so the source
// address of the adverts is the master, and per virtual router (VRID, IP version, segment: interface, VLAN tags,
// VNI, ERSPAN session) it is followed over time:
//  - master change: adverts come from a new source, or from one that had been silent for longer than its
//    Master_Down_Interval (3 × interval + skew). One change in a report window is a failover (info), a few are low;
//    more than `maxChanges` within `flapWindowSec` is flapping (high);
//  - split brain (high): two sources keep advertising at once: adverts alternate between them, each alternation
//    within a Master_Down_Interval of the previous, `splitBrainAlternations` times in a row. A preemption makes at
//    most two (the old master's advert in flight when the new one starts), so three is the default;
//  - priority change (low) of one source: keepalived's track scripts move priorities on purpose, so it is on
//    record rather than alarming. Priority 0 is the master resigning (RFC 5798 §6.4.3): part of a change, not a
//    priority change.
// Adverts with a TTL / hop limit other than 255 are ignored, as routers discard them (RFC 5798 §7.1): they came
// through a router, i.e. from off the segment.
// Defaults: failover plus failback is 2 changes, so more than 3 in 5 minutes is not a planned handover; 5 minutes
// is a hundred default (1 s) advert intervals. These are our choices, not from a standard.
import { formatIp, type DecodedPacket } from '../../pcap/packetDecoder.ts';
import type { AlertCandidate, AlertSample, Emit, PacketDetector, PacketEvent, Severity } from '../idsTypes.ts';
import { frameEnd, ipHeaderOffset, onSegment, segmentOf } from './frameBytes.ts';
import { fmtSeconds, keepSample, ReportWindow, type Report } from './reportWindow.ts';
import { parseVrrp, PROTO_VRRP, vrrpOffset, type VrrpAdvert } from './vrrpAdvert.ts';

export const VRRP_FLAP_DETECTOR_ID = 'vrrp-flap';

export interface VrrpFlapConfig {
  enabled: boolean;
  /** Flapping: more master changes than this within `flapWindowSec`. */
  maxChanges: number;
  flapWindowSec: number;
  /** Split brain: this many alternations in a row of two advertising sources. */
  splitBrainAlternations: number;
  /** One alert per router and kind per this many seconds of packet time (also the wait before it is raised). */
  reportWindowSec: number;
  maxReports: number;
  /** Virtual routers followed at most (the least recently heard goes first). */
  maxRouters: number;
  /** Forget a virtual router not heard for this long. */
  forgetAfterSec: number;
}

export const VRRP_FLAP_DEFAULTS: Readonly<VrrpFlapConfig> = Object.freeze({
  enabled: true,
  maxChanges: 3,
  flapWindowSec: 300,
  splitBrainAlternations: 3,
  reportWindowSec: 60,
  maxReports: 10_000,
  maxRouters: 4096,
  forgetAfterSec: 3600,
});

interface Advertiser {
  last: number;
  priority: number;
  intervalMs: number;
  /** Sent priority 0 (resigned) and nothing since. */
  resigned: boolean;
}

interface RouterState {
  last: number;
  /** Source of the newest advert with a priority above 0; '' when none or it resigned. */
  master: string;
  /** The master before a resignation, to tell who took over from whom. */
  resignedMaster: string;
  advertisers: Map<string, Advertiser>;
  /** Times of the master changes within flapWindowSec, newest last (at most MAX_CHANGE_TIMES). */
  changes: number[];
  alternations: number;
  lastAlternationAt: number;
}

type ReportKind = 'master' | 'split-brain' | 'priority';

interface VrrpReport extends Report {
  kind: ReportKind;
  router: string;
  vrid: number;
  segment: string;
  ipVersion: 4 | 6;
  vip: string;
  /** Newest master (master), the two advertisers (split brain), the source (priority). */
  src: string;
  other: string;
  events: number;
  /** Most changes within flapWindowSec (master), most alternations in a row (split brain). */
  peak: number;
  firstValue: number;
  lastValue: number;
  from: string;
}

const MAX_ADVERTISERS = 8;
/** Change times kept per router: enough to count a flapping router's changes exactly, bounded all the same. */
const MAX_CHANGE_TIMES = 256;

export class VrrpFlapDetector implements PacketDetector {
  readonly id = VRRP_FLAP_DETECTOR_ID;
  readonly reports: ReportWindow<VrrpReport>;
  /** Adverts ignored for a TTL other than 255. */
  ignoredTtl = 0;
  private readonly routers = new Map<string, RouterState>();
  private now = -Infinity;

  constructor(readonly config: VrrpFlapConfig = VRRP_FLAP_DEFAULTS) {
    this.reports = new ReportWindow(config.reportWindowSec * 1000, config.maxReports, (_k, r) => renderReport(r, config));
  }

  onPacket(ev: PacketEvent, emit: Emit): void {
    const ts = ev.packet.ts;
    if (ts > this.now) this.now = ts;
    this.reports.closeDue(this.now, emit);
    const d = ev.decoded;
    if (d.kind !== 'ip' || d.proto !== PROTO_VRRP || d.fragment !== null) return;
    const advert = readAdvert(ev, d);
    if (advert === null) return;
    if (d.ttl !== 255) {
      this.ignoredTtl++;
      return;
    }
    const segment = segmentOf(d.encap, ev.packet.interfaceId);
    const ctx: AdvertContext = {
      router: `${segment}|v${d.ipVersion}|${advert.vrid}`, segment, ipVersion: d.ipVersion, src: formatIp(d.src), advert, t: ts, bytes: d.ipLength,
    };
    this.onAdvert(ctx, emit);
  }

  finish(emit: Emit): void {
    this.reports.closeAll(emit);
  }

  expire(now: number): void {
    const cutoff = now - this.config.forgetAfterSec * 1000;
    for (const [key, st] of this.routers) if (st.last < cutoff) this.routers.delete(key);
  }

  private onAdvert(c: AdvertContext, emit: Emit): void {
    const st = this.routerFor(c.router, c.t);
    const a = c.advert;
    const prev = st.advertisers.get(c.src);
    if (prev && !prev.resigned && prev.priority !== a.priority && a.priority !== 0) {
      this.report(c, 'priority', c.src, '', prev.priority, emit, `priority ${prev.priority} → ${a.priority}`);
    }
    if (a.priority === 0) {
      if (st.master === c.src) {
        st.resignedMaster = c.src;
        st.master = '';
      }
    } else if (st.master === '') {
      if (st.resignedMaster !== '' && st.resignedMaster !== c.src) this.masterChanged(c, st, st.resignedMaster, emit);
      st.master = c.src;
      st.resignedMaster = '';
    } else if (st.master !== c.src) {
      const old = st.advertisers.get(st.master);
      if (prev && isAdvertising(prev, c.t) && old && isAdvertising(old, c.t)) this.alternated(c, st, prev, emit);
      else this.masterChanged(c, st, st.master, emit);
      st.master = c.src;
    }
    this.remember(st, c, prev);
  }

  private masterChanged(c: AdvertContext, st: RouterState, from: string, emit: Emit): void {
    const windowMs = this.config.flapWindowSec * 1000;
    st.changes.push(c.t);
    while (st.changes.length > 0 && st.changes[0] < c.t - windowMs) st.changes.shift();
    while (st.changes.length > MAX_CHANGE_TIMES) st.changes.shift();
    const r = this.report(c, 'master', c.src, from, st.changes.length, emit, `master ${from} → ${c.src}`);
    r.peak = Math.max(r.peak, st.changes.length);
  }

  /** A source that kept advertising took over again while the other also kept advertising. */
  private alternated(c: AdvertContext, st: RouterState, src: Advertiser, emit: Emit): void {
    const previous = st.master;
    st.alternations = c.t - st.lastAlternationAt <= masterDownMs(src) ? st.alternations + 1 : 1;
    st.lastAlternationAt = c.t;
    if (st.alternations < this.config.splitBrainAlternations) return;
    const pair = [c.src, previous].sort();
    const r = this.report(c, 'split-brain', pair[0], pair[1], st.alternations, emit, `${c.src} and ${previous} both advertise`);
    r.peak = Math.max(r.peak, st.alternations);
  }

  private report(c: AdvertContext, kind: ReportKind, src: string, other: string, value: number, emit: Emit, note: string): VrrpReport {
    const key = `${c.router}|${kind}${kind === 'priority' ? `|${src}` : ''}`;
    const a = c.advert;
    const r = this.reports.get(key) ?? this.reports.add(key, {
      opened: c.t, last: c.t, samples: [], kind, router: c.router, vrid: a.vrid, segment: c.segment, ipVersion: c.ipVersion,
      vip: a.addresses[0] ?? '', src, other, events: 0, peak: 0, firstValue: value, lastValue: value, from: other,
    }, emit);
    r.last = Math.max(r.last, c.t);
    r.events++;
    r.src = src;
    r.lastValue = kind === 'priority' ? a.priority : value;
    keepSample(r.samples, () => sampleOf(c, note));
    return r;
  }

  private routerFor(key: string, t: number): RouterState {
    const forget = this.config.forgetAfterSec * 1000;
    let st = this.routers.get(key);
    if (st && Math.abs(t - st.last) > forget) st = undefined;
    if (st) this.routers.delete(key);
    else {
      st = { last: t, master: '', resignedMaster: '', advertisers: new Map(), changes: [], alternations: 0, lastAlternationAt: -Infinity };
      if (this.routers.size >= this.config.maxRouters) {
        const oldest = this.routers.keys().next().value;
        if (oldest !== undefined) this.routers.delete(oldest);
      }
    }
    // Re-inserted: the Map's first key is the router heard least recently.
    this.routers.set(key, st);
    st.last = Math.max(st.last, t);
    return st;
  }

  private remember(st: RouterState, c: AdvertContext, prev: Advertiser | undefined): void {
    const a = c.advert;
    const intervalMs = a.intervalMs > 0 ? a.intervalMs : 1000;
    if (prev) {
      prev.last = Math.max(prev.last, c.t);
      prev.priority = a.priority;
      prev.intervalMs = intervalMs;
      prev.resigned = a.priority === 0;
      return;
    }
    if (st.advertisers.size >= MAX_ADVERTISERS) {
      const oldest = st.advertisers.keys().next().value;
      if (oldest !== undefined) st.advertisers.delete(oldest);
    }
    st.advertisers.set(c.src, { last: c.t, priority: a.priority, intervalMs, resigned: a.priority === 0 });
  }
}

interface AdvertContext {
  router: string;
  segment: string;
  ipVersion: 4 | 6;
  src: string;
  advert: VrrpAdvert;
  t: number;
  bytes: number;
}

function readAdvert(ev: PacketEvent, d: DecodedPacket): VrrpAdvert | null {
  const o = ipHeaderOffset(d, ev.packet);
  if (o < 0) return null;
  const end = Math.min(frameEnd(ev.packet), o + d.ipLength);
  return parseVrrp(d.data, vrrpOffset(d, o, end), end, d.ipVersion);
}

/** RFC 5798 Master_Down_Interval: 3 × the advert interval + skew ((256 − priority) × interval / 256). */
function masterDownMs(a: Advertiser): number {
  return 3 * a.intervalMs + ((256 - a.priority) * a.intervalMs) / 256;
}

/** Still advertising at `t`: heard within its Master_Down_Interval, and not resigned. */
function isAdvertising(a: Advertiser, t: number): boolean {
  return !a.resigned && t - a.last <= masterDownMs(a);
}

function sampleOf(c: AdvertContext, note: string): AlertSample {
  const a = c.advert;
  const interval = a.intervalMs >= 1000 ? `${a.intervalMs / 1000} s` : `${a.intervalMs} ms`;
  return {
    time: c.t, srcAddr: c.src, dstAddr: c.ipVersion === 4 ? '224.0.0.18' : 'ff02::12', srcPort: 0, dstPort: 0, proto: PROTO_VRRP,
    tcpFlags: 0, packets: 1, bytes: c.bytes,
    note: `${note}; VRRPv${a.version} VRID ${a.vrid} priority ${a.priority} interval ${interval}${a.addresses.length ? ` VIP ${a.addresses.join(' ')}` : ''}`,
  };
}

function renderReport(r: VrrpReport, cfg: VrrpFlapConfig): AlertCandidate {
  const router = `VRRP VRID ${r.vrid}${r.ipVersion === 6 ? ' (IPv6)' : ''}${onSegment(r.segment)}${r.vip ? ` (VIP ${r.vip})` : ''}`;
  let severity: Severity;
  let summary: string;
  let counts: Record<string, number>;
  if (r.kind === 'master') {
    const flapping = r.peak > cfg.maxChanges;
    severity = flapping ? 'high' : r.events === 1 ? 'info' : 'low';
    summary = flapping
      ? `${router} is flapping: master changed ${r.peak} times within ${fmtSeconds(cfg.flapWindowSec * 1000)}, now ${r.src}`
      : r.events === 1
        ? `${router}: master changed from ${r.from} to ${r.src} (failover)`
        : `${router}: master changed ${r.events} times, now ${r.src}`;
    counts = { changes: r.events, maxChangesInWindow: r.peak, windowSec: cfg.flapWindowSec };
  } else if (r.kind === 'split-brain') {
    severity = 'high';
    summary = `${router}: split brain, ${r.src} and ${r.other} both advertise as master (${r.peak} alternations in a row)`;
    counts = { alternations: r.peak, adverts: r.events };
  } else {
    severity = 'low';
    summary = `${router}: ${r.src} changed its priority from ${r.firstValue} to ${r.lastValue}` +
      (r.events > 1 ? ` (${r.events} changes)` : '');
    counts = { changes: r.events, from: r.firstValue, to: r.lastValue };
  }
  return {
    time: r.opened, detector: VRRP_FLAP_DETECTOR_ID, severity, summary, src: r.src, dst: r.kind === 'split-brain' ? r.other : '',
    dstPort: 0, proto: PROTO_VRRP, vip: r.vip, portgroup: '', key: `${r.router}|${r.kind}${r.kind === 'priority' ? `|${r.src}` : ''}`,
    counts, samples: r.samples, origin: 'pcap',
  };
}
