// Lowers the syntax tree to predicates over table columns, with nfdump's meaning of each term (which fields
// `port` tests, that `flags` implies TCP, that `icmp-type` implies ICMP or ICMPv6 ...). compileSql and
// matchFlow both consume this form, so they cannot disagree on what a term means.

import type { Comparator, FilterNode, MacSelector, Qualifier, Side, TermNode } from './ast.ts';
import type { AddressColumn, NumericColumn, StringColumn } from './filterFields.ts';
import { FilterError } from './filterError.ts';
import { IPV4_RANGE, parseAddress, type AddrRange } from './ipAddress.ts';

export type Predicate =
  | { op: 'const'; value: boolean }
  | { op: 'and' | 'or'; items: Predicate[] }
  | { op: 'not'; item: Predicate }
  | { op: 'cmp'; field: NumericColumn; cmp: Comparator; value: number }
  | { op: 'in'; field: NumericColumn; values: number[] }
  /** (tcp_flags & mask) = mask: every flag of the mask set. */
  | { op: 'flags'; mask: number }
  /** The address is in one of the ranges. */
  | { op: 'addr'; field: AddressColumn; ranges: AddrRange[] }
  | { op: 'str'; field: StringColumn; value: string }
  /** The column is a comma-separated list ('vlan,gre,erspan2') and `value` is one of its items. */
  | { op: 'hasItem'; field: StringColumn; value: string }
  /** min_ttl = max_ttl. */
  | { op: 'sameTtl' };

/** An exporter as nfdump's sysid stands for it: dvflow numbers exporters, nfcapd-like, in its registry. */
export interface ExporterRef {
  address: string;
  version?: number;
  domain?: number;
}

export interface LowerOptions {
  /**
   * Exporter ids for `exporter id N` / `sysid N`. dvflow's table has no sysid column: the caller (API, CLI)
   * passes the numbering it shows users. Without it those terms are an 'unsupported' error.
   */
  exporterIds?: ReadonlyMap<number, ExporterRef>;
}

// Shared range lists: compileSql sends a list used on src and dst once.
const V4_MAPPED: AddrRange[] = [IPV4_RANGE];
const UNSPECIFIED: AddrRange[] = [{ lo: 0n, hi: 0n, bits: 128, family: 6, text: '::' }];

const TRUE: Predicate = { op: 'const', value: true };
const FALSE: Predicate = { op: 'const', value: false };

function and(...items: Predicate[]): Predicate {
  const flat: Predicate[] = [];
  for (const p of items) {
    if (p.op === 'const') {
      if (!p.value) return FALSE;
      continue;
    }
    if (p.op === 'and') flat.push(...p.items);
    else flat.push(p);
  }
  if (flat.length === 0) return TRUE;
  return flat.length === 1 ? flat[0] : { op: 'and', items: flat };
}

function or(...items: Predicate[]): Predicate {
  const flat: Predicate[] = [];
  for (const p of items) {
    if (p.op === 'const') {
      if (p.value) return TRUE;
      continue;
    }
    if (p.op === 'or') flat.push(...p.items);
    else flat.push(p);
  }
  if (flat.length === 0) return FALSE;
  return flat.length === 1 ? flat[0] : { op: 'or', items: flat };
}

function not(p: Predicate): Predicate {
  if (p.op === 'const') return { op: 'const', value: !p.value };
  if (p.op === 'not') return p.item;
  return { op: 'not', item: p };
}

/**
 * In nfdump an IPv6 network never matches an IPv4 flow nor a record without addresses. In the mapped table
 * space a short IPv6 prefix (::/0 .. ::/80) covers ::ffff:0:0/96 and '::', so those are cut out of it.
 */
function nfdumpFamilyRanges(ranges: AddrRange[]): AddrRange[] {
  if (!ranges.some((r) => r.family === 6 && r.lo !== r.hi && (r.lo === 0n || (r.lo <= IPV4_RANGE.hi && r.hi >= IPV4_RANGE.lo)))) return ranges;
  const out: AddrRange[] = [];
  for (const r of ranges) {
    if (r.family !== 6 || r.lo === r.hi) {
      out.push(r);
      continue;
    }
    const lo = r.lo === 0n ? 1n : r.lo;
    if (lo <= IPV4_RANGE.hi && r.hi >= IPV4_RANGE.lo) {
      if (lo < IPV4_RANGE.lo) out.push({ ...r, lo, hi: IPV4_RANGE.lo - 1n });
      if (r.hi > IPV4_RANGE.hi) out.push({ ...r, lo: IPV4_RANGE.hi + 1n });
    } else {
      out.push({ ...r, lo });
    }
  }
  return out;
}

/**
 * A tunnel endpoint is never '::': that is what a flow without a tunnel stores, so `tun ip ::` must not select
 * every flow that was not tunnelled (nfdump's test on a record without a tunnel is false).
 */
function tunnelRanges(ranges: AddrRange[]): AddrRange[] {
  return nfdumpFamilyRanges(ranges).filter((r) => r.hi !== 0n);
}

const cmp = (field: NumericColumn, c: Comparator, value: number): Predicate => ({ op: 'cmp', field, cmp: c, value });

/** Combines the src and dst forms of a term as its side asks. */
function bySide(side: Side | Qualifier, src: Predicate, dst: Predicate): Predicate {
  switch (side) {
    case 'src': return src;
    case 'dst': return dst;
    case 'both': return and(src, dst);
    default: return or(src, dst);
  }
}

function compareConst(a: number, c: Comparator, b: number): boolean {
  switch (c) {
    case '=': return a === b;
    case '>': return a > b;
    case '<': return a < b;
    case '>=': return a >= b;
    case '<=': return a <= b;
  }
}

const PROTO_TCP = 6;
const PROTO_ICMP = 1;
const PROTO_ICMP6 = 58;

const MAC_COLUMNS: Record<MacSelector, NumericColumn[]> = {
  any: ['in_src_mac', 'in_dst_mac', 'out_src_mac', 'out_dst_mac'],
  in: ['in_src_mac', 'in_dst_mac'],
  out: ['out_src_mac', 'out_dst_mac'],
  src: ['in_src_mac', 'out_src_mac'],
  dst: ['in_dst_mac', 'out_dst_mac'],
  inSrc: ['in_src_mac'],
  inDst: ['in_dst_mac'],
  outSrc: ['out_src_mac'],
  outDst: ['out_dst_mac'],
};

function lowerTerm(t: TermNode, options: LowerOptions): Predicate {
  switch (t.type) {
    case 'any':
      return TRUE;
    case 'family': {
      const v4 = or({ op: 'addr', field: 'src_addr', ranges: V4_MAPPED }, { op: 'addr', field: 'dst_addr', ranges: V4_MAPPED });
      if (t.family === 4) return v4;
      // IPv6: not mapped IPv4, and not a record without addresses ('::' on both sides).
      return and(not(v4), not(and({ op: 'addr', field: 'src_addr', ranges: UNSPECIFIED }, { op: 'addr', field: 'dst_addr', ranges: UNSPECIFIED })));
    }
    case 'compare':
      return lowerCompare(t, options);
    case 'numberList': {
      const list = (field: NumericColumn): Predicate => ({ op: 'in', field, values: t.values });
      if (t.field === 'port') return bySide(t.qualifier, list('src_port'), list('dst_port'));
      if (t.qualifier === 'next') return list('next_as');
      if (t.qualifier === 'prev') return list('prev_as');
      return bySide(t.qualifier, list('src_as'), list('dst_as'));
    }
    case 'address': {
      const ranges = t.target === 'tunnel' ? tunnelRanges(t.ranges) : nfdumpFamilyRanges(t.ranges);
      if (ranges.length === 0) return FALSE;
      const addr = (field: AddressColumn): Predicate => ({ op: 'addr', field, ranges });
      switch (t.target) {
        case 'flow': return bySide(t.side, addr('src_addr'), addr('dst_addr'));
        case 'nextHop': return addr('next_hop');
        case 'bgpNextHop': return addr('bgp_next_hop');
        case 'router': return addr('exporter');
        case 'tunnel': return bySide(t.side, addr('outer_src'), addr('outer_dst'));
      }
      break;
    }
    case 'mac':
      return or(...MAC_COLUMNS[t.selector].map((c) => cmp(c, '=', t.value)));
    case 'flags':
      // nfdump implies TCP for every flags test.
      return and(cmp('proto', '=', PROTO_TCP), t.mode === 'all' ? { op: 'flags', mask: t.value } : cmp('tcp_flags', '=', t.value));
    case 'ttlEqual':
      return { op: 'sameTtl' };
    case 'ident':
      return { op: 'str', field: 'exporter_name', value: t.name };
    case 'portgroup': {
      const inPg: Predicate = { op: 'str', field: 'in_portgroup', value: t.name };
      const outPg: Predicate = { op: 'str', field: 'out_portgroup', value: t.name };
      return t.side === 'in' ? inPg : t.side === 'out' ? outPg : or(inPg, outPg);
    }
    case 'vip':
      return and(
        t.name !== undefined ? { op: 'str', field: 'vip', value: t.name } : TRUE,
        t.address ? { op: 'addr', field: 'vip_addr', ranges: [t.address] } : TRUE,
        t.port !== undefined ? cmp('vip_port', '=', t.port) : TRUE,
      );
    case 'exporter':
      if (t.address) return { op: 'addr', field: 'exporter', ranges: [t.address] };
      return { op: 'str', field: 'exporter_name', value: t.name ?? '' };
    case 'source':
      return { op: 'str', field: 'source', value: t.source };
    case 'encap':
      return t.kind === null ? { op: 'str', field: 'encap', value: '' } : { op: 'hasItem', field: 'encap', value: t.kind };
    case 'named': {
      if (t.what === 'backend') return { op: 'str', field: 'backend', value: t.name };
      if (t.what === 'leg') return { op: 'str', field: 'vip_leg', value: t.name };
      const inVm: Predicate = { op: 'str', field: 'in_vm', value: t.name };
      const outVm: Predicate = { op: 'str', field: 'out_vm', value: t.name };
      return t.side === 'in' ? inVm : t.side === 'out' ? outVm : or(inVm, outVm);
    }
    case 'duplicate':
      return cmp('duplicate', '=', 1);
    case 'tenant':
      return toTenant(lowerTerm(t.inner, options));
  }
  const unknown: { type: string; pos: number } = t;
  throw new FilterError(unknown.pos, `internal error: unknown term '${unknown.type}'`);
}

const TENANT_NUMERIC: Partial<Record<NumericColumn, NumericColumn>> = { src_port: 'vmw_tenant_src_port', dst_port: 'vmw_tenant_dst_port', proto: 'vmw_tenant_proto' };
const TENANT_ADDR: Partial<Record<AddressColumn, AddressColumn>> = { src_addr: 'vmw_tenant_src', dst_addr: 'vmw_tenant_dst' };

/** The same predicate on the tenant (overlay) 5-tuple columns. */
function toTenant(p: Predicate): Predicate {
  switch (p.op) {
    case 'and':
    case 'or':
      return { op: p.op, items: p.items.map(toTenant) };
    case 'not':
      return { op: 'not', item: toTenant(p.item) };
    case 'cmp':
    case 'in':
      return { ...p, field: TENANT_NUMERIC[p.field] ?? p.field };
    case 'addr':
      return { ...p, field: TENANT_ADDR[p.field] ?? p.field };
    default:
      return p;
  }
}

function lowerCompare(t: Extract<TermNode, { type: 'compare' }>, options: LowerOptions): Predicate {
  const { cmp: c, value: v, qualifier: q } = t;
  switch (t.field) {
    case 'proto': return cmp('proto', c, v);
    case 'port': return bySide(q, cmp('src_port', c, v), cmp('dst_port', c, v));
    case 'as':
      if (q === 'next') return cmp('next_as', c, v);
      if (q === 'prev') return cmp('prev_as', c, v);
      return bySide(q, cmp('src_as', c, v), cmp('dst_as', c, v));
    case 'icmpType':
    case 'icmpCode':
      // nfdump implies proto icmp or icmp6.
      return and(
        or(cmp('proto', '=', PROTO_ICMP), cmp('proto', '=', PROTO_ICMP6)),
        cmp(t.field === 'icmpType' ? 'icmp_type' : 'icmp_code', c, v),
      );
    case 'engineType': return cmp('engine_type', c, v);
    case 'engineId': return cmp('engine_id', c, v);
    case 'sysid': return lowerSysid(t, options);
    case 'if':
      if (q === 'in') return cmp('in_if', c, v);
      if (q === 'out') return cmp('out_if', c, v);
      return or(cmp('in_if', c, v), cmp('out_if', c, v));
    case 'vlan': return bySide(q, cmp('src_vlan', c, v), cmp('dst_vlan', c, v));
    case 'mask': return bySide(q, cmp('src_mask', c, v), cmp('dst_mask', c, v));
    case 'tos': return bySide(q, cmp('src_tos', c, v), cmp('dst_tos', c, v));
    case 'flags': return and(cmp('proto', '=', PROTO_TCP), cmp('tcp_flags', c, v));
    case 'packets':
    case 'bytes':
      // Reverse counters exist only in bidirectional records; dvflow's are unidirectional, and nfdump's
      // test on a missing extension is false.
      return q === 'out' ? FALSE : cmp(t.field, c, v);
    case 'flows':
      // Every row of the flows table is one flow.
      return { op: 'const', value: compareConst(1, c, v) };
    case 'pps':
    case 'bps':
    case 'bpp':
    case 'duration':
      return cmp(t.field, c, v);
    case 'flowdir': return cmp('direction', c, v);
    case 'ttl':
      if (q === 'min') return cmp('min_ttl', c, v);
      if (q === 'max') return cmp('max_ttl', c, v);
      return or(cmp('min_ttl', c, v), cmp('max_ttl', c, v));
    case 'nfversion': return cmp('version', c, v);
    case 'fwdstat': return cmp('fwd_status', c, v);
    case 'domain': return cmp('domain', c, v);
    case 'vni': return cmp('vni', c, v);
    case 'outerVlan': return cmp('outer_vlan', c, v);
    case 'innerVlan': return cmp('inner_vlan', c, v);
    case 'mirrorSession': return cmp('mirror_session', c, v);
    case 'mirrorIndex': return cmp('mirror_index', c, v);
    case 'greKey': return cmp('gre_key', c, v);
    case 'fragments': return cmp('fragments', c, v);
    case 'first': return cmp('first', c, v);
    case 'last': return cmp('last', c, v);
  }
}

function lowerSysid(t: Extract<TermNode, { type: 'compare' }>, options: LowerOptions): Predicate {
  const ids = options.exporterIds;
  if (!ids) {
    throw new FilterError(t.pos, "not supported: exporter ids ('sysid', 'exporter id') without the exporter list; use 'exporter ADDR' or 'exporter NAME'", 'unsupported');
  }
  const matches: Predicate[] = [];
  for (const [id, ref] of ids) {
    if (!compareConst(id, t.cmp, t.value)) continue;
    const a = parseAddress(ref.address);
    if (!a) continue;
    matches.push(and(
      { op: 'addr', field: 'exporter', ranges: [{ lo: a.value, hi: a.value, bits: 128, family: a.family, text: ref.address }] },
      ref.version !== undefined ? cmp('version', '=', ref.version) : TRUE,
      ref.domain !== undefined ? cmp('domain', '=', ref.domain) : TRUE,
    ));
  }
  return or(...matches);
}

/** Turns a syntax tree into column predicates; throws FilterError for terms dvflow cannot evaluate. */
export function lowerFilter(node: FilterNode, options: LowerOptions = {}): Predicate {
  switch (node.type) {
    case 'and': return and(lowerFilter(node.left, options), lowerFilter(node.right, options));
    case 'or': return or(lowerFilter(node.left, options), lowerFilter(node.right, options));
    case 'not': return not(lowerFilter(node.operand, options));
    default: return lowerTerm(node, options);
  }
}
