// The one flow record every stage speaks: decoders and the pcap flow table produce it,
// enrichment fills its names, the storage writer turns it into a row of the `flows` table.

/** Where a record came from. */
export type FlowSource = 'netflow' | 'pcap';

export interface FlowRecord {
  /** When the collector received the datagram (ms since epoch); pcap: the packet time of the last packet. */
  timeReceived: number;
  /** First and last packet of the flow, ms since epoch. */
  first: number;
  last: number;

  /** Exporter identity, as nfcapd keys it: address, version, observation domain / source id. */
  exporter: string;
  exporterPort: number;
  /** 5, 7, 9, 10 (IPFIX); 0 for pcap-derived flows. */
  version: number;
  /** v9 source id / IPFIX observation domain id; v5 engine type<<8|engine id. */
  domain: number;
  engineType: number;
  engineId: number;

  /** Sampling rate applied to bytes/packets (1 = unsampled). */
  samplingRate: number;

  /** Addresses as text: dotted IPv4 or compressed IPv6. '' when not exported. */
  srcAddr: string;
  dstAddr: string;
  srcPort: number;
  dstPort: number;
  proto: number;
  tcpFlags: number;
  /** Source ToS (IE 5) and post/destination ToS (IE 55). */
  srcTos: number;
  dstTos: number;

  /** Scaled by samplingRate already. */
  bytes: number;
  packets: number;

  inIf: number;
  outIf: number;
  srcVlan: number;
  dstVlan: number;
  /** MACs as 48-bit integers (0 = not exported): in source (IE 56), in destination (80), out source (81), out destination (57). */
  inSrcMac: number;
  inDstMac: number;
  outSrcMac: number;
  outDstMac: number;

  icmpType: number;
  icmpCode: number;

  nextHop: string;
  bgpNextHop: string;
  srcAs: number;
  dstAs: number;
  nextAs: number;
  prevAs: number;
  srcMask: number;
  dstMask: number;

  /** 0 ingress, 1 egress (IE 61); 255 unknown. */
  direction: number;
  /** IPFIX flowEndReason (IE 136); 0 unknown. */
  endReason: number;
  minTtl: number;
  maxTtl: number;
  /** Forwarding status (IE 89). */
  fwdStatus: number;

  /** VXLAN VNI from layer2SegmentId (IE 351) or pcap decapsulation. */
  vni: number;

  /** VMware PEN 6876 fields. */
  vmwIngressAttr: number;
  vmwEgressAttr: number;
  vmwVxlanRole: number;
  vmwTenantProto: number;
  vmwTenantSrcAddr: string;
  vmwTenantDstAddr: string;
  vmwTenantSrcPort: number;
  vmwTenantDstPort: number;
  vmwVirtualObsId: string;

  source: FlowSource;
  /** pcap-derived flows: capture file name; netflow: ''. */
  capture: string;
}

/**
 * A record with every field at its "not exported" value; decoders fill what they see. The enrichment fields are
 * there from the start ('' / 0): records then keep one shape in V8, and enrichment writes in place instead of
 * adding properties (bench/enrich, enrichment alone, median of 3 runs: 2.0 instead of 2.7 µs a record).
 */
export function emptyFlowRecord(): FlowRecord {
  const r = {
    timeReceived: 0, first: 0, last: 0,
    exporter: '', exporterPort: 0, version: 0, domain: 0, engineType: 0, engineId: 0,
    samplingRate: 1,
    srcAddr: '', dstAddr: '', srcPort: 0, dstPort: 0, proto: 0, tcpFlags: 0, srcTos: 0, dstTos: 0,
    bytes: 0, packets: 0,
    inIf: 0, outIf: 0, srcVlan: 0, dstVlan: 0,
    inSrcMac: 0, inDstMac: 0, outSrcMac: 0, outDstMac: 0,
    icmpType: 0, icmpCode: 0,
    nextHop: '', bgpNextHop: '', srcAs: 0, dstAs: 0, nextAs: 0, prevAs: 0, srcMask: 0, dstMask: 0,
    direction: 255, endReason: 0, minTtl: 0, maxTtl: 0, fwdStatus: 0,
    vni: 0,
    vmwIngressAttr: 0, vmwEgressAttr: 0, vmwVxlanRole: 0, vmwTenantProto: 0,
    vmwTenantSrcAddr: '', vmwTenantDstAddr: '', vmwTenantSrcPort: 0, vmwTenantDstPort: 0, vmwVirtualObsId: '',
    source: 'netflow' as FlowSource, capture: '',
    exporterName: '', inPortgroup: '', outPortgroup: '', inVm: '', outVm: '', vip: '', vipAddr: '', vipPort: 0, vipLeg: '', backend: '', duplicate: 0,
    inPortgroupNo: 0, outPortgroupNo: 0, inVmNo: 0, outVmNo: 0, vipNo: 0, vipLegNo: 0, backendNo: 0,
  };
  return r;
}
