// What a single flow record says about itself, for the flow detectors: its event times, whether it is a connection
// attempt, a probe that got no session, or evidence a detector must not count twice. The rules hold for NetFlow and
// pcap-derived flows alike, because they only read what both carry: the TCP flags OR-ed over the flow's life
// (softflowd, nfpcapd, dvSwitch IPFIX and our flow table all OR them), packets and the 5-tuple.
import type { EnrichedFlow } from '../../storage/flowRows.ts';

export const PROTO_ICMP = 1;
export const PROTO_TCP = 6;
export const PROTO_UDP = 17;
export const PROTO_ICMPV6 = 58;

export const FIN = 0x01;
export const SYN = 0x02;
export const RST = 0x04;
export const PSH = 0x08;
export const ACK = 0x10;
export const URG = 0x20;

/** Event time a flow starts: its first packet; exporters that send no times fall back to the time received. */
export function startOf(f: EnrichedFlow): number {
  return f.first > 0 ? f.first : f.last > 0 ? f.last : f.timeReceived;
}

/** Event time a flow ends: its last packet (flows reach us when they end, so this is close to arrival order). */
export function endOf(f: EnrichedFlow): number {
  return f.last > 0 ? f.last : f.first > 0 ? f.first : f.timeReceived;
}

/**
 * Whether a detector may count this flow at all: it has a source to blame and is not the dvSwitch's second
 * sighting of a VM-to-VM flow (schema/004 `duplicate`), which would count its packets and connections twice.
 */
export function isCountable(f: EnrichedFlow): boolean {
  return f.srcAddr !== '' && f.duplicate !== 1;
}

/** Flows the exporter sampled 1:N stand for N flows; packets and bytes are scaled already, flow counts are not. */
export function flowWeight(f: EnrichedFlow): number {
  return f.samplingRate > 1 ? f.samplingRate : 1;
}

/**
 * The share of a flow's packets that fits in `spanMs`, assuming a steady rate: a 5-minute NetFlow record must not
 * put five minutes of packets into a 10-second window.
 */
export function packetsWithin(f: EnrichedFlow, spanMs: number): number {
  const duration = f.last - f.first;
  return duration > spanMs ? f.packets * (spanMs / duration) : f.packets;
}

/** A TCP flow that opened (or tried to open) a connection: it carries a SYN. */
export function isConnectionAttempt(f: EnrichedFlow): boolean {
  return f.proto === PROTO_TCP && (f.tcpFlags & SYN) !== 0;
}

/** SYN sent and never an ACK from this side: the handshake was not completed by the originator. */
export function isSynWithoutAck(f: EnrichedFlow): boolean {
  return f.proto === PROTO_TCP && (f.tcpFlags & (SYN | ACK)) === SYN;
}

/**
 * Whether the exporter of a flow is known to export TCP flags. Some NetFlow v9 templates carry no TCP_FLAGS field,
 * and then every TCP flow reads 0: without this a collector would see a "null scan" in every connection. A pcap
 * always has flags; a NetFlow exporter counts as exporting them once one of its TCP flows had any flag set.
 */
export class FlagVisibility {
  private readonly known = new Set<string>();
  private lastExporter = '';
  private lastDomain = -1;
  private lastKnown = false;

  constructor(private readonly maxExporters = 4096) {}

  /** Call for every TCP flow; true when its flags can be trusted (including a flags value of 0). */
  observe(f: EnrichedFlow): boolean {
    if (f.source === 'pcap') return true;
    // Flows of one batch usually come from one exporter: remember the last answer instead of building its key.
    if (f.exporter !== this.lastExporter || f.domain !== this.lastDomain) {
      this.lastExporter = f.exporter;
      this.lastDomain = f.domain;
      this.lastKnown = this.known.has(exporterKey(f));
    }
    if (!this.lastKnown && f.tcpFlags !== 0 && this.known.size < this.maxExporters) {
      this.known.add(exporterKey(f));
      this.lastKnown = true;
    }
    return this.lastKnown;
  }
}

function exporterKey(f: EnrichedFlow): string {
  return `${f.exporter}|${f.domain}`;
}

/**
 * A TCP flow that probed without getting a session: no ACK from the originator, and either a SYN (SYN scan, refused
 * or unanswered connect, SYN+RST of a half-open scan) or the FIN/PSH/URG or empty flags of a stealth scan.
 * RST-only flows are not probes: they are replies of closed ports or the trailing reset of a finished connection.
 */
export function isTcpProbe(f: EnrichedFlow, flagsTrusted: boolean): boolean {
  if (f.proto !== PROTO_TCP) return false;
  const fl = f.tcpFlags;
  if ((fl & ACK) !== 0) return false;
  if ((fl & (SYN | FIN | PSH | URG)) !== 0) return true;
  return fl === 0 && flagsTrusted;
}

/** Traceroute's UDP probes go to consecutive ports from 33434 (Linux/BSD traceroute default base port). */
const TRACEROUTE_FIRST = 33434;
const TRACEROUTE_LAST = 33534;

/**
 * A UDP flow shaped like a probe: one or two packets, not a reply from a service port (a DNS server answering
 * clients sends one-packet flows to many client ports), not traceroute.
 */
export function isUdpProbe(f: EnrichedFlow): boolean {
  if (f.proto !== PROTO_UDP || f.packets > 2 * flowWeight(f)) return false;
  if (f.srcPort < 1024 && f.dstPort >= 1024) return false;
  return f.dstPort < TRACEROUTE_FIRST || f.dstPort > TRACEROUTE_LAST;
}

/** ICMP echo request (v4 type 8, v6 type 128); ICMP flows carry type<<8|code in the destination port. */
export function isEchoRequest(f: EnrichedFlow): boolean {
  return (f.proto === PROTO_ICMP && f.dstPort >>> 8 === 8) || (f.proto === PROTO_ICMPV6 && f.dstPort >>> 8 === 128);
}

export function protoName(proto: number): string {
  switch (proto) {
    case PROTO_TCP: return 'tcp';
    case PROTO_UDP: return 'udp';
    case PROTO_ICMP: return 'icmp';
    case PROTO_ICMPV6: return 'icmp6';
    default: return `proto ${proto}`;
  }
}
