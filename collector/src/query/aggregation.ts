// nfdump's flow aggregation (-a, -A list, -b) and post-aggregation filter (-P), as SQL over `flows`.
// Aggregated records carry the same column names as raw flows (src_addr, dst_port, ...) for the keys they
// aggregate on, plus flows/packets/bytes/first/last, so the listing formats print them unchanged; keys not
// aggregated on are absent and print as 0 / 0.0.0.0, as nfdump prints them.
import { flowColumns } from '../storage/flowRows.ts';
import type { CompiledFilter, FilterCompiler, FlowRow } from './flowQuery.ts';
import type { StatOrder } from './queryShapes.ts';

export class AggregationError extends Error {
  override name = 'QueryError';
}

export interface AggregationField {
  /** nfdump's -A name as given (srcip4/24). */
  name: string;
  /** Output column name(s) (flows table names) and the SQL expression for each. */
  columns: { column: string; expr: string }[];
  /** nfdump fmt tags printing the field, in order. */
  tags: string[];
}

const V4_LO = "toIPv6('::ffff:0.0.0.0')";
const V4_HI = "toIPv6('::ffff:255.255.255.255')";
const isV4 = (c: string) => `(${c} BETWEEN ${V4_LO} AND ${V4_HI})`;

const simple: Record<string, [string, string]> = {
  proto: ['proto', 'pr'],
  srcip: ['src_addr', 'sa'],
  dstip: ['dst_addr', 'da'],
  srcport: ['src_port', 'sp'],
  dstport: ['dst_port', 'dp'],
  srcvlan: ['src_vlan', 'svln'],
  dstvlan: ['dst_vlan', 'dvln'],
  inif: ['in_if', 'in'],
  outif: ['out_if', 'out'],
  srcas: ['src_as', 'sas'],
  dstas: ['dst_as', 'das'],
  tos: ['src_tos', 'tos'],
  srctos: ['src_tos', 'stos'],
  dsttos: ['dst_tos', 'dtos'],
  srcmask: ['src_mask', 'smk'],
  dstmask: ['dst_mask', 'dmk'],
  next: ['next_hop', 'nh'],
  bgpnext: ['bgp_next_hop', 'nhb'],
  router: ['exporter', 'ra'],
  insrcmac: ['in_src_mac', 'ismc'],
  outdstmac: ['out_dst_mac', 'odmc'],
  indstmac: ['in_dst_mac', 'idmc'],
  outsrcmac: ['out_src_mac', 'osmc'],
  vip: ['vip', 'vip'],
  backend: ['backend', 'be'],
  leg: ['vip_leg', 'leg'],
  invm: ['in_vm', 'ivm'],
  outvm: ['out_vm', 'ovm'],
};

/** The -A names accepted (nfdump 1.7.1's list plus dvflow's portgroup and vip). */
export const aggregationFieldNames = [...Object.keys(simple), 'srcip4/N', 'dstip4/N', 'srcip6/N', 'dstip6/N', 'portgroup'];

export const fiveTuple = ['proto', 'srcip', 'dstip', 'srcport', 'dstport'];

export function parseAggregationField(raw: string): AggregationField {
  const name = raw.trim().toLowerCase();
  const s = simple[name];
  if (s) return { name, columns: [{ column: s[0], expr: s[0] }], tags: [s[1]] };
  if (name === 'portgroup') {
    return { name, columns: [{ column: 'in_portgroup', expr: 'in_portgroup' }, { column: 'out_portgroup', expr: 'out_portgroup' }], tags: ['ipg', 'opg'] };
  }
  const m = /^(src|dst)ip(4|6)\/(\d{1,3})$/.exec(name);
  if (m) {
    const col = m[1] === 'src' ? 'src_addr' : 'dst_addr';
    const bits = Number(m[3]);
    const max = m[2] === '4' ? 32 : 128;
    if (bits < 1 || bits > max) throw new AggregationError(`bad prefix length in aggregation field '${raw}': expected 1..${max}`);
    // nfdump masks the address family named and zeroes the other one.
    const expr = m[2] === '4'
      ? `if(${isV4(col)}, tupleElement(IPv6CIDRToRange(${col}, ${96 + bits}), 1), toIPv6('::'))`
      : `if(${isV4(col)}, toIPv6('::'), tupleElement(IPv6CIDRToRange(${col}, ${bits}), 1))`;
    return { name, columns: [{ column: col, expr }], tags: [m[1] === 'src' ? 'sa' : 'da'] };
  }
  throw new AggregationError(`unknown aggregation field '${raw}'; valid: ${aggregationFieldNames.join(', ')}`);
}

export function parseAggregationFields(list: string[]): AggregationField[] {
  const names = list.flatMap((x) => x.split(',')).map((x) => x.trim()).filter((x) => x !== '');
  if (names.length === 0) throw new AggregationError('empty aggregation list: give -A fields, e.g. -A srcip,dstport');
  const fields = names.map(parseAggregationField);
  const seen = new Set<string>();
  for (const f of fields) {
    for (const c of f.columns) {
      if (seen.has(c.column)) throw new AggregationError(`aggregation field '${f.name}' repeats the column ${c.column}`);
      seen.add(c.column);
    }
  }
  return fields;
}

export interface AggregateOptions {
  fields?: AggregationField[];
  bidirectional?: boolean;
  postFilter?: string;
  order?: StatOrder;
  limit?: number;
}

const outerOrder: Record<StatOrder, string> = {
  flows: 'flows',
  packets: 'packets',
  bytes: 'bytes',
  pps: 'if(ms_last > ms_first, packets / ((ms_last - ms_first) / 1000), 0)',
  bps: 'if(ms_last > ms_first, bytes * 8 / ((ms_last - ms_first) / 1000), 0)',
  bpp: 'if(packets > 0, bytes / packets, 0)',
  tstart: 'ms_first',
  tend: 'ms_last',
};

const allColumns = new Set<string>(flowColumns);

/** Compiles a -P filter over the aggregated columns; 'flows N' compares the aggregated flow count. */
export function compilePostFilter(text: string, available: Set<string>, compile: FilterCompiler): CompiledFilter {
  let t = text;
  const usesFlows = /\bflows\b/i.test(t);
  if (usesFlows) {
    if (/\bnext\s+as\b/i.test(t)) throw new AggregationError("-P cannot combine 'flows' and 'next as' terms");
    // The filter language has no flow-count column (a raw flow is one flow): stand in 'next as', a 32-bit
    // counter term we never aggregate on, and map it to the aggregated flow count.
    t = t.replace(/\bflows\b/gi, 'next as');
  }
  const f = compile(t);
  const used = new Set<string>();
  const sqlNoParams = f.sql.replace(/\{[^}]*\}/g, ' ').replace(/'[^']*'/g, ' ');
  for (const m of sqlNoParams.matchAll(/\b[a-z_][a-z0-9_]*\b/g)) if (allColumns.has(m[0])) used.add(m[0]);
  for (const c of used) {
    if (c === 'next_as' && usesFlows) continue;
    if (!available.has(c)) {
      throw new AggregationError(`-P: the term on '${c}' cannot be applied after aggregation: aggregate on it (-A) or use it in the filter instead`);
    }
  }
  return f;
}

/** SQL for an aggregated listing (-a / -A / -b), over a WHERE clause already compiled. */
export function aggregateSql(where: CompiledFilter, o: AggregateOptions, compile: FilterCompiler): { sql: string; params: Record<string, unknown> } {
  const params: Record<string, unknown> = { ...where.params };
  const counters = ['min(first) AS a_first', 'max(last) AS a_last', 'count() AS a_flows'];
  let inner: string;
  let cols: string[];
  if (o.bidirectional) {
    // Canonical key: the smaller (addr, port) end first; each flow is forward when it runs from that end.
    const fwd = '((src_addr, src_port) <= (dst_addr, dst_port))';
    inner = `SELECT proto AS a_proto,
        if(${fwd}, src_addr, dst_addr) AS a_ka, if(${fwd}, src_port, dst_port) AS a_kpa,
        if(${fwd}, dst_addr, src_addr) AS a_kb, if(${fwd}, dst_port, src_port) AS a_kpb,
        argMin(${fwd}, first) AS a_disp_fwd,
        sumIf(packets, ${fwd}) AS a_fpk, sumIf(packets, NOT ${fwd}) AS a_rpk,
        sumIf(bytes, ${fwd}) AS a_fby, sumIf(bytes, NOT ${fwd}) AS a_rby, ${counters.join(', ')}
      FROM flows WHERE ${where.sql} GROUP BY a_proto, a_ka, a_kpa, a_kb, a_kpb`;
    const mid = `SELECT a_proto AS proto,
        if(a_disp_fwd, a_ka, a_kb) AS src_addr, if(a_disp_fwd, a_kpa, a_kpb) AS src_port,
        if(a_disp_fwd, a_kb, a_ka) AS dst_addr, if(a_disp_fwd, a_kpb, a_kpa) AS dst_port,
        if(a_disp_fwd, a_fpk, a_rpk) AS in_packets, if(a_disp_fwd, a_rpk, a_fpk) AS out_packets,
        if(a_disp_fwd, a_fby, a_rby) AS in_bytes, if(a_disp_fwd, a_rby, a_fby) AS out_bytes,
        a_fpk + a_rpk AS packets, a_fby + a_rby AS bytes, a_first AS first, a_last AS last, a_flows AS flows
      FROM (${inner})`;
    cols = ['proto', 'src_addr', 'src_port', 'dst_addr', 'dst_port', 'in_packets', 'out_packets', 'in_bytes', 'out_bytes'];
    return finish(mid, cols, params, o, compile);
  }
  const fields = o.fields ?? fiveTuple.map(parseAggregationField);
  const keys = fields.flatMap((f) => f.columns);
  inner = `SELECT ${keys.map((k, i) => `${k.expr} AS a_k${i}`).join(', ')}, sum(packets) AS a_packets, sum(bytes) AS a_bytes, ${counters.join(', ')}
      FROM flows WHERE ${where.sql} GROUP BY ${keys.map((_, i) => `a_k${i}`).join(', ')}`;
  const mid = `SELECT ${keys.map((k, i) => `a_k${i} AS ${k.column}`).join(', ')}, a_packets AS packets, a_bytes AS bytes,
      a_first AS first, a_last AS last, a_flows AS flows FROM (${inner})`;
  cols = keys.map((k) => k.column);
  return finish(mid, cols, params, o, compile);
}

function finish(mid: string, cols: string[], params: Record<string, unknown>, o: AggregateOptions, compile: FilterCompiler): { sql: string; params: Record<string, unknown> } {
  let post = '1';
  let midSel = mid;
  const text = o.postFilter?.trim() ?? '';
  if (text !== '') {
    const available = new Set([...cols, 'packets', 'bytes', 'first', 'last']);
    const pf = compilePostFilter(text, available, compile);
    // Parameter names of the post-filter must not clash with the main filter's.
    let sql = pf.sql;
    for (const [k, v] of Object.entries(pf.params)) {
      sql = sql.replaceAll(`{${k}:`, `{p_${k}:`);
      params[`p_${k}`] = v;
    }
    // ClickHouse would push this predicate into the aggregating subquery (a WHERE over sum(...)): the
    // SETTINGS below keep it where it is, over the aggregated records.
    post = sql;
    if (/\bflows\b/i.test(text)) midSel = `SELECT *, flows AS next_as FROM (${mid})`;
  }
  const order = o.order ? `${outerOrder[o.order]} ${o.order === 'tstart' || o.order === 'tend' ? 'ASC' : 'DESC'}` : 'ms_first ASC';
  const limit = o.limit && o.limit > 0 ? `LIMIT ${Math.floor(o.limit)}` : 'LIMIT 1000000';
  const keyCols = cols.filter((c) => !['in_packets', 'out_packets', 'in_bytes', 'out_bytes'].includes(c));
  const sql = `SELECT ${cols.join(', ')}, packets, bytes, flows, toUnixTimestamp64Milli(first) AS ms_first, toUnixTimestamp64Milli(last) AS ms_last
    FROM (${midSel}) WHERE ${post}
    ORDER BY ${order}${keyCols.length ? ', ' + keyCols.join(', ') : ''} ${limit}
    SETTINGS enable_optimize_predicate_expression = 0`;
  return { sql, params };
}

/** A result row of aggregateSql to a FlowRow. */
export function aggregatedRow(r: Record<string, string | number>, normalize: (r: Record<string, string | number>) => FlowRow): FlowRow {
  const { ms_first, ms_last, ...rest } = r;
  return normalize({ ...rest, first: ms_first!, last: ms_last! });
}
