// Decoded packets packed for the flow table on another thread: what FlowTable.addPacked needs of each packet (its flow
// key as FlowKey.writeTo lays it out, counters, first-packet facts, the encapsulation in a few numbers), made by the
// capture-reading thread. A packet that does not fit (fragments, malformed or skipped frames, MPLS labels, more than
// two VLAN tags or one tunnel, an IPv6 tunnel) travels as its frame (`raw`) and is decoded by the flow table's thread.
import type { CapturePacket } from './captureReader.ts';
import type { EncapKind } from './decapsulation.ts';
import { FlowKey, KEY_WORDS, type FlowEncap } from './flowTable.ts';
import type { DecodeResult } from './packetDecoder.ts';
import { packPackets, type PacketBatch } from './packetBatch.ts';

export const KIND_NAMES: readonly EncapKind[] = ['vlan', 'qinq', 'mpls', 'eompls', 'pppoe', 'gre', 'pptp', 'erspan1', 'erspan2', 'erspan3',
  'vxlan', 'geneve', 'ip-in-ip', 'ipv6-in-ip'];
const KIND_CODE = new Map<EncapKind, number>(KIND_NAMES.map((k, i) => [k, i + 1]));

/** int32 fields per packet (see the D_ constants). */
export const D_FIELDS = 12;
export const D_FLAGS = 0; // F_* bits
export const D_IFACE = 1;
export const D_IPLEN = 2;
export const D_TTL_FLAGS_TOS = 3; // ttl | tcpFlags << 8 | tos << 16
export const D_ICMP_PROTO = 4; // icmpType | icmpCode << 8 | proto << 16
export const D_KINDS = 5; // 4 bits a kind (KIND_NAMES index + 1), outermost first, up to 7
export const D_VLANS = 6; // count << 24 | first << 12 | second
export const D_GRE = 7;
export const D_VNI = 8;
export const D_ERSPAN = 9; // version | session << 2 | vlan << 12
export const D_ERSPAN_INDEX = 10;
export const D_RAW = 11; // index in `raw` (F_RAW)

export const F_RAW = 1;
export const F_ENCAP = 2;
export const F_GRE = 4;
export const F_VNI = 8;
export const F_ERSPAN = 16;
export const F_TUNNEL = 32;

export interface DecodedBatch {
  n: number;
  /** n keys of KEY_WORDS int32 each (zeros for raw packets). */
  keys: Int32Array;
  /** FlowKey.x of packet i, for the few that have one (null: none has). */
  xs: string[] | null;
  ints: Int32Array;
  /** Per packet: ts (ms), srcMac, dstMac. */
  f64: Float64Array;
  /** The frames of the raw packets. */
  raw: PacketBatch | null;
}

/** Packs one reader batch and its decodings (withContext: FlowKey's, false in nfpcapd mode). */
export function packDecoded(packets: readonly CapturePacket[], decoded: readonly DecodeResult[], withContext: boolean): DecodedBatch {
  const n = packets.length;
  const keys = new Int32Array(n * KEY_WORDS);
  const ints = new Int32Array(n * D_FIELDS);
  const f64 = new Float64Array(n * 3);
  let xs: string[] | null = null;
  const raw: CapturePacket[] = [];
  const key = new FlowKey();
  for (let i = 0; i < n; i++) {
    const p = packets[i];
    const d = decoded[i];
    const o = i * D_FIELDS;
    f64[i * 3] = p.ts;
    ints[o + D_IFACE] = p.interfaceId;
    const e = d.kind === 'ip' ? d.encap : null;
    let flags = 0;
    let kinds = 0;
    if (d.kind !== 'ip' || d.fragment !== null || (e !== null && (e.outerFragment !== null || e.mplsLabels.length > 0 || e.vlans.length > 2
      || e.tunnels.length > 1 || (e.tunnels.length === 1 && e.tunnels[0].src.length !== 4) || e.kinds.length > 7))) {
      flags = F_RAW;
    } else if (e !== null) {
      for (let k = 0; k < e.kinds.length; k++) kinds |= KIND_CODE.get(e.kinds[k])! << (4 * k);
      flags = F_ENCAP | (e.greKey !== null ? F_GRE : 0) | (e.vni !== null ? F_VNI : 0) | (e.erspan ? F_ERSPAN : 0) | (e.tunnels.length > 0 ? F_TUNNEL : 0);
    }
    if (flags & F_RAW) {
      ints[o + D_FLAGS] = flags;
      ints[o + D_RAW] = raw.length;
      raw.push(p);
      continue;
    }
    const q = d as Extract<DecodeResult, { kind: 'ip' }>;
    key.set(q, withContext).writeTo(keys, i * KEY_WORDS);
    if (key.x !== '') (xs ??= new Array<string>(n).fill(''))[i] = key.x;
    ints[o + D_FLAGS] = flags;
    ints[o + D_IPLEN] = q.ipLength;
    ints[o + D_TTL_FLAGS_TOS] = q.ttl | (q.tcpFlags << 8) | (q.tos << 16);
    ints[o + D_ICMP_PROTO] = q.icmpType | (q.icmpCode << 8) | (q.proto << 16);
    f64[i * 3 + 1] = q.srcMac;
    f64[i * 3 + 2] = q.dstMac;
    if (e !== null) {
      ints[o + D_KINDS] = kinds;
      const v = e.vlans;
      ints[o + D_VLANS] = v.length === 0 ? 0 : v.length === 1 ? (1 << 24) | (v[0] << 12) : (2 << 24) | (v[0] << 12) | v[1];
      ints[o + D_GRE] = (e.greKey ?? 0) | 0;
      ints[o + D_VNI] = e.vni ?? 0;
      if (e.erspan) {
        ints[o + D_ERSPAN] = e.erspan.version | (e.erspan.session << 2) | (e.erspan.vlan << 12);
        ints[o + D_ERSPAN_INDEX] = e.erspan.index;
      }
    }
  }
  return { n, keys, xs, ints, f64, raw: raw.length > 0 ? packPackets(raw) : null };
}

function ipv4(w: number): string {
  return `${w >>> 24}.${(w >>> 16) & 255}.${(w >>> 8) & 255}.${w & 255}`;
}

/** The encapsulation summary of packed packet i (F_ENCAP set), as summarizeEncap would make it. */
export function packedEncap(b: DecodedBatch, i: number): FlowEncap {
  const I = b.ints;
  const o = i * D_FIELDS;
  const flags = I[o + D_FLAGS];
  const kinds: EncapKind[] = [];
  for (let c = I[o + D_KINDS]; c !== 0; c >>>= 4) kinds.push(KIND_NAMES[(c & 15) - 1]);
  const vw = I[o + D_VLANS];
  const count = vw >>> 24;
  const vlans = count === 0 ? [] : count === 1 ? [(vw >>> 12) & 0xfff] : [(vw >>> 12) & 0xfff, vw & 0xfff];
  const k = i * KEY_WORDS;
  const es = I[o + D_ERSPAN];
  return {
    kinds, vlans, mplsLabels: [],
    tunnels: flags & F_TUNNEL ? [`${ipv4(b.keys[k + 16])}>${ipv4(b.keys[k + 17])}`] : [],
    greKey: flags & F_GRE ? I[o + D_GRE] >>> 0 : null,
    vni: flags & F_VNI ? I[o + D_VNI] : null,
    erspan: flags & F_ERSPAN ? { version: (es & 3) as 1 | 2 | 3, session: (es >>> 2) & 0x3ff, index: I[o + D_ERSPAN_INDEX], vlan: (es >>> 12) & 0xfff } : null,
  };
}
