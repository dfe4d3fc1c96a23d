// Turns decoded packets into flow records the way nfpcapd does: flows keyed by 5-tuple (+ VLANs and tunnel context),
// ended by idle and active timeouts, TCP FIN/RST, a full table or the end of the capture. Time comes only from
// packet timestamps, so the same capture always gives the same flows.
//
// Rules that differ from nfpcapd 1.7.1 (Debian 12), each measured against it (see test/pcap/nfpcapd.test.ts):
//  - its key is the bare 5-tuple; ours adds the VLAN ids and the tunnel context (outermost tunnel endpoints, VNI,
//    GRE key, ERSPAN session), so mirrored copies from different sessions or VLANs stay apart;
//  - it never ends a TCP flow on FIN/RST; we do (end reason 3), unless tcpEndOnFinRst is false;
//  - it emits every ICMP packet and every UDP packet to or from port 53 as a flow of its own; we aggregate them;
//  - it checks timeouts only when a sweep runs (every >10 s of packet time, in whole seconds), so a flow idle for
//    61–71 s may continue; we also check each flow when its next packet arrives;
//  - it reassembles IPv4 fragments and counts a datagram only when its first and last fragments both arrived (first
//    before last); we count a datagram's packet at its first fragment and every fragment's bytes, attribute later
//    fragments to the first fragment's flow, and put fragments whose first never came in a port-less flow.
// `nfpcapdCompat: true` reproduces all five, for comparisons (down to the IP id nfpcapd leaves in the source port of
// a reassembled ICMP datagram). Decoding stays dvflow's in both modes: nfpcapd 1.7.1 does not parse IPv6 extension
// headers, 802.1ad tags, GRE options, ERSPAN, VXLAN or Geneve (see test/pcap/nfpcapd.test.ts).
import { emptyFlowRecord, type FlowRecord } from '../flow/flowRecord.ts';
import { type DecodeResult, type DecodedPacket, type EncapInfo, type EncapKind, formatIp } from './packetDecoder.ts';

export const END_IDLE = 1;
export const END_ACTIVE = 2;
export const END_TCP = 3;
export const END_FORCED = 4;
export const END_RESOURCES = 5;

export interface FlowTableOptions {
  /** Capture file name written into every record. */
  capture?: string;
  /** nfpcapd `-e active,inactive` defaults: 300 s and 60 s. */
  activeTimeoutMs?: number;
  idleTimeoutMs?: number;
  /** Flows kept at once; when full the least recently active is ended (reason 5) and counted. Default 524288. */
  maxFlows?: number;
  tcpEndOnFinRst?: boolean;
  /** How often (in packet time) idle and active flows are looked for. Default 1 s. */
  sweepIntervalMs?: number;
  /** Fragments of a datagram further apart than this are not attributed together. Default 15 s, as nfpcapd. */
  fragmentTimeoutMs?: number;
  /** Datagrams whose fragments are being tracked at once. Default 65536. */
  maxFragmentGroups?: number;
  /** Reproduce nfpcapd 1.7.1's flows exactly (see the file comment). */
  nfpcapdCompat?: boolean;
  onFlow: (record: FlowRecord, info: FlowInfo) => void;
}

/** Encapsulation of a flow's first packet, with addresses as text. */
export interface FlowEncap {
  kinds: EncapKind[];
  vlans: number[];
  mplsLabels: number[];
  /** Tunnel endpoints "src>dst", outermost first. */
  tunnels: string[];
  greKey: number | null;
  vni: number | null;
  erspan: { version: number; session: number; index: number; vlan: number } | null;
}

/** What a FlowRecord has no field for. */
export interface FlowInfo {
  encap: FlowEncap | null;
  /** Non-first fragments attributed to this flow. */
  fragments: number;
  interfaceId: number;
}

export interface FlowTableStats {
  /** Packets given to add(), whatever they were. */
  packets: number;
  /** Datagrams counted into flows, and their bytes (IP lengths). */
  flowPackets: number;
  bytes: number;
  flowsCreated: number;
  flowsEmitted: number;
  /** Flows ended because the table was full. */
  evicted: number;
  malformed: Record<string, number>;
  skipped: Record<string, number>;
  /** Decoded packets per encapsulation kind met ('none' for plain packets). */
  byEncap: Record<string, number>;
  fragments: { total: number; first: number; nonFirst: number; attributed: number; orphaned: number; dropped: number };
}

/** A flow's identity as numbers (no strings on the per-packet path): 5-tuple, VLANs, tunnel context. */
class FlowKey {
  hash = 0;
  /** proto | ipVersion << 8 */
  p = 0;
  /** srcPort << 16 | dstPort (int32: every key field is a small integer, stored unboxed) */
  ports = 0;
  a0 = 0;
  a1 = 0;
  a2 = 0;
  a3 = 0;
  b0 = 0;
  b1 = 0;
  b2 = 0;
  b3 = 0;
  /** Up to two VLAN ids: count << 24 | first << 12 | second; more go to `x`. */
  vlans = 0;
  /** VNI, GRE key (as int32), ERSPAN session; `present` says which exist (bit 0 VNI, 1 GRE key, 2 ERSPAN). */
  vni = 0;
  gre = 0;
  span = 0;
  present = 0;
  /** Outermost tunnel endpoints (IPv4); IPv6 endpoints go to `x`. */
  t0 = 0;
  t1 = 0;
  x = '';

  equals(o: FlowKey): boolean {
    return this.hash === o.hash && this.p === o.p && this.ports === o.ports && this.a0 === o.a0 && this.b0 === o.b0
      && this.a1 === o.a1 && this.a2 === o.a2 && this.a3 === o.a3 && this.b1 === o.b1 && this.b2 === o.b2 && this.b3 === o.b3
      && this.vlans === o.vlans && this.vni === o.vni && this.gre === o.gre && this.span === o.span && this.present === o.present
      && this.t0 === o.t0
      && this.t1 === o.t1 && this.x === o.x;
  }

  assign(k: FlowKey): void {
    this.hash = k.hash; this.p = k.p; this.ports = k.ports;
    this.a0 = k.a0; this.a1 = k.a1; this.a2 = k.a2; this.a3 = k.a3;
    this.b0 = k.b0; this.b1 = k.b1; this.b2 = k.b2; this.b3 = k.b3;
    this.vlans = k.vlans; this.vni = k.vni; this.gre = k.gre; this.span = k.span; this.present = k.present;
    this.t0 = k.t0; this.t1 = k.t1; this.x = k.x;
  }

  /** Fills the key from a packet; `withContext` false gives nfpcapd's bare 5-tuple. */
  set(pkt: DecodedPacket, withContext: boolean): this {
    this.p = pkt.proto | (pkt.ipVersion << 8);
    this.ports = (pkt.srcPort << 16) | pkt.dstPort;
    const s = pkt.src;
    const d = pkt.dst;
    this.a0 = word(s, 0);
    this.b0 = word(d, 0);
    if (s.length === 16) {
      this.a1 = word(s, 4); this.a2 = word(s, 8); this.a3 = word(s, 12);
      this.b1 = word(d, 4); this.b2 = word(d, 8); this.b3 = word(d, 12);
    } else {
      this.a1 = this.a2 = this.a3 = this.b1 = this.b2 = this.b3 = 0;
    }
    let h = mix(mix(mix(mix(0x2545f491, this.p), this.ports), this.a0), this.b0);
    if (s.length === 16) h = mix(mix(mix(mix(mix(mix(h, this.a1), this.a2), this.a3), this.b1), this.b2), this.b3);
    const e = pkt.encap;
    if (!withContext || !e) {
      this.vlans = 0; this.vni = 0; this.gre = 0; this.span = 0; this.present = 0; this.t0 = 0; this.t1 = 0; this.x = '';
      this.hash = h;
      return this;
    }
    const v = e.vlans;
    this.vlans = v.length === 0 ? 0 : v.length === 1 ? (1 << 24) | (v[0] << 12) : (2 << 24) | (v[0] << 12) | v[1];
    this.vni = e.vni ?? 0;
    this.gre = (e.greKey ?? 0) | 0;
    this.span = e.erspan ? e.erspan.session : 0;
    this.present = (e.vni !== null ? 1 : 0) | (e.greKey !== null ? 2 : 0) | (e.erspan ? 4 : 0);
    this.x = v.length > 2 ? v.join('.') : '';
    this.t0 = this.t1 = 0;
    if (e.tunnels.length > 0) {
      const t = e.tunnels[0];
      if (t.src.length === 4) {
        this.t0 = word(t.src, 0);
        this.t1 = word(t.dst, 0);
      } else this.x += `|${formatIp(t.src)}>${formatIp(t.dst)}`;
    }
    this.hash = mix(mix(mix(mix(mix(mix(mix(h, this.vlans), this.vni), this.gre), this.span), this.present), this.t0), this.t1);
    return this;
  }
}

const ADDR = new Uint8Array(16);

function formatWords(v6: boolean, w0: number, w1: number, w2: number, w3: number): string {
  if (!v6) return `${w0 >>> 24}.${(w0 >>> 16) & 255}.${(w0 >>> 8) & 255}.${w0 & 255}`;
  const dv = new DataView(ADDR.buffer);
  dv.setInt32(0, w0);
  dv.setInt32(4, w1);
  dv.setInt32(8, w2);
  dv.setInt32(12, w3);
  return formatIp(ADDR);
}

function word(b: Uint8Array, o: number): number {
  return (b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3];
}

function mix(h: number, v: number): number {
  h = Math.imul(h ^ v, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** Open-addressing hash table of flows by key (linear probing, backward-shift deletion). */
class FlowIndex {
  private slots: (Flow | null)[] = new Array(1024).fill(null);
  private hashes = new Int32Array(1024);
  private mask = 1023;
  size = 0;

  find(k: FlowKey): Flow | null {
    const slots = this.slots;
    const hashes = this.hashes;
    const h = k.hash;
    for (let i = h & this.mask; ; i = (i + 1) & this.mask) {
      const f = slots[i];
      if (f === null) return null;
      if (hashes[i] === h && f.equals(k)) return f;
    }
  }

  insert(f: Flow): void {
    if ((this.size + 1) * 2 > this.slots.length) this.grow();
    this.place(f);
    this.size++;
  }

  remove(f: Flow): void {
    const slots = this.slots;
    const hashes = this.hashes;
    const mask = this.mask;
    let i = f.hash & mask;
    while (slots[i] !== f) {
      if (slots[i] === null) return;
      i = (i + 1) & mask;
    }
    // Shift later members of the probe run back so lookups never stop early.
    for (let j = (i + 1) & mask; slots[j] !== null; j = (j + 1) & mask) {
      const home = hashes[j] & mask;
      const stays = i <= j ? home > i && home <= j : home > i || home <= j;
      if (!stays) {
        slots[i] = slots[j];
        hashes[i] = hashes[j];
        i = j;
      }
    }
    slots[i] = null;
    this.size--;
  }

  private place(f: Flow): void {
    let i = f.hash & this.mask;
    while (this.slots[i] !== null) i = (i + 1) & this.mask;
    this.slots[i] = f;
    this.hashes[i] = f.hash;
  }

  private grow(): void {
    const old = this.slots;
    this.slots = new Array(old.length * 2).fill(null);
    this.hashes = new Int32Array(old.length * 2);
    this.mask = this.slots.length - 1;
    for (const f of old) if (f) this.place(f);
  }
}

/** A flow's state; it carries its own key fields (one object per flow, no pointer to chase on lookup). */
class Flow extends FlowKey {
  packets = 0;
  bytes = 0;
  tcpFlags = 0;
  minTtl = 255;
  maxTtl = 0;
  fragments = 0;
  first: number;
  last: number;
  firstSec: number;
  lastSec: number;
  live = true;
  // Activity order (least recently active first) and creation order.
  prev: Flow | null = null;
  next: Flow | null = null;
  cPrev: Flow | null = null;
  cNext: Flow | null = null;

  constructor(
    key: FlowKey,
    readonly icmpType: number,
    readonly icmpCode: number,
    readonly tos: number,
    readonly srcMac: number,
    readonly dstMac: number,
    readonly encap: FlowEncap | null,
    readonly interfaceId: number,
    ts: number,
  ) {
    super();
    this.assign(key);
    this.first = ts;
    this.last = ts;
    this.firstSec = Math.floor(ts / 1000);
    this.lastSec = this.firstSec;
  }
}

/** A datagram's fragments: the flow its first fragment went to, or fragments waiting for it. */
interface FragGroup {
  flow: Flow | null;
  /** False when the first fragment carried a tunnel: the inner packet was counted whole already. */
  countBytes: boolean;
  lastSeen: number;
  // Fragments seen before the first one (attribute mode), or the first fragment held back (nfpcapd mode).
  pendingBytes: number;
  pendingFragments: number;
  pendingTs: number;
  headerLength: number;
  held: { pkt: DecodedPacket; ts: number; interfaceId: number } | null;
}

export class FlowTable {
  readonly stats: FlowTableStats = {
    packets: 0, flowPackets: 0, bytes: 0, flowsCreated: 0, flowsEmitted: 0, evicted: 0, malformed: {}, skipped: {},
    byEncap: {}, fragments: { total: 0, first: 0, nonFirst: 0, attributed: 0, orphaned: 0, dropped: 0 },
  };
  private readonly flows = new FlowIndex();
  private readonly scratch = new FlowKey();
  private readonly frags = new Map<string, FragGroup>();
  private lruHead: Flow | null = null;
  private lruTail: Flow | null = null;
  private ageHead: Flow | null = null;
  private ageTail: Flow | null = null;
  private now = -Infinity;
  private lastSweep = -Infinity;
  // nfpcapd's expiry clock (whole seconds).
  private lastRun = 0;
  private lastExpire = 0;

  private readonly active: number;
  private readonly idle: number;
  private readonly maxFlows: number;
  private readonly tcpEnd: boolean;
  private readonly sweepEvery: number;
  private readonly fragTimeout: number;
  private readonly maxFrags: number;
  private readonly compat: boolean;
  private readonly capture: string;
  private readonly onFlow: FlowTableOptions['onFlow'];

  constructor(opts: FlowTableOptions) {
    this.compat = opts.nfpcapdCompat ?? false;
    this.active = opts.activeTimeoutMs ?? 300_000;
    this.idle = opts.idleTimeoutMs ?? 60_000;
    this.maxFlows = Math.max(1, opts.maxFlows ?? 524288);
    this.tcpEnd = this.compat ? false : (opts.tcpEndOnFinRst ?? true);
    this.sweepEvery = opts.sweepIntervalMs ?? 1000;
    this.fragTimeout = opts.fragmentTimeoutMs ?? 15_000;
    this.maxFrags = Math.max(1, opts.maxFragmentGroups ?? 65536);
    this.capture = opts.capture ?? '';
    this.onFlow = opts.onFlow;
  }

  /** Flows currently open. */
  get size(): number {
    return this.flows.size;
  }

  /** Accounts one packet seen at `ts` (ms since the epoch). */
  add(result: DecodeResult, ts: number, interfaceId = 0): void {
    const st = this.stats;
    st.packets++;
    if (ts > this.now) this.now = ts;
    if (result.kind === 'ip') {
      const kinds = result.encap?.kinds;
      if (kinds && kinds.length > 0) {
        for (let i = 0; i < kinds.length; i++) st.byEncap[kinds[i]] = (st.byEncap[kinds[i]] ?? 0) + 1;
      } else st.byEncap.none = (st.byEncap.none ?? 0) + 1;
      if (result.fragment || result.encap?.outerFragment) this.addFragment(result, ts, interfaceId);
      else this.count(result, ts, interfaceId, result.ipLength);
    } else if (result.kind === 'malformed') {
      st.malformed[result.reason] = (st.malformed[result.reason] ?? 0) + 1;
    } else {
      st.skipped[result.reason] = (st.skipped[result.reason] ?? 0) + 1;
    }
    if (this.compat) this.nfpcapdClock(ts);
    else if (this.now - this.lastSweep >= this.sweepEvery) this.sweep(this.now);
  }

  /** Ends every flow (reason 4, end of capture); fragments still waiting become port-less flows. */
  flush(): void {
    if (!this.compat) {
      for (const [k, g] of this.frags) this.expireFragGroup(k, g);
    } else this.stats.fragments.dropped += [...this.frags.values()].reduce((n, g) => n + (g.held ? 1 : 0), 0);
    this.frags.clear();
    while (this.ageHead) this.end(this.ageHead, END_FORCED);
  }

  /** Ends flows idle or active for too long at packet time `now` (ms); add() calls it as time passes. */
  sweep(now: number): void {
    this.lastSweep = now;
    while (this.lruHead && now - this.lruHead.last > this.idle) this.end(this.lruHead, END_IDLE);
    while (this.ageHead && now - this.ageHead.first > this.active) this.end(this.ageHead, END_ACTIVE);
    for (const [k, g] of this.frags) {
      if (now - g.lastSeen <= this.fragTimeout) break;
      this.expireFragGroup(k, g);
    }
  }

  // ---- counting -----------------------------------------------------------------------------------------------

  /** Adds one datagram of `bytes` to its flow; returns the flow (null when emitted at once in nfpcapd mode). */
  private count(pkt: DecodedPacket, ts: number, interfaceId: number, bytes: number): Flow | null {
    const st = this.stats;
    st.flowPackets++;
    st.bytes += bytes;
    if (this.compat && (pkt.proto === 1 || pkt.proto === 58 || (pkt.proto === 17 && (pkt.srcPort === 53 || pkt.dstPort === 53)))) {
      // nfpcapd flushes every ICMP and DNS packet as a flow of its own.
      const f = this.newFlow(this.scratch.set(pkt, false), pkt, ts, interfaceId);
      this.update(f, pkt, ts, bytes);
      this.stats.flowsCreated++;
      this.emit(f, END_FORCED);
      return null;
    }
    const key = this.scratch.set(pkt, !this.compat);
    let f = this.flows.find(key);
    if (f && !this.compat) {
      if (ts - f.last > this.idle) {
        this.end(f, END_IDLE);
        f = null;
      } else if (ts - f.first > this.active) {
        this.end(f, END_ACTIVE);
        f = null;
      }
    }
    if (!f) f = this.link(this.newFlow(key, pkt, ts, interfaceId));
    else this.touch(f);
    this.update(f, pkt, ts, bytes);
    if (this.tcpEnd && pkt.proto === 6 && (pkt.tcpFlags & 0x05) !== 0) {
      this.end(f, END_TCP);
    }
    return f;
  }

  private update(f: Flow, pkt: DecodedPacket, ts: number, bytes: number): void {
    f.packets++;
    f.bytes += bytes;
    f.tcpFlags |= pkt.tcpFlags;
    if (pkt.ttl < f.minTtl) f.minTtl = pkt.ttl;
    if (pkt.ttl > f.maxTtl) f.maxTtl = pkt.ttl;
    this.seen(f, ts);
  }

  private seen(f: Flow, ts: number): void {
    if (ts > f.last) {
      f.last = ts;
      f.lastSec = Math.floor(ts / 1000);
    } else if (ts < f.first) {
      f.first = ts;
      f.firstSec = Math.floor(ts / 1000);
    }
  }

  /** Adds a new flow to the map and both lists, ending the least recently active one if the table is full. */
  private link(f: Flow): Flow {
    if (this.flows.size >= this.maxFlows && this.lruHead) {
      this.stats.evicted++;
      this.end(this.lruHead, END_RESOURCES);
    }
    this.flows.insert(f);
    this.stats.flowsCreated++;
    f.prev = this.lruTail;
    if (this.lruTail) this.lruTail.next = f;
    else this.lruHead = f;
    this.lruTail = f;
    f.cPrev = this.ageTail;
    if (this.ageTail) this.ageTail.cNext = f;
    else this.ageHead = f;
    this.ageTail = f;
    return f;
  }

  private newFlow(key: FlowKey, pkt: DecodedPacket, ts: number, interfaceId: number): Flow {
    // The key holds the addresses as numbers: nothing keeps the reader's chunk alive.
    return new Flow(key, pkt.icmpType, pkt.icmpCode, pkt.tos, pkt.srcMac, pkt.dstMac, pkt.encap ? summarizeEncap(pkt.encap) : null,
      interfaceId, ts);
  }

  /** Moves a flow to the most recently active end. */
  private touch(f: Flow): void {
    if (this.lruTail === f) return;
    if (f.prev) f.prev.next = f.next;
    else this.lruHead = f.next;
    if (f.next) f.next.prev = f.prev;
    f.prev = this.lruTail;
    f.next = null;
    if (this.lruTail) this.lruTail.next = f;
    this.lruTail = f;
  }

  private end(f: Flow, reason: number): void {
    if (!f.live) return;
    f.live = false;
    this.flows.remove(f);
    if (f.prev) f.prev.next = f.next;
    else this.lruHead = f.next;
    if (f.next) f.next.prev = f.prev;
    else this.lruTail = f.prev;
    if (f.cPrev) f.cPrev.cNext = f.cNext;
    else this.ageHead = f.cNext;
    if (f.cNext) f.cNext.cPrev = f.cPrev;
    else this.ageTail = f.cPrev;
    f.prev = f.next = f.cPrev = f.cNext = null;
    this.emit(f, reason);
  }

  private emit(f: Flow, reason: number): void {
    this.stats.flowsEmitted++;
    const r = emptyFlowRecord();
    r.source = 'pcap';
    r.capture = this.capture;
    r.version = 0;
    r.first = Math.floor(f.first);
    r.last = Math.floor(f.last);
    r.timeReceived = r.last;
    const k = f;
    const v6 = k.p >> 8 === 6;
    r.srcAddr = formatWords(v6, k.a0, k.a1, k.a2, k.a3);
    r.dstAddr = formatWords(v6, k.b0, k.b1, k.b2, k.b3);
    r.proto = k.p & 0xff;
    r.srcPort = k.ports >>> 16;
    r.dstPort = k.ports & 0xffff;
    r.icmpType = f.icmpType;
    r.icmpCode = f.icmpCode;
    r.tcpFlags = f.tcpFlags;
    r.srcTos = f.tos;
    r.packets = f.packets;
    r.bytes = f.bytes;
    r.minTtl = f.packets > 0 ? f.minTtl : 0;
    r.maxTtl = f.maxTtl;
    r.inSrcMac = f.srcMac;
    r.inDstMac = f.dstMac;
    r.srcVlan = f.encap ? mirroredVlan(f.encap) : 0;
    r.vni = f.encap?.vni ?? 0;
    r.endReason = reason;
    this.onFlow(r, { encap: f.encap, fragments: f.fragments, interfaceId: f.interfaceId });
  }

  // ---- fragments ----------------------------------------------------------------------------------------------

  private addFragment(pkt: DecodedPacket, ts: number, interfaceId: number): void {
    const fs = this.stats.fragments;
    fs.total++;
    const outer = pkt.encap?.outerFragment ?? null;
    const fr = pkt.fragment;
    // The fragmented header: the outer packet a tunnel came out of, else the packet itself.
    const first = outer !== null || (fr !== null && fr.offset === 0);
    const key = outer
      ? `${addrKey(outer.src)}|${addrKey(outer.dst)}|${outer.proto}|${outer.id}`
      : `${addrKey(pkt.src)}|${addrKey(pkt.dst)}|${pkt.proto}|${fr!.id}`;
    let g = this.frags.get(key);
    if (first) fs.first++;
    else fs.nonFirst++;
    if (this.compat) return this.addFragmentNfpcapd(key, g, pkt, ts, interfaceId, first, outer !== null);
    if (first) {
      const f = this.count(pkt, ts, interfaceId, pkt.ipLength);
      if (!g) {
        g = this.newGroup(ts, fr ? fr.headerLength : 0);
        this.setGroup(key, g);
      } else {
        this.frags.delete(key);
        this.frags.set(key, g);
      }
      g.countBytes = outer === null;
      if (f) {
        g.flow = f;
        if (g.pendingFragments > 0) {
          // Fragments that arrived before their first one join its flow now.
          if (g.countBytes) {
            f.bytes += g.pendingBytes;
            this.stats.bytes += g.pendingBytes;
          }
          f.fragments += g.pendingFragments;
          fs.attributed += g.pendingFragments;
          this.seen(f, g.pendingTs);
          g.pendingBytes = g.pendingFragments = 0;
          g.held = null;
        }
      }
      g.lastSeen = ts;
      return;
    }
    if (!g) {
      g = this.newGroup(ts, fr!.headerLength);
      this.setGroup(key, g);
    } else {
      // Keep the map in activity order for expiry.
      this.frags.delete(key);
      this.frags.set(key, g);
    }
    g.lastSeen = ts;
    const f = g.flow ? this.liveFlow(g.flow, ts, interfaceId) : null;
    if (!f) {
      if (g.pendingFragments === 0) {
        g.pendingTs = ts;
        g.held = { pkt: detach(pkt), ts, interfaceId };
      }
      g.pendingFragments++;
      g.pendingBytes += fr!.payloadLength;
      return;
    }
    g.flow = f;
    fs.attributed++;
    f.fragments++;
    if (g.countBytes) {
      f.bytes += fr!.payloadLength;
      this.stats.bytes += fr!.payloadLength;
    }
    this.seen(f, ts);
    this.touch(f);
  }

  /** nfpcapd: the first fragment is held; the datagram counts when its last fragment arrives, unless it came first. */
  private addFragmentNfpcapd(key: string, g: FragGroup | undefined, pkt: DecodedPacket, ts: number, interfaceId: number,
    first: boolean, tunnelled: boolean): void {
    const fs = this.stats.fragments;
    const fr = pkt.fragment;
    if (first) {
      if (g) {
        fs.dropped++;
        return;
      }
      g = this.newGroup(ts, fr ? fr.headerLength : 0);
      g.countBytes = !tunnelled;
      g.held = { pkt: detach(pkt), ts, interfaceId };
      this.setGroup(key, g);
      if (fr && !fr.more && !tunnelled) this.completeNfpcapd(key, g, fr.headerLength + fr.offset + fr.payloadLength);
      return;
    }
    if (!g || !g.held) {
      fs.dropped++;
      return;
    }
    g.lastSeen = ts;
    fs.attributed++;
    if (!fr!.more) this.completeNfpcapd(key, g, fr!.headerLength + fr!.offset + fr!.payloadLength);
  }

  private completeNfpcapd(key: string, g: FragGroup, datagramBytes: number): void {
    this.frags.delete(key);
    const h = g.held!;
    let pkt = h.pkt;
    // nfpcapd keys a reassembly by the IP id in the source port, which only TCP and UDP headers overwrite.
    if ((pkt.proto === 1 || pkt.proto === 58) && pkt.fragment) pkt = { ...pkt, srcPort: pkt.fragment.id };
    this.count(pkt, h.ts, h.interfaceId, g.countBytes ? datagramBytes : pkt.ipLength);
  }

  private newGroup(ts: number, headerLength: number): FragGroup {
    return { flow: null, countBytes: true, lastSeen: ts, pendingBytes: 0, pendingFragments: 0, pendingTs: ts, headerLength, held: null };
  }

  private setGroup(key: string, g: FragGroup): void {
    if (this.frags.size >= this.maxFrags) {
      const oldest = this.frags.entries().next().value;
      if (oldest) this.expireFragGroup(oldest[0], oldest[1]);
    }
    this.frags.set(key, g);
  }

  /** The flow a group's fragments go to now: the same one while open, else a continuation with the same key. */
  private liveFlow(f: Flow, ts: number, interfaceId: number): Flow {
    if (f.live) return f;
    const open = this.flows.find(f);
    if (open) return open;
    return this.link(new Flow(f, f.icmpType, f.icmpCode, f.tos, f.srcMac, f.dstMac, f.encap, interfaceId, ts));
  }

  /** Drops a group; fragments that never met their first fragment become one port-less datagram. */
  private expireFragGroup(key: string, g: FragGroup): void {
    this.frags.delete(key);
    if (this.compat) {
      if (g.held) this.stats.fragments.dropped++;
      return;
    }
    if (g.pendingFragments === 0 || !g.held) return;
    this.stats.fragments.orphaned += g.pendingFragments;
    const f = this.count(g.held.pkt, g.pendingTs, g.held.interfaceId, g.headerLength + g.pendingBytes);
    if (f) {
      f.fragments += g.pendingFragments - 1;
      this.seen(f, g.lastSeen);
    }
  }

  // ---- nfpcapd expiry clock -------------------------------------------------------------------------------------

  /** nfpcapd checks the cache when packet time moved by >1 s, and expires when >10 s passed since it last did. */
  private nfpcapdClock(ts: number): void {
    const sec = Math.floor(ts / 1000);
    if (sec - this.lastRun <= 1) return;
    this.lastRun = sec;
    if (this.lastExpire === 0) {
      this.lastExpire = sec;
      return;
    }
    if (sec - this.lastExpire <= 10) return;
    this.lastExpire = sec;
    const idleS = Math.floor(this.idle / 1000);
    const activeS = Math.floor(this.active / 1000);
    for (let f = this.ageHead; f; ) {
      const next = f.cNext;
      if (sec - f.lastSec > idleS) this.end(f, END_IDLE);
      else if (sec - f.firstSec > activeS) this.end(f, END_ACTIVE);
      f = next;
    }
    for (const [k, g] of this.frags) {
      if (sec - Math.floor(g.lastSeen / 1000) > 15) this.expireFragGroup(k, g);
    }
  }
}

function addrKey(b: Uint8Array): string {
  if (b.length === 4) return String(((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0);
  let s = '';
  for (let i = 0; i < b.length; i += 4) s += `${((b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]) >>> 0}:`;
  return s;
}

/** A decoded packet whose views into the capture are replaced by copies, to be kept past the packet. */
function detach(p: DecodedPacket): DecodedPacket {
  const e = p.encap;
  return {
    ...p, src: p.src.slice(), dst: p.dst.slice(), encap: e ? {
      ...e, kinds: [...e.kinds], vlans: [...e.vlans], mplsLabels: [...e.mplsLabels],
      tunnels: e.tunnels.map((t) => ({ src: t.src.slice(), dst: t.dst.slice() })), outerFragment: null,
      erspan: e.erspan ? { ...e.erspan } : null,
    } : null,
  };
}

export function summarizeEncap(e: EncapInfo): FlowEncap {
  return {
    kinds: [...e.kinds], vlans: [...e.vlans], mplsLabels: [...e.mplsLabels],
    tunnels: e.tunnels.map((t) => `${formatIp(t.src)}>${formatIp(t.dst)}`),
    greKey: e.greKey, vni: e.vni,
    erspan: e.erspan ? { version: e.erspan.version, session: e.erspan.session, index: e.erspan.index, vlan: e.erspan.vlan } : null,
  };
}

/**
 * The VLAN a flow is recorded on: the last tag met (the innermost, as nfpcapd keeps it), or, when the frame came out
 * of ERSPAN with no tag of its own, the VLAN the ERSPAN header reports.
 */
export function mirroredVlan(e: FlowEncap): number {
  let vlan = 0;
  let v = 0;
  let afterErspan = false;
  let taggedAfter = false;
  for (const k of e.kinds) {
    if (k === 'vlan' || k === 'qinq') {
      vlan = e.vlans[v++] ?? 0;
      if (afterErspan) taggedAfter = true;
    } else if (k === 'erspan2' || k === 'erspan3') {
      afterErspan = true;
      taggedAfter = false;
    }
  }
  return afterErspan && !taggedAfter && e.erspan ? e.erspan.vlan : vlan;
}
