// Ten flow records with distinct features, the ground the filter corpus' expectations are written on.
// Times are local (filters read ISO times in local time, as nfdump does).

import { emptyFlowRecord } from '../../src/flow/flowRecord.ts';
import type { FilterableFlow } from '../../src/filter/index.ts';

/** 2024-01-15 10:00:00.000 local time. */
export const BASE_TIME = new Date(2024, 0, 15, 10, 0, 0).getTime();

function flow(over: Partial<FilterableFlow>): FilterableFlow {
  return { ...emptyFlowRecord(), ...over };
}

export const sampleFlows: Record<string, FilterableFlow> = {
  // HTTP through the dvSwitch to VIP www: flags FSPA, 2 s.
  web: flow({
    srcAddr: '10.0.0.1', dstAddr: '192.168.1.10', srcPort: 51000, dstPort: 80, proto: 6, tcpFlags: 27,
    bytes: 15000, packets: 20, first: BASE_TIME, last: BASE_TIME + 2000,
    inIf: 3, outIf: 5, srcVlan: 100, dstVlan: 200, srcMask: 24, dstMask: 16,
    srcAs: 65001, dstAs: 65002, nextAs: 65003, prevAs: 65004,
    nextHop: '10.0.0.254', bgpNextHop: '10.0.0.253', exporter: '172.16.0.1', version: 9, domain: 7, engineType: 1, engineId: 2,
    direction: 0, minTtl: 60, maxTtl: 64, fwdStatus: 1, vni: 5001,
    inSrcMac: 0x005056aabbcc, inDstMac: 0x005056ddeeff,
    exporterName: 'dvs-prod', inPortgroup: 'PG-Web', outPortgroup: 'PG-DB', vip: 'www', vipAddr: '192.168.1.10', vipPort: 80,
    inVm: 'web-01', vipLeg: 'client-vip',
    vmwTenantProto: 6, vmwTenantSrcAddr: '172.16.5.1', vmwTenantDstAddr: '172.16.6.1', vmwTenantSrcPort: 40000, vmwTenantDstPort: 8080,
  }),
  // DNS query, zero duration, ToS 184 (EF).
  dns: flow({
    srcAddr: '10.0.0.2', dstAddr: '8.8.8.8', srcPort: 53000, dstPort: 53, proto: 17, srcTos: 184,
    bytes: 120, packets: 2, first: BASE_TIME + 60000, last: BASE_TIME + 60000,
    inIf: 3, outIf: 6, srcVlan: 100, srcMask: 24, dstAs: 15169,
    nextHop: '10.0.0.254', exporter: '172.16.0.1', version: 9, domain: 7, engineType: 1, engineId: 2,
    direction: 1, minTtl: 64, maxTtl: 64, fwdStatus: 1, inSrcMac: 0x005056aabbcd,
    exporterName: 'dvs-prod', inPortgroup: 'PG-Web',
  }),
  // ICMPv6 echo request over 9 s, IPFIX from an IPv6 exporter.
  ping6: flow({
    srcAddr: '2001:db8::1', dstAddr: '2001:db8::2', proto: 58, icmpType: 128, icmpCode: 0,
    bytes: 1040, packets: 10, first: BASE_TIME + 120000, last: BASE_TIME + 129000,
    inIf: 4, outIf: 5, srcVlan: 300, dstVlan: 300, srcMask: 64, dstMask: 64,
    nextHop: '2001:db8::ff', exporter: '2001:db8::100', version: 10, domain: 8,
    direction: 0, minTtl: 255, maxTtl: 255, fwdStatus: 1,
    exporterName: 'dvs-lab', inPortgroup: 'PG-Lab', outPortgroup: 'PG-Lab',
  }),
  // A lone SYN to the www VIP on 443, from NetFlow v5.
  syn: flow({
    srcAddr: '203.0.113.5', dstAddr: '192.168.1.10', srcPort: 40000, dstPort: 443, proto: 6, tcpFlags: 2,
    bytes: 60, packets: 1, first: BASE_TIME + 180000, last: BASE_TIME + 180000,
    inIf: 7, outIf: 5, dstVlan: 200, dstMask: 16, srcAs: 64496, dstAs: 65002,
    exporter: '172.16.0.2', version: 5, engineId: 5, direction: 0, minTtl: 48, maxTtl: 48,
    exporterName: 'edge-rtr', outPortgroup: 'PG-DB', vip: 'www', vipAddr: '192.168.1.10', vipPort: 443,
    outVm: 'db-01', vipLeg: 'lb-server', backend: 'web2', duplicate: 1,
  }),
  // Bulk SSH over IPv6 for a minute, flags FPA, ToS 32/40.
  ssh6: flow({
    srcAddr: '2001:db8:1::10', dstAddr: '2001:db8:2::20', srcPort: 50000, dstPort: 22, proto: 6, tcpFlags: 25,
    srcTos: 32, dstTos: 40, bytes: 5_000_000, packets: 4000, first: BASE_TIME + 240000, last: BASE_TIME + 300000,
    inIf: 8, outIf: 9, srcVlan: 400, dstVlan: 400, srcMask: 48, dstMask: 48, srcAs: 65010, dstAs: 65020,
    nextHop: '2001:db8::fe', bgpNextHop: '2001:db8::fd', exporter: '2001:db8::100', version: 10, domain: 8,
    direction: 1, minTtl: 57, maxTtl: 64, fwdStatus: 2, vni: 7001,
    outSrcMac: 0x020000000001, outDstMac: 0x020000000002,
    exporterName: 'dvs-lab', inPortgroup: 'PG-Lab', outPortgroup: 'PG-Backup', vip: 'ssh-v6', vipAddr: '2001:db8:2::20', vipPort: 22,
  }),
  // ICMP echo request.
  ping4: flow({
    srcAddr: '10.0.0.3', dstAddr: '10.0.0.1', proto: 1, icmpType: 8, icmpCode: 0,
    bytes: 84, packets: 1, first: BASE_TIME + 300000, last: BASE_TIME + 300000,
    inIf: 3, outIf: 3, srcVlan: 100, dstVlan: 100, srcMask: 24, dstMask: 24,
    exporter: '172.16.0.1', version: 9, domain: 7, engineType: 1, engineId: 2,
    direction: 0, minTtl: 64, maxTtl: 64, fwdStatus: 1,
    exporterName: 'dvs-prod', inPortgroup: 'PG-Web', outPortgroup: 'PG-Web',
  }),
  // 2 GB of GRE over 1000 s from NetFlow v5 (no TTL, no direction).
  gre: flow({
    srcAddr: '198.51.100.1', dstAddr: '198.51.100.2', proto: 47,
    bytes: 2_000_000_000, packets: 1_500_000, first: BASE_TIME + 360000, last: BASE_TIME + 1_360_000,
    inIf: 10, outIf: 11, srcMask: 30, dstMask: 30, srcAs: 65001, dstAs: 65001,
    exporter: '172.16.0.2', version: 5, engineId: 5,
    exporterName: 'edge-rtr',
  }),
  // From a port-mirror capture: CWR+ECE+SYN, VXLAN 5001, no exporter. Mirrored over ERSPAN II (session 100,
  // index 7) from 192.0.2.100 to 192.0.2.200 on VLAN 10, with two non-first fragments.
  pcap: flow({
    srcAddr: '10.1.1.1', dstAddr: '10.1.1.2', srcPort: 1234, dstPort: 8080, proto: 6, tcpFlags: 0xc2, srcTos: 2,
    bytes: 3000, packets: 3, first: BASE_TIME + 420000, last: BASE_TIME + 420500,
    minTtl: 63, maxTtl: 64, vni: 5001, source: 'pcap', capture: 'mirror1.pcap',
    encap: 'vlan,gre,erspan2', outerSrc: '192.0.2.100', outerDst: '192.0.2.200', outerVlan: 10, mirrorSession: 100,
    mirrorIndex: 7, fragments: 2,
  }),
  // A layer-2 only record: no IP addresses at all.
  noaddr: flow({
    bytes: 500, packets: 5, first: BASE_TIME + 480000, last: BASE_TIME + 481000,
    exporter: '172.16.0.1', version: 10, domain: 9, inSrcMac: 0x005056aabbcc,
  }),
  // IPsec ESP, 4 s.
  esp: flow({
    srcAddr: '192.0.2.1', dstAddr: '192.0.2.2', proto: 50,
    bytes: 4000, packets: 4, first: BASE_TIME + 540000, last: BASE_TIME + 544000,
    exporter: '172.16.0.2', version: 9, domain: 7, engineType: 1, engineId: 3,
    direction: 1, minTtl: 64, maxTtl: 64,
    exporterName: 'edge-rtr',
  }),
};

export const sampleIds = Object.keys(sampleFlows);

/** Exporter ids the corpus' `sysid` / `exporter id` filters are evaluated with. */
export const sampleExporterIds = new Map([
  [1, { address: '172.16.0.1', version: 9, domain: 7 }],
  [2, { address: '172.16.0.2' }],
  [3, { address: '2001:db8::100' }],
]);
