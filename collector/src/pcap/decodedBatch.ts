// Decoded packets packed for the flow table on another thread: what FlowTable.addPacked needs of each packet (its flow
// key as FlowKey.writeTo lays it out, counters, first-packet facts, the encapsulation in a few numbers), made by the
// capture-reading thread. A packet that does not fit (fragments, malformed or skipped frames, MPLS labels, more than
// two VLAN tags or one tunnel, an IPv6 tunnel) travels as its frame (`raw`) and is decoded by the flow table's thread.
import type { CapturePacket } from './captureReader.ts';
import type { EncapKind } from './decapsulation.ts';
import { FlowKey, formatWords, KEY_WORDS, type FlowEncap } from './flowTable.ts';
import type { DecodeResult } from './packetDecoder.ts';
import { checkPacketBatch, packPackets, type PacketBatch } from './packetBatch.ts';

export const KIND_NAMES: readonly EncapKind[] = ['vlan', 'qinq', 'mpls', 'eompls', 'pppoe', 'gre', 'pptp', 'erspan1', 'erspan2', 'erspan3',
  'vxlan', 'geneve', 'ip-in-ip', 'ipv6-in-ip'];
const KIND_CODE = new Map<EncapKind, number>(KIND_NAMES.map((k, i) => [k, i + 1]));

/** int32 fields per packet (see the D_ constants). */
export const D_FIELDS = 9;
export const D_FLAGS = 0; // F_* bits
export const D_IFACE = 1;
export const D_IPLEN = 2;
export const D_TTL_FLAGS_TOS = 3; // ttl | tcpFlags << 8 | tos << 16
export const D_ICMP_PROTO = 4; // icmpType | icmpCode << 8 | proto << 16
export const D_KINDS = 5; // 4 bits a kind (KIND_NAMES index + 1), outermost first, up to 7
export const D_ERSPAN = 6; // version | vlan << 2 (the session is in the key)
export const D_ERSPAN_INDEX = 7;
export const D_RAW = 8; // index in `raw` (F_RAW)
/** float64 fields per packet: ts (ms), srcMac, dstMac. */
export const D_F64 = 3;

export const F_RAW = 1;
export const F_ENCAP = 2;
export const F_TUNNEL = 4;

export interface DecodedBatch {
  n: number;
  /** n keys of KEY_WORDS int32 each (zeros for raw packets): with the VLANs, VNI, GRE key, ERSPAN session and tunnel. */
  keys: Int32Array;
  ints: Int32Array;
  f64: Float64Array;
  /** The frames of the raw packets. */
  raw: PacketBatch | null;
}

type BatchArrays = Pick<DecodedBatch, 'keys' | 'ints' | 'f64'>;

/** Packets a slot of a BatchRing holds. The reader's own batches hold up to 1,024; longer ones are sent in pieces. */
export const SLOT_PACKETS = 1024;
/** Bytes of a slot (a function: flowTable.ts, whose KEY_WORDS it reads, imports this module too). */
const slotBytes = () => SLOT_PACKETS * (D_F64 * 8 + KEY_WORDS * 4 + D_FIELDS * 4);

/**
 * Shared memory the capture-reading thread packs batches into, `slots` of them taking turns, and the flow table's
 * thread reads them in place: no buffer is made, moved and collected per batch (on bench/pcap's capture that was
 * 280 MB of buffers, and the garbage collections their size set off on both threads). A slot is written again only
 * once its batch was taken (captureReadWorker's back-pressure counter says so). The writer stores a slot's packet
 * count with Atomics after packing it, and the reader loads it before reading, which orders the two threads' accesses.
 */
export class BatchRing {
  readonly buffer: SharedArrayBuffer;
  private readonly counts: Int32Array;

  constructor(readonly slots: number, buffer?: SharedArrayBuffer) {
    const bytes = 8 * slots + slots * slotBytes();
    this.buffer = buffer ?? new SharedArrayBuffer(bytes);
    if (this.buffer.byteLength !== bytes) throw new RangeError(`a ring of ${slots} slots takes ${bytes} bytes, not ${this.buffer.byteLength}`);
    this.counts = new Int32Array(this.buffer, 0, slots);
  }

  /** The arrays of `slot` for n packets (at most SLOT_PACKETS). */
  arrays(slot: number, n: number): BatchArrays {
    const base = 8 * this.slots + slot * slotBytes();
    return {
      f64: new Float64Array(this.buffer, base, n * D_F64),
      keys: new Int32Array(this.buffer, base + SLOT_PACKETS * D_F64 * 8, n * KEY_WORDS),
      ints: new Int32Array(this.buffer, base + SLOT_PACKETS * (D_F64 * 8 + KEY_WORDS * 4), n * D_FIELDS),
    };
  }

  /** The writer: the n packets of `slot` are packed. */
  publish(slot: number, n: number): void {
    Atomics.store(this.counts, slot, n);
  }

  /** The reader: the batch announced in `slot` with n packets (and its raw frames), checked against what was published. */
  batch(slot: number, n: number, raw: PacketBatch | null): DecodedBatch {
    if (!(Number.isInteger(slot) && slot >= 0 && slot < this.slots && Number.isInteger(n) && n >= 0 && n <= SLOT_PACKETS)
      || Atomics.load(this.counts, slot) !== n) {
      throw new RangeError(`decoded batch of ${n} packets announced in slot ${slot} of ${this.slots}, which holds ${
        slot >= 0 && slot < this.slots ? Atomics.load(this.counts, slot) : 'nothing'}`);
    }
    return { n, ...this.arrays(slot, n), raw };
  }
}

/**
 * Packs packets [from, to) of one reader batch and their decodings, into `into` (arrays for to - from packets, such as
 * a ring slot's; memory written before is overwritten) or new arrays. Keys carry their context (VLANs, tunnel):
 * nfpcapd's bare 5-tuples are never read this way (see readsOnThread).
 */
export function packDecoded(packets: readonly CapturePacket[], decoded: readonly DecodeResult[], into?: BatchArrays, from = 0,
  to = packets.length): DecodedBatch {
  const n = to - from;
  const keys = into?.keys ?? new Int32Array(n * KEY_WORDS);
  const ints = into?.ints ?? new Int32Array(n * D_FIELDS);
  const f64 = into?.f64 ?? new Float64Array(n * D_F64);
  if (keys.length !== n * KEY_WORDS || ints.length !== n * D_FIELDS || f64.length !== n * D_F64) {
    throw new RangeError(`packing ${n} packets into arrays of ${keys.length}, ${ints.length} and ${f64.length}`);
  }
  // Every field below is written or left 0: clear what an earlier batch left in reused memory.
  if (into) ints.fill(0);
  const raw: CapturePacket[] = [];
  const key = new FlowKey();
  for (let i = 0; i < n; i++) {
    const p = packets[from + i];
    const d = decoded[from + i];
    const o = i * D_FIELDS;
    f64[i * D_F64] = p.ts;
    ints[o + D_IFACE] = p.interfaceId;
    const e = d.kind === 'ip' ? d.encap : null;
    // What the numbers below cannot say goes raw, as does a key with text (more than two VLAN tags, an IPv6 tunnel).
    let packed = d.kind === 'ip' && d.fragment === null
      && (e === null || (e.outerFragment === null && e.mplsLabels.length === 0 && e.tunnels.length <= 1 && e.kinds.length <= 7));
    if (packed) packed = key.set(d as Extract<DecodeResult, { kind: 'ip' }>, true).x === '';
    if (!packed) {
      ints[o + D_FLAGS] = F_RAW;
      ints[o + D_RAW] = raw.length;
      raw.push(p);
      keys.fill(0, i * KEY_WORDS, (i + 1) * KEY_WORDS);
      f64[i * D_F64 + 1] = f64[i * D_F64 + 2] = 0;
      continue;
    }
    const q = d as Extract<DecodeResult, { kind: 'ip' }>;
    key.writeTo(keys, i * KEY_WORDS);
    ints[o + D_IPLEN] = q.ipLength;
    ints[o + D_TTL_FLAGS_TOS] = q.ttl | (q.tcpFlags << 8) | (q.tos << 16);
    ints[o + D_ICMP_PROTO] = q.icmpType | (q.icmpCode << 8) | (q.proto << 16);
    f64[i * D_F64 + 1] = q.srcMac;
    f64[i * D_F64 + 2] = q.dstMac;
    if (e === null) continue;
    let kinds = 0;
    for (let k = 0; k < e.kinds.length; k++) kinds |= KIND_CODE.get(e.kinds[k])! << (4 * k);
    ints[o + D_FLAGS] = F_ENCAP | (e.tunnels.length > 0 ? F_TUNNEL : 0);
    ints[o + D_KINDS] = kinds;
    if (e.erspan) {
      ints[o + D_ERSPAN] = e.erspan.version | (e.erspan.vlan << 2);
      ints[o + D_ERSPAN_INDEX] = e.erspan.index;
    }
  }
  return { n, keys, ints, f64, raw: raw.length > 0 ? packPackets(raw) : null };
}

/**
 * The encapsulation summary of packed packet i (F_ENCAP set), as summarizeEncap makes it: from its fields and its key,
 * read into `key` (the VLANs, VNI, GRE key, ERSPAN session and the tunnel are the key's context).
 */
export function packedEncap(b: DecodedBatch, i: number, key: FlowKey): FlowEncap {
  const I = b.ints;
  const o = i * D_FIELDS;
  const kinds: EncapKind[] = [];
  for (let c = I[o + D_KINDS]; c !== 0; c >>>= 4) kinds.push(KIND_NAMES[(c & 15) - 1]);
  const v = key.vlans;
  const count = v >>> 24;
  const vlans = count === 0 ? [] : count === 1 ? [(v >>> 12) & 0xfff] : [(v >>> 12) & 0xfff, v & 0xfff];
  const es = I[o + D_ERSPAN];
  return {
    kinds, vlans, mplsLabels: [],
    tunnels: I[o + D_FLAGS] & F_TUNNEL ? [`${formatWords(false, key.t0, 0, 0, 0)}>${formatWords(false, key.t1, 0, 0, 0)}`] : [],
    greKey: key.present & 2 ? key.gre >>> 0 : null,
    vni: key.present & 1 ? key.vni : null,
    erspan: key.present & 4 ? { version: (es & 3) as 1 | 2 | 3, session: key.span, index: I[o + D_ERSPAN_INDEX], vlan: es >>> 2 } : null,
  };
}

/** Checks a batch that came from another thread before anything reads it. */
export function checkDecodedBatch(b: DecodedBatch): void {
  const n = b.n;
  if (!(Number.isInteger(n) && n >= 0 && b.keys.length === n * KEY_WORDS && b.ints.length === n * D_FIELDS && b.f64.length === n * D_F64)) {
    throw new RangeError(`decoded batch of ${n} packets has ${b.keys.length} key words, ${b.ints.length} fields and ${b.f64.length} times`);
  }
  if (b.raw) checkPacketBatch(b.raw);
}
