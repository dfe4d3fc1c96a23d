// The flow fields a filter can test, each bound once to its ClickHouse expression and to the FlowRecord
// value it is computed from: the one place where the SQL and the in-memory matcher must agree.

import type { FlowRecord } from '../flow/flowRecord.ts';
import { flowAddressValue } from './ipAddress.ts';

/**
 * A FlowRecord with the enrichment names and VIP the enrichment stage adds (missing = not matched), and the
 * capture facts of a pcap-derived flow (storage/flowRows.ts `CaptureFacts`; missing = none, as for NetFlow).
 */
export type FilterableFlow = FlowRecord & {
  exporterName?: string;
  inPortgroup?: string;
  outPortgroup?: string;
  vip?: string;
  vipAddr?: string;
  vipPort?: number;
  inVm?: string;
  outVm?: string;
  vipLeg?: string;
  backend?: string;
  duplicate?: number;
  /** Encapsulations peeled off, outermost first, comma separated ('vlan,gre,erspan2'); '' for none. */
  encap?: string;
  outerSrc?: string;
  outerDst?: string;
  outerVlan?: number;
  innerVlan?: number;
  mirrorSession?: number;
  mirrorIndex?: number;
  greKey?: number;
  fragments?: number;
};

export interface NumericFieldDef {
  /** ClickHouse expression. */
  sql: string;
  /** Query-parameter type for a value compared with it (wide enough for every value the parser lets through). */
  paramType: string;
  /** Wraps the parameter placeholder, when the column is not compared with the number directly. */
  wrapParam?: (placeholder: string) => string;
  get: (f: FilterableFlow) => number | bigint;
}

// Duration as nfdump computes it (msecLast - msecFirst); an inverted flow counts as 0 in both engines.
const DURATION_SQL = 'toUInt64(greatest(toUnixTimestamp64Milli(last) - toUnixTimestamp64Milli(first), 0))';
const duration = (f: FilterableFlow): bigint => BigInt(Math.max(Math.trunc(f.last) - Math.trunc(f.first), 0));
const big = (n: number): bigint => BigInt(Math.max(Math.trunc(n), 0));

const col = (sql: string, paramType: string, get: (f: FilterableFlow) => number): NumericFieldDef => ({ sql, paramType, get });

export const numericFields = {
  proto: col('proto', 'UInt8', (f) => f.proto),
  src_port: col('src_port', 'UInt16', (f) => f.srcPort),
  dst_port: col('dst_port', 'UInt16', (f) => f.dstPort),
  tcp_flags: col('tcp_flags', 'UInt8', (f) => f.tcpFlags & 0xff),
  src_tos: col('src_tos', 'UInt8', (f) => f.srcTos),
  dst_tos: col('dst_tos', 'UInt8', (f) => f.dstTos),
  bytes: col('bytes', 'UInt64', (f) => f.bytes),
  packets: col('packets', 'UInt64', (f) => f.packets),
  in_if: col('in_if', 'UInt32', (f) => f.inIf),
  out_if: col('out_if', 'UInt32', (f) => f.outIf),
  src_vlan: col('src_vlan', 'UInt32', (f) => f.srcVlan),
  dst_vlan: col('dst_vlan', 'UInt32', (f) => f.dstVlan),
  in_src_mac: col('in_src_mac', 'UInt64', (f) => f.inSrcMac),
  in_dst_mac: col('in_dst_mac', 'UInt64', (f) => f.inDstMac),
  out_src_mac: col('out_src_mac', 'UInt64', (f) => f.outSrcMac),
  out_dst_mac: col('out_dst_mac', 'UInt64', (f) => f.outDstMac),
  icmp_type: col('icmp_type', 'UInt8', (f) => f.icmpType),
  icmp_code: col('icmp_code', 'UInt8', (f) => f.icmpCode),
  src_as: col('src_as', 'UInt32', (f) => f.srcAs),
  dst_as: col('dst_as', 'UInt32', (f) => f.dstAs),
  next_as: col('next_as', 'UInt32', (f) => f.nextAs),
  prev_as: col('prev_as', 'UInt32', (f) => f.prevAs),
  src_mask: col('src_mask', 'UInt8', (f) => f.srcMask),
  dst_mask: col('dst_mask', 'UInt8', (f) => f.dstMask),
  direction: col('direction', 'UInt8', (f) => f.direction),
  min_ttl: col('min_ttl', 'UInt8', (f) => f.minTtl),
  max_ttl: col('max_ttl', 'UInt8', (f) => f.maxTtl),
  fwd_status: col('fwd_status', 'UInt8', (f) => f.fwdStatus),
  vni: col('vni', 'UInt32', (f) => f.vni),
  engine_type: col('engine_type', 'UInt8', (f) => f.engineType),
  engine_id: col('engine_id', 'UInt8', (f) => f.engineId),
  version: col('version', 'UInt8', (f) => f.version),
  domain: col('domain', 'UInt32', (f) => f.domain),
  vip_port: col('vip_port', 'UInt16', (f) => f.vipPort ?? 0),
  duplicate: col('duplicate', 'UInt8', (f) => f.duplicate ?? 0),
  vmw_tenant_src_port: col('vmw_tenant_src_port', 'UInt16', (f) => f.vmwTenantSrcPort),
  vmw_tenant_dst_port: col('vmw_tenant_dst_port', 'UInt16', (f) => f.vmwTenantDstPort),
  vmw_tenant_proto: col('vmw_tenant_proto', 'UInt8', (f) => f.vmwTenantProto),
  outer_vlan: col('outer_vlan', 'UInt16', (f) => f.outerVlan ?? 0),
  inner_vlan: col('inner_vlan', 'UInt16', (f) => f.innerVlan ?? 0),
  mirror_session: col('mirror_session', 'UInt16', (f) => f.mirrorSession ?? 0),
  mirror_index: col('mirror_index', 'UInt32', (f) => f.mirrorIndex ?? 0),
  gre_key: col('gre_key', 'UInt32', (f) => f.greKey ?? 0),
  fragments: col('fragments', 'UInt32', (f) => f.fragments ?? 0),
  first: {
    sql: 'first', paramType: 'Int64', wrapParam: (p) => `fromUnixTimestamp64Milli(${p})`, get: (f) => Math.trunc(f.first),
  },
  last: {
    sql: 'last', paramType: 'Int64', wrapParam: (p) => `fromUnixTimestamp64Milli(${p})`, get: (f) => Math.trunc(f.last),
  },
  duration: { sql: DURATION_SQL, paramType: 'UInt64', get: duration },
  // nfdump: packets per second = 1000 * packets / duration in ms, 0 when the duration is 0; integer division.
  pps: {
    sql: `if(${DURATION_SQL} = 0, 0, intDiv(packets * 1000, ${DURATION_SQL}))`,
    paramType: 'UInt64',
    get: (f) => { const d = duration(f); return d === 0n ? 0n : (big(f.packets) * 1000n) / d; },
  },
  bps: {
    sql: `if(${DURATION_SQL} = 0, 0, intDiv(bytes * 8000, ${DURATION_SQL}))`,
    paramType: 'UInt64',
    get: (f) => { const d = duration(f); return d === 0n ? 0n : (big(f.bytes) * 8000n) / d; },
  },
  bpp: {
    sql: 'if(packets = 0, 0, intDiv(bytes, packets))',
    paramType: 'UInt64',
    get: (f) => (f.packets > 0 ? big(f.bytes) / big(f.packets) : 0n),
  },
} satisfies Record<string, NumericFieldDef>;

export type NumericColumn = keyof typeof numericFields;

export interface AddressFieldDef {
  sql: string;
  get: (f: FilterableFlow) => bigint;
}

export const addressFields = {
  src_addr: { sql: 'src_addr', get: (f) => flowAddressValue(f.srcAddr) },
  dst_addr: { sql: 'dst_addr', get: (f) => flowAddressValue(f.dstAddr) },
  next_hop: { sql: 'next_hop', get: (f) => flowAddressValue(f.nextHop) },
  bgp_next_hop: { sql: 'bgp_next_hop', get: (f) => flowAddressValue(f.bgpNextHop) },
  exporter: { sql: 'exporter', get: (f) => flowAddressValue(f.exporter) },
  vip_addr: { sql: 'vip_addr', get: (f) => flowAddressValue(f.vipAddr) },
  vmw_tenant_src: { sql: 'vmw_tenant_src', get: (f) => flowAddressValue(f.vmwTenantSrcAddr) },
  vmw_tenant_dst: { sql: 'vmw_tenant_dst', get: (f) => flowAddressValue(f.vmwTenantDstAddr) },
  outer_src: { sql: 'outer_src', get: (f) => flowAddressValue(f.outerSrc) },
  outer_dst: { sql: 'outer_dst', get: (f) => flowAddressValue(f.outerDst) },
} satisfies Record<string, AddressFieldDef>;

export type AddressColumn = keyof typeof addressFields;

export interface StringFieldDef {
  sql: string;
  get: (f: FilterableFlow) => string;
}

export const stringFields = {
  in_portgroup: { sql: 'in_portgroup', get: (f) => f.inPortgroup ?? '' },
  out_portgroup: { sql: 'out_portgroup', get: (f) => f.outPortgroup ?? '' },
  vip: { sql: 'vip', get: (f) => f.vip ?? '' },
  exporter_name: { sql: 'exporter_name', get: (f) => f.exporterName ?? '' },
  source: { sql: 'source', get: (f) => f.source },
  in_vm: { sql: 'in_vm', get: (f) => f.inVm ?? '' },
  out_vm: { sql: 'out_vm', get: (f) => f.outVm ?? '' },
  backend: { sql: 'backend', get: (f) => f.backend ?? '' },
  vip_leg: { sql: 'vip_leg', get: (f) => f.vipLeg ?? '' },
  encap: { sql: 'encap', get: (f) => f.encap ?? '' },
} satisfies Record<string, StringFieldDef>;

export type StringColumn = keyof typeof stringFields;
