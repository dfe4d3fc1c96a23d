// Turns FlowRecords into TabSeparated rows of the `flows` table. Hand-written because it is the hot path
// of ingest: one template string per row, no intermediate objects, TSV escaping only where a string
// column can hold exporter- or capture-supplied text.
import type { FlowRecord } from '../flow/flowRecord.ts';

export const flowColumns = [
  'time_received', 'first', 'last', 'exporter', 'exporter_port', 'version', 'domain', 'engine_type', 'engine_id',
  'sampling_rate', 'src_addr', 'dst_addr', 'src_port', 'dst_port', 'proto', 'tcp_flags', 'src_tos', 'dst_tos',
  'bytes', 'packets', 'in_if', 'out_if', 'src_vlan', 'dst_vlan', 'in_src_mac', 'in_dst_mac', 'out_src_mac',
  'out_dst_mac', 'icmp_type', 'icmp_code', 'next_hop', 'bgp_next_hop', 'src_as', 'dst_as', 'next_as', 'prev_as',
  'src_mask', 'dst_mask', 'direction', 'end_reason', 'min_ttl', 'max_ttl', 'fwd_status', 'vni',
  'vmw_ingress_attr', 'vmw_egress_attr', 'vmw_vxlan_role', 'vmw_tenant_proto', 'vmw_tenant_src', 'vmw_tenant_dst',
  'vmw_tenant_src_port', 'vmw_tenant_dst_port', 'vmw_virtual_obs_id', 'source', 'capture',
  'exporter_name', 'in_portgroup', 'out_portgroup', 'in_vm', 'out_vm', 'vip', 'vip_addr', 'vip_port', 'vip_leg', 'backend',
] as const;

/** Enrichment columns set by the enrichment stage; '' / 0 when nothing matched. */
export interface FlowEnrichment {
  exporterName: string;
  inPortgroup: string;
  outPortgroup: string;
  inVm: string;
  outVm: string;
  vip: string;
  vipAddr: string;
  vipPort: number;
  vipLeg: string;
  backend: string;
}

export type EnrichedFlow = FlowRecord & Partial<FlowEnrichment>;

const needsEscape = /[\t\n\\\r\0]/;

/** TSV escaping of a string value (ClickHouse TabSeparated rules). */
export function tsvString(s: string | undefined): string {
  if (!s) return '';
  if (!needsEscape.test(s)) return s;
  return s.replace(/[\t\n\\\r\0]/g, (c) => (c === '\t' ? '\\t' : c === '\n' ? '\\n' : c === '\r' ? '\\r' : c === '\0' ? '\\0' : '\\\\'));
}

/** An address column: '' (not exported) becomes '::'. */
function addr(a: string | undefined): string {
  return a ? a : '::';
}

/** Integers only: a decoder bug must not turn into a broken TSV batch. */
function n(v: number): number {
  return v > 0 ? Math.floor(v) : 0;
}

export function flowToTsv(r: EnrichedFlow): string {
  return `${n(r.timeReceived)}\t${n(r.first)}\t${n(r.last)}\t${addr(r.exporter)}\t${r.exporterPort}\t${r.version}\t${r.domain}\t${r.engineType}\t${r.engineId}\t${n(r.samplingRate)}\t${addr(r.srcAddr)}\t${addr(r.dstAddr)}\t${r.srcPort}\t${r.dstPort}\t${r.proto}\t${r.tcpFlags & 0xff}\t${r.srcTos}\t${r.dstTos}\t${n(r.bytes)}\t${n(r.packets)}\t${r.inIf}\t${r.outIf}\t${r.srcVlan}\t${r.dstVlan}\t${r.inSrcMac}\t${r.inDstMac}\t${r.outSrcMac}\t${r.outDstMac}\t${r.icmpType}\t${r.icmpCode}\t${addr(r.nextHop)}\t${addr(r.bgpNextHop)}\t${r.srcAs}\t${r.dstAs}\t${r.nextAs}\t${r.prevAs}\t${r.srcMask}\t${r.dstMask}\t${r.direction}\t${r.endReason}\t${r.minTtl}\t${r.maxTtl}\t${r.fwdStatus}\t${r.vni}\t${r.vmwIngressAttr}\t${r.vmwEgressAttr}\t${r.vmwVxlanRole}\t${r.vmwTenantProto}\t${addr(r.vmwTenantSrcAddr)}\t${addr(r.vmwTenantDstAddr)}\t${r.vmwTenantSrcPort}\t${r.vmwTenantDstPort}\t${tsvString(r.vmwVirtualObsId)}\t${r.source}\t${tsvString(r.capture)}\t${tsvString(r.exporterName)}\t${tsvString(r.inPortgroup)}\t${tsvString(r.outPortgroup)}\t${tsvString(r.inVm)}\t${tsvString(r.outVm)}\t${tsvString(r.vip)}\t${addr(r.vipAddr)}\t${r.vipPort ?? 0}\t${tsvString(r.vipLeg)}\t${tsvString(r.backend)}\n`;
}
