// What the API offers a filter editor: the keywords and fields with a line of help each, validation with the
// error position and what would have been accepted there, completion at a cursor, and a description of a
// valid filter (its canonical text and the columns it reads).

import { ENCAP_NAMES } from './encapNames.ts';
import { FilterError, type FilterErrorKind } from './filterError.ts';
import { formatFilter } from './formatFilter.ts';
import { lowerFilter, type LowerOptions, type Predicate } from './lowerFilter.ts';
import { addressFields, numericFields, stringFields } from './filterFields.ts';
import { parseFilter } from './parser.ts';

export type KeywordKind = 'term' | 'qualifier' | 'operator' | 'comparator' | 'dvflow';

export interface KeywordInfo {
  keyword: string;
  kind: KeywordKind;
  /** Usage, as in nfdump's man page. */
  syntax: string;
  description: string;
}

const kw = (keyword: string, kind: KeywordKind, syntax: string, description: string): KeywordInfo => ({ keyword, kind, syntax, description });

export const filterKeywords: readonly KeywordInfo[] = [
  kw('and', 'operator', 'expr and expr', 'both must match (also &&); binds tighter than or'),
  kw('or', 'operator', 'expr or expr', 'either may match (also ||)'),
  kw('not', 'operator', 'not expr', 'negation (also !); binds tightest'),
  kw('=', 'comparator', 'field = N', 'equal (also ==, eq); the default'),
  kw('>', 'comparator', 'field > N', 'greater than (also gt)'),
  kw('<', 'comparator', 'field < N', 'less than (also lt)'),
  kw('>=', 'comparator', 'field >= N', 'greater or equal (also ge)'),
  kw('<=', 'comparator', 'field <= N', 'less or equal (also le)'),
  kw('src', 'qualifier', 'src ip|net|port|as|mask|vlan|tos|mac ...', 'the source field only'),
  kw('dst', 'qualifier', 'dst ip|net|port|as|mask|vlan|tos|mac ...', 'the destination field only'),
  kw('in', 'qualifier', 'in if|packets|bytes|mac|portgroup ...', 'the input side'),
  kw('out', 'qualifier', 'out if|packets|bytes|mac|portgroup ...', 'the output side'),
  kw('next', 'qualifier', 'next ip|net|as ...', 'next hop address, next adjacent AS'),
  kw('prev', 'qualifier', 'prev as N', 'previous adjacent AS'),
  kw('bgp', 'qualifier', 'bgp next ip ADDR', 'BGP next hop (also bgpnext ip)'),
  kw('router', 'qualifier', 'router ip ADDR', 'address of the exporter that sent the flow'),
  kw('min', 'qualifier', 'min ttl N', 'minimum TTL'),
  kw('max', 'qualifier', 'max ttl N', 'maximum TTL'),
  kw('any', 'term', 'any', 'matches every flow'),
  kw('ipv4', 'term', 'ipv4', 'IPv4 flows (also inet)'),
  kw('ipv6', 'term', 'ipv6', 'IPv6 flows (also inet6)'),
  kw('proto', 'term', 'proto tcp|udp|icmp|N', 'IP protocol by nfdump name (prefix) or number'),
  kw('ip', 'term', '[src|dst] ip ADDR | ip in [ LIST ]', 'source or destination address (also host); lists take CIDRs'),
  kw('net', 'term', '[src|dst] net A.B.C.D/N | A.B.C.D MASK | IPV6/N', 'address in a network'),
  kw('port', 'term', '[src|dst] port [comp] N | port in [ LIST ]', 'source or destination port'),
  kw('icmp-type', 'term', 'icmp-type [comp] N', 'ICMP type (implies ICMP or ICMPv6; also icmp type N)'),
  kw('icmp-code', 'term', 'icmp-code [comp] N', 'ICMP code (implies ICMP or ICMPv6; also icmp code N)'),
  kw('engine-type', 'term', 'engine-type [comp] N', 'exporter engine type (also engine type N)'),
  kw('engine-id', 'term', 'engine-id [comp] N', 'exporter engine id (also engine id N)'),
  kw('exporter', 'term', 'exporter NAME|ADDR | exporter id N | exporter ip ADDR', "the flow's exporter, by name, address or id"),
  kw('sysid', 'term', 'sysid N', 'exporter id (nfdump 1.7.1 form)'),
  kw('as', 'term', '[src|dst|next|prev] as [comp] N | as in [ LIST ]', 'AS number'),
  kw('if', 'term', '[in|out] if N', 'SNMP interface index'),
  kw('vlan', 'term', '[src|dst] vlan N', 'VLAN id'),
  kw('mask', 'term', '[src|dst] mask N', 'prefix length of the routing entry'),
  kw('mac', 'term', '[in|out] [src|dst] mac MAC', 'MAC address'),
  kw('flags', 'term', 'flags ASFRPUEC | flags =SA | flags [comp] N', 'TCP flags: all listed set (X = all); =: exactly those'),
  kw('tos', 'term', '[src|dst] tos [comp] N', 'type of service (source by default)'),
  kw('packets', 'term', '[in|out] packets [comp] N[kmgt]', 'packet count (k/m/g/t = x1000)'),
  kw('bytes', 'term', '[in|out] bytes [comp] N[kmgt]', 'byte count (k/m/g/t = x1000)'),
  kw('flows', 'term', 'flows [comp] N', 'flow count (1 per record)'),
  kw('pps', 'term', 'pps [comp] N', 'packets per second (0 for a zero duration)'),
  kw('bps', 'term', 'bps [comp] N', 'bits per second (0 for a zero duration)'),
  kw('bpp', 'term', 'bpp [comp] N', 'bytes per packet'),
  kw('duration', 'term', 'duration [comp] MS', 'flow duration in milliseconds'),
  kw('flowdir', 'term', 'flowdir ingress|egress|N', 'flow direction (also dir)'),
  kw('first', 'term', 'first seen [comp] ISO8601', 'flow start time (local time)'),
  kw('last', 'term', 'last seen [comp] ISO8601', 'flow end time (local time)'),
  kw('ttl', 'term', '[min|max] ttl [comp] N | ttl equal', 'IP TTL'),
  kw('ident', 'term', 'ident NAME', "exporter's configured name"),
  kw('nfversion', 'term', 'nfversion [comp] N', 'NetFlow version (5, 9, 10 = IPFIX; 0 = pcap)'),
  kw('fwdstat', 'term', 'fwdstat N|NAME', 'forwarding status'),
  kw('observation', 'term', 'observation domain id [comp] N', 'IPFIX observation domain / v9 source id'),
  kw('tun', 'term', '[src|dst] tun ip|net ADDR | tun ip in [ LIST ]', "endpoints of a captured flow's outermost tunnel (GRE, ERSPAN, VXLAN, IP-in-IP carrier)"),
  kw('tunip', 'term', '[src|dst] tunip ADDR', 'tunnel endpoint (nfdump 1.7.1 spelling of tun ip)'),
  kw('portgroup', 'dvflow', '[in|out] portgroup NAME', 'vSphere portgroup of the input or output port'),
  kw('vip', 'dvflow', 'vip NAME | vip ADDR[:PORT]', 'load-balancer VIP the flow belongs to'),
  kw('source', 'dvflow', 'source netflow|pcap', 'where the flow came from'),
  kw('vm', 'dvflow', '[in|out] vm NAME', 'VM behind the input or output dvPort'),
  kw('backend', 'dvflow', 'backend NAME', 'real server of a VIP'),
  kw('leg', 'dvflow', 'leg client-vip|vip-client|lb-server|server-lb|server-client', 'which leg of a load-balanced connection'),
  kw('tenant', 'dvflow', 'tenant [src|dst] ip|net|port|proto ...', 'the VXLAN tenant (overlay) 5-tuple a VDS exports'),
  kw('duplicate', 'dvflow', 'duplicate', 'second sighting of a VM-to-VM flow inside one dvSwitch (not duplicate = count once)'),
  kw('vni', 'dvflow', 'vni [comp] N', 'VXLAN network identifier'),
  kw('encap', 'dvflow', `encap ${[...ENCAP_NAMES, 'none'].join('|')}`,
    'a port-mirror capture peeled off this encapsulation (none: nothing)'),
  kw('mirror', 'dvflow', 'mirror session [comp] N | mirror index [comp] N', 'ERSPAN session id (0-1023), ERSPAN II index / III hardware id'),
  kw('gre', 'dvflow', 'gre key [comp] N', 'GRE key (PPTP call id) of a captured flow'),
  kw('outer', 'dvflow', 'outer vlan [comp] N', 'first (outermost) 802.1Q/802.1ad tag of a captured frame'),
  kw('inner', 'dvflow', 'inner vlan [comp] N', 'last (innermost) tag of a frame that carried two or more'),
  kw('fragments', 'dvflow', 'fragments [comp] N', 'non-first IP fragments counted into a captured flow'),
];

export interface FieldInfo {
  /** Filter term that tests it. */
  term: string;
  /** Columns of the `flows` table it reads. */
  columns: string[];
  description: string;
}

export const filterFields: readonly FieldInfo[] = [
  { term: 'ip', columns: ['src_addr', 'dst_addr'], description: 'source / destination address' },
  { term: 'port', columns: ['src_port', 'dst_port'], description: 'source / destination port' },
  { term: 'proto', columns: ['proto'], description: 'IP protocol' },
  { term: 'flags', columns: ['tcp_flags'], description: 'TCP flags' },
  { term: 'tos', columns: ['src_tos', 'dst_tos'], description: 'type of service' },
  { term: 'packets', columns: ['packets'], description: 'packets (sampling applied)' },
  { term: 'bytes', columns: ['bytes'], description: 'bytes (sampling applied)' },
  { term: 'if', columns: ['in_if', 'out_if'], description: 'interfaces' },
  { term: 'vlan', columns: ['src_vlan', 'dst_vlan'], description: 'VLANs' },
  { term: 'mac', columns: ['in_src_mac', 'in_dst_mac', 'out_src_mac', 'out_dst_mac'], description: 'MAC addresses' },
  { term: 'icmp-type', columns: ['icmp_type'], description: 'ICMP type' },
  { term: 'icmp-code', columns: ['icmp_code'], description: 'ICMP code' },
  { term: 'next ip', columns: ['next_hop'], description: 'next hop' },
  { term: 'bgp next ip', columns: ['bgp_next_hop'], description: 'BGP next hop' },
  { term: 'router ip', columns: ['exporter'], description: 'exporter address' },
  { term: 'as', columns: ['src_as', 'dst_as', 'next_as', 'prev_as'], description: 'AS numbers' },
  { term: 'mask', columns: ['src_mask', 'dst_mask'], description: 'routing prefix lengths' },
  { term: 'flowdir', columns: ['direction'], description: 'flow direction' },
  { term: 'ttl', columns: ['min_ttl', 'max_ttl'], description: 'TTL' },
  { term: 'fwdstat', columns: ['fwd_status'], description: 'forwarding status' },
  { term: 'engine-type', columns: ['engine_type'], description: 'engine type' },
  { term: 'engine-id', columns: ['engine_id'], description: 'engine id' },
  { term: 'nfversion', columns: ['version'], description: 'NetFlow version' },
  { term: 'observation domain id', columns: ['domain'], description: 'observation domain' },
  { term: 'first seen', columns: ['first'], description: 'flow start' },
  { term: 'last seen', columns: ['last'], description: 'flow end' },
  { term: 'duration', columns: ['first', 'last'], description: 'duration (ms)' },
  { term: 'pps', columns: ['packets', 'first', 'last'], description: 'packets per second' },
  { term: 'bps', columns: ['bytes', 'first', 'last'], description: 'bits per second' },
  { term: 'bpp', columns: ['bytes', 'packets'], description: 'bytes per packet' },
  { term: 'vni', columns: ['vni'], description: 'VXLAN VNI' },
  { term: 'portgroup', columns: ['in_portgroup', 'out_portgroup'], description: 'portgroups' },
  { term: 'vip', columns: ['vip', 'vip_addr', 'vip_port'], description: 'load-balancer VIP' },
  { term: 'exporter', columns: ['exporter', 'exporter_name'], description: 'exporter' },
  { term: 'ident', columns: ['exporter_name'], description: 'exporter name' },
  { term: 'source', columns: ['source'], description: 'netflow or pcap' },
  { term: 'vm', columns: ['in_vm', 'out_vm'], description: 'VM names' },
  { term: 'backend', columns: ['backend'], description: 'real server' },
  { term: 'leg', columns: ['vip_leg'], description: 'VIP leg' },
  { term: 'duplicate', columns: ['duplicate'], description: 'VDS duplicate sighting' },
  { term: 'encap', columns: ['encap'], description: 'encapsulations of a captured flow' },
  { term: 'tun ip', columns: ['outer_src', 'outer_dst'], description: 'outermost tunnel endpoints' },
  { term: 'outer vlan', columns: ['outer_vlan'], description: 'outermost VLAN tag' },
  { term: 'inner vlan', columns: ['inner_vlan'], description: 'innermost VLAN tag' },
  { term: 'mirror session', columns: ['mirror_session'], description: 'ERSPAN session id' },
  { term: 'mirror index', columns: ['mirror_index'], description: 'ERSPAN index / hardware id' },
  { term: 'gre key', columns: ['gre_key'], description: 'GRE key' },
  { term: 'fragments', columns: ['fragments'], description: 'non-first fragments' },
];

export type ValidationResult =
  | { ok: true; canonical: string }
  | { ok: false; position: number; message: string; expected: string[]; kind: FilterErrorKind };

function toFailure(e: unknown): ValidationResult {
  if (e instanceof FilterError) return { ok: false, position: e.position, message: e.message, expected: e.expected, kind: e.kind };
  throw e;
}

/** Checks a filter the way compileSql would, without compiling it. */
export function validateFilter(text: string, options: LowerOptions = {}): ValidationResult {
  try {
    const node = parseFilter(text);
    lowerFilter(node, options);
    return { ok: true, canonical: formatFilter(node) };
  } catch (e) {
    return toFailure(e);
  }
}

export interface FilterDescription {
  canonical: string;
  /** Columns of `flows` the filter reads, sorted. */
  columns: string[];
  /** The filter matches every flow (empty, `any`, or a tautology such as `not flows > 1`). */
  matchesAll: boolean;
}

function columnsOf(p: Predicate, out: Set<string>): void {
  switch (p.op) {
    case 'const': return;
    case 'and': case 'or': p.items.forEach((i) => columnsOf(i, out)); return;
    case 'not': columnsOf(p.item, out); return;
    case 'cmp': case 'in': {
      const sql = numericFields[p.field].sql;
      for (const c of ['first', 'last', 'packets', 'bytes']) if (new RegExp(`\\b${c}\\b`).test(sql)) out.add(c);
      if (/^[a-z_]+$/.test(sql)) out.add(sql);
      return;
    }
    case 'flags': out.add('tcp_flags'); return;
    case 'addr': out.add(addressFields[p.field].sql); return;
    case 'str': case 'hasItem': out.add(stringFields[p.field].sql); return;
    case 'sameTtl': out.add('min_ttl'); out.add('max_ttl'); return;
    default: {
      const unhandled: never = p;
      throw new Error(`unknown predicate ${JSON.stringify(unhandled)}`);
    }
  }
}

/** Canonical text and columns read of a valid filter (plain JSON, for the API); throws FilterError otherwise. */
export function describeFilter(text: string, options: LowerOptions = {}): FilterDescription {
  const tree = parseFilter(text);
  const lowered = lowerFilter(tree, options);
  const columns = new Set<string>();
  columnsOf(lowered, columns);
  return {
    canonical: formatFilter(tree),
    columns: [...columns].sort(),
    matchesAll: lowered.op === 'const' && lowered.value,
  };
}

export interface Completion {
  /** 1-based position of the first character the suggestion replaces (the word being typed). */
  from: number;
  suggestions: string[];
}

/**
 * Suggestions at `cursor` (0-based, default: end of text): the keywords the grammar accepts there that start
 * with the word being typed. Placeholders such as '<number>' are left out.
 */
export function completeFilter(text: string, cursor = text.length): Completion {
  const before = text.slice(0, cursor);
  const partial = /[A-Za-z0-9_:.\-]*$/.exec(before)![0];
  const base = before.slice(0, before.length - partial.length);
  const from = base.length + 1;
  let expected: string[];
  try {
    parseFilter(base);
    expected = base.trim() === '' ? [] : ['and', 'or'];
  } catch (e) {
    if (!(e instanceof FilterError) || e.position < base.trimEnd().length + 1) return { from, suggestions: [] };
    expected = e.expected;
  }
  if (base.trim() === '') expected = ['not', ...filterKeywords.filter((k) => k.kind === 'term' || k.kind === 'qualifier' || k.kind === 'dvflow').map((k) => k.keyword)];
  const prefix = partial.toLowerCase();
  const suggestions = [...new Set(expected)].filter((s) => !s.startsWith('<') && s.toLowerCase().startsWith(prefix) && s.toLowerCase() !== prefix);
  return { from, suggestions };
}
