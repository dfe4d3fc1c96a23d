// nfdump's -s statistic elements, mapped to ClickHouse expressions over the `flows` table. Two-sided
// elements (ip, port, as, if, vlan, tos...) count a flow once for each side, as nfdump does, through an
// ARRAY JOIN of both values. Whether a rollup can answer one follows from the columns it reads
// (elementColumns), checked against the rollups' dimensions by the query planner.
import { flowColumns } from '../storage/flowRows.ts';
import { statOrders, type StatOrder } from './queryShapes.ts';

export type ValueKind = 'ip' | 'int' | 'proto' | 'flags' | 'mac' | 'dir' | 'string';

export interface StatElement {
  name: string;
  /** nfdump's heading word: "Top 10 <title> ordered by flows:". */
  title: string;
  /** Column heading in the table. */
  column: string;
  kind: ValueKind;
  /** One expression, or two for elements that count both sides. */
  exprs: string[];
}

const e = (name: string, title: string, column: string, kind: ValueKind, exprs: string[]): StatElement => ({ name, title, column, kind, exprs });

export const statElements: StatElement[] = [
  e('record', 'flows', '', 'string', []),
  e('srcip', 'Src IP Addr', 'Src IP Addr', 'ip', ['src_addr']),
  e('dstip', 'Dst IP Addr', 'Dst IP Addr', 'ip', ['dst_addr']),
  e('ip', 'IP Addr', 'IP Addr', 'ip', ['src_addr', 'dst_addr']),
  e('srcport', 'Src Port', 'Src Port', 'int', ['src_port']),
  e('dstport', 'Dst Port', 'Dst Port', 'int', ['dst_port']),
  e('port', 'Port', 'Port', 'int', ['src_port', 'dst_port']),
  e('proto', 'Protocol', 'Protocol', 'proto', ['proto']),
  e('flags', 'TCP Flags', 'Flags', 'flags', ['tcp_flags']),
  e('tos', 'Tos', 'Tos', 'int', ['src_tos', 'dst_tos']),
  e('srctos', 'Src Tos', 'Src Tos', 'int', ['src_tos']),
  e('dsttos', 'Dst Tos', 'Dst Tos', 'int', ['dst_tos']),
  e('inif', 'Input If', 'Input If', 'int', ['in_if']),
  e('outif', 'Output If', 'Output If', 'int', ['out_if']),
  e('if', 'In/Out If', 'In/Out If', 'int', ['in_if', 'out_if']),
  e('srcvlan', 'Src Vlan', 'Src Vlan', 'int', ['src_vlan']),
  e('dstvlan', 'Dst Vlan', 'Dst Vlan', 'int', ['dst_vlan']),
  e('vlan', 'Vlan', 'Vlan', 'int', ['src_vlan', 'dst_vlan']),
  e('srcmac', 'Src MAC', 'Src MAC', 'mac', ['in_src_mac']),
  e('dstmac', 'Dst MAC', 'Dst MAC', 'mac', ['out_dst_mac']),
  e('inmac', 'In MAC', 'In MAC', 'mac', ['in_src_mac', 'in_dst_mac']),
  e('outmac', 'Out MAC', 'Out MAC', 'mac', ['out_src_mac', 'out_dst_mac']),
  e('srcas', 'Src AS', 'Src AS', 'int', ['src_as']),
  e('dstas', 'Dst AS', 'Dst AS', 'int', ['dst_as']),
  e('as', 'AS', 'AS', 'int', ['src_as', 'dst_as']),
  e('nextas', 'Next AS', 'Next AS', 'int', ['next_as']),
  e('prevas', 'Prev AS', 'Prev AS', 'int', ['prev_as']),
  e('srcmask', 'Src Mask', 'Src Mask', 'int', ['src_mask']),
  e('dstmask', 'Dst Mask', 'Dst Mask', 'int', ['dst_mask']),
  e('mask', 'Mask', 'Mask', 'int', ['src_mask', 'dst_mask']),
  e('nhip', 'Next-hop IP', 'Next-hop IP', 'ip', ['next_hop']),
  e('nhbip', 'Next-hop BGP IP', 'Next-hop BGP IP', 'ip', ['bgp_next_hop']),
  e('router', 'Router IP', 'Router IP', 'ip', ['exporter']),
  e('dir', 'Direction', 'Dir', 'dir', ['direction']),
  e('vni', 'VXLAN VNI', 'VNI', 'int', ['vni']),
  // Capture facts of port-mirror flows (schema/005); NetFlow flows count under 'none' / 0.
  e('encap', 'Encapsulation', 'Encap', 'string', ["if(encap = '', 'none', toString(encap))"]),
  e('mirrorsession', 'Mirror session', 'Session', 'int', ['mirror_session']),
  e('grekey', 'GRE key', 'GRE key', 'int', ['gre_key']),
  e('exporter', 'Exporter', 'Exporter', 'string', ["if(exporter_name != '', exporter_name, replaceRegexpOne(toString(exporter), '^::ffff:', ''))"]),
  e('portgroup', 'Portgroup', 'Portgroup', 'string', ['in_portgroup', 'out_portgroup']),
  e('inportgroup', 'In Portgroup', 'In Portgroup', 'string', ['in_portgroup']),
  e('outportgroup', 'Out Portgroup', 'Out Portgroup', 'string', ['out_portgroup']),
  e('vip', 'VIP', 'VIP', 'string', ['vip']),
  e('backend', 'Real server', 'Real server', 'string', ['backend']),
  e('leg', 'VIP leg', 'Leg', 'string', ['vip_leg']),
  e('vm', 'VM', 'VM', 'string', ['in_vm', 'out_vm']),
  e('invm', 'In VM', 'In VM', 'string', ['in_vm']),
  e('outvm', 'Out VM', 'Out VM', 'string', ['out_vm']),
  e('source', 'Source', 'Source', 'string', ['toString(source)']),
];

const knownColumns = new Set<string>(flowColumns);

/** The `flows` columns an element's expressions read. */
export function elementColumns(el: StatElement): Set<string> {
  const out = new Set<string>();
  for (const x of el.exprs) for (const w of x.match(/[a-z_][a-z0-9_]*/g) ?? []) if (knownColumns.has(w)) out.add(w);
  return out;
}

const byName = new Map(statElements.map((s) => [s.name, s]));
// nfdump's aliases.
byName.set('srcaddr', byName.get('srcip')!);
byName.set('dstaddr', byName.get('dstip')!);
byName.set('exporterip', byName.get('router')!);
byName.set('sysid', byName.get('router')!);

export interface StatSpec {
  element: StatElement;
  orders: StatOrder[];
  /** ':p' — split by protocol as well. */
  byProto: boolean;
  /** The text the user gave, for error messages. */
  text: string;
}

export class StatSpecError extends Error {
  override name = 'StatSpecError';
}

/** Parse nfdump's `element[:p][/order[/order...]]`. */
export function parseStatSpec(text: string): StatSpec {
  const [head, ...orderParts] = text.trim().split('/');
  const [name, ...mods] = (head ?? '').toLowerCase().split(':');
  const element = byName.get(name ?? '');
  if (!element) {
    throw new StatSpecError(`unknown statistic '${name}' in -s ${text}; known: ${statElements.map((s) => s.name).join(', ')}`);
  }
  const byProto = mods.includes('p');
  for (const m of mods) if (m !== 'p') throw new StatSpecError(`unknown modifier ':${m}' in -s ${text}`);
  const orders: StatOrder[] = [];
  for (const o of orderParts) {
    const lo = o.toLowerCase();
    if (!(statOrders as readonly string[]).includes(lo)) throw new StatSpecError(`unknown order '${o}' in -s ${text}; use ${statOrders.join(', ')}`);
    orders.push(lo as StatOrder);
  }
  if (orders.length === 0) orders.push('flows');
  return { element, orders, byProto, text };
}
