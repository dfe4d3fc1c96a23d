// Reads the ARP message of a frame the decoder skipped as 'arp', at the offset the decoder gives (after every tunnel
// and tag it peeled off: a mirror delivers ARP inside ERSPAN as often as bare).
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
