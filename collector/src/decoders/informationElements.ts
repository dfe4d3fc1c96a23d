// The one table from information element (PEN, id) to what it fills in a FlowRecord, shared by NetFlow v9
// (whose field types 1..127 and most above are IPFIX's numbers) and IPFIX, and the switch that applies a field.
// Templates are compiled against this table once (templateCache.ts); records only run applyField.
import type { FlowRecord } from '../flow/flowRecord.ts';
import * as wire from './wireValues.ts';

// Module-local bindings for the record loop: under tsx (how dvflow runs) every call through an imported
// binding goes through a getter, which cost a third of the decode time.
const readUint = wire.readUint, formatIPv4 = wire.formatIPv4, formatIPv6 = wire.formatIPv6, readMac = wire.readMac,
  readString = wire.readString, allZero = wire.allZero;

export const PEN_VMWARE = 6876;
/** Field length that announces an IPFIX variable-length field (also used by some v9 exporters, e.g. H3C). */
export const VARIABLE_LENGTH = 65535;

// Field kinds: small integers so the record loop is one switch. 0 = skip.
export const K_SKIP = 0;
const K_BYTES = 1, K_PACKETS = 2, K_PROTO = 3, K_SRC_TOS = 4, K_DST_TOS = 5, K_TCP_FLAGS = 6, K_SRC_PORT = 7,
  K_DST_PORT = 8, K_SRC_V4 = 9, K_DST_V4 = 10, K_SRC_V6 = 11, K_DST_V6 = 12, K_SRC_MASK = 13, K_DST_MASK = 14,
  K_IN_IF = 15, K_OUT_IF = 16, K_NEXTHOP_V4 = 17, K_NEXTHOP_V6 = 18, K_BGP_NH_V4 = 19, K_BGP_NH_V6 = 20,
  K_SRC_AS = 21, K_DST_AS = 22, K_NEXT_AS = 23, K_PREV_AS = 24, K_ICMP_TYPECODE = 25, K_ICMP_TYPE = 26,
  K_ICMP_CODE = 27, K_MIN_TTL = 28, K_MAX_TTL = 29, K_IN_SRC_MAC = 30, K_IN_DST_MAC = 31, K_OUT_SRC_MAC = 32,
  K_OUT_DST_MAC = 33, K_SRC_VLAN = 34, K_DST_VLAN = 35, K_DIRECTION = 36, K_END_REASON = 37, K_FWD_STATUS = 38,
  K_VNI = 39, K_ENGINE_TYPE = 40, K_ENGINE_ID = 41;
// Times, kept in the scratch until the record is complete (they need each other and the header).
const K_FIRST_UPTIME = 42, K_LAST_UPTIME = 43, K_START_SEC = 44, K_END_SEC = 45, K_START_MS = 46, K_END_MS = 47,
  K_START_NTP = 48, K_END_NTP = 49, K_START_DELTA_US = 50, K_END_DELTA_US = 51, K_DURATION_MS = 53,
  K_DURATION_US = 54;
export const K_SYS_INIT_MS = 52;
// Sampling, in data records (per-record rate / sampler id) and options records (rates to learn).
export const K_SAMPLER_ID = 55;
const K_SAMPLING_INTERVAL = 56, K_PKT_INTERVAL = 57, K_PKT_SPACE = 58, K_SAMPLING_SIZE = 59,
  K_SAMPLING_POPULATION = 60;
// VMware vSphere Distributed Switch (PEN 6876).
const K_TENANT_PROTO = 61, K_TENANT_SRC_V4 = 62, K_TENANT_DST_V4 = 63, K_TENANT_SRC_V6 = 64, K_TENANT_DST_V6 = 65,
  K_TENANT_SRC_PORT = 66, K_TENANT_DST_PORT = 67, K_VMW_EGRESS_ATTR = 68, K_VMW_VXLAN_ROLE = 69,
  K_VMW_INGRESS_ATTR = 70, K_VMW_OBS_ID = 71;

/** How a field's length must look: any unsigned size 1..8 (reduced-size encoding), an exact size, or text. */
type LengthRule = 'uint' | 'ipv4' | 'ipv6' | 'mac' | 'string' | 'ntp';

interface ElementSpec {
  kind: number;
  name: string;
  length: LengthRule;
  /**
   * Fallback rank among elements filling the same thing: 0 = preferred. When a template carries several
   * (octetDeltaCount and octetTotalCount), only the lowest rank is used; the others are ignored, not unknown.
   */
  rank: number;
}

const iana = new Map<number, ElementSpec>();
const vmware = new Map<number, ElementSpec>();

function def(table: Map<number, ElementSpec>, id: number, name: string, kind: number, length: LengthRule, rank = 0): void {
  table.set(id, { kind, name, length, rank });
}

def(iana, 1, 'octetDeltaCount', K_BYTES, 'uint');
def(iana, 85, 'octetTotalCount', K_BYTES, 'uint', 1);
def(iana, 23, 'postOctetDeltaCount', K_BYTES, 'uint', 2);
def(iana, 231, 'initiatorOctets', K_BYTES, 'uint', 3);
def(iana, 2, 'packetDeltaCount', K_PACKETS, 'uint');
def(iana, 86, 'packetTotalCount', K_PACKETS, 'uint', 1);
def(iana, 24, 'postPacketDeltaCount', K_PACKETS, 'uint', 2);
def(iana, 298, 'initiatorPackets', K_PACKETS, 'uint', 3);
def(iana, 4, 'protocolIdentifier', K_PROTO, 'uint');
def(iana, 5, 'ipClassOfService', K_SRC_TOS, 'uint');
def(iana, 55, 'postIpClassOfService', K_DST_TOS, 'uint');
def(iana, 6, 'tcpControlBits', K_TCP_FLAGS, 'uint');
def(iana, 7, 'sourceTransportPort', K_SRC_PORT, 'uint');
def(iana, 11, 'destinationTransportPort', K_DST_PORT, 'uint');
def(iana, 8, 'sourceIPv4Address', K_SRC_V4, 'ipv4');
def(iana, 12, 'destinationIPv4Address', K_DST_V4, 'ipv4');
def(iana, 27, 'sourceIPv6Address', K_SRC_V6, 'ipv6');
def(iana, 28, 'destinationIPv6Address', K_DST_V6, 'ipv6');
def(iana, 9, 'sourceIPv4PrefixLength', K_SRC_MASK, 'uint');
def(iana, 13, 'destinationIPv4PrefixLength', K_DST_MASK, 'uint');
def(iana, 29, 'sourceIPv6PrefixLength', K_SRC_MASK, 'uint');
def(iana, 30, 'destinationIPv6PrefixLength', K_DST_MASK, 'uint');
def(iana, 10, 'ingressInterface', K_IN_IF, 'uint');
def(iana, 14, 'egressInterface', K_OUT_IF, 'uint');
def(iana, 15, 'ipNextHopIPv4Address', K_NEXTHOP_V4, 'ipv4');
def(iana, 62, 'ipNextHopIPv6Address', K_NEXTHOP_V6, 'ipv6');
def(iana, 18, 'bgpNextHopIPv4Address', K_BGP_NH_V4, 'ipv4');
def(iana, 63, 'bgpNextHopIPv6Address', K_BGP_NH_V6, 'ipv6');
def(iana, 16, 'bgpSourceAsNumber', K_SRC_AS, 'uint');
def(iana, 17, 'bgpDestinationAsNumber', K_DST_AS, 'uint');
def(iana, 128, 'bgpNextAdjacentAsNumber', K_NEXT_AS, 'uint');
def(iana, 129, 'bgpPrevAdjacentAsNumber', K_PREV_AS, 'uint');
def(iana, 32, 'icmpTypeCodeIPv4', K_ICMP_TYPECODE, 'uint');
def(iana, 139, 'icmpTypeCodeIPv6', K_ICMP_TYPECODE, 'uint');
def(iana, 176, 'icmpTypeIPv4', K_ICMP_TYPE, 'uint');
def(iana, 177, 'icmpCodeIPv4', K_ICMP_CODE, 'uint');
def(iana, 178, 'icmpTypeIPv6', K_ICMP_TYPE, 'uint');
def(iana, 179, 'icmpCodeIPv6', K_ICMP_CODE, 'uint');
def(iana, 52, 'minimumTTL', K_MIN_TTL, 'uint');
def(iana, 53, 'maximumTTL', K_MAX_TTL, 'uint');
def(iana, 56, 'sourceMacAddress', K_IN_SRC_MAC, 'mac');
def(iana, 80, 'destinationMacAddress', K_IN_DST_MAC, 'mac');
def(iana, 81, 'postSourceMacAddress', K_OUT_SRC_MAC, 'mac');
def(iana, 57, 'postDestinationMacAddress', K_OUT_DST_MAC, 'mac');
def(iana, 58, 'vlanId', K_SRC_VLAN, 'uint');
def(iana, 243, 'dot1qVlanId', K_SRC_VLAN, 'uint', 1);
def(iana, 59, 'postVlanId', K_DST_VLAN, 'uint');
def(iana, 254, 'postDot1qVlanId', K_DST_VLAN, 'uint', 1);
def(iana, 61, 'flowDirection', K_DIRECTION, 'uint');
def(iana, 136, 'flowEndReason', K_END_REASON, 'uint');
def(iana, 89, 'forwardingStatus', K_FWD_STATUS, 'uint');
def(iana, 351, 'layer2SegmentId', K_VNI, 'uint');
def(iana, 38, 'engineType', K_ENGINE_TYPE, 'uint');
def(iana, 39, 'engineId', K_ENGINE_ID, 'uint');
def(iana, 22, 'flowStartSysUpTime', K_FIRST_UPTIME, 'uint');
def(iana, 21, 'flowEndSysUpTime', K_LAST_UPTIME, 'uint');
def(iana, 150, 'flowStartSeconds', K_START_SEC, 'uint');
def(iana, 151, 'flowEndSeconds', K_END_SEC, 'uint');
def(iana, 152, 'flowStartMilliseconds', K_START_MS, 'uint');
def(iana, 153, 'flowEndMilliseconds', K_END_MS, 'uint');
def(iana, 154, 'flowStartMicroseconds', K_START_NTP, 'ntp');
def(iana, 155, 'flowEndMicroseconds', K_END_NTP, 'ntp');
def(iana, 156, 'flowStartNanoseconds', K_START_NTP, 'ntp');
def(iana, 157, 'flowEndNanoseconds', K_END_NTP, 'ntp');
def(iana, 158, 'flowStartDeltaMicroseconds', K_START_DELTA_US, 'uint');
def(iana, 159, 'flowEndDeltaMicroseconds', K_END_DELTA_US, 'uint');
def(iana, 160, 'systemInitTimeMilliseconds', K_SYS_INIT_MS, 'uint');
def(iana, 161, 'flowDurationMilliseconds', K_DURATION_MS, 'uint');
def(iana, 162, 'flowDurationMicroseconds', K_DURATION_US, 'uint');
def(iana, 48, 'samplerId', K_SAMPLER_ID, 'uint');
def(iana, 302, 'selectorId', K_SAMPLER_ID, 'uint', 1);
def(iana, 34, 'samplingInterval', K_SAMPLING_INTERVAL, 'uint');
def(iana, 50, 'samplerRandomInterval', K_SAMPLING_INTERVAL, 'uint', 1);
def(iana, 305, 'samplingPacketInterval', K_PKT_INTERVAL, 'uint');
def(iana, 306, 'samplingPacketSpace', K_PKT_SPACE, 'uint');
def(iana, 309, 'samplingSize', K_SAMPLING_SIZE, 'uint');
def(iana, 310, 'samplingPopulation', K_SAMPLING_POPULATION, 'uint');
// Known and deliberately unused: not reported as unknown.
def(iana, 210, 'paddingOctets', K_SKIP, 'uint');
def(iana, 35, 'samplingAlgorithm', K_SKIP, 'uint');
def(iana, 49, 'samplerMode', K_SKIP, 'uint');
def(iana, 304, 'selectorAlgorithm', K_SKIP, 'uint');

def(vmware, 880, 'tenantProtocol', K_TENANT_PROTO, 'uint');
def(vmware, 881, 'tenantSourceIPv4', K_TENANT_SRC_V4, 'ipv4');
def(vmware, 882, 'tenantDestIPv4', K_TENANT_DST_V4, 'ipv4');
def(vmware, 883, 'tenantSourceIPv6', K_TENANT_SRC_V6, 'ipv6');
def(vmware, 884, 'tenantDestIPv6', K_TENANT_DST_V6, 'ipv6');
def(vmware, 886, 'tenantSourcePort', K_TENANT_SRC_PORT, 'uint');
def(vmware, 887, 'tenantDestPort', K_TENANT_DST_PORT, 'uint');
def(vmware, 888, 'egressInterfaceAttr', K_VMW_EGRESS_ATTR, 'uint');
def(vmware, 889, 'vxlanExportRole', K_VMW_VXLAN_ROLE, 'uint');
def(vmware, 890, 'ingressInterfaceAttr', K_VMW_INGRESS_ATTR, 'uint');
def(vmware, 898, 'virtualObsID', K_VMW_OBS_ID, 'string');

/** Kinds an options record can teach us something with; everything else in options data is skipped. */
const OPTION_KINDS = new Set([K_SAMPLER_ID, K_SAMPLING_INTERVAL, K_PKT_INTERVAL, K_PKT_SPACE, K_SAMPLING_SIZE,
  K_SAMPLING_POPULATION, K_SYS_INIT_MS]);

export function elementSpec(pen: number, id: number): ElementSpec | undefined {
  if (pen === 0) return iana.get(id);
  if (pen === PEN_VMWARE) return vmware.get(id);
  return undefined;
}

/** The element's name, for messages and the unknown-field report. */
export function elementName(pen: number, id: number): string {
  return elementSpec(pen, id)?.name ?? (pen === 0 ? `ie${id}` : `pen${pen}.ie${id}`);
}

function lengthFits(rule: LengthRule, len: number): boolean {
  switch (rule) {
    case 'uint': return len >= 1 && len <= 8;
    case 'ipv4': return len === 4;
    case 'ipv6': return len === 16;
    case 'mac': return len === 6;
    case 'ntp': return len === 8;
    case 'string': return true;
  }
}

export interface FieldPlan {
  /** Kind per template field, K_SKIP for ignored fields. */
  kinds: number[];
  /** "pen:ie" of fields that are skipped because dvflow does not map them (or not at that length). */
  unknown: string[];
}

/**
 * Decide once per template what each field does. Flow templates: every mapped element, with fallbacks
 * resolved (octetTotalCount only counts when octetDeltaCount is absent). Options templates: only the elements
 * that carry sampling or the system init time; scope fields of NetFlow v9 (their own numbering) are skipped.
 */
export function planFields(
  fields: ReadonlyArray<{ id: number; pen: number; length: number }>, options: boolean, v9ScopeCount: number,
): FieldPlan {
  const kinds = new Array<number>(fields.length).fill(K_SKIP);
  const unknown: string[] = [];
  const bestRank = new Map<number, number>();
  const specs: Array<ElementSpec | undefined> = [];
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i];
    const spec = i < v9ScopeCount ? undefined : elementSpec(f.pen, f.id);
    specs.push(spec);
    if (spec === undefined) {
      if (!options && f.length !== 0) unknown.push(`${f.pen}:${f.id}`);
      continue;
    }
    if (spec.kind === K_SKIP || f.length === 0) continue;
    if (options && !OPTION_KINDS.has(spec.kind)) continue;
    if (f.length !== VARIABLE_LENGTH && !lengthFits(spec.length, f.length)) {
      if (!options) unknown.push(`${f.pen}:${f.id}`);
      continue;
    }
    if (f.length === VARIABLE_LENGTH && spec.length !== 'string') {
      if (!options) unknown.push(`${f.pen}:${f.id}`);
      continue;
    }
    const prev = bestRank.get(spec.kind);
    if (prev === undefined || spec.rank < prev) bestRank.set(spec.kind, spec.rank);
  }
  for (let i = 0; i < fields.length; i++) {
    const spec = specs[i];
    if (spec === undefined || spec.kind === K_SKIP || fields[i].length === 0) continue;
    if (bestRank.get(spec.kind) === spec.rank) kinds[i] = spec.kind;
  }
  return { kinds, unknown };
}

// Scratch bits: which time and sampling values the current record carried.
const H_START_ABS = 1, H_END_ABS = 2, H_START_UP = 4, H_END_UP = 8, H_START_DELTA = 16, H_END_DELTA = 32,
  H_SYS_INIT = 64, H_DURATION = 128, H_SAMPLER = 256, H_INTERVAL = 512, H_PKT_INTERVAL = 1024, H_PKT_SPACE = 2048,
  H_SIZE = 4096, H_POPULATION = 8192;

/**
 * Values a record carries that only mean something together (times, sampling). One scratch is reused for
 * every record; `has` says which values belong to the current record.
 */
export interface RecordScratch {
  has: number;
  startAbs: number; endAbs: number; startUp: number; endUp: number;
  startDeltaUs: number; endDeltaUs: number; sysInitMs: number; durationMs: number;
  samplerId: number; interval: number; pktInterval: number; pktSpace: number; size: number; population: number;
}

export function newScratch(): RecordScratch {
  return {
    has: 0, startAbs: 0, endAbs: 0, startUp: 0, endUp: 0, startDeltaUs: 0, endDeltaUs: 0, sysInitMs: 0,
    durationMs: 0, samplerId: 0, interval: 0, pktInterval: 0, pktSpace: 0, size: 0, population: 0,
  };
}

const NTP_UNIX_OFFSET_S = 2208988800;

function readNtpMs(b: Uint8Array, o: number): number {
  const sec = readUint(b, o, 4);
  const frac = readUint(b, o + 4, 4);
  return (sec - NTP_UNIX_OFFSET_S) * 1000 + Math.floor((frac * 1000) / 0x100000000);
}

/** Apply one field of a record. The caller guarantees o + len is inside the datagram. */
export function applyField(r: FlowRecord, s: RecordScratch, b: Uint8Array, o: number, len: number, kind: number): void {
  switch (kind) {
    case K_BYTES: r.bytes = readUint(b, o, len); return;
    case K_PACKETS: r.packets = readUint(b, o, len); return;
    case K_PROTO: r.proto = b[o + len - 1]; return;
    case K_SRC_TOS: r.srcTos = b[o + len - 1]; return;
    case K_DST_TOS: r.dstTos = b[o + len - 1]; return;
    case K_TCP_FLAGS: r.tcpFlags = b[o + len - 1]; return; // 2-byte encodings carry header flags above bit 7
    case K_SRC_PORT: r.srcPort = readUint(b, o, len); return;
    case K_DST_PORT: r.dstPort = readUint(b, o, len); return;
    // Templates with both IPv4 and IPv6 fields fill the unused family with zeros: zeros never replace an address.
    case K_SRC_V4: if (r.srcAddr === '' || !allZero(b, o, o + 4)) r.srcAddr = formatIPv4(b, o); return;
    case K_DST_V4: if (r.dstAddr === '' || !allZero(b, o, o + 4)) r.dstAddr = formatIPv4(b, o); return;
    case K_SRC_V6: if (r.srcAddr === '' || !allZero(b, o, o + 16)) r.srcAddr = formatIPv6(b, o); return;
    case K_DST_V6: if (r.dstAddr === '' || !allZero(b, o, o + 16)) r.dstAddr = formatIPv6(b, o); return;
    case K_SRC_MASK: r.srcMask = readUint(b, o, len); return;
    case K_DST_MASK: r.dstMask = readUint(b, o, len); return;
    case K_IN_IF: r.inIf = readUint(b, o, len); return;
    case K_OUT_IF: r.outIf = readUint(b, o, len); return;
    case K_NEXTHOP_V4: if (r.nextHop === '' || !allZero(b, o, o + 4)) r.nextHop = formatIPv4(b, o); return;
    case K_NEXTHOP_V6: if (r.nextHop === '' || !allZero(b, o, o + 16)) r.nextHop = formatIPv6(b, o); return;
    case K_BGP_NH_V4: if (r.bgpNextHop === '' || !allZero(b, o, o + 4)) r.bgpNextHop = formatIPv4(b, o); return;
    case K_BGP_NH_V6: if (r.bgpNextHop === '' || !allZero(b, o, o + 16)) r.bgpNextHop = formatIPv6(b, o); return;
    case K_SRC_AS: r.srcAs = readUint(b, o, len); return;
    case K_DST_AS: r.dstAs = readUint(b, o, len); return;
    case K_NEXT_AS: r.nextAs = readUint(b, o, len); return;
    case K_PREV_AS: r.prevAs = readUint(b, o, len); return;
    case K_ICMP_TYPECODE: {
      const v = readUint(b, o, len);
      r.icmpType = (v >>> 8) & 255;
      r.icmpCode = v & 255;
      return;
    }
    case K_ICMP_TYPE: r.icmpType = b[o + len - 1]; return;
    case K_ICMP_CODE: r.icmpCode = b[o + len - 1]; return;
    case K_MIN_TTL: r.minTtl = b[o + len - 1]; return;
    case K_MAX_TTL: r.maxTtl = b[o + len - 1]; return;
    case K_IN_SRC_MAC: r.inSrcMac = readMac(b, o); return;
    case K_IN_DST_MAC: r.inDstMac = readMac(b, o); return;
    case K_OUT_SRC_MAC: r.outSrcMac = readMac(b, o); return;
    case K_OUT_DST_MAC: r.outDstMac = readMac(b, o); return;
    case K_SRC_VLAN: r.srcVlan = readUint(b, o, len) & 0xfff; return;
    case K_DST_VLAN: r.dstVlan = readUint(b, o, len) & 0xfff; return;
    case K_DIRECTION: r.direction = b[o + len - 1]; return;
    case K_END_REASON: r.endReason = b[o + len - 1]; return;
    // RFC 7270: unsigned32 whose low byte holds status (2 bits) and reason; v9 sends that byte alone.
    case K_FWD_STATUS: r.fwdStatus = b[o + len - 1]; return;
    case K_VNI: {
      // layer2SegmentId: segment type in the top byte, VXLAN VNI in the low 24 bits. Read only those.
      let v = 0;
      for (let i = len > 3 ? o + len - 3 : o; i < o + len; i++) v = (v << 8) | b[i];
      r.vni = v;
      return;
    }
    case K_ENGINE_TYPE: r.engineType = b[o + len - 1]; return;
    case K_ENGINE_ID: r.engineId = b[o + len - 1]; return;

    case K_FIRST_UPTIME: s.startUp = readUint(b, o, len); s.has |= H_START_UP; return;
    case K_LAST_UPTIME: s.endUp = readUint(b, o, len); s.has |= H_END_UP; return;
    case K_START_SEC: s.startAbs = readUint(b, o, len) * 1000; s.has |= H_START_ABS; return;
    case K_END_SEC: s.endAbs = readUint(b, o, len) * 1000; s.has |= H_END_ABS; return;
    case K_START_MS: s.startAbs = readUint(b, o, len); s.has |= H_START_ABS; return;
    case K_END_MS: s.endAbs = readUint(b, o, len); s.has |= H_END_ABS; return;
    case K_START_NTP: s.startAbs = readNtpMs(b, o); s.has |= H_START_ABS; return;
    case K_END_NTP: s.endAbs = readNtpMs(b, o); s.has |= H_END_ABS; return;
    case K_START_DELTA_US: s.startDeltaUs = readUint(b, o, len); s.has |= H_START_DELTA; return;
    case K_END_DELTA_US: s.endDeltaUs = readUint(b, o, len); s.has |= H_END_DELTA; return;
    case K_SYS_INIT_MS: s.sysInitMs = readUint(b, o, len); s.has |= H_SYS_INIT; return;
    case K_DURATION_MS: s.durationMs = readUint(b, o, len); s.has |= H_DURATION; return;
    case K_DURATION_US: s.durationMs = Math.floor(readUint(b, o, len) / 1000); s.has |= H_DURATION; return;

    case K_SAMPLER_ID: s.samplerId = readUint(b, o, len); s.has |= H_SAMPLER; return;
    case K_SAMPLING_INTERVAL: s.interval = readUint(b, o, len); s.has |= H_INTERVAL; return;
    case K_PKT_INTERVAL: s.pktInterval = readUint(b, o, len); s.has |= H_PKT_INTERVAL; return;
    case K_PKT_SPACE: s.pktSpace = readUint(b, o, len); s.has |= H_PKT_SPACE; return;
    case K_SAMPLING_SIZE: s.size = readUint(b, o, len); s.has |= H_SIZE; return;
    case K_SAMPLING_POPULATION: s.population = readUint(b, o, len); s.has |= H_POPULATION; return;

    case K_TENANT_PROTO: r.vmwTenantProto = b[o + len - 1]; return;
    case K_TENANT_SRC_V4: if (r.vmwTenantSrcAddr === '' || !allZero(b, o, o + 4)) r.vmwTenantSrcAddr = formatIPv4(b, o); return;
    case K_TENANT_DST_V4: if (r.vmwTenantDstAddr === '' || !allZero(b, o, o + 4)) r.vmwTenantDstAddr = formatIPv4(b, o); return;
    case K_TENANT_SRC_V6: if (r.vmwTenantSrcAddr === '' || !allZero(b, o, o + 16)) r.vmwTenantSrcAddr = formatIPv6(b, o); return;
    case K_TENANT_DST_V6: if (r.vmwTenantDstAddr === '' || !allZero(b, o, o + 16)) r.vmwTenantDstAddr = formatIPv6(b, o); return;
    case K_TENANT_SRC_PORT: r.vmwTenantSrcPort = readUint(b, o, len); return;
    case K_TENANT_DST_PORT: r.vmwTenantDstPort = readUint(b, o, len); return;
    case K_VMW_EGRESS_ATTR: r.vmwEgressAttr = readUint(b, o, len); return;
    case K_VMW_VXLAN_ROLE: r.vmwVxlanRole = b[o + len - 1]; return;
    case K_VMW_INGRESS_ATTR: r.vmwIngressAttr = readUint(b, o, len); return;
    case K_VMW_OBS_ID: r.vmwVirtualObsId = readString(b, o, len); return;
    default: return;
  }
}

/** The header facts record times are relative to. */
export interface TimeBase {
  /** Export time of the datagram, ms since epoch (v9: unix secs; IPFIX: export time). */
  exportMs: number;
  /** v9: sysUptime of the header in ms; -1 for IPFIX (no uptime in the header). */
  sysUptimeMs: number;
  /** IPFIX: systemInitTimeMilliseconds learned from options data, -1 if never seen. */
  sysInitMs: number;
}

const TWO_32 = 0x100000000;

function uptimeToMs(up: number, s: RecordScratch, t: TimeBase): number {
  if (s.has & H_SYS_INIT) return sinceInit(s.sysInitMs, up, t.exportMs);
  if (t.sysUptimeMs >= 0) {
    let ago = t.sysUptimeMs - up;
    if (ago < -0x80000000) ago += TWO_32; // uptime wrapped (49.7 days) between flow start and export
    return t.exportMs - ago;
  }
  if (t.sysInitMs >= 0) return sinceInit(t.sysInitMs, up, t.exportMs);
  return -1;
}

/**
 * An IPFIX sysUpTime-relative time (IE 22/21, unsigned32 ms) from systemInitTimeMilliseconds. The 32-bit uptime
 * wraps every 49.7 days, so init + up is only right modulo 2^32: the time taken is the one of init + up + k·2^32
 * within 24.8 days of the export time. An exporter up for more than 49.7 days needs it, and so does softflowd
 * reading an old capture (`-r`): it announces its own start as the init time and sends the packets' times
 * relative to it, negative and so wrapped (init + up would be 49.7 days after the export; nfdump 1.7 shows that).
 */
function sinceInit(init: number, up: number, exportMs: number): number {
  let ago = (exportMs - init - up) % TWO_32;
  if (ago >= 0x80000000) ago -= TWO_32;
  else if (ago < -0x80000000) ago += TWO_32;
  return exportMs - ago;
}

/**
 * first/last from whatever the record carried, best source first: absolute times, sysUpTime-relative times,
 * deltas to the export time, a duration; missing ones fall back to the other end, then to the export time.
 */
export function finishTimes(r: FlowRecord, s: RecordScratch, t: TimeBase): void {
  const has = s.has;
  let first = -1, last = -1;
  if (has & H_START_ABS) first = s.startAbs;
  else if (has & H_START_UP) first = uptimeToMs(s.startUp, s, t);
  else if (has & H_START_DELTA) first = t.exportMs - Math.floor(s.startDeltaUs / 1000);
  if (has & H_END_ABS) last = s.endAbs;
  else if (has & H_END_UP) last = uptimeToMs(s.endUp, s, t);
  else if (has & H_END_DELTA) last = t.exportMs - Math.floor(s.endDeltaUs / 1000);
  if (first < 0 && last >= 0 && (has & H_DURATION)) first = last - s.durationMs;
  if (last < 0 && first >= 0 && (has & H_DURATION)) last = first + s.durationMs;
  if (last < 0) last = first >= 0 ? first : t.exportMs;
  if (first < 0) first = last;
  r.first = first;
  r.last = last;
}

/** Sampling rate a record (or options record) states itself, 0 when it states none. */
export function scratchSamplingRate(s: RecordScratch): number {
  const has = s.has;
  if ((has & H_INTERVAL) && s.interval > 0) return s.interval;
  if ((has & H_PKT_INTERVAL) && s.pktInterval > 0) {
    return Math.round((s.pktInterval + ((has & H_PKT_SPACE) ? s.pktSpace : 0)) / s.pktInterval);
  }
  if ((has & H_SIZE) && (has & H_POPULATION) && s.size > 0 && s.population > 0) return Math.round(s.population / s.size);
  return 0;
}

/** Sampler id the record names (samplerId / selectorId), -1 for none. */
export function scratchSamplerId(s: RecordScratch): number {
  return (s.has & H_SAMPLER) ? s.samplerId : -1;
}

/** systemInitTimeMilliseconds the record carried, -1 for none. */
export function scratchSysInit(s: RecordScratch): number {
  return (s.has & H_SYS_INIT) ? s.sysInitMs : -1;
}
