// `invalid-packet`: packets no correct stack sends. Two sources of evidence:
//  - what the decoder already rejects (DecodeResult `malformed`, by reason: a header length below 20, a total length
//    past the frame, a TCP data offset past the segment, a UDP length that lies ...);
//  - checks the decoder leaves out, made here on the innermost IP header:
//    * IPv4 header checksum. A checksum of 0x0000 is passed: it is what a sender with IPv4 checksum offload (Windows
//      "IPv4 Checksum Offload") and frame generators leave in the header, not a wrong value (tshark, with
//      ip.check_checksum on, calls those bad; it is off by default for this reason);
//    * TCP/UDP checksums only on request (`transportChecksums`, off by default like tshark's tcp/udp.check_checksum):
//      a capture on the sending host (loopback included) sees the checksum before the NIC fills it in. Even when on,
//      a field holding just the pseudo-header sum (Linux CHECKSUM_PARTIAL, what every packet of a loopback capture
//      carries) is passed, as are UDP's "no checksum" 0, packets the capture cut short, and fragments;
//    * the reserved ("evil", RFC 3514) flag bit; TTL / hop limit 0, which no router forwards;
//    * fragments: DF set on a fragment; a non-last fragment whose length is not a multiple of 8 (RFC 791 / 8200);
//      a datagram past 65,535 bytes (ping of death); a first TCP fragment too short to hold the TCP header (the tiny
//      fragment attack, RFC 1858 §3.1, applied to the whole header as RFC 7112 does for IPv6); overlapping fragments
//      and data past the end the last fragment set (teardrop, RFC 1858 §4; tshark: "Fragment overlap",
//      "Fragment too long"), tracked per datagram by fragmentTracker.ts;
//    * SYN and RST in one TCP segment: the flow detector `tcp-flags` leaves it to us (a flow ORs a SYN and a later
//      RST into the same bits). Land, null, SYN+FIN, Xmas and FIN without ACK are flow detectors' (`land`,
//      `tcp-flags`) and are not repeated here.
// Not evidence: a packet cut by the capture's snap length (`caplen < origLen`) is short because of the capture, not
// the sender (tshark: "Packet size limited during capture", not "Malformed"): reported only with `snaplenTruncation`.
//
// One alert per (capture, source address, reason) and report window, with the packet count and the first samples;
// the reason leads the alert key. Classtype protocol-command-decode, as Snort and Suricata file their decoder events.
import type { CapturePacket } from '../../pcap/captureReader.ts';
import { formatIp, type DecodedPacket, type MalformedPacket, type MalformedReason } from '../../pcap/packetDecoder.ts';
import type { AlertCandidate, AlertSample, Emit, PacketDetector, PacketEvent, Severity } from '../idsTypes.ts';
import { FragmentTracker, hashBytes } from './fragmentTracker.ts';
import { fold, frameEnd, hex16, ipHeaderOffset, u16, wordSum } from './frameBytes.ts';
import { keepSample, ReportWindow, type Report } from './reportWindow.ts';

export const INVALID_PACKET_DETECTOR_ID = 'invalid-packet';

/** What this module finds beyond the decoder's MalformedReason. */
export type IpCheckReason =
  | 'ipv4-bad-checksum'
  | 'ip-reserved-flag'
  | 'ttl-zero'
  | 'fragment-with-df'
  | 'fragment-not-8-aligned'
  | 'fragment-too-large'
  | 'tiny-fragment'
  | 'fragment-overlap'
  | 'fragment-past-end'
  | 'tcp-syn-rst'
  | 'tcp-bad-checksum'
  | 'udp-bad-checksum';

export type InvalidReason = MalformedReason | IpCheckReason;

export interface InvalidPacketConfig {
  enabled: boolean;
  /** One alert per (capture, source, reason) per this many seconds of packet time (also the wait before it is raised). */
  reportWindowSec: number;
  /** Reports open at most; past it the oldest is raised early. */
  maxReports: number;
  /** Verify IPv4 header checksums (0x0000 passes: offload or a frame generator left it empty). */
  ipChecksum: boolean;
  /** Verify TCP and UDP checksums. Off, as in tshark: senders with checksum offload capture them unfilled. */
  transportChecksums: boolean;
  /** Report headers cut short by the capture's snap length too (they are not the sender's fault). */
  snaplenTruncation: boolean;
  /** Forget a fragmented datagram this long after its newest fragment (Linux net.ipv4.ipfrag_time: 30 s). */
  fragmentTimeoutSec: number;
  /** Fragmented datagrams tracked at most (the oldest goes first). */
  maxDatagrams: number;
  /** Fragments tracked per datagram at most (past it the datagram is no longer checked for overlaps). */
  maxFragmentsPerDatagram: number;
  /** Reasons never reported. */
  ignore: readonly InvalidReason[];
}

export const INVALID_PACKET_DEFAULTS: Readonly<InvalidPacketConfig> = Object.freeze({
  enabled: true,
  reportWindowSec: 60,
  maxReports: 10_000,
  ipChecksum: true,
  transportChecksums: false,
  snaplenTruncation: false,
  fragmentTimeoutSec: 30,
  maxDatagrams: 10_000,
  maxFragmentsPerDatagram: 128,
  ignore: Object.freeze([]) as readonly InvalidReason[],
});

interface ReasonInfo {
  severity: Severity;
  /** Singular, reads after "from <source>:". */
  text: string;
}

// Crafted lies (lengths that contradict each other, fragments that fight) are medium or high; a packet merely too
// short is low: a broken NIC, driver or mirror makes those too.
const DECODER_REASONS: Partial<Record<MalformedReason, ReasonInfo>> = {
  'link-truncated': { severity: 'low', text: 'frame shorter than its link-layer header' },
  'vlan-truncated': { severity: 'low', text: 'frame cut inside a VLAN tag' },
  'ip-version': { severity: 'medium', text: 'IP version that does not match the layer below' },
  'ipv4-truncated': { severity: 'low', text: 'IPv4 packet shorter than its header' },
  'ipv4-bad-ihl': { severity: 'medium', text: 'IPv4 header length below 20 bytes' },
  'ipv4-bad-length': { severity: 'medium', text: 'IPv4 total length shorter than its header' },
  'ipv4-length-exceeds-frame': { severity: 'medium', text: 'IPv4 total length beyond the frame' },
  'ipv6-truncated': { severity: 'low', text: 'IPv6 packet shorter than its header' },
  'ipv6-length-exceeds-frame': { severity: 'medium', text: 'IPv6 payload length beyond the frame' },
  'ipv6-ext-truncated': { severity: 'medium', text: 'IPv6 extension header beyond the packet' },
  'tcp-truncated': { severity: 'low', text: 'TCP segment shorter than a TCP header' },
  'tcp-bad-offset': { severity: 'medium', text: 'TCP data offset below 20 bytes or beyond the packet' },
  'udp-truncated': { severity: 'low', text: 'UDP datagram shorter than a UDP header' },
  'udp-bad-length': { severity: 'medium', text: 'UDP length that contradicts the IP length' },
  'icmp-truncated': { severity: 'low', text: 'ICMP message shorter than an ICMP header' },
  'gre-truncated': { severity: 'low', text: 'GRE packet shorter than its header' },
  'gre-bad-routing': { severity: 'medium', text: 'GRE source route beyond the packet' },
  'too-many-layers': { severity: 'medium', text: 'packet nested in more than 32 headers' },
};

const CHECK_REASONS: Record<IpCheckReason, ReasonInfo> = {
  'ipv4-bad-checksum': { severity: 'low', text: 'IPv4 header checksum wrong' },
  'ip-reserved-flag': { severity: 'low', text: 'IPv4 reserved flag (evil bit) set' },
  'ttl-zero': { severity: 'low', text: 'TTL or hop limit 0' },
  'fragment-with-df': { severity: 'medium', text: 'fragment with Don\'t Fragment set' },
  'fragment-not-8-aligned': { severity: 'medium', text: 'non-last fragment whose length is not a multiple of 8' },
  'fragment-too-large': { severity: 'high', text: 'fragment reaching past 65,535 bytes (ping of death)' },
  'tiny-fragment': { severity: 'medium', text: 'first fragment too short for the TCP header (tiny fragment)' },
  'fragment-overlap': { severity: 'high', text: 'overlapping fragments' },
  'fragment-past-end': { severity: 'medium', text: 'fragment data past the datagram\'s end' },
  'tcp-syn-rst': { severity: 'medium', text: 'TCP segment with both SYN and RST' },
  'tcp-bad-checksum': { severity: 'low', text: 'TCP checksum wrong' },
  'udp-bad-checksum': { severity: 'low', text: 'UDP checksum wrong' },
};

function reasonInfo(r: InvalidReason): ReasonInfo {
  return (CHECK_REASONS as Partial<Record<InvalidReason, ReasonInfo>>)[r]
    ?? DECODER_REASONS[r as MalformedReason]
    ?? { severity: 'low', text: `malformed packet (${r})` };
}

interface InvalidReport extends Report {
  reason: InvalidReason;
  capture: string;
  src: string;
  /** The destination / protocol every packet had, '' / -1 when they differ. */
  dst: string;
  proto: number;
  packets: number;
  bytes: number;
}

/** Who sent a packet and to whom, as far as the packet says. */
interface Endpoints {
  src: string;
  dst: string;
  proto: number;
  srcPort: number;
  dstPort: number;
  tcpFlags: number;
}

const NO_ENDPOINTS: Endpoints = { src: '', dst: '', proto: 0, srcPort: 0, dstPort: 0, tcpFlags: 0 };

const TCP = 6;
const UDP = 17;
const FLAG_SYN = 0x02;
const FLAG_RST = 0x04;

export class InvalidPacketDetector implements PacketDetector {
  readonly id = INVALID_PACKET_DETECTOR_ID;
  readonly reports: ReportWindow<InvalidReport>;
  readonly fragments: FragmentTracker;
  private readonly ignored: ReadonlySet<InvalidReason>;
  private now = -Infinity;

  constructor(readonly config: InvalidPacketConfig = INVALID_PACKET_DEFAULTS) {
    this.reports = new ReportWindow(config.reportWindowSec * 1000, config.maxReports, (_k, r) => renderReport(r));
    this.fragments = new FragmentTracker(config.fragmentTimeoutSec * 1000, config.maxDatagrams, config.maxFragmentsPerDatagram);
    this.ignored = new Set(config.ignore);
  }

  onPacket(ev: PacketEvent, emit: Emit): void {
    const ts = ev.packet.ts;
    if (ts > this.now) this.now = ts;
    this.reports.closeDue(this.now, emit);
    const d = ev.decoded;
    if (d.kind === 'ip') this.checkIp(ev, d, emit);
    else if (d.kind === 'malformed') this.onMalformed(ev, d, emit);
  }

  finish(emit: Emit): void {
    this.reports.closeAll(emit);
  }

  expire(now: number): void {
    this.fragments.expire(now);
  }

  // ---- decoder findings ----

  private onMalformed(ev: PacketEvent, m: MalformedPacket, emit: Emit): void {
    const p = ev.packet;
    if (!this.config.snaplenTruncation && p.caplen < p.origLen && isShortCapture(m.reason)) return;
    const who = endpointsOfMalformed(m, p);
    this.record(ev, m.reason, who, p.origLen, `${m.reason} at byte ${m.offset} of ${p.origLen}`, emit);
  }

  // ---- checks on decoded IP packets ----

  private checkIp(ev: PacketEvent, d: DecodedPacket, emit: Emit): void {
    const p = ev.packet;
    const o = ipHeaderOffset(d, p);
    if (o < 0) return;
    if (d.ipVersion === 4) this.checkIpv4Header(ev, d, o, emit);
    else if (d.ttl === 0) this.recordIp(ev, d, 'ttl-zero', 'hop limit 0', emit);
    if (d.fragment) this.checkFragment(ev, d, o, emit);
    else {
      if (d.proto === TCP && (d.tcpFlags & (FLAG_SYN | FLAG_RST)) === (FLAG_SYN | FLAG_RST)) {
        this.recordIp(ev, d, 'tcp-syn-rst', `flags 0x${d.tcpFlags.toString(16).padStart(2, '0')}`, emit);
      }
      if (this.config.transportChecksums && (d.proto === TCP || d.proto === UDP)) this.checkTransportChecksum(ev, d, o, emit);
    }
  }

  private checkIpv4Header(ev: PacketEvent, d: DecodedPacket, o: number, emit: Emit): void {
    const b = d.data;
    // The decoder only returns an IPv4 packet whose whole header (ihl bytes) was captured.
    const ihl = (b[o] & 0x0f) * 4;
    if (b[o + 6] & 0x80) this.recordIp(ev, d, 'ip-reserved-flag', `flags 0x${(b[o + 6] >> 5).toString(16)}`, emit);
    if (d.ttl === 0) this.recordIp(ev, d, 'ttl-zero', 'TTL 0', emit);
    if (this.config.ipChecksum) {
      const field = u16(b, o + 10);
      if (field !== 0 && fold(wordSum(b, o, o + ihl)) !== 0xffff) {
        const expected = ~fold(wordSum(b, o, o + ihl) - field) & 0xffff;
        this.recordIp(ev, d, 'ipv4-bad-checksum', `ip checksum ${hex16(field)}, expected ${hex16(expected)}`, emit);
      }
    }
  }

  private checkFragment(ev: PacketEvent, d: DecodedPacket, o: number, emit: Emit): void {
    const f = d.fragment!;
    const b = d.data;
    const where = `fragment id ${hex16(f.id)} offset ${f.offset} length ${f.payloadLength}${f.more ? ' MF' : ''}`;
    if (d.ipVersion === 4 && b[o + 6] & 0x40) this.recordIp(ev, d, 'fragment-with-df', `${where} DF`, emit);
    if (f.more && f.payloadLength % 8 !== 0) this.recordIp(ev, d, 'fragment-not-8-aligned', where, emit);
    // The reassembled datagram's length field must hold it: IPv4 header + data, IPv6 extension headers + data.
    const unfragmentable = d.ipVersion === 4 ? f.headerLength : f.headerLength - 40;
    if (unfragmentable + f.offset + f.payloadLength > 65535) {
      this.recordIp(ev, d, 'fragment-too-large', `${where}: reassembles to ${unfragmentable + f.offset + f.payloadLength} bytes`, emit);
    }
    if (f.offset === 0 && f.more && d.proto === TCP) this.checkTinyFragment(ev, d, o, where, emit);
    this.trackFragment(ev, d, o, where, emit);
  }

  private checkTinyFragment(ev: PacketEvent, d: DecodedPacket, o: number, where: string, emit: Emit): void {
    const f = d.fragment!;
    let need = 20;
    // IPv4: the TCP header starts right after the IP header, so its data offset can say how long the header is.
    const tcp = o + f.headerLength;
    if (d.ipVersion === 4 && tcp + 13 <= frameEnd(ev.packet) && f.payloadLength >= 13) need = Math.max(20, (d.data[tcp + 12] >> 4) * 4);
    if (f.payloadLength < need) {
      this.recordIp(ev, d, 'tiny-fragment', `${where}: carries ${f.payloadLength} of the ${need}-byte TCP header`, emit);
    }
  }

  private trackFragment(ev: PacketEvent, d: DecodedPacket, o: number, where: string, emit: Emit): void {
    const f = d.fragment!;
    // IPv6 fragment data follows the 8-byte fragment header; reassembly keys on (src, dst, id) only (RFC 8200).
    const dataStart = o + f.headerLength + (d.ipVersion === 6 ? 8 : 0);
    const dataEnd = Math.min(frameEnd(ev.packet), o + d.ipLength);
    const hash = hashBytes(d.data, dataStart, Math.max(dataStart, dataEnd));
    const proto = d.ipVersion === 4 ? d.proto : -1;
    const key = `${ev.capture}|${formatIp(d.src)}|${formatIp(d.dst)}|${f.id}|${proto}`;
    const end = f.offset + f.payloadLength;
    const check = this.fragments.add(key, ev.packet.ts, f.offset, end, f.more, hash);
    if (check.overlapped) {
      const r = check.overlapped;
      const how = check.sameRange ? 'the same range with different data' : `[${r.start}, ${r.end})`;
      this.recordIp(ev, d, 'fragment-overlap', `${where}: [${f.offset}, ${end}) overlaps ${how}`, emit);
    }
    if (check.endConflict >= 0) {
      this.recordIp(ev, d, 'fragment-past-end', `${where}: [${f.offset}, ${end}) against a datagram end of ${check.endConflict}`, emit);
    }
  }

  private checkTransportChecksum(ev: PacketEvent, d: DecodedPacket, o: number, emit: Emit): void {
    const problem = transportChecksumProblem(d, o, frameEnd(ev.packet));
    if (problem !== null) this.recordIp(ev, d, d.proto === TCP ? 'tcp-bad-checksum' : 'udp-bad-checksum', problem, emit);
  }

  // ---- reports ----

  private recordIp(ev: PacketEvent, d: DecodedPacket, reason: IpCheckReason, note: string, emit: Emit): void {
    const who: Endpoints = {
      src: formatIp(d.src), dst: formatIp(d.dst), proto: d.proto, srcPort: d.srcPort, dstPort: d.dstPort, tcpFlags: d.tcpFlags,
    };
    this.record(ev, reason, who, d.ipLength, note, emit);
  }

  private record(ev: PacketEvent, reason: InvalidReason, who: Endpoints, bytes: number, note: string, emit: Emit): void {
    if (this.ignored.has(reason)) return;
    const t = ev.packet.ts;
    const key = `${reason}|${who.src}|${ev.capture}`;
    const r = this.reports.get(key) ?? this.reports.add(key, {
      opened: t, last: t, samples: [], reason, capture: ev.capture, src: who.src, dst: who.dst, proto: who.proto, packets: 0, bytes: 0,
    }, emit);
    r.last = Math.max(r.last, t);
    r.packets++;
    r.bytes += bytes;
    if (r.dst !== who.dst) r.dst = '';
    if (r.proto !== who.proto) r.proto = -1;
    keepSample(r.samples, () => sampleOf(t, who, bytes, note));
  }
}

/** Reasons that only say "fewer bytes than a header needs": a snap length makes those. */
function isShortCapture(reason: MalformedReason): boolean {
  return reason.endsWith('-truncated');
}

/**
 * Addresses of a packet the decoder gave up on. The malformed offset points at the failing header: an IP header for
 * IP and transport failures (their checks run before the walk leaves the IP header), a tunnel header for tunnel
 * failures, whose carrier is the innermost tunnel endpoint pair.
 */
function endpointsOfMalformed(m: MalformedPacket, p: CapturePacket): Endpoints {
  const b = p.buf;
  const o = p.start + m.offset;
  const end = frameEnd(p);
  if (o < end) {
    const version = b[o] >> 4;
    if (version === 4 && o + 20 <= end && (b[o] & 0x0f) >= 5) {
      return { ...NO_ENDPOINTS, src: formatIp(b.subarray(o + 12, o + 16)), dst: formatIp(b.subarray(o + 16, o + 20)), proto: b[o + 9] };
    }
    if (version === 6 && o + 40 <= end) {
      return { ...NO_ENDPOINTS, src: formatIp(b.subarray(o + 8, o + 24)), dst: formatIp(b.subarray(o + 24, o + 40)), proto: b[o + 6] };
    }
  }
  const tunnel = m.encap?.tunnels.at(-1);
  if (tunnel) return { ...NO_ENDPOINTS, src: formatIp(tunnel.src), dst: formatIp(tunnel.dst) };
  return NO_ENDPOINTS;
}

/**
 * Why a TCP/UDP checksum is wrong, or null when it is right or cannot be judged: a segment not captured whole, an
 * IPv6 packet with extension headers, a length left 0 by segmentation offload, UDP's "no checksum" 0, or a field
 * holding only the pseudo-header sum (the sender's NIC was to finish it).
 */
export function transportChecksumProblem(d: DecodedPacket, o: number, end: number): string | null {
  const b = d.data;
  let seg: number;
  let segLen: number;
  if (d.ipVersion === 4) {
    if (u16(b, o + 2) === 0) return null;
    const ihl = (b[o] & 0x0f) * 4;
    seg = o + ihl;
    segLen = d.ipLength - ihl;
  } else {
    if (b[o + 6] !== d.proto || u16(b, o + 4) === 0) return null;
    seg = o + 40;
    segLen = u16(b, o + 4);
  }
  const fieldAt = seg + (d.proto === TCP ? 16 : 6);
  if (seg + segLen > end || fieldAt + 2 > seg + segLen) return null;
  const field = u16(b, fieldAt);
  if (d.proto === UDP && field === 0) return null;
  const addrLen = d.ipVersion === 4 ? 4 : 16;
  const pseudo = wordSum(b, d.srcOff, d.srcOff + addrLen, wordSum(b, d.dstOff, d.dstOff + addrLen)) + d.proto + segLen;
  if (field === fold(pseudo)) return null;
  const sum = wordSum(b, seg, seg + segLen, pseudo);
  if (fold(sum) === 0xffff) return null;
  let expected = ~fold(sum - field) & 0xffff;
  if (d.proto === UDP && expected === 0) expected = 0xffff;
  return `${d.proto === TCP ? 'tcp' : 'udp'} checksum ${hex16(field)}, expected ${hex16(expected)}`;
}

function sampleOf(t: number, who: Endpoints, bytes: number, note: string): AlertSample {
  return {
    time: t, srcAddr: who.src, dstAddr: who.dst, srcPort: who.srcPort, dstPort: who.dstPort, proto: who.proto,
    tcpFlags: who.tcpFlags, packets: 1, bytes, note,
  };
}

function renderReport(r: InvalidReport): AlertCandidate {
  const info = reasonInfo(r.reason);
  const from = r.src === '' ? 'an unknown source' : r.src;
  const n = r.packets === 1 ? '1 packet' : `${r.packets} packets`;
  return {
    time: r.opened, detector: INVALID_PACKET_DETECTOR_ID, severity: info.severity,
    summary: `${info.text} from ${from}: ${n} in ${r.capture}`,
    src: r.src, dst: r.dst, dstPort: 0, proto: Math.max(r.proto, 0), vip: '', portgroup: '',
    key: `${r.reason}|${r.src}|${r.capture}`,
    counts: { packets: r.packets, bytes: r.bytes },
    samples: r.samples, origin: 'pcap', classtype: 'protocol-command-decode',
  };
}
