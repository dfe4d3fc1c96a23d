// The `flows` table's columns and how a FlowRecord fills each of them, written as ClickHouse Native blocks (the hot
// path of ingest; see nativeBlock.ts for why Native and not text).
import type { FlowRecord } from '../flow/flowRecord.ts';
import { NativeBlock, type NativeColumnSpec } from './nativeBlock.ts';
import type { NameNumbers } from './nameNumbers.ts';

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
  /** The names' numbers (nameNumbers.ts) for the Native writer, set with the names; 0: look the name up. */
  inPortgroupNo: number;
  outPortgroupNo: number;
  inVmNo: number;
  outVmNo: number;
  vipNo: number;
  vipLegNo: number;
  backendNo: number;
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

type Spec = NativeColumnSpec<EnrichedFlow>;
type Field = Spec['field'];
const col = (type: Spec['type']) => (name: string, field: Field): Spec => ({ name, type, field });
const u8 = col('UInt8'), u16 = col('UInt16'), u32 = col('UInt32'), u64 = col('UInt64'), ms = col('DateTime64(3)'), ip = col('IPv6');
/**
 * Names: LowCardinality(String) columns, with the property holding the name's number when records carry one. The
 * Enum `source` is sent as one too: two keys and an index a row, instead of a string a row for ClickHouse to parse.
 */
const name = (n: string, field: Field, numberField?: Field): Spec => ({ name: n, type: 'LowCardinality(String)', field, numberField });

/** Which record property fills each `flows` column, in `flowColumns` order (nativeBlock.ts says how '' and bad numbers are stored). */
export const flowNativeColumns: readonly Spec[] = [
  ms('time_received', 'timeReceived'), ms('first', 'first'), ms('last', 'last'), ip('exporter', 'exporter'),
  u16('exporter_port', 'exporterPort'), u8('version', 'version'), u32('domain', 'domain'), u8('engine_type', 'engineType'),
  u8('engine_id', 'engineId'), u32('sampling_rate', 'samplingRate'), ip('src_addr', 'srcAddr'), ip('dst_addr', 'dstAddr'),
  u16('src_port', 'srcPort'), u16('dst_port', 'dstPort'), u8('proto', 'proto'), u8('tcp_flags', 'tcpFlags'),
  u8('src_tos', 'srcTos'), u8('dst_tos', 'dstTos'), u64('bytes', 'bytes'), u64('packets', 'packets'), u32('in_if', 'inIf'),
  u32('out_if', 'outIf'), u16('src_vlan', 'srcVlan'), u16('dst_vlan', 'dstVlan'), u64('in_src_mac', 'inSrcMac'),
  u64('in_dst_mac', 'inDstMac'), u64('out_src_mac', 'outSrcMac'), u64('out_dst_mac', 'outDstMac'), u8('icmp_type', 'icmpType'),
  u8('icmp_code', 'icmpCode'), ip('next_hop', 'nextHop'), ip('bgp_next_hop', 'bgpNextHop'), u32('src_as', 'srcAs'),
  u32('dst_as', 'dstAs'), u32('next_as', 'nextAs'), u32('prev_as', 'prevAs'), u8('src_mask', 'srcMask'), u8('dst_mask', 'dstMask'),
  u8('direction', 'direction'), u8('end_reason', 'endReason'), u8('min_ttl', 'minTtl'), u8('max_ttl', 'maxTtl'),
  u8('fwd_status', 'fwdStatus'), u32('vni', 'vni'), u16('vmw_ingress_attr', 'vmwIngressAttr'), u16('vmw_egress_attr', 'vmwEgressAttr'),
  u8('vmw_vxlan_role', 'vmwVxlanRole'), u8('vmw_tenant_proto', 'vmwTenantProto'), ip('vmw_tenant_src', 'vmwTenantSrcAddr'),
  ip('vmw_tenant_dst', 'vmwTenantDstAddr'), u16('vmw_tenant_src_port', 'vmwTenantSrcPort'), u16('vmw_tenant_dst_port', 'vmwTenantDstPort'),
  name('vmw_virtual_obs_id', 'vmwVirtualObsId'), name('source', 'source'), name('capture', 'capture'),
  name('exporter_name', 'exporterName'), name('in_portgroup', 'inPortgroup', 'inPortgroupNo'), name('out_portgroup', 'outPortgroup', 'outPortgroupNo'),
  name('in_vm', 'inVm', 'inVmNo'), name('out_vm', 'outVm', 'outVmNo'), name('vip', 'vip', 'vipNo'), ip('vip_addr', 'vipAddr'), u16('vip_port', 'vipPort'),
  name('vip_leg', 'vipLeg', 'vipLegNo'), name('backend', 'backend', 'backendNo'), u8('duplicate', 'duplicate'),
  name('encap', 'encap'), ip('outer_src', 'outerSrc'), ip('outer_dst', 'outerDst'), u16('outer_vlan', 'outerVlan'),
  u16('inner_vlan', 'innerVlan'), u16('mirror_session', 'mirrorSession'), u32('mirror_index', 'mirrorIndex'),
  u32('gre_key', 'greKey'), u32('fragments', 'fragments'),
];

if (flowNativeColumns.map((c) => c.name).join() !== flowColumns.join()) throw new Error('flowNativeColumns must follow flowColumns');

/** A new batch of `flows` rows; `numbers` only for tests (the numbering the records' name numbers come from). */
export function newFlowBlock(initialRows = 1024, numbers?: NameNumbers): NativeBlock<EnrichedFlow> {
  return new NativeBlock(flowNativeColumns, initialRows, numbers);
}

/** A whole Native body for some records (tests, small inserts). */
export function flowsToNative(records: readonly EnrichedFlow[]): Buffer[] {
  const b = newFlowBlock(Math.max(1, records.length));
  for (const r of records) b.add(r);
  return b.encode();
}
