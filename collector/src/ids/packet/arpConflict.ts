// `arp-conflict`: one IPv4 address claimed by more than one MAC on one L2 segment.
//
// A claim is what ARP caches learn from (RFC 826: the sender fields of any ARP packet): replies, gratuitous ARP
// (sender address = target address, requests or replies) and, with `countRequests`, ordinary requests. Probes
// (sender 0.0.0.0, RFC 5227) claim nothing.
//
// Two outcomes, one alert per address and report window:
//  - conflict (high): two MACs answer at once. Either two replies from different MACs within `replyPairMs` (two
//    hosts answered the same question: the classic "ARP problem" of LVS/keepalived direct routing, where real
//    servers that hold the VIP on a loopback answer ARP for it unless arp_ignore=1/arp_announce=2 are set), or the
//    answering MAC flipping `minFlips` times within `flipWindowSec` (both keep answering: a duplicate address, or
//    ARP spoofing, where the real owner keeps answering between the spoofer's replies);
//  - change (low): the MAC answering for an address changed and did not flip back. A keepalived failover without
//    use_vmac, a replaced VM or NIC do this legitimately, and so does a spoofer whose victim went quiet; low so it is
//    on record (an ARP-spoofing indication) without paging anyone.
// Defaults: replies to one request arrive within milliseconds and Linux retries a request after 1 s
// (retrans_time_ms 1000), so 1 s pairs the answers to one request; a failover plus a failback is two flips, so
// three within 60 s is not a planned handover; an address's last MAC is remembered for 4 hours, the ARP timeout of
// Cisco IOS routers (a router keeps sending to the old MAC that long, so a change within it matters).
// Keyed by segment (interface, VLAN tags, VNI, ERSPAN session): the same address on two VLANs is two hosts.
// Known false positive: Linux bonding mode 6 (balance-alb) answers ARP with a different slave MAC per peer.
import type { AlertCandidate, AlertSample, Emit, PacketDetector, PacketEvent } from '../idsTypes.ts';
import { parseArp, type ArpMessage } from './arpFrame.ts';
import { formatMac, frameEnd, onSegment, segmentOf } from './frameBytes.ts';
import { fmtSeconds, keepSample, ReportWindow, type Report } from './reportWindow.ts';

export const ARP_CONFLICT_DETECTOR_ID = 'arp-conflict';

export interface ArpConflictConfig {
  enabled: boolean;
  /** Replies from two MACs for one address this close (ms) are two hosts answering the same request. */
  replyPairMs: number;
  /** Changes of the answering MAC within `flipWindowSec` that make a conflict rather than a takeover. */
  minFlips: number;
  flipWindowSec: number;
  /** How long an address's last MAC is remembered (a change after that is not reported). */
  memorySec: number;
  /** Count the sender fields of ordinary requests as claims (caches learn from them). */
  countRequests: boolean;
  /** One alert per address per this many seconds of packet time (also the wait before it is raised). */
  reportWindowSec: number;
  maxReports: number;
  /** Addresses remembered at most (the least recently claimed goes first). */
  maxAddresses: number;
}

export const ARP_CONFLICT_DEFAULTS: Readonly<ArpConflictConfig> = Object.freeze({
  enabled: true,
  replyPairMs: 1000,
  minFlips: 3,
  flipWindowSec: 60,
  memorySec: 4 * 3600,
  countRequests: true,
  reportWindowSec: 60,
  maxReports: 10_000,
  maxAddresses: 50_000,
});

type ClaimKind = 'reply' | 'request' | 'gratuitous';

interface Claims {
  replies: number;
  requests: number;
  gratuitous: number;
}

interface AddressState {
  /** Event time of the newest claim. */
  last: number;
  /** The MAC that answered last, and its claims since it took over. */
  current: number;
  claims: Claims;
  /** MAC and time of the newest non-gratuitous reply; -1 when none. */
  lastReplyMac: number;
  lastReplyAt: number;
  /** Times of the MAC flips within flipWindowSec, newest last (at most MAX_FLIP_TIMES). */
  flips: number[];
}

interface ArpReport extends Report {
  segment: string;
  ip: string;
  /** Claims per MAC during the report, in the order the MACs appeared. */
  macs: Map<number, Claims>;
  flips: number;
  replyPairs: number;
  /** Most flips seen within flipWindowSec. */
  maxFlips: number;
  /** The MAC before the first flip and after the last. */
  from: number;
  to: number;
}

const NO_MAC = -1;
const MAX_REPORT_MACS = 16;
/** Flip times kept per address: enough to count them exactly for the summary, bounded all the same. */
const MAX_FLIP_TIMES = 256;
const BROADCAST_MAC = 0xffff_ffff_ffff;

export class ArpConflictDetector implements PacketDetector {
  readonly id = ARP_CONFLICT_DETECTOR_ID;
  readonly reports: ReportWindow<ArpReport>;
  private readonly addresses = new Map<string, AddressState>();
  private now = -Infinity;

  constructor(readonly config: ArpConflictConfig = ARP_CONFLICT_DEFAULTS) {
    this.reports = new ReportWindow(config.reportWindowSec * 1000, config.maxReports, (_k, r) => renderReport(r, config));
  }

  get trackedAddresses(): number {
    return this.addresses.size;
  }

  onPacket(ev: PacketEvent, emit: Emit): void {
    const ts = ev.packet.ts;
    if (ts > this.now) this.now = ts;
    this.reports.closeDue(this.now, emit);
    const d = ev.decoded;
    if (d.kind !== 'skipped' || d.reason !== 'arp') return;
    const p = ev.packet;
    const msg = parseArp(p.buf, p.start + d.offset, frameEnd(p));
    if (msg === null) return;
    const kind = claimKind(msg, this.config.countRequests);
    if (kind === null) return;
    this.claim(segmentOf(d.encap, p.interfaceId), msg, kind, ts, emit);
  }

  finish(emit: Emit): void {
    this.reports.closeAll(emit);
  }

  expire(now: number): void {
    const cutoff = now - this.config.memorySec * 1000;
    for (const [key, st] of this.addresses) if (st.last < cutoff) this.addresses.delete(key);
  }

  private claim(segment: string, msg: ArpMessage, kind: ClaimKind, t: number, emit: Emit): void {
    const key = `${segment}|${msg.senderIp}`;
    const mac = msg.senderMac;
    const st = this.stateFor(key, mac, t);
    if (mac !== st.current) this.flip(key, segment, st, msg, kind, t, emit);
    else {
      addClaim(st.claims, kind);
      const r = this.reports.get(key);
      if (r) {
        addClaim(claimsOf(r.macs, mac), kind);
        r.last = Math.max(r.last, t);
      }
    }
    if (kind === 'reply') {
      st.lastReplyMac = mac;
      st.lastReplyAt = t;
    }
    st.last = Math.max(st.last, t);
  }

  /** Another MAC claims the address: a change, and maybe a conflict. */
  private flip(key: string, segment: string, st: AddressState, msg: ArpMessage, kind: ClaimKind, t: number, emit: Emit): void {
    const mac = msg.senderMac;
    const pair = kind === 'reply' && st.lastReplyMac !== NO_MAC && st.lastReplyMac !== mac && t - st.lastReplyAt <= this.config.replyPairMs;
    pushFlip(st.flips, t, this.config.flipWindowSec * 1000);
    const r = this.reports.get(key) ?? this.openReport(key, segment, msg.senderIp, st, t, emit);
    r.last = Math.max(r.last, t);
    r.flips++;
    if (pair) r.replyPairs++;
    r.maxFlips = Math.max(r.maxFlips, st.flips.length);
    r.to = mac;
    addClaim(claimsOf(r.macs, mac), kind);
    const why = pair ? ` (second answer within ${this.config.replyPairMs} ms)` : '';
    keepSample(r.samples, () => sampleOf(msg, t, `${describe(msg, kind)}; was ${formatMac(st.current)}${why}`));
    st.current = mac;
    st.claims = { replies: 0, requests: 0, gratuitous: 0 };
    addClaim(st.claims, kind);
  }

  /** The state of an address, new (owned by `mac`) when unknown or forgotten; most recently claimed last. */
  private stateFor(key: string, mac: number, t: number): AddressState {
    const memory = this.config.memorySec * 1000;
    let st = this.addresses.get(key);
    if (st && Math.abs(t - st.last) > memory) st = undefined;
    if (st) {
      this.addresses.delete(key);
    } else {
      st = { last: t, current: mac, claims: { replies: 0, requests: 0, gratuitous: 0 }, lastReplyMac: NO_MAC, lastReplyAt: 0, flips: [] };
      if (this.addresses.size >= this.config.maxAddresses) {
        const oldest = this.addresses.keys().next().value;
        if (oldest !== undefined) this.addresses.delete(oldest);
      }
    }
    this.addresses.set(key, st);
    return st;
  }

  /** A report that starts with the claims the address's owner made until now. */
  private openReport(key: string, segment: string, ip: string, st: AddressState, t: number, emit: Emit): ArpReport {
    const macs = new Map<number, Claims>([[st.current, { ...st.claims }]]);
    return this.reports.add(key, {
      opened: t, last: t, samples: [], segment, ip, macs, flips: 0, replyPairs: 0, maxFlips: 0, from: st.current, to: st.current,
    }, emit);
  }
}

/** What an ARP message claims, or null (probes, other opcodes, impossible sender MACs). */
function claimKind(m: ArpMessage, countRequests: boolean): ClaimKind | null {
  if (m.senderIp === '0.0.0.0' || m.senderMac === 0 || m.senderMac === BROADCAST_MAC) return null;
  // A group (multicast) sender MAC is not a station's address.
  if (Math.floor(m.senderMac / 0x100_0000_0000) & 1) return null;
  if (m.op !== 1 && m.op !== 2) return null;
  if (m.senderIp === m.targetIp) return 'gratuitous';
  if (m.op === 2) return 'reply';
  return countRequests ? 'request' : null;
}

function pushFlip(flips: number[], t: number, windowMs: number): void {
  flips.push(t);
  while (flips.length > 0 && flips[0] < t - windowMs) flips.shift();
  while (flips.length > MAX_FLIP_TIMES) flips.shift();
}

/** The claims of `mac` in a report; past MAX_REPORT_MACS (a flood of forged senders) new MACs are not kept. */
function claimsOf(macs: Map<number, Claims>, mac: number): Claims {
  let c = macs.get(mac);
  if (!c) {
    c = { replies: 0, requests: 0, gratuitous: 0 };
    if (macs.size < MAX_REPORT_MACS) macs.set(mac, c);
  }
  return c;
}

function addClaim(c: Claims, kind: ClaimKind): void {
  if (kind === 'reply') c.replies++;
  else if (kind === 'request') c.requests++;
  else c.gratuitous++;
}

function describe(m: ArpMessage, kind: ClaimKind): string {
  const what = kind === 'gratuitous' ? 'gratuitous ARP' : kind === 'reply' ? 'reply' : 'request';
  return `${what}: ${m.senderIp} is-at ${formatMac(m.senderMac)}`;
}

function sampleOf(m: ArpMessage, t: number, note: string): AlertSample {
  return { time: t, srcAddr: m.senderIp, dstAddr: m.targetIp, srcPort: 0, dstPort: 0, proto: 0, tcpFlags: 0, packets: 1, bytes: 28, note };
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function total(c: Claims): number {
  return c.replies + c.requests + c.gratuitous;
}

function renderReport(r: ArpReport, cfg: ArpConflictConfig): AlertCandidate {
  const conflict = r.replyPairs > 0 || r.maxFlips >= cfg.minFlips;
  const claims = [...r.macs.values()];
  const macList = [...r.macs].map(([mac, c]) => `${formatMac(mac)} (${total(c)})`).join(', ');
  const where = `${r.ip}${onSegment(r.segment)}`;
  const how = r.replyPairs > 0
    ? `${plural(r.replyPairs, 'request')} answered by two of them`
    : `${r.maxFlips} changes within ${fmtSeconds(cfg.flipWindowSec * 1000)}`;
  const summary = conflict
    ? `ARP conflict: ${where} answered by ${r.macs.size} MACs at once, ${macList}; ${how}` +
      ' (hosts answering ARP for a VIP they hold, a duplicate address or ARP spoofing)'
    : `ARP: ${where} moved from ${formatMac(r.from)} to ${formatMac(r.to)} (failover, replaced host or ARP spoofing)`;
  return {
    time: r.opened, detector: ARP_CONFLICT_DETECTOR_ID, severity: conflict ? 'high' : 'low', summary,
    src: '', dst: r.ip, dstPort: 0, proto: 0, vip: '', portgroup: '', key: `${r.segment}|${r.ip}`,
    counts: {
      macs: r.macs.size, changes: r.flips, replyPairs: r.replyPairs, maxChangesInWindow: r.maxFlips,
      replies: claims.reduce((n, c) => n + c.replies, 0), gratuitous: claims.reduce((n, c) => n + c.gratuitous, 0),
      requests: claims.reduce((n, c) => n + c.requests, 0),
    },
    samples: r.samples, origin: 'pcap',
  };
}
