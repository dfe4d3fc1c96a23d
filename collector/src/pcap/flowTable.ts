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
import {
  D_F64, D_FIELDS, D_FLAGS, D_ICMP_PROTO, D_IFACE, D_IPLEN, D_KINDS, D_RAW, D_TTL_FLAGS_TOS, F_ENCAP, F_RAW, KIND_NAMES, packedEncap, type DecodedBatch,
} from './decodedBatch.ts';

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
  /**
   * Flows kept at once; when full, a flow that was not active since it was last queued (the least recently active
   * in most cases, as a CLOCK cache picks) is ended (reason 5) and counted. Default 524288.
   */
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
export class FlowKey {
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

  /** Same key as flow `id` of the store (its hash already matched). */
  equalsAt(I: Int32Array, b: number, x: string): boolean {
    return this.p === I[b + 1] && this.ports === I[b + 2] && this.a0 === I[b + 3] && this.b0 === I[b + 7]
      && this.a1 === I[b + 4] && this.a2 === I[b + 5] && this.a3 === I[b + 6] && this.b1 === I[b + 8] && this.b2 === I[b + 9]
      && this.b3 === I[b + 10] && this.vlans === I[b + 11] && this.vni === I[b + 12] && this.gre === I[b + 13]
      && this.span === I[b + 14] && this.present === I[b + 15] && this.t0 === I[b + 16] && this.t1 === I[b + 17] && this.x === x;
  }

  writeTo(I: Int32Array, b: number): void {
    I[b] = this.hash; I[b + 1] = this.p; I[b + 2] = this.ports;
    I[b + 3] = this.a0; I[b + 4] = this.a1; I[b + 5] = this.a2; I[b + 6] = this.a3;
    I[b + 7] = this.b0; I[b + 8] = this.b1; I[b + 9] = this.b2; I[b + 10] = this.b3;
    I[b + 11] = this.vlans; I[b + 12] = this.vni; I[b + 13] = this.gre; I[b + 14] = this.span; I[b + 15] = this.present;
    I[b + 16] = this.t0; I[b + 17] = this.t1;
  }

  readFrom(I: Int32Array, b: number, x: string): this {
    this.hash = I[b]; this.p = I[b + 1]; this.ports = I[b + 2];
    this.a0 = I[b + 3]; this.a1 = I[b + 4]; this.a2 = I[b + 5]; this.a3 = I[b + 6];
    this.b0 = I[b + 7]; this.b1 = I[b + 8]; this.b2 = I[b + 9]; this.b3 = I[b + 10];
    this.vlans = I[b + 11]; this.vni = I[b + 12]; this.gre = I[b + 13]; this.span = I[b + 14]; this.present = I[b + 15];
    this.t0 = I[b + 16]; this.t1 = I[b + 17]; this.x = x;
    return this;
  }

  /** Fills the key from a packet; `withContext` false gives nfpcapd's bare 5-tuple. */
  set(pkt: DecodedPacket, withContext: boolean): this {
    this.p = pkt.proto | (pkt.ipVersion << 8);
    this.ports = (pkt.srcPort << 16) | pkt.dstPort;
    // Addresses straight from the packet's bytes (no views).
    const b = pkt.data;
    const so = pkt.srcOff;
    const dof = pkt.dstOff;
    const v6 = pkt.ipVersion === 6;
    this.a0 = word(b, so);
    this.b0 = word(b, dof);
    if (v6) {
      this.a1 = word(b, so + 4); this.a2 = word(b, so + 8); this.a3 = word(b, so + 12);
      this.b1 = word(b, dof + 4); this.b2 = word(b, dof + 8); this.b3 = word(b, dof + 12);
    } else {
      this.a1 = this.a2 = this.a3 = this.b1 = this.b2 = this.b3 = 0;
    }
    let h = mix(mix(mix(mix(0x2545f491, this.p), this.ports), this.a0), this.b0);
    if (v6) h = mix(mix(mix(mix(mix(mix(h, this.a1), this.a2), this.a3), this.b1), this.b2), this.b3);
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

/** An address from its key words (one for IPv4, four for IPv6) as text. */
export function formatWords(v6: boolean, w0: number, w1: number, w2: number, w3: number): string {
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

// ---- flow state: typed arrays indexed by flow id ---------------------------------------------------------------
// No object per flow: nothing for the garbage collector to trace, promote or compact, and no write barriers when the
// activity list is relinked. Ids are reused; a generation number tells a reused id from the flow a fragment group
// still remembers.
//
// One 128-byte block per flow holds what a packet reads and updates: the key, the counters, first and last seen.
// `I` and `F` view the same memory (int32 and float64 slots). The activity list's links sit apart in `L` (8 bytes a
// flow). What only creation and emission need sits in `C` and `M`.
//
// The activity list (for idle expiry and for room when the table is full) is kept lazily: a packet only writes its
// flow's last-seen time. Each flow remembers the last-seen time it had when it was (re)queued at the list's end;
// a sweep that meets a flow queued more than the idle timeout ago ends it if it really was idle, else queues it at
// the end again. Moving the flow to the end on every packet, as an exact LRU list does, touched three other flows'
// links in random places of memory per packet: about a tenth of the capture path's time on bench/pcap's 50,000
// concurrent flows. Whether a flow is idle is still decided exactly (here and when its next packet comes); only
// the moment an idle flow is handed over can come later, by at most the idle timeout, when a requeued flow sits in
// front of it. nfpcapd itself walks its whole flow tree for expiry.
const SI = 32; // int32 slots per flow; key in 0–17 (as FlowKey.writeTo)
const SK = 18; // int32 slots of a key (FlowKey.writeTo)
/** int32 words of a flow key as FlowKey.writeTo lays it out. */
export const KEY_WORDS = SK;
const I_FLAGSTTL = 22; // TCP flags | min TTL << 8 | max TTL << 16
const I_LIVE = 23;
const SF = 16; // float64 slots per flow (the same 128 bytes)
const F_QUEUED = 10; // last seen when the flow was (re)queued on the activity list (int32 slots 20–21)
const F_FIRST = 12;
const F_LAST = 13;
const F_PACKETS = 14;
const F_BYTES = 15;
const SC = 8; // cold int32 slots per flow in `C`
const C_ICMPT = 0;
const C_ICMPC = 1;
const C_TOS = 2;
const C_IFID = 3;
const C_FRAGS = 4;
const C_GEN = 5;
const C_CPREV = 6; // creation list (oldest first)
const C_CNEXT = 7;
const NIL = -1;

class FlowStore {
  I = new Int32Array(1024 * SI);
  F = new Float64Array(this.I.buffer);
  C = new Int32Array(1024 * SC);
  /** Activity list (in the order flows were last queued, see above): previous and next flow. */
  L = new Int32Array(1024 * 2);
  /** Source and destination MAC per flow. */
  M = new Float64Array(1024 * 2);
  /** Key overflow (more than two VLANs, IPv6 tunnel endpoints); '' for nearly every flow. */
  readonly X: string[] = [];
  readonly E: (FlowEncap | null)[] = [];
  private cap = 1024;
  private used = 0;
  private readonly free: number[] = [];
  private gen = 0;

  alloc(): number {
    let id: number;
    if (this.free.length > 0) id = this.free.pop()!;
    else {
      if (this.used === this.cap) this.grow();
      id = this.used++;
      this.X.push('');
      this.E.push(null);
    }
    this.C[id * SC + C_GEN] = ++this.gen | 0;
    return id;
  }

  release(id: number): void {
    this.I[id * SI + I_LIVE] = 0;
    this.E[id] = null;
    this.X[id] = '';
    this.free.push(id);
  }

  private grow(): void {
    this.cap *= 2;
    const i = new Int32Array(this.cap * SI);
    i.set(this.I);
    this.I = i;
    this.F = new Float64Array(i.buffer);
    const c = new Int32Array(this.cap * SC);
    c.set(this.C);
    this.C = c;
    const m = new Float64Array(this.cap * 2);
    m.set(this.M);
    this.M = m;
    const l = new Int32Array(this.cap * 2);
    l.set(this.L);
    this.L = l;
  }
}

/** Open-addressing hash table of flow ids by key (linear probing, backward-shift deletion): [id, hash] pairs. */
class FlowIndex {
  private t = new Int32Array(2048).fill(NIL);
  private mask = 1023;
  size = 0;

  find(k: FlowKey, st: FlowStore): number {
    const t = this.t;
    const mask = this.mask;
    const h = k.hash;
    const I = st.I;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const id = t[2 * i];
      if (id === NIL) return NIL;
      if (t[2 * i + 1] === h && k.equalsAt(I, id * SI, st.X[id])) return id;
    }
  }

  /**
   * Reads the slot each of `n` keys (hash at K[i * SK]) hashes to, then the flow block its id names: the reads of one
   * loop do not depend on each other, so their cache misses overlap. Returns a sum of what was read.
   */
  warm(K: Int32Array, n: number, I: Int32Array): number {
    const t = this.t;
    const mask = this.mask;
    let acc = 0;
    for (let i = 0; i < n; i++) acc += t[2 * (K[i * SK] & mask) + 1];
    for (let i = 0; i < n; i++) {
      const id = t[2 * (K[i * SK] & mask)];
      if (id !== NIL) acc += I[id * SI];
    }
    return acc;
  }

  insert(id: number, h: number): void {
    if ((this.size + 1) * 2 > this.mask + 1) this.grow();
    this.place(id, h);
    this.size++;
  }

  remove(id: number, h: number): void {
    const t = this.t;
    const mask = this.mask;
    let i = h & mask;
    while (t[2 * i] !== id) {
      if (t[2 * i] === NIL) return;
      i = (i + 1) & mask;
    }
    // Shift later members of the probe run back so lookups never stop early.
    for (let j = (i + 1) & mask; t[2 * j] !== NIL; j = (j + 1) & mask) {
      const home = t[2 * j + 1] & mask;
      const stays = i <= j ? home > i && home <= j : home > i || home <= j;
      if (!stays) {
        t[2 * i] = t[2 * j];
        t[2 * i + 1] = t[2 * j + 1];
        i = j;
      }
    }
    t[2 * i] = NIL;
    this.size--;
  }

  private place(id: number, h: number): void {
    const t = this.t;
    let i = h & this.mask;
    while (t[2 * i] !== NIL) i = (i + 1) & this.mask;
    t[2 * i] = id;
    t[2 * i + 1] = h;
  }

  private grow(): void {
    const old = this.t;
    this.t = new Int32Array(old.length * 2).fill(NIL);
    this.mask = old.length - 1;
    for (let i = 0; i < old.length; i += 2) if (old[i] !== NIL) this.place(old[i], old[i + 1]);
  }
}

/** What a new flow with a remembered flow's key needs (fragments arriving after that flow ended). */
interface FlowProto {
  key: FlowKey;
  icmpType: number;
  icmpCode: number;
  tos: number;
  srcMac: number;
  dstMac: number;
  encap: FlowEncap | null;
}

/** A datagram's fragments: the flow its first fragment went to, or fragments waiting for it. */
interface FragGroup {
  /** Flow id and generation (NIL when none yet), and how to recreate it once it ended. */
  flow: number;
  gen: number;
  proto: FlowProto | null;
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
  private readonly store = new FlowStore();
  private readonly flows = new FlowIndex();
  private readonly scratch = new FlowKey();
  /** addBatch's keys (SK int32 each, as FlowKey.writeTo) and their overflow strings. */
  private batchKeys = new Int32Array(0);
  private batchX: string[] = [];
  /** What FlowIndex.warm read (kept so its reads are not optimized away). */
  warmed = 0;
  private readonly frags = new Map<string, FragGroup>();
  private lruHead = NIL;
  private lruTail = NIL;
  private ageHead = NIL;
  private ageTail = NIL;
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

  /**
   * Accounts the first `n` packets of a batch, in order, exactly as add() would one by one (`times` and `interfaces`
   * hold the packets' ts and interfaceId). First the flow keys of them all are made and the index slots and flow blocks
   * they lead to are read in a tight loop: on a table bigger than the CPU caches each packet's lookup waits for
   * memory twice, and reads that do not depend on each other wait together (the CPU overlaps them) instead of one
   * after the other. bench/pcap's capture (50,000 concurrent flows), read → decode → flow table: 1.69 → 1.58 s, medians
   * of eight alternating runs.
   */
  addBatch(results: readonly DecodeResult[], times: Float64Array, interfaces: Int32Array, n: number): void {
    if (this.batchKeys.length < n * SK) {
      this.batchKeys = new Int32Array(n * SK);
      this.batchX = new Array<string>(n).fill('');
    }
    const K = this.batchKeys;
    const X = this.batchX;
    const key = this.scratch;
    const ctx = !this.compat;
    for (let i = 0; i < n; i++) {
      const r = results[i];
      if (r.kind === 'ip' && r.fragment === null) {
        key.set(r, ctx).writeTo(K, i * SK);
        X[i] = key.x;
      }
    }
    this.warmed = this.flows.warm(K, n, this.store.I) | 0;
    for (let i = 0; i < n; i++) {
      const r = results[i];
      this.account(r, times[i], interfaces[i], r.kind === 'ip' && r.fragment === null ? key.readFrom(K, i * SK, X[i]) : null);
    }
  }

  /**
   * addBatch for packets decoded on another thread (decodedBatch.ts): the same accounting, from the packed keys and
   * fields. `rawDecoded[j]` is the decoding of the batch's raw packet j (made on this thread).
   */
  addPacked(b: DecodedBatch, rawDecoded: readonly DecodeResult[]): void {
    const n = b.n;
    const K = b.keys;
    const D = b.ints;
    const T = b.f64;
    const key = this.scratch;
    this.warmed = this.flows.warm(K, n, this.store.I) | 0;
    for (let i = 0, o = 0; i < n; i++, o += D_FIELDS) {
      const flags = D[o + D_FLAGS];
      const ts = T[i * D_F64];
      if (flags & F_RAW) {
        this.account(rawDecoded[D[o + D_RAW]], ts, D[o + D_IFACE], null);
        continue;
      }
      const st = this.stats;
      st.packets++;
      if (ts > this.now) this.now = ts;
      if (flags & F_ENCAP) {
        for (let c = D[o + D_KINDS]; c !== 0; c >>>= 4) {
          const k = KIND_NAMES[(c & 15) - 1];
          st.byEncap[k] = (st.byEncap[k] ?? 0) + 1;
        }
      } else st.byEncap.none = (st.byEncap.none ?? 0) + 1;
      key.readFrom(K, i * SK, '');
      const bytes = D[o + D_IPLEN];
      st.flowPackets++;
      st.bytes += bytes;
      let f = this.current(key, ts);
      const tft = D[o + D_TTL_FLAGS_TOS];
      const ip = D[o + D_ICMP_PROTO];
      if (f === NIL) {
        f = this.link(this.fill(key, ip & 0xff, (ip >>> 8) & 0xff, (tft >>> 16) & 0xff, T[i * D_F64 + 1], T[i * D_F64 + 2],
          flags & F_ENCAP ? packedEncap(b, i, key) : null, D[o + D_IFACE], ts));
      }
      const tcpFlags = (tft >>> 8) & 0xff;
      this.update(f, tft & 0xff, tcpFlags, ts, bytes);
      if (this.tcpEnd && (ip >>> 16) === 6 && (tcpFlags & 0x05) !== 0) this.end(f, END_TCP);
      if (this.now - this.lastSweep >= this.sweepEvery) this.sweep(this.now);
    }
  }

  /** Accounts one packet seen at `ts` (ms since the epoch). */
  add(result: DecodeResult, ts: number, interfaceId = 0): void {
    this.account(result, ts, interfaceId, null);
  }

  /** add(), with the packet's flow key when addBatch made it already (count() takes it instead of making it again). */
  private account(result: DecodeResult, ts: number, interfaceId: number, pre: FlowKey | null): void {
    const st = this.stats;
    st.packets++;
    if (ts > this.now) this.now = ts;
    if (result.kind === 'ip') {
      const enc = result.encap;
      if (enc !== null && enc.kinds.length > 0) {
        const kinds = enc.kinds;
        for (let i = 0; i < kinds.length; i++) st.byEncap[kinds[i]] = (st.byEncap[kinds[i]] ?? 0) + 1;
      } else st.byEncap.none = (st.byEncap.none ?? 0) + 1;
      if (result.fragment !== null || (enc !== null && enc.outerFragment !== null)) this.addFragment(result, ts, interfaceId);
      else this.count(result, ts, interfaceId, result.ipLength, pre);
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
    while (this.flushSome(Infinity));
  }

  /**
   * Ends at most `max` flows (oldest first), as flush() does; true while flows remain. A capture's end holds most
   * of its flows (every one still open): ended in slices, the records of one slice are stored and dropped before
   * the next exist, instead of all of them living at once and being moved by the garbage collector.
   */
  flushSome(max: number): boolean {
    if (this.frags.size > 0) {
      if (!this.compat) {
        for (const [k, g] of this.frags) this.expireFragGroup(k, g);
      } else this.stats.fragments.dropped += [...this.frags.values()].reduce((n, g) => n + (g.held ? 1 : 0), 0);
      this.frags.clear();
    }
    for (let n = 0; n < max && this.ageHead !== NIL; n++) this.end(this.ageHead, END_FORCED);
    return this.ageHead !== NIL;
  }

  /** Ends flows idle or active for too long at packet time `now` (ms); add() calls it as time passes. */
  sweep(now: number): void {
    this.lastSweep = now;
    const F = this.store.F;
    for (let h = this.lruHead; h !== NIL && now - F[h * SF + F_QUEUED] > this.idle; h = this.lruHead) {
      if (now - F[h * SF + F_LAST] > this.idle) this.end(h, END_IDLE);
      else this.requeue(h);
    }
    while (this.ageHead !== NIL && now - F[this.ageHead * SF + F_FIRST] > this.active) this.end(this.ageHead, END_ACTIVE);
    if (this.frags.size === 0) return;
    for (const [k, g] of this.frags) {
      if (now - g.lastSeen <= this.fragTimeout) break;
      this.expireFragGroup(k, g);
    }
  }

  // ---- counting -----------------------------------------------------------------------------------------------

  /** Adds one datagram of `bytes` to its flow; returns the flow (NIL when emitted at once in nfpcapd mode). */
  private count(pkt: DecodedPacket, ts: number, interfaceId: number, bytes: number, pre: FlowKey | null = null): number {
    const st = this.stats;
    st.flowPackets++;
    st.bytes += bytes;
    if (this.compat && (pkt.proto === 1 || pkt.proto === 58 || (pkt.proto === 17 && (pkt.srcPort === 53 || pkt.dstPort === 53)))) {
      // nfpcapd flushes every ICMP and DNS packet as a flow of its own.
      const f = this.newFlow(this.scratch.set(pkt, false), pkt, ts, interfaceId);
      this.update(f, pkt.ttl, pkt.tcpFlags, ts, bytes);
      this.stats.flowsCreated++;
      this.emit(f, END_FORCED);
      this.store.release(f);
      return NIL;
    }
    const key = pre ?? this.scratch.set(pkt, !this.compat);
    let f = this.current(key, ts);
    if (f === NIL) f = this.link(this.newFlow(key, pkt, ts, interfaceId));
    this.update(f, pkt.ttl, pkt.tcpFlags, ts, bytes);
    if (this.tcpEnd && pkt.proto === 6 && (pkt.tcpFlags & 0x05) !== 0) {
      this.end(f, END_TCP);
    }
    return f;
  }

  /** The flow of `key` that a packet at `ts` belongs to, or NIL; one idle or active for too long is ended first. */
  private current(key: FlowKey, ts: number): number {
    const f = this.flows.find(key, this.store);
    if (f === NIL || this.compat) return f;
    const F = this.store.F;
    if (ts - F[f * SF + F_LAST] > this.idle) {
      this.end(f, END_IDLE);
      return NIL;
    }
    if (ts - F[f * SF + F_FIRST] > this.active) {
      this.end(f, END_ACTIVE);
      return NIL;
    }
    return f;
  }

  /** Adds a packet of `bytes` with this TTL and these TCP flags, seen at `ts`, to flow f. */
  private update(f: number, ttl: number, tcpFlags: number, ts: number, bytes: number): void {
    const I = this.store.I;
    const F = this.store.F;
    const d = f * SF;
    F[d + F_PACKETS]++;
    F[d + F_BYTES] += bytes;
    const ft = I[f * SI + I_FLAGSTTL];
    let min = (ft >>> 8) & 0xff;
    let max = ft >>> 16;
    if (ttl < min) min = ttl;
    if (ttl > max) max = ttl;
    I[f * SI + I_FLAGSTTL] = ((ft | tcpFlags) & 0xff) | (min << 8) | (max << 16);
    if (ts > F[d + F_LAST]) F[d + F_LAST] = ts;
    else if (ts < F[d + F_FIRST]) F[d + F_FIRST] = ts;
  }

  private seen(f: number, ts: number): void {
    const F = this.store.F;
    const d = f * SF;
    if (ts > F[d + F_LAST]) F[d + F_LAST] = ts;
    else if (ts < F[d + F_FIRST]) F[d + F_FIRST] = ts;
  }

  private live(f: number, gen: number): boolean {
    return f !== NIL && this.store.I[f * SI + I_LIVE] === 1 && this.store.C[f * SC + C_GEN] === gen;
  }

  /** Adds a new flow to the map and both lists, first ending one (see maxFlows) if the table is full. */
  private link(f: number): number {
    if (this.flows.size >= this.maxFlows && this.lruHead !== NIL) {
      // Flows active since they were queued get a second chance at the end of the list (each at most once here).
      const F = this.store.F;
      let h = this.lruHead;
      while (F[h * SF + F_LAST] > F[h * SF + F_QUEUED]) {
        this.requeue(h);
        h = this.lruHead;
      }
      this.stats.evicted++;
      this.end(h, END_RESOURCES);
    }
    const I = this.store.I;
    const b = f * SI;
    this.flows.insert(f, I[b]);
    I[b + I_LIVE] = 1;
    this.store.F[f * SF + F_QUEUED] = this.store.F[f * SF + F_LAST];
    this.stats.flowsCreated++;
    const L = this.store.L;
    const C = this.store.C;
    L[2 * f] = this.lruTail;
    L[2 * f + 1] = NIL;
    if (this.lruTail !== NIL) L[2 * this.lruTail + 1] = f;
    else this.lruHead = f;
    this.lruTail = f;
    C[f * SC + C_CPREV] = this.ageTail;
    C[f * SC + C_CNEXT] = NIL;
    if (this.ageTail !== NIL) C[this.ageTail * SC + C_CNEXT] = f;
    else this.ageHead = f;
    this.ageTail = f;
    return f;
  }

  private newFlow(key: FlowKey, pkt: DecodedPacket, ts: number, interfaceId: number): number {
    // The key holds the addresses as numbers: nothing keeps the reader's chunk alive.
    return this.fill(key, pkt.icmpType, pkt.icmpCode, pkt.tos, pkt.srcMac, pkt.dstMac, pkt.encap ? summarizeEncap(pkt.encap) : null,
      interfaceId, ts);
  }

  private fill(key: FlowKey, icmpType: number, icmpCode: number, tos: number, srcMac: number, dstMac: number, encap: FlowEncap | null,
    interfaceId: number, ts: number): number {
    const st = this.store;
    const f = st.alloc();
    const I = st.I;
    const F = st.F;
    const C = st.C;
    const b = f * SI;
    key.writeTo(I, b);
    st.X[f] = key.x;
    st.E[f] = encap;
    st.L[2 * f] = st.L[2 * f + 1] = NIL;
    C[f * SC + C_CPREV] = C[f * SC + C_CNEXT] = NIL;
    I[b + I_FLAGSTTL] = 255 << 8; // min TTL starts high, max at 0
    I[b + I_LIVE] = 0;
    const d = f * SF;
    F[d + F_PACKETS] = 0;
    F[d + F_BYTES] = 0;
    F[d + F_FIRST] = ts;
    F[d + F_LAST] = ts;
    const c = f * SC;
    C[c + C_ICMPT] = icmpType;
    C[c + C_ICMPC] = icmpCode;
    C[c + C_TOS] = tos;
    C[c + C_IFID] = interfaceId;
    C[c + C_FRAGS] = 0;
    st.M[2 * f] = srcMac;
    st.M[2 * f + 1] = dstMac;
    return f;
  }

  /** Moves a flow to the activity list's end, remembering its last-seen time as of now. */
  private requeue(f: number): void {
    this.store.F[f * SF + F_QUEUED] = this.store.F[f * SF + F_LAST];
    const tail = this.lruTail;
    if (tail === f) return;
    const L = this.store.L;
    const prev = L[2 * f];
    const next = L[2 * f + 1];
    if (prev !== NIL) L[2 * prev + 1] = next;
    else this.lruHead = next;
    if (next !== NIL) L[2 * next] = prev;
    L[2 * f] = tail;
    L[2 * f + 1] = NIL;
    if (tail !== NIL) L[2 * tail + 1] = f;
    this.lruTail = f;
  }

  private end(f: number, reason: number): void {
    const st = this.store;
    const I = st.I;
    const b = f * SI;
    if (I[b + I_LIVE] !== 1) return;
    I[b + I_LIVE] = 0;
    this.flows.remove(f, I[b]);
    const L = st.L;
    const prev = L[2 * f];
    const next = L[2 * f + 1];
    if (prev !== NIL) L[2 * prev + 1] = next;
    else this.lruHead = next;
    if (next !== NIL) L[2 * next] = prev;
    else this.lruTail = prev;
    const C = st.C;
    const c = f * SC;
    const cprev = C[c + C_CPREV];
    const cnext = C[c + C_CNEXT];
    if (cprev !== NIL) C[cprev * SC + C_CNEXT] = cnext;
    else this.ageHead = cnext;
    if (cnext !== NIL) C[cnext * SC + C_CPREV] = cprev;
    else this.ageTail = cprev;
    L[2 * f] = L[2 * f + 1] = C[c + C_CPREV] = C[c + C_CNEXT] = NIL;
    this.emit(f, reason);
    st.release(f);
  }

  private emit(f: number, reason: number): void {
    this.stats.flowsEmitted++;
    const st = this.store;
    const I = st.I;
    const F = st.F;
    const C = st.C;
    const b = f * SI;
    const d = f * SF;
    const c = f * SC;
    const encap = st.E[f];
    const r = emptyFlowRecord();
    r.source = 'pcap';
    r.capture = this.capture;
    r.version = 0;
    r.first = Math.floor(F[d + F_FIRST]);
    r.last = Math.floor(F[d + F_LAST]);
    r.timeReceived = r.last;
    const p = I[b + 1];
    const ports = I[b + 2];
    const v6 = p >> 8 === 6;
    r.srcAddr = formatWords(v6, I[b + 3], I[b + 4], I[b + 5], I[b + 6]);
    r.dstAddr = formatWords(v6, I[b + 7], I[b + 8], I[b + 9], I[b + 10]);
    r.proto = p & 0xff;
    r.srcPort = ports >>> 16;
    r.dstPort = ports & 0xffff;
    r.icmpType = C[c + C_ICMPT];
    r.icmpCode = C[c + C_ICMPC];
    const ft = I[b + I_FLAGSTTL];
    r.tcpFlags = ft & 0xff;
    r.srcTos = C[c + C_TOS];
    const packets = F[d + F_PACKETS];
    r.packets = packets;
    r.bytes = F[d + F_BYTES];
    r.minTtl = packets > 0 ? (ft >>> 8) & 0xff : 0;
    r.maxTtl = ft >>> 16;
    r.inSrcMac = st.M[2 * f];
    r.inDstMac = st.M[2 * f + 1];
    r.srcVlan = encap ? mirroredVlan(encap) : 0;
    r.vni = encap?.vni ?? 0;
    r.endReason = reason;
    this.onFlow(r, { encap, fragments: C[c + C_FRAGS], interfaceId: C[c + C_IFID] });
  }

  /** How to recreate flow f with the same key and first-packet facts. */
  private protoOf(f: number): FlowProto {
    const st = this.store;
    const c = f * SC;
    return {
      key: new FlowKey().readFrom(st.I, f * SI, st.X[f]), icmpType: st.C[c + C_ICMPT], icmpCode: st.C[c + C_ICMPC], tos: st.C[c + C_TOS],
      srcMac: st.M[2 * f], dstMac: st.M[2 * f + 1], encap: st.E[f],
    };
  }

  /** Points a fragment group at flow f. */
  private attach(g: FragGroup, f: number): void {
    if (g.flow !== f || g.gen !== this.store.C[f * SC + C_GEN]) {
      g.flow = f;
      g.gen = this.store.C[f * SC + C_GEN];
      g.proto = this.protoOf(f);
    }
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
    // (count and liveFlow may grow the store: its arrays are read after them.)
    if (first) {
      let f = this.count(pkt, ts, interfaceId, pkt.ipLength);
      if (!g) {
        g = this.newGroup(ts, fr ? fr.headerLength : 0);
        this.setGroup(key, g);
      } else {
        this.frags.delete(key);
        this.frags.set(key, g);
      }
      g.countBytes = outer === null;
      if (f !== NIL) {
        // The first fragment's packet may have ended its flow (TCP FIN/RST): later fragments go to a continuation.
        if (this.store.I[f * SI + I_LIVE] !== 1) {
          this.attach(g, f);
          f = NIL;
        } else this.attach(g, f);
        if (g.pendingFragments > 0) {
          if (f === NIL) f = this.liveFlow(g, ts, interfaceId);
          // Fragments that arrived before their first one join its flow now.
          if (g.countBytes) {
            this.store.F[f * SF + F_BYTES] += g.pendingBytes;
            this.stats.bytes += g.pendingBytes;
          }
          this.store.C[f * SC + C_FRAGS] += g.pendingFragments;
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
    if (g.proto === null) {
      if (g.pendingFragments === 0) {
        g.pendingTs = ts;
        g.held = { pkt: detach(pkt), ts, interfaceId };
      }
      g.pendingFragments++;
      g.pendingBytes += fr!.payloadLength;
      return;
    }
    const f = this.liveFlow(g, ts, interfaceId);
    fs.attributed++;
    this.store.C[f * SC + C_FRAGS]++;
    if (g.countBytes) {
      this.store.F[f * SF + F_BYTES] += fr!.payloadLength;
      this.stats.bytes += fr!.payloadLength;
    }
    this.seen(f, ts);
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
    if ((pkt.proto === 1 || pkt.proto === 58) && pkt.fragment) pkt = pkt.detached({ srcPort: pkt.fragment.id });
    this.count(pkt, h.ts, h.interfaceId, g.countBytes ? datagramBytes : pkt.ipLength);
  }

  private newGroup(ts: number, headerLength: number): FragGroup {
    return { flow: NIL, gen: 0, proto: null, countBytes: true, lastSeen: ts, pendingBytes: 0, pendingFragments: 0, pendingTs: ts,
      headerLength, held: null };
  }

  private setGroup(key: string, g: FragGroup): void {
    if (this.frags.size >= this.maxFrags) {
      const oldest = this.frags.entries().next().value;
      if (oldest) this.expireFragGroup(oldest[0], oldest[1]);
    }
    this.frags.set(key, g);
  }

  /** The flow a group's fragments go to now: the same one while open, else a continuation with the same key. */
  private liveFlow(g: FragGroup, ts: number, interfaceId: number): number {
    if (this.live(g.flow, g.gen)) return g.flow;
    const p = g.proto!;
    let f = this.flows.find(p.key, this.store);
    if (f === NIL) f = this.link(this.fill(p.key, p.icmpType, p.icmpCode, p.tos, p.srcMac, p.dstMac, p.encap, interfaceId, ts));
    g.flow = f;
    g.gen = this.store.C[f * SC + C_GEN];
    return f;
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
    if (f !== NIL && this.store.I[f * SI + I_LIVE] === 1) {
      this.store.C[f * SC + C_FRAGS] += g.pendingFragments - 1;
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
    const F = this.store.F;
    const C = this.store.C;
    for (let f = this.ageHead; f !== NIL; ) {
      const next = C[f * SC + C_CNEXT];
      if (sec - Math.floor(F[f * SF + F_LAST] / 1000) > idleS) this.end(f, END_IDLE);
      else if (sec - Math.floor(F[f * SF + F_FIRST] / 1000) > activeS) this.end(f, END_ACTIVE);
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
  return p.detached({
    encap: e ? {
      ...e, kinds: [...e.kinds], vlans: [...e.vlans], mplsLabels: [...e.mplsLabels],
      tunnels: e.tunnels.map((t) => ({ src: t.src.slice(), dst: t.dst.slice() })), outerFragment: null,
      erspan: e.erspan ? { ...e.erspan } : null,
    } : null,
  });
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
