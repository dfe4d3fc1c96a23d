// Finds and reads the ARP message of a frame the decoder skipped as 'arp'. The decoder says only that it met
// ethertype 0x0806, not where, so the frame is walked again with the decoder's own header parsers (decapsulation.ts:
// Ethernet, 802.1Q/802.1ad tags, MPLS pseudowires, GRE, ERSPAN, VXLAN, Geneve, Linux cooked) — a mirror delivers ARP
// inside ERSPAN as often as bare. Between those parsers, this module steps over the IP header that carries a tunnel
// (no IPv6 extension headers, no fragments: ARP is never big enough to be fragmented).
import {
  Next, parseEthernet, parseEthertype, parseGeneve, parseGre, parseLinkLayer, parseVxlan, type WalkState,
} from '../../pcap/decapsulation.ts';
import { GENEVE_PORT, VXLAN_PORT } from '../../pcap/packetDecoder.ts';
import { macAt, u16 } from './frameBytes.ts';

/** An Ethernet/IPv4 ARP message (RFC 826). MACs are 48-bit numbers, addresses dotted text. */
export interface ArpMessage {
  /** 1 request, 2 reply. */
  op: number;
  senderMac: number;
  senderIp: string;
  targetMac: number;
  targetIp: string;
}

const ETHERTYPE_ARP = 0x0806;
const MAX_LAYERS = 32;

/** Offset of the ARP message in `buf`, or -1 when the frame holds none the walk can reach. */
export function arpOffset(buf: Uint8Array, start: number, caplen: number, linkType: number): number {
  const s: WalkState = {
    d: buf, off: start, end: start + caplen, limit: Infinity, next: Next.Done, ethertype: 0, enc: null, fail: null, skip: null,
    detail: 0, srcMac: 0, dstMac: 0,
  };
  parseLinkLayer(s, linkType);
  for (let layers = 0; layers < MAX_LAYERS; layers++) {
    switch (s.next) {
      case Next.Ethernet:
        parseEthernet(s);
        break;
      case Next.Ethertype:
        parseEthertype(s);
        break;
      case Next.IPv4:
      case Next.IPv6:
      case Next.IPAny:
        if (!enterTunnel(s)) return -1;
        break;
      default:
        // parseEthertype stops on ARP with `off` just past the ethertype: the ARP message.
        return s.skip === 'arp' && s.ethertype === ETHERTYPE_ARP ? s.off : -1;
    }
  }
  return -1;
}

/**
 * Steps from an IP header at s.off into the tunnel it carries (GRE, VXLAN, Geneve, IP-in-IP) and lets that
 * tunnel's parser set s.next; false when the packet is not a tunnel.
 */
function enterTunnel(s: WalkState): boolean {
  const d = s.d;
  const o = s.off;
  if (o >= s.end) return false;
  const version = d[o] >> 4;
  let proto: number;
  let payload: number;
  let end: number;
  if (version === 4) {
    if (s.end - o < 20) return false;
    const fragmented = (u16(d, o + 6) & 0x3fff) !== 0;
    if (fragmented) return false;
    proto = d[o + 9];
    payload = o + (d[o] & 0x0f) * 4;
    end = Math.min(s.end, o + u16(d, o + 2));
  } else if (version === 6) {
    if (s.end - o < 40) return false;
    proto = d[o + 6];
    payload = o + 40;
    end = Math.min(s.end, o + 40 + u16(d, o + 4));
  } else return false;
  if (payload >= end) return false;
  s.off = payload;
  s.end = end;
  switch (proto) {
    case 47:
      parseGre(s);
      return true;
    case 17: {
      if (end - payload < 8) return false;
      const port = u16(d, payload + 2);
      s.off = payload + 8;
      if (port === VXLAN_PORT) parseVxlan(s);
      else if (port === GENEVE_PORT) parseGeneve(s);
      else return false;
      return true;
    }
    case 4:
      s.next = Next.IPv4;
      return true;
    case 41:
      s.next = Next.IPv6;
      return true;
    default:
      return false;
  }
}

/** Reads an Ethernet/IPv4 ARP message at `o` (hardware type 1 or 6, 6-byte MACs, 4-byte addresses); null otherwise. */
export function parseArp(b: Uint8Array, o: number, end: number): ArpMessage | null {
  if (o < 0 || end - o < 28) return null;
  const htype = u16(b, o);
  if ((htype !== 1 && htype !== 6) || u16(b, o + 2) !== 0x0800 || b[o + 4] !== 6 || b[o + 5] !== 4) return null;
  return {
    op: u16(b, o + 6),
    senderMac: macAt(b, o + 8),
    senderIp: `${b[o + 14]}.${b[o + 15]}.${b[o + 16]}.${b[o + 17]}`,
    targetMac: macAt(b, o + 18),
    targetIp: `${b[o + 24]}.${b[o + 25]}.${b[o + 26]}.${b[o + 27]}`,
  };
}
