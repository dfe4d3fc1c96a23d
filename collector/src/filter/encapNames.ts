// The encapsulation names `encap NAME` accepts: exactly the kinds the capture decoder writes into a flow's `encap`
// list (collector/src/pcap/decapsulation.ts `EncapKind`, and 'ip-in-ip' / 'ipv6-in-ip' from packetDecoder.ts).
// The type checks below fail the build when the decoder gains or loses a kind this list does not follow.

import type { EncapKind } from '../pcap/decapsulation.ts';

/** In the order a frame meets them, roughly: tags, labels, tunnels, mirror headers, overlays. */
export const ENCAP_NAMES = [
  'vlan', 'qinq', 'mpls', 'eompls', 'pppoe', 'gre', 'pptp', 'erspan1', 'erspan2', 'erspan3', 'vxlan', 'geneve',
  'ip-in-ip', 'ipv6-in-ip',
] as const satisfies readonly EncapKind[];

export type EncapName = (typeof ENCAP_NAMES)[number];

// Every decoder kind is listed (the `satisfies` above checks the other way round).
type Unlisted = Exclude<EncapKind, EncapName>;
const everyKindListed: [Unlisted] extends [never] ? true : Unlisted = true;
void everyKindListed;

const known: ReadonlySet<string> = new Set(ENCAP_NAMES);

/** The encapsulation a (lower-case) name stands for, or undefined. */
export function encapName(text: string): EncapName | undefined {
  return known.has(text) ? (text as EncapName) : undefined;
}
