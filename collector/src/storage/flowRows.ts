// Turns FlowRecords into TabSeparated rows of the `flows` table, written straight into a TsvBuffer (the
// hot path of ingest); TSV escaping for every string column an exporter or a capture can fill.
import type { FlowRecord } from '../flow/flowRecord.ts';
import { TsvBuffer } from './tsvBuffer.ts';

export const flowColumns = [
  'time_received', 'first', 'last', 'exporter', 'exporter_port', 'version', 'domain', 'engine_type', 'engine_id',
  'sampling_rate', 'src_addr', 'dst_addr', 'src_port', 'dst_port', 'proto', 'tcp_flags', 'src_tos', 'dst_tos',
  'bytes', 'packets', 'in_if', 'out_if', 'src_vlan', 'dst_vlan', 'in_src_mac', 'in_dst_mac', 'out_src_mac',
  'out_dst_mac', 'icmp_type', 'icmp_code', 'next_hop', 'bgp_next_hop', 'src_as', 'dst_as', 'next_as', 'prev_as',
  'src_mask', 'dst_mask', 'direction', 'end_reason', 'min_ttl', 'max_ttl', 'fwd_status', 'vni',
  'vmw_ingress_attr', 'vmw_egress_attr', 'vmw_vxlan_role', 'vmw_tenant_proto', 'vmw_tenant_src', 'vmw_tenant_dst',
  'vmw_tenant_src_port', 'vmw_tenant_dst_port', 'vmw_virtual_obs_id', 'source', 'capture',
  'exporter_name', 'in_portgroup', 'out_portgroup', 'in_vm', 'out_vm', 'vip', 'vip_addr', 'vip_port', 'vip_leg', 'backend', 'duplicate',
  // schema/005: how a captured flow reached the sensor (pcap only)
  'encap', 'outer_src', 'outer_dst', 'outer_vlan', 'inner_vlan', 'mirror_session', 'mirror_index', 'gre_key', 'fragments',
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
  /** 1: the second sighting of a VM-to-VM flow inside one dvSwitch (see schema/004). */
  duplicate: number;
}

/** Capture facts of a pcap-derived flow (schema/005); absent for NetFlow: 0 / '::' / ''. */
export interface CaptureFacts {
  /** Encapsulations outermost first, comma separated ('vlan,gre,erspan2'). */
  encap: string;
  /** Outermost tunnel endpoints. */
  outerSrc: string;
  outerDst: string;
  outerVlan: number;
  innerVlan: number;
  mirrorSession: number;
  mirrorIndex: number;
  greKey: number;
  fragments: number;
}

export type EnrichedFlow = FlowRecord & Partial<FlowEnrichment> & Partial<CaptureFacts>;

/** Bytes one row needs at most, besides its strings. */
const ROW_BYTES = 2048;

/** An address column: '' (not exported) becomes '::'. */
function addr(t: TsvBuffer, a: string | undefined): void {
  t.ascii(a ? a : '::');
}

function str(t: TsvBuffer, s: string | undefined): void {
  if (s) t.str(s);
}

/** Append one `flows` row, columns in `flowColumns` order. */
export function writeFlowRow(t: TsvBuffer, r: EnrichedFlow): void {
  t.ensure(ROW_BYTES);
  t.ms(r.timeReceived); t.tab(); t.ms(r.first); t.tab(); t.ms(r.last); t.tab();
  addr(t, r.exporter); t.tab(); t.u(r.exporterPort); t.tab(); t.u(r.version); t.tab(); t.u(r.domain); t.tab();
  t.u(r.engineType); t.tab(); t.u(r.engineId); t.tab(); t.u(r.samplingRate); t.tab();
  addr(t, r.srcAddr); t.tab(); addr(t, r.dstAddr); t.tab(); t.u(r.srcPort); t.tab(); t.u(r.dstPort); t.tab();
  t.u(r.proto); t.tab(); t.u(r.tcpFlags & 0xff); t.tab(); t.u(r.srcTos); t.tab(); t.u(r.dstTos); t.tab();
  t.u(r.bytes); t.tab(); t.u(r.packets); t.tab(); t.u(r.inIf); t.tab(); t.u(r.outIf); t.tab();
  t.u(r.srcVlan); t.tab(); t.u(r.dstVlan); t.tab();
  t.u(r.inSrcMac); t.tab(); t.u(r.inDstMac); t.tab(); t.u(r.outSrcMac); t.tab(); t.u(r.outDstMac); t.tab();
  t.u(r.icmpType); t.tab(); t.u(r.icmpCode); t.tab(); addr(t, r.nextHop); t.tab(); addr(t, r.bgpNextHop); t.tab();
  t.u(r.srcAs); t.tab(); t.u(r.dstAs); t.tab(); t.u(r.nextAs); t.tab(); t.u(r.prevAs); t.tab();
  t.u(r.srcMask); t.tab(); t.u(r.dstMask); t.tab(); t.u(r.direction); t.tab(); t.u(r.endReason); t.tab();
  t.u(r.minTtl); t.tab(); t.u(r.maxTtl); t.tab(); t.u(r.fwdStatus); t.tab(); t.u(r.vni); t.tab();
  t.u(r.vmwIngressAttr); t.tab(); t.u(r.vmwEgressAttr); t.tab(); t.u(r.vmwVxlanRole); t.tab(); t.u(r.vmwTenantProto); t.tab();
  addr(t, r.vmwTenantSrcAddr); t.tab(); addr(t, r.vmwTenantDstAddr); t.tab(); t.u(r.vmwTenantSrcPort); t.tab(); t.u(r.vmwTenantDstPort); t.tab();
  str(t, r.vmwVirtualObsId); t.tab(); t.ascii(r.source); t.tab(); str(t, r.capture); t.tab();
  str(t, r.exporterName); t.tab(); str(t, r.inPortgroup); t.tab(); str(t, r.outPortgroup); t.tab(); str(t, r.inVm); t.tab(); str(t, r.outVm); t.tab();
  str(t, r.vip); t.tab(); addr(t, r.vipAddr); t.tab(); t.u(r.vipPort ?? 0); t.tab(); str(t, r.vipLeg); t.tab(); str(t, r.backend); t.tab(); t.u(r.duplicate ?? 0); t.tab();
  str(t, r.encap); t.tab(); addr(t, r.outerSrc); t.tab(); addr(t, r.outerDst); t.tab(); t.u(r.outerVlan ?? 0); t.tab(); t.u(r.innerVlan ?? 0); t.tab();
  t.u(r.mirrorSession ?? 0); t.tab(); t.u(r.mirrorIndex ?? 0); t.tab(); t.u(r.greKey ?? 0); t.tab(); t.u(r.fragments ?? 0); t.nl();
}

/** A whole TSV body for a few records (tests, small inserts). */
export function flowsToTsv(records: readonly EnrichedFlow[]): Buffer {
  const t = new TsvBuffer(4096);
  for (const r of records) writeFlowRow(t, r);
  return Buffer.from(t.bytes());
}
