// Small readers over captured frames for the packet detectors. The decoder keeps addresses in the frame and tells
// where the innermost IP header's addresses are (srcOff); the detectors read the few other header fields they need
// from there, always bounds-checked against the captured bytes.
import type { CapturePacket } from '../../pcap/captureReader.ts';
import type { DecodedPacket, EncapInfo } from '../../pcap/packetDecoder.ts';

export function u16(b: Uint8Array, o: number): number {
  return (b[o] << 8) | b[o + 1];
}

export function u32(b: Uint8Array, o: number): number {
  return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}

/** Offset in `packet.buf` just past the captured bytes. */
export function frameEnd(p: CapturePacket): number {
  return p.start + p.caplen;
}

/**
 * Offset of the innermost IP header in `d.data`, or -1 when the decoding does not point into this frame (a detached
 * copy holds only the addresses). IPv4 addresses start 12 bytes into the header, IPv6 ones 8.
 */
export function ipHeaderOffset(d: DecodedPacket, p: CapturePacket): number {
  if (d.data !== p.buf) return -1;
  return d.srcOff - (d.ipVersion === 4 ? 12 : 8);
}

/** One's complement sum of the 16-bit words in [start, end), not folded (an odd last byte is padded with zero). */
export function wordSum(b: Uint8Array, start: number, end: number, initial = 0): number {
  let sum = initial;
  let i = start;
  for (; i + 1 < end; i += 2) sum += (b[i] << 8) | b[i + 1];
  if (i < end) sum += b[i] << 8;
  return sum;
}

/** Folds a word sum to 16 bits with end-around carry. */
export function fold(sum: number): number {
  let s = sum;
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return s;
}

/** A 48-bit MAC (as the decoder keeps them, a number) as aa:bb:cc:dd:ee:ff. */
export function formatMac(mac: number): string {
  const hex = mac.toString(16).padStart(12, '0');
  return hex.replace(/(..)(?!$)/g, '$1:');
}

/** A 48-bit MAC read from the frame at `o`. */
export function macAt(b: Uint8Array, o: number): number {
  return u16(b, o) * 0x1_0000_0000 + u32(b, o + 2);
}

export function hex16(v: number): string {
  return `0x${v.toString(16).padStart(4, '0')}`;
}

/**
 * Where a packet was seen, for state that belongs to one L2 segment (ARP tables, VRRP routers): capture interface,
 * VLAN tags, VXLAN/Geneve VNI and ERSPAN session. The capture file name is left out on purpose: rotated files of
 * one mirror (tcpdump -G, a drop folder) are one segment, and a failover spanning two files must still be seen.
 */
export function segmentOf(encap: EncapInfo | null, interfaceId: number): string {
  let s = interfaceId === 0 ? '' : `if ${interfaceId}`;
  if (encap) {
    if (encap.erspan) s = join(s, `erspan ${encap.erspan.session}`);
    if (encap.vni !== null) s = join(s, `vni ${encap.vni}`);
    if (encap.vlans.length > 0) s = join(s, `vlan ${encap.vlans.join('.')}`);
  }
  return s;
}

function join(a: string, b: string): string {
  return a === '' ? b : `${a} ${b}`;
}

/** " on vlan 10" for summaries, '' for the untagged segment. */
export function onSegment(segment: string): string {
  return segment === '' ? '' : ` on ${segment}`;
}
