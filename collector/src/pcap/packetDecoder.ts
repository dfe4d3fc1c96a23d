// Decodes one captured frame down to its innermost IP packet: the 5-tuple, TCP flags, ICMP type/code, TTL, ToS and
// the IP length a flow counts, plus what was peeled off on the way (decapsulation.ts). Pure: bytes in, result out;
// never throws and never reads past the buffer — a short or lying header gives `malformed` with a reason.
import {
  type EncapInfo, type MalformedReason, type SkipReason, type WalkState, Next,
  encOf, parseEthernet, parseEthertype, parseGeneve, parseGre, parseLinkLayer, parseVxlan, u32,
} from './decapsulation.ts';

export type { EncapInfo, EncapKind, ErspanInfo, MalformedReason, SkipReason } from './decapsulation.ts';

/** UDP destination ports decapsulated as tunnels. */
export const VXLAN_PORT = 4789;
export const GENEVE_PORT = 6081;

export interface FragmentInfo {
  /** IPv4 identification or IPv6 fragment header identification. */
  id: number;
  /** Fragment offset in bytes. */
  offset: number;
  /** More fragments follow. */
  more: boolean;
  /** Length of the unfragmentable part: IPv4 header, or IPv6 header plus extension headers before the fragment header. */
  headerLength: number;
  /** Bytes of the fragmentable part carried by this fragment. */
  payloadLength: number;
}

/**
 * A decoded IP packet. Its addresses stay in the frame (`data` at `srcOff`/`dstOff`, 4 or 16 bytes): `src` and `dst`
 * make views on demand, as typed-array views are costly to create on a path that runs for every packet.
 */
export class DecodedPacket {
  readonly kind = 'ip' as const;
  /** 0 for protocols without ports and for non-first fragments. ICMP: 0 and type*256+code, as nfdump. */
  srcPort = 0;
  dstPort = 0;
  tcpFlags = 0;
  icmpType = 0;
  icmpCode = 0;
  /**
   * The innermost TCP/UDP/ICMP payload: its offset in `data` and the bytes of it the frame holds (up to the IP length:
   * no Ethernet padding, less when the capture was cut). 0/0 for fragments and other protocols. ICMP: after the
   * 8-byte header.
   */
  payloadOffset = 0;
  payloadLength = 0;

  constructor(
    readonly ipVersion: 4 | 6,
    /** The bytes holding the innermost IP header (the frame, or a copy). */
    readonly data: Uint8Array,
    readonly srcOff: number,
    readonly dstOff: number,
    /** Transport protocol after IPv6 extension headers. */
    public proto: number,
    /** TTL / hop limit and ToS / traffic class of the innermost IP header. */
    public ttl: number,
    public tos: number,
    /** IP total length of the innermost packet (IPv6: payload length + 40): the bytes a flow counts, as nfpcapd. */
    public ipLength: number,
    public fragment: FragmentInfo | null,
    /** Innermost Ethernet source and destination as 48-bit numbers; 0 when the frame has none. */
    public srcMac: number,
    public dstMac: number,
    public encap: EncapInfo | null,
  ) {}

  /** Innermost source address: a view of 4 or 16 bytes (formatIp turns it into text). */
  get src(): Uint8Array {
    return this.data.subarray(this.srcOff, this.srcOff + (this.ipVersion === 4 ? 4 : 16));
  }

  get dst(): Uint8Array {
    return this.data.subarray(this.dstOff, this.dstOff + (this.ipVersion === 4 ? 4 : 16));
  }

  /** A copy sharing nothing with the frame (to keep past it), with some fields changed. */
  detached(changes: Partial<Pick<DecodedPacket, 'srcPort' | 'encap'>> = {}): DecodedPacket {
    const n = this.ipVersion === 4 ? 4 : 16;
    const data = new Uint8Array(2 * n);
    data.set(this.src, 0);
    data.set(this.dst, n);
    const q = new DecodedPacket(this.ipVersion, data, 0, n, this.proto, this.ttl, this.tos, this.ipLength, this.fragment, this.srcMac,
      this.dstMac, 'encap' in changes ? changes.encap! : this.encap);
    q.srcPort = changes.srcPort ?? this.srcPort;
    q.dstPort = this.dstPort;
    q.tcpFlags = this.tcpFlags;
    q.icmpType = this.icmpType;
    q.icmpCode = this.icmpCode;
    return q;
  }
}

export interface MalformedPacket {
  kind: 'malformed';
  reason: MalformedReason;
  /** Where in the frame the bad header starts. */
  offset: number;
  encap: EncapInfo | null;
}

export interface SkippedPacket {
  kind: 'skipped';
  reason: SkipReason;
  /** The ethertype, link type or protocol that was not decoded. */
  detail: number;
  /** Where in the frame the undecoded payload starts (the ARP message of an 'arp' frame, inside any tunnel). */
  offset: number;
  encap: EncapInfo | null;
}

export type DecodeResult = DecodedPacket | MalformedPacket | SkippedPacket;

const MAX_LAYERS = 32;

const WALK: WalkState = {
  d: new Uint8Array(0), off: 0, end: 0, limit: 0, next: Next.Done, ethertype: 0, enc: null, fail: null, skip: null, detail: 0,
  srcMac: 0, dstMac: 0,
};

/**
 * Decodes a frame of the given LINKTYPE. `origLen` (the length on the wire) lets a lying IP total length be told
 * from a capture cut by its snaplen.
 */
export function decodePacket(data: Uint8Array, linkType: number, origLen: number = data.length): DecodeResult {
  return decodePacketAt(data, 0, data.length, linkType, origLen);
}

/** decodePacket for a frame of `caplen` bytes at `start` of `buf` (no view needed). Offsets in the result are the frame's. */
export function decodePacketAt(buf: Uint8Array, start: number, caplen: number, linkType: number, origLen: number = caplen): DecodeResult {
  // One walk state, reset per packet (results never refer to it): no allocation for it on the per-packet path.
  const s = WALK as { d: Uint8Array } & WalkState;
  const data = buf;
  s.d = buf;
  s.off = start;
  s.end = start + caplen;
  s.limit = start + Math.max(origLen, caplen);
  s.next = Next.Done as Next;
  s.ethertype = 0;
  s.enc = null;
  s.fail = null;
  s.skip = null;
  s.detail = 0;
  s.srcMac = 0;
  s.dstMac = 0;
  parseLinkLayer(s, linkType);
  for (let layers = 0; ; layers++) {
    if (layers > MAX_LAYERS) {
      s.fail = 'too-many-layers';
      s.next = Next.Done;
    }
    switch (s.next) {
      case Next.Ethernet:
        parseEthernet(s);
        break;
      case Next.Ethertype:
        parseEthertype(s);
        break;
      case Next.IPAny: {
        const v = s.off < s.end ? data[s.off] >> 4 : 0;
        if (v === 4) s.next = Next.IPv4;
        else if (v === 6) s.next = Next.IPv6;
        else {
          s.fail = s.off < s.end ? 'ip-version' : 'ipv4-truncated';
          s.next = Next.Done;
        }
        break;
      }
      case Next.IPv4: {
        const r = parseIPv4(s);
        if (r) return r;
        break;
      }
      case Next.IPv6: {
        const r = parseIPv6(s);
        if (r) return r;
        break;
      }
      default:
        if (s.fail) return { kind: 'malformed', reason: s.fail, offset: s.off - start, encap: s.enc };
        return { kind: 'skipped', reason: s.skip ?? 'non-ip', detail: s.detail, offset: s.off - start, encap: s.enc };
    }
  }
}

function malformed(s: WalkState, reason: MalformedReason): null {
  s.fail = reason;
  s.next = Next.Done as Next;
  return null;
}

function parseIPv4(s: WalkState): DecodedPacket | null {
  const d = s.d;
  const o = s.off;
  if (s.end - o < 20) return malformed(s, 'ipv4-truncated');
  if (d[o] >> 4 !== 4) return malformed(s, 'ip-version');
  const ihl = (d[o] & 0x0f) * 4;
  if (ihl < 20) return malformed(s, 'ipv4-bad-ihl');
  if (s.end - o < ihl) return malformed(s, 'ipv4-truncated');
  const total = (d[o + 2] << 8) | d[o + 3];
  let ipLength = total;
  if (total === 0) {
    // Segmentation offload on the capturing host leaves the length 0: count what the frame carries.
    ipLength = (Number.isFinite(s.limit) ? s.limit : s.end) - o;
  } else if (total < ihl) {
    return malformed(s, 'ipv4-bad-length');
  } else if (o + total > s.limit) {
    return malformed(s, 'ipv4-length-exceeds-frame');
  }
  const fo = (d[o + 6] << 8) | d[o + 7];
  const fragOffset = (fo & 0x1fff) * 8;
  const more = (fo & 0x2000) !== 0;
  const fragment: FragmentInfo | null = more || fragOffset > 0
    ? { id: (d[o + 4] << 8) | d[o + 5], offset: fragOffset, more, headerLength: ihl, payloadLength: ipLength - ihl }
    : null;
  return parseTransport(s, 4, o + 12, d[o + 9], d[o + 8], d[o + 1], ipLength, o + ihl, Math.min(s.end, o + ipLength), fragment);
}

function parseIPv6(s: WalkState): DecodedPacket | null {
  const d = s.d;
  const o = s.off;
  if (s.end - o < 40) return malformed(s, 'ipv6-truncated');
  if (d[o] >> 4 !== 6) return malformed(s, 'ip-version');
  const plen = (d[o + 4] << 8) | d[o + 5];
  let ipLength = plen + 40;
  if (plen === 0) {
    // Jumbogram or segmentation offload: count what the frame carries.
    ipLength = (Number.isFinite(s.limit) ? s.limit : s.end) - o;
  } else if (o + ipLength > s.limit) {
    return malformed(s, 'ipv6-length-exceeds-frame');
  }
  const pe = Math.min(s.end, o + ipLength);
  let nh = d[o + 6];
  let p = o + 40;
  let fragment: FragmentInfo | null = null;
  // Extension headers: hop-by-hop, routing, destination options, fragment.
  for (let n = 0; nh === 0 || nh === 43 || nh === 60 || nh === 44; n++) {
    if (pe - p < 8 || n > 16) return malformed(s, 'ipv6-ext-truncated');
    if (nh === 44) {
      const fo = (d[p + 2] << 8) | d[p + 3];
      const fragOffset = fo & 0xfff8;
      const moreFrags = (fo & 1) !== 0;
      const headerLength = p - o;
      nh = d[p];
      p += 8;
      if (fragOffset > 0 || moreFrags) {
        fragment = { id: u32(d, p - 4), offset: fragOffset, more: moreFrags, headerLength, payloadLength: o + ipLength - p };
        if (fragOffset > 0) break; // what follows is data, not headers
      }
    } else {
      const len = (d[p + 1] + 1) * 8;
      if (pe - p < len) return malformed(s, 'ipv6-ext-truncated');
      nh = d[p];
      p += len;
    }
  }
  const tc = ((d[o] & 0x0f) << 4) | (d[o + 1] >> 4);
  return parseTransport(s, 6, o + 8, nh, d[o + 7], tc, ipLength, p, pe, fragment);
}

/**
 * Transport header, or the next tunnel. Returns the packet, or null with s.next set to the tunnelled header
 * (or Done with a failure).
 */
function parseTransport(s: WalkState, ipVersion: 4 | 6, srcOff: number, proto: number, ttl: number,
  tos: number, ipLength: number, p: number, pe: number, fragment: FragmentInfo | null): DecodedPacket | null {
  const d = s.d;
  const alen = ipVersion === 4 ? 4 : 16;
  const pkt = new DecodedPacket(ipVersion, d, srcOff, srcOff + alen, proto, ttl, tos, ipLength, fragment, s.srcMac, s.dstMac, s.enc);
  // A non-first fragment carries no headers: it is attributed to its flow by the fragment tracker.
  if (fragment && fragment.offset > 0) return pkt;
  // Bytes the IP header says follow the transport header's start (a fragment only carries part of them).
  const declaredPayload = fragment ? Infinity : ipLength - (p - s.off);
  switch (proto) {
    case 6: {
      if (pe - p < 20) return fragment ? pkt : malformed(s, 'tcp-truncated');
      const hl = (d[p + 12] >> 4) * 4;
      if (hl < 20 || hl > declaredPayload) return malformed(s, 'tcp-bad-offset');
      pkt.srcPort = (d[p] << 8) | d[p + 1];
      pkt.dstPort = (d[p + 2] << 8) | d[p + 3];
      pkt.tcpFlags = d[p + 13];
      if (!fragment && pe - p > hl) {
        pkt.payloadOffset = p + hl;
        pkt.payloadLength = pe - p - hl;
      }
      return pkt;
    }
    case 17: {
      if (pe - p < 8) return fragment ? pkt : malformed(s, 'udp-truncated');
      const ulen = (d[p + 4] << 8) | d[p + 5];
      if (ulen < 8 || ulen > declaredPayload) return malformed(s, 'udp-bad-length');
      pkt.srcPort = (d[p] << 8) | d[p + 1];
      pkt.dstPort = (d[p + 2] << 8) | d[p + 3];
      if (pkt.dstPort === VXLAN_PORT || pkt.dstPort === GENEVE_PORT) {
        // A port is no proof: when the tunnel header does not hold up, this is plain UDP (say, a reflection attack
        // aimed at port 6081), not a malformed packet.
        const saved = saveWalk(s);
        enterTunnel(s, pkt.src, pkt.dst, 17, p + 8, pe, ipLength, fragment);
        if (pkt.dstPort === VXLAN_PORT) parseVxlan(s);
        else parseGeneve(s);
        if (s.next !== Next.Done) return null;
        restoreWalk(s, saved);
      }
      const ud = Math.min(ulen, pe - p) - 8;
      if (!fragment && ud > 0) {
        pkt.payloadOffset = p + 8;
        pkt.payloadLength = ud;
      }
      return pkt;
    }
    case 1:
    case 58: {
      if (pe - p < 8) return fragment ? pkt : malformed(s, 'icmp-truncated');
      pkt.icmpType = d[p];
      pkt.icmpCode = d[p + 1];
      pkt.dstPort = (d[p] << 8) | d[p + 1];
      if (!fragment && pe - p > 8) {
        pkt.payloadOffset = p + 8;
        pkt.payloadLength = pe - p - 8;
      }
      return pkt;
    }
    case 47:
      enterTunnel(s, pkt.src, pkt.dst, 47, p, pe, ipLength, fragment);
      parseGre(s);
      return null;
    case 4:
    case 41:
      enterTunnel(s, pkt.src, pkt.dst, proto, p, pe, ipLength, fragment);
      encOf(s).kinds.push(proto === 4 ? 'ip-in-ip' : 'ipv6-in-ip');
      s.next = proto === 4 ? Next.IPv4 : Next.IPv6;
      return null;
    default:
      return pkt;
  }
}

interface SavedWalk {
  off: number;
  end: number;
  limit: number;
  enc: EncapInfo | null;
  kinds: number;
  tunnels: number;
  vni: number | null;
  geneveOptionsLength: number;
  outerFragment: EncapInfo['outerFragment'];
}

function saveWalk(s: WalkState): SavedWalk {
  const e = s.enc;
  return { off: s.off, end: s.end, limit: s.limit, enc: e, kinds: e ? e.kinds.length : 0, tunnels: e ? e.tunnels.length : 0,
    vni: e ? e.vni : null, geneveOptionsLength: e ? e.geneveOptionsLength : 0, outerFragment: e ? e.outerFragment : null };
}

function restoreWalk(s: WalkState, w: SavedWalk): void {
  s.off = w.off;
  s.end = w.end;
  s.limit = w.limit;
  s.fail = null;
  s.skip = null;
  s.detail = 0;
  s.enc = w.enc;
  const e = w.enc;
  if (e) {
    e.kinds.length = w.kinds;
    e.tunnels.length = w.tunnels;
    e.vni = w.vni;
    e.geneveOptionsLength = w.geneveOptionsLength;
    e.outerFragment = w.outerFragment;
  }
}

/** Moves the walk inside a tunnel carried by the IP packet whose payload spans [p, pe). */
function enterTunnel(s: WalkState, src: Uint8Array, dst: Uint8Array, proto: number, p: number, pe: number, ipLength: number,
  fragment: FragmentInfo | null): void {
  const e = encOf(s);
  e.tunnels.push({ src, dst });
  const ipStart = s.off;
  s.off = p;
  s.end = pe;
  if (fragment) {
    // First fragment of the outer packet: the inner packet continues in later fragments.
    e.outerFragment = { src, dst, proto, id: fragment.id };
    s.limit = Infinity;
  } else if (Number.isFinite(s.limit)) {
    s.limit = ipStart + ipLength;
  }
}

const HEX = Array.from({ length: 65536 }, (_, i) => i.toString(16));

/** Text form of a 4- or 16-byte address: dotted IPv4, RFC 5952 IPv6 (with ::ffff:a.b.c.d for mapped IPv4). */
export function formatIp(b: Uint8Array): string {
  if (b.length === 4) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  if (b.length !== 16) return '';
  const g: number[] = [];
  for (let i = 0; i < 16; i += 2) g.push((b[i] << 8) | b[i + 1]);
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    return `::ffff:${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  }
  let bestAt = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestAt = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestAt < 0) return g.map((x) => HEX[x]).join(':');
  const head = g.slice(0, bestAt).map((x) => HEX[x]).join(':');
  const tail = g.slice(bestAt + bestLen).map((x) => HEX[x]).join(':');
  return `${head}::${tail}`;
}
