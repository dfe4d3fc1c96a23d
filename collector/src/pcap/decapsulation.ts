// Link layers and tunnel headers a port mirror produces: Ethernet with 802.1Q/802.1ad tags, MPLS (and Ethernet over
// MPLS), PPPoE, Linux cooked, BSD loopback, GRE (checksum/key/sequence/routing, PPTP), ERSPAN I/II/III, VXLAN, Geneve.
// Each parser reads one header from a WalkState, records what it saw in the packet's EncapInfo and says what comes
// next. Every read is bounds-checked against the captured bytes; a short or lying header sets `fail`.

/** Encapsulation kinds, recorded outermost first, one per header met. */
export type EncapKind =
  | 'vlan' // 802.1Q tag (0x8100)
  | 'qinq' // 802.1ad / old QinQ service tag (0x88a8, 0x9100, 0x9200)
  | 'mpls'
  | 'eompls' // Ethernet pseudowire over MPLS (control word)
  | 'pppoe'
  | 'gre'
  | 'pptp' // enhanced GRE (version 1) carrying PPP
  | 'erspan1'
  | 'erspan2'
  | 'erspan3'
  | 'vxlan'
  | 'geneve'
  | 'ip-in-ip' // IP protocol 4: IPv4 inside IPv4 or IPv6
  | 'ipv6-in-ip'; // IP protocol 41: IPv6 inside IPv4 (6in4) or IPv6

export interface ErspanInfo {
  version: 1 | 2 | 3;
  /** Session id (0–1023); type I has none: 0. */
  session: number;
  /** Type II index (20 bits); type III hardware id; 0 for type I. */
  index: number;
  /** VLAN of the mirrored frame as the header says (0 when none). */
  vlan: number;
  cos: number;
  /** The switch truncated the mirrored frame (T bit). */
  truncated: boolean;
  /** Type III timestamp (granularity per `gra`), else 0. */
  timestamp: number;
  /** Type III: direction bit, 0 ingress, 1 egress; frame type (0 Ethernet, 2 IP). */
  direction: number;
  frameType: number;
}

/** What was peeled off to reach the inner IP packet. Addresses are views into the packet (see formatIp). */
export interface EncapInfo {
  kinds: EncapKind[];
  /** VLAN ids of every tag, outermost first, across tunnels. */
  vlans: number[];
  /** MPLS labels, outermost first. */
  mplsLabels: number[];
  /** Tunnel endpoints (the IP header carrying each tunnel), outermost first. */
  tunnels: { src: Uint8Array; dst: Uint8Array }[];
  /** GRE key (version 0) or PPTP call id (version 1); null when absent. */
  greKey: number | null;
  greSeq: number | null;
  /** VXLAN or Geneve VNI; null when none. */
  vni: number | null;
  /** Geneve options length in bytes. */
  geneveOptionsLength: number;
  erspan: ErspanInfo | null;
  /** Set when the tunnel was decapsulated from the first fragment of a fragmented outer packet: the outer packet's
   * identity, so its later fragments can be attributed to the inner flow. */
  outerFragment: OuterFragment | null;
}

export interface OuterFragment {
  src: Uint8Array;
  dst: Uint8Array;
  proto: number;
  id: number;
}

export function newEncap(): EncapInfo {
  return { kinds: [], vlans: [], mplsLabels: [], tunnels: [], greKey: null, greSeq: null, vni: null, geneveOptionsLength: 0,
    erspan: null, outerFragment: null };
}

/** Skipped packets are not errors: they carry no IP (ARP, LLDP, 802.3 LLC, PW control channel, ...). */
export type SkipReason =
  | 'unsupported-linktype'
  | 'arp'
  | 'llc' // 802.3 frame (length instead of ethertype): STP, CDP, ...
  | 'non-ip' // any other ethertype
  | 'mpls-non-ip' // MPLS payload neither IP nor an Ethernet pseudowire
  | 'ppp-non-ip'
  | 'pppoe-discovery'
  | 'gre-proto' // GRE payload type we do not decode
  | 'geneve-proto'
  | 'erspan-frame-type'
  | 'null-family'; // BSD loopback address family other than IPv4/IPv6

export type MalformedReason =
  | 'link-truncated'
  | 'vlan-truncated'
  | 'mpls-truncated'
  | 'pw-truncated'
  | 'pppoe-truncated'
  | 'pppoe-bad-header'
  | 'ppp-truncated'
  | 'ip-version' // version nibble not matching the layer below
  | 'ipv4-truncated'
  | 'ipv4-bad-ihl'
  | 'ipv4-bad-length' // total length shorter than the header
  | 'ipv4-length-exceeds-frame' // total length longer than what the frame (or enclosing packet) carries
  | 'ipv6-truncated'
  | 'ipv6-length-exceeds-frame'
  | 'ipv6-ext-truncated'
  | 'tcp-truncated'
  | 'tcp-bad-offset'
  | 'udp-truncated'
  | 'udp-bad-length'
  | 'icmp-truncated'
  | 'gre-truncated'
  | 'gre-version'
  | 'gre-bad-routing'
  | 'erspan-truncated'
  | 'erspan-version'
  | 'vxlan-truncated'
  | 'vxlan-bad-flags' // the I flag (VNI valid) is not set
  | 'geneve-truncated'
  | 'geneve-version'
  | 'too-many-layers';

/** What the next header is. */
export const Next = {
  /** `ethertype` holds it, `off` points after it. */
  Ethertype: 0,
  /** An Ethernet header starts at `off`. */
  Ethernet: 1,
  IPv4: 2,
  IPv6: 3,
  /** IPv4 or IPv6 by version nibble. */
  IPAny: 4,
  /** `fail` or `skip` is set. */
  Done: 5,
} as const;
export type Next = (typeof Next)[keyof typeof Next];

/** Mutable walk over one packet; the parsers advance `off` and set `next`. */
export interface WalkState {
  readonly d: Uint8Array;
  off: number;
  /** Captured bytes end here. */
  end: number;
  /** Declared end of the enclosing layer (may exceed `end` when the capture was cut); Infinity when unknown. */
  limit: number;
  next: Next;
  ethertype: number;
  enc: EncapInfo | null;
  fail: MalformedReason | null;
  skip: SkipReason | null;
  /** Skipped ethertype, link type or protocol, for counters. */
  detail: number;
  /** Innermost Ethernet addresses as 48-bit numbers, 0 when none. */
  srcMac: number;
  dstMac: number;
}

export function encOf(s: WalkState): EncapInfo {
  return (s.enc ??= newEncap());
}

function u16(d: Uint8Array, o: number): number {
  return (d[o] << 8) | d[o + 1];
}
export function u32(d: Uint8Array, o: number): number {
  return ((d[o] << 24) | (d[o + 1] << 16) | (d[o + 2] << 8) | d[o + 3]) >>> 0;
}
function mac(d: Uint8Array, o: number): number {
  return u16(d, o) * 4294967296 + u32(d, o + 2);
}

function failWith(s: WalkState, reason: MalformedReason): void {
  s.fail = reason;
  s.next = Next.Done;
}
function skipWith(s: WalkState, reason: SkipReason, detail: number): void {
  s.skip = reason;
  s.detail = detail;
  s.next = Next.Done;
}

/** Sets up the first header from the capture's link type. */
export function parseLinkLayer(s: WalkState, linkType: number): void {
  const d = s.d;
  switch (linkType) {
    case 1: // Ethernet
      s.next = Next.Ethernet;
      return;
    case 113: // Linux cooked v1: 16 bytes, protocol in the last two
      if (s.end - s.off < 16) return failWith(s, 'link-truncated');
      s.ethertype = sllProtocol(u16(d, s.off + 14));
      s.off += 16;
      s.next = Next.Ethertype;
      return;
    case 276: // Linux cooked v2: 20 bytes, protocol first
      if (s.end - s.off < 20) return failWith(s, 'link-truncated');
      s.ethertype = sllProtocol(u16(d, s.off));
      s.off += 20;
      s.next = Next.Ethertype;
      return;
    case 101: // raw IP (LINKTYPE_RAW), and DLT_RAW as some systems write it (12, 14)
    case 12:
    case 14:
      s.next = Next.IPAny;
      return;
    case 228:
      s.next = Next.IPv4;
      return;
    case 229:
      s.next = Next.IPv6;
      return;
    case 0: // BSD null: address family in the capturing host's byte order
    case 108: {
      // OpenBSD loop: documented big-endian, but both orders are seen; a family fits in the low bytes.
      if (s.end - s.off < 4) return failWith(s, 'link-truncated');
      let fam = u32(d, s.off);
      if ((fam & 0xffff0000) !== 0) fam = ((d[s.off + 3] << 24) | (d[s.off + 2] << 16) | (d[s.off + 1] << 8) | d[s.off]) >>> 0;
      s.off += 4;
      if (fam === 2) s.next = Next.IPv4;
      else if (fam === 10 || fam === 24 || fam === 28 || fam === 30) s.next = Next.IPv6;
      else skipWith(s, 'null-family', fam);
      return;
    }
    default:
      skipWith(s, 'unsupported-linktype', linkType);
  }
}

function sllProtocol(p: number): number {
  // SLL protocol values below 0x0600 are not ethertypes (802.3 / 802.2 / CAN ...): report them as LLC.
  return p < 0x0600 ? 0 : p;
}

/** Ethernet header at off: records MACs, moves to its ethertype. */
export function parseEthernet(s: WalkState): void {
  const d = s.d;
  const o = s.off;
  if (s.end - o < 14) return failWith(s, 'link-truncated');
  s.dstMac = mac(d, o);
  s.srcMac = mac(d, o + 6);
  s.ethertype = u16(d, o + 12);
  s.off = o + 14;
  s.next = Next.Ethertype;
}

/** Dispatches on s.ethertype: VLAN tags, MPLS, PPPoE, IP; anything else is skipped. */
export function parseEthertype(s: WalkState): void {
  const d = s.d;
  for (;;) {
    const t = s.ethertype;
    switch (t) {
      case 0x0800:
        s.next = Next.IPv4;
        return;
      case 0x86dd:
        s.next = Next.IPv6;
        return;
      case 0x8100:
      case 0x88a8:
      case 0x9100:
      case 0x9200: {
        if (s.end - s.off < 4) return failWith(s, 'vlan-truncated');
        const e = encOf(s);
        e.kinds.push(t === 0x8100 ? 'vlan' : 'qinq');
        e.vlans.push(u16(d, s.off) & 0x0fff);
        s.ethertype = u16(d, s.off + 2);
        s.off += 4;
        continue;
      }
      case 0x8847:
      case 0x8848:
        return parseMpls(s);
      case 0x8864: {
        // PPPoE session: ver/type 0x11, code 0, session id, length, then a 2-byte PPP protocol
        if (s.end - s.off < 8) return failWith(s, 'pppoe-truncated');
        if (d[s.off] !== 0x11 || d[s.off + 1] !== 0) return failWith(s, 'pppoe-bad-header');
        encOf(s).kinds.push('pppoe');
        const proto = u16(d, s.off + 6);
        s.off += 8;
        if (proto === 0x0021) s.next = Next.IPv4;
        else if (proto === 0x0057) s.next = Next.IPv6;
        else skipWith(s, 'ppp-non-ip', proto);
        return;
      }
      case 0x8863:
        return skipWith(s, 'pppoe-discovery', t);
      case 0x0806:
        return skipWith(s, 'arp', t);
      default:
        if (t < 0x0600) return skipWith(s, 'llc', t);
        return skipWith(s, 'non-ip', t);
    }
  }
}

/** MPLS label stack down to bottom-of-stack, then IPv4/IPv6 by nibble or an Ethernet pseudowire with control word. */
export function parseMpls(s: WalkState): void {
  const d = s.d;
  const e = encOf(s);
  e.kinds.push('mpls');
  for (;;) {
    if (s.end - s.off < 4) return failWith(s, 'mpls-truncated');
    const entry = u32(d, s.off);
    e.mplsLabels.push(entry >>> 12);
    s.off += 4;
    if (entry & 0x100) break;
    if (e.mplsLabels.length > 16) return failWith(s, 'too-many-layers');
  }
  if (s.end - s.off < 1) return failWith(s, 'mpls-truncated');
  const nibble = d[s.off] >> 4;
  if (nibble === 4) s.next = Next.IPv4;
  else if (nibble === 6) s.next = Next.IPv6;
  else if (nibble === 0) {
    // RFC 4385 control word (first nibble 0), then the customer's Ethernet frame.
    if (s.end - s.off < 4 + 14) return failWith(s, 'pw-truncated');
    e.kinds.push('eompls');
    s.off += 4;
    s.next = Next.Ethernet;
  } else skipWith(s, 'mpls-non-ip', nibble);
}

/**
 * GRE header at off (RFC 2784/2890, RFC 1701 routing, RFC 2637 enhanced GRE). Keeps key and sequence; then
 * dispatches on the protocol type: IP, transparent Ethernet bridging, ERSPAN I/II (0x88BE), III (0x22EB), PPP, MPLS.
 */
export function parseGre(s: WalkState): void {
  const d = s.d;
  let o = s.off;
  if (s.end - o < 4) return failWith(s, 'gre-truncated');
  const flags = u16(d, o);
  const proto = u16(d, o + 2);
  const version = flags & 7;
  const e = encOf(s);
  o += 4;
  if (version === 1) {
    // PPTP: key field = payload length + call id; optional sequence and acknowledgment numbers.
    if (!(flags & 0x2000)) return failWith(s, 'gre-version');
    if (s.end - o < 4) return failWith(s, 'gre-truncated');
    e.kinds.push('pptp');
    e.greKey = u16(d, o + 2);
    o += 4;
    if (flags & 0x1000) {
      if (s.end - o < 4) return failWith(s, 'gre-truncated');
      e.greSeq = u32(d, o);
      o += 4;
    }
    if (flags & 0x0080) o += 4;
    if (o > s.end) return failWith(s, 'gre-truncated');
    s.off = o;
    if (proto !== 0x880b) return skipWith(s, 'gre-proto', proto);
    return parsePpp(s);
  }
  if (version !== 0) return failWith(s, 'gre-version');
  e.kinds.push('gre');
  const hasSeq = (flags & 0x1000) !== 0;
  if (flags & 0xc000) o += 4; // checksum and/or routing offset share one 4-byte field
  if (flags & 0x2000) {
    if (s.end - o < 4) return failWith(s, 'gre-truncated');
    e.greKey = u32(d, o);
    o += 4;
  }
  if (hasSeq) {
    if (s.end - o < 4) return failWith(s, 'gre-truncated');
    e.greSeq = u32(d, o);
    o += 4;
  }
  if (o > s.end) return failWith(s, 'gre-truncated');
  if (flags & 0x4000) {
    // Source route entries until the NULL entry (family 0, length 0).
    for (let n = 0; ; n++) {
      if (s.end - o < 4 || n > 64) return failWith(s, 'gre-bad-routing');
      const fam = u16(d, o);
      const len = d[o + 3];
      o += 4 + len;
      if (fam === 0 && len === 0) break;
      if (o > s.end) return failWith(s, 'gre-bad-routing');
    }
  }
  s.off = o;
  switch (proto) {
    case 0x0800:
      s.next = Next.IPv4;
      return;
    case 0x86dd:
      s.next = Next.IPv6;
      return;
    case 0x6558:
      s.next = Next.Ethernet;
      return;
    case 0x88be:
      // Type I has no ERSPAN header and no GRE sequence number; type II has both.
      if (!hasSeq) {
        e.kinds.push('erspan1');
        e.erspan = { version: 1, session: 0, index: 0, vlan: 0, cos: 0, truncated: false, timestamp: 0, direction: 0, frameType: 0 };
        s.next = Next.Ethernet;
        return;
      }
      return parseErspan(s);
    case 0x22eb:
      return parseErspan(s);
    case 0x880b:
      return parsePpp(s);
    case 0x8847:
    case 0x8848:
      return parseMpls(s);
    default:
      skipWith(s, 'gre-proto', proto);
  }
}

/** ERSPAN type II (8 bytes) or III (12 bytes, plus an 8-byte platform sub-header when O is set), by version. */
export function parseErspan(s: WalkState): void {
  const d = s.d;
  const o = s.off;
  if (s.end - o < 8) return failWith(s, 'erspan-truncated');
  const w0 = u16(d, o);
  const w1 = u16(d, o + 2);
  const ver = w0 >> 12;
  const e = encOf(s);
  const info: ErspanInfo = {
    version: 2, session: w1 & 0x03ff, index: 0, vlan: w0 & 0x0fff, cos: w1 >> 13, truncated: (w1 & 0x0400) !== 0,
    timestamp: 0, direction: 0, frameType: 0,
  };
  e.erspan = info;
  if (ver === 1) {
    e.kinds.push('erspan2');
    info.index = u32(d, o + 4) & 0x000fffff;
    s.off = o + 8;
    if (info.truncated) s.limit = Infinity;
    s.next = Next.Ethernet;
    return;
  }
  if (ver !== 2) return failWith(s, 'erspan-version');
  if (s.end - o < 12) return failWith(s, 'erspan-truncated');
  e.kinds.push('erspan3');
  info.version = 3;
  info.timestamp = u32(d, o + 4);
  const w5 = u16(d, o + 10);
  info.frameType = (w5 >> 10) & 0x1f;
  info.index = (w5 >> 4) & 0x3f;
  info.direction = (w5 >> 3) & 1;
  let next = o + 12;
  if (w5 & 1) next += 8;
  if (next > s.end) return failWith(s, 'erspan-truncated');
  s.off = next;
  if (info.truncated) s.limit = Infinity;
  if (info.frameType === 0) s.next = Next.Ethernet;
  else if (info.frameType === 2) s.next = Next.IPAny;
  else skipWith(s, 'erspan-frame-type', info.frameType);
}

/** PPP in GRE (PPTP): optional address/control bytes, 1- or 2-byte protocol field. */
export function parsePpp(s: WalkState): void {
  const d = s.d;
  let o = s.off;
  if (s.end - o < 1) return failWith(s, 'ppp-truncated');
  if (d[o] === 0xff) {
    if (s.end - o < 3 || d[o + 1] !== 0x03) return failWith(s, 'ppp-truncated');
    o += 2;
  }
  if (s.end - o < 1) return failWith(s, 'ppp-truncated');
  let proto: number;
  if (d[o] & 1) {
    proto = d[o];
    o += 1;
  } else {
    if (s.end - o < 2) return failWith(s, 'ppp-truncated');
    proto = u16(d, o);
    o += 2;
  }
  s.off = o;
  if (proto === 0x21) s.next = Next.IPv4;
  else if (proto === 0x57) s.next = Next.IPv6;
  else skipWith(s, 'ppp-non-ip', proto);
}

/** VXLAN (RFC 7348) header at off: 8 bytes, VNI in bytes 4–6, then Ethernet. */
export function parseVxlan(s: WalkState): void {
  const d = s.d;
  const o = s.off;
  if (s.end - o < 8 + 14) return failWith(s, 'vxlan-truncated');
  if (!(d[o] & 0x08)) return failWith(s, 'vxlan-bad-flags');
  const e = encOf(s);
  e.kinds.push('vxlan');
  e.vni = u32(d, o + 4) >>> 8;
  s.off = o + 8;
  s.next = Next.Ethernet;
}

/** Geneve (RFC 8926) header at off: 8 bytes plus options; protocol type says what follows. */
export function parseGeneve(s: WalkState): void {
  const d = s.d;
  const o = s.off;
  if (s.end - o < 8) return failWith(s, 'geneve-truncated');
  if (d[o] >> 6 !== 0) return failWith(s, 'geneve-version');
  const optLen = (d[o] & 0x3f) * 4;
  if (s.end - o < 8 + optLen) return failWith(s, 'geneve-truncated');
  const e = encOf(s);
  e.kinds.push('geneve');
  e.vni = u32(d, o + 4) >>> 8;
  e.geneveOptionsLength = optLen;
  const proto = u16(d, o + 2);
  s.off = o + 8 + optLen;
  if (proto === 0x6558) s.next = Next.Ethernet;
  else if (proto === 0x0800) s.next = Next.IPv4;
  else if (proto === 0x86dd) s.next = Next.IPv6;
  else skipWith(s, 'geneve-proto', proto);
}
