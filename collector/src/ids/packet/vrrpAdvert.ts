// Reads VRRP advertisements: version 2 (RFC 3768, IPv4, interval in seconds, authentication fields) and version 3
// (RFC 5798, IPv4 or IPv6, 12-bit interval in centiseconds). keepalived speaks both (vrrp_version 2 by default).
// The checksum is not verified: for VRRPv3 over IPv4 implementations disagree on whether it covers a pseudo-header
// (Wireshark has a preference for it), and a detector must not drop a real router's adverts over that.
import { formatIp, type DecodedPacket } from '../../pcap/packetDecoder.ts';
import { u16 } from './frameBytes.ts';

export const PROTO_VRRP = 112;

export interface VrrpAdvert {
  version: 2 | 3;
  vrid: number;
  /** 255 = address owner, 0 = the master resigns, else 1–254. */
  priority: number;
  /** Advertisement interval in ms (v2: seconds, v3: centiseconds on the wire). */
  intervalMs: number;
  /** The virtual addresses it protects (the first few). */
  addresses: string[];
}

const MAX_ADDRESSES = 4;
const ADVERTISEMENT = 1;

/**
 * Offset of the VRRP message of a decoded IPv4/IPv6 packet whose header starts at `o`, or -1 (IPv6: after
 * hop-by-hop, routing and destination options headers).
 */
export function vrrpOffset(d: DecodedPacket, o: number, end: number): number {
  const b = d.data;
  if (d.ipVersion === 4) return o + (b[o] & 0x0f) * 4;
  let next = b[o + 6];
  let p = o + 40;
  for (let n = 0; n < 8 && (next === 0 || next === 43 || next === 60); n++) {
    if (p + 8 > end) return -1;
    next = b[p];
    p += (b[p + 1] + 1) * 8;
  }
  return next === PROTO_VRRP ? p : -1;
}

/** The advertisement at [p, end) of a packet of IP version `ipVersion`; null when it is not a well-formed one. */
export function parseVrrp(b: Uint8Array, p: number, end: number, ipVersion: 4 | 6): VrrpAdvert | null {
  if (p < 0 || end - p < 8) return null;
  const version = b[p] >> 4;
  if ((b[p] & 0x0f) !== ADVERTISEMENT) return null;
  if (version !== 3 && !(version === 2 && ipVersion === 4)) return null;
  const count = b[p + 3];
  const alen = ipVersion === 4 ? 4 : 16;
  if (end - p < 8 + count * alen) return null;
  const intervalMs = version === 2 ? b[p + 5] * 1000 : (u16(b, p + 4) & 0x0fff) * 10;
  const addresses: string[] = [];
  for (let i = 0; i < Math.min(count, MAX_ADDRESSES); i++) {
    const a = p + 8 + i * alen;
    addresses.push(formatIp(b.subarray(a, a + alen)));
  }
  return { version: version as 2 | 3, vrid: b[p + 1], priority: b[p + 2], intervalMs, addresses };
}
