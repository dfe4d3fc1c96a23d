// Runs nfdump-style queries against the flows table: listing (-o), top-N statistics (-s), and the
// summary line. Used by the HTTP API (embedded store) and by the CLI directly against a ClickHouse server.
// Every user value reaches ClickHouse as a query parameter; SQL text is built only from our own tables.
import type { TimeWindow } from './timeWindow.ts';
import { parseStatSpec, type StatSpec, type StatOrder } from './statElements.ts';
import { aggregateSql, aggregatedRow, parseAggregationFields, AggregationError, fiveTuple, type AggregationField } from './aggregation.ts';

export interface QueryRequest {
  filter?: string;
  window?: TimeWindow;
  /** nfdump -s specs: 'proto', 'srcip/bytes', 'dstport:p/flows'. */
  statistics?: string[];
  /** -n: top N of each statistic (0 = all). */
  topN?: number;
  /** -c: at most this many flows listed. */
  limit?: number;
  /** -O: order of listed flows. */
  order?: StatOrder;
  /** -a: aggregate on the 5-tuple (proto, src/dst ip, src/dst port). */
  aggregate?: boolean;
  /** -A: aggregate on these fields ('srcip', 'dstport', 'srcip4/24', ...; comma lists allowed). */
  aggregateFields?: string[];
  /** -b: a flow and its reverse fold into one bidirectional record. */
  bidirectional?: boolean;
  /** -P: filter applied to the aggregated records. */
  postFilter?: string;
}

/** A compiled filter: a boolean SQL expression and its parameters. */
export interface CompiledFilter {
  sql: string;
  params: Record<string, unknown>;
}

export type FilterCompiler = (text: string) => CompiledFilter;

export interface QueryRunner {
  queryRows<T = Record<string, unknown>>(query: string, params?: Record<string, unknown>): Promise<T[]>;
}

export interface Summary {
  flows: number;
  bytes: number;
  packets: number;
  /** ms since epoch of the earliest first / latest last among matched flows; 0 when none. */
  firstSeen: number;
  lastSeen: number;
  bps: number;
  pps: number;
  bpp: number;
}

export interface StatRow {
  key: string | number;
  proto?: number;
  first: number;
  last: number;
  flows: number;
  packets: number;
  bytes: number;
}

export interface StatResult {
  element: string;
  title: string;
  column: string;
  kind: string;
  orderedBy: StatOrder;
  byProto: boolean;
  rows: StatRow[];
}

/** One flow as the API returns it; numbers are plain numbers, times ms since epoch. */
export type FlowRow = Record<string, string | number>;

export interface QueryResponse {
  flows?: FlowRow[];
  statistics?: StatResult[];
  summary: Summary;
  /** Set when flows are aggregated records (-a/-A) or bidirectional ones (-b). */
  aggregated?: 'records' | 'bidirectional';
  /** -A fields of an aggregated listing, for the printed columns. */
  aggregateFields?: string[];
}

export class QueryError extends Error {
  override name = 'QueryError';
}

/** nfdump's summary arithmetic: rates over the span from the first flow start to the last flow end. */
export function computeSummary(flows: number, bytes: number, packets: number, firstSeen: number, lastSeen: number): Summary {
  const duration = lastSeen > 0 ? (lastSeen - firstSeen) / 1000 : 0;
  let bps = 0, pps = 0, bpp = 0;
  if (duration > 0 && lastSeen > 0) {
    bps = Math.floor((bytes * 8) / duration);
    pps = Math.floor(packets / duration);
    bpp = packets ? Math.floor(bytes / packets) : 0;
  }
  return { flows, bytes, packets, firstSeen, lastSeen, bps, pps, bpp };
}

/** ORDER BY expressions for each order, over the given first/last/duration/flows columns. */
function orderExpressions(c: { first: string; last: string; durationMs: string; flows: string }): Record<StatOrder, string> {
  return {
    flows: c.flows,
    packets: 'packets',
    bytes: 'bytes',
    pps: `if(${c.last} > ${c.first}, packets / (${c.durationMs} / 1000), 0)`,
    bps: `if(${c.last} > ${c.first}, bytes * 8 / (${c.durationMs} / 1000), 0)`,
    bpp: 'if(packets > 0, bytes / packets, 0)',
    tstart: c.first,
    tend: c.last,
  };
}

/** Listed flows: raw DateTime64 columns, one flow a row. */
const orderExpr = orderExpressions({ first: 'first', last: 'last', durationMs: "dateDiff('millisecond', first, last)", flows: '1' });
/** Statistic rows: aggregated ms columns. */
const statOrderExpr = orderExpressions({ first: 't_first', last: 't_last', durationMs: '(t_last - t_first)', flows: 'flows' });

export class FlowQuery {
  constructor(
    private readonly runner: QueryRunner,
    private readonly compile: FilterCompiler,
  ) {}

  /** WHERE clause for the filter and the window, and its parameters. */
  where(req: QueryRequest): CompiledFilter {
    const parts: string[] = [];
    const params: Record<string, unknown> = {};
    const text = req.filter?.trim() ?? '';
    if (text !== '') {
      const f = this.compile(text);
      parts.push(`(${f.sql})`);
      Object.assign(params, f.params);
    }
    if (req.window?.from !== undefined) {
      parts.push('first >= fromUnixTimestamp64Milli({w_from:Int64})');
      params.w_from = Math.floor(req.window.from);
    }
    if (req.window?.to !== undefined) {
      parts.push('last <= fromUnixTimestamp64Milli({w_to:Int64})');
      params.w_to = Math.floor(req.window.to);
    }
    return { sql: parts.length ? parts.join(' AND ') : '1', params };
  }

  async run(req: QueryRequest): Promise<QueryResponse> {
    const specs = (req.statistics ?? []).map(parseStatSpec);
    const where = this.where(req);
    const summary = await this.summary(where);
    if (specs.length > 0) {
      const statistics: StatResult[] = [];
      for (const s of specs) {
        for (const order of s.orders) statistics.push(await this.statistic(s, order, where, req.topN ?? 10));
      }
      return { statistics, summary };
    }
    const aggregated = req.aggregate || req.bidirectional || (req.aggregateFields?.length ?? 0) > 0;
    if (!aggregated && req.postFilter?.trim()) throw new QueryError('-P filters aggregated records: use it with -a, -A or -b');
    if (aggregated) {
      const flows = await this.aggregate(where, req);
      const names = (req.aggregateFields ?? []).flatMap((x) => x.split(',')).map((x) => x.trim().toLowerCase()).filter((x) => x !== '');
      return { flows, summary, aggregated: req.bidirectional ? 'bidirectional' : 'records', aggregateFields: names.length ? names : [...fiveTuple] };
    }
    return { flows: await this.list(where, req), summary };
  }

  /** Aggregated listing: -a, -A fields, -b, with -P, -O and -c applied to the aggregated records. */
  async aggregate(where: CompiledFilter, req: QueryRequest): Promise<FlowRow[]> {
    let fields: AggregationField[] | undefined;
    if (req.aggregateFields && req.aggregateFields.length > 0) {
      if (req.bidirectional) throw new QueryError('-b aggregates on the 5-tuple in both directions: it cannot be combined with -A');
      try {
        fields = parseAggregationFields(req.aggregateFields);
      } catch (e) {
        if (e instanceof AggregationError) throw new QueryError(e.message);
        throw e;
      }
    }
    let q: { sql: string; params: Record<string, unknown> };
    try {
      q = aggregateSql(where, { fields, bidirectional: req.bidirectional, postFilter: req.postFilter, order: req.order, limit: req.limit }, this.compile);
    } catch (e) {
      if (e instanceof AggregationError) throw new QueryError(e.message);
      throw e;
    }
    const rows = await this.runner.queryRows<Record<string, string | number>>(q.sql, q.params);
    return rows.map((r) => aggregatedRow(r, normalizeFlowRow));
  }

  async summary(where: CompiledFilter): Promise<Summary> {
    const [r] = await this.runner.queryRows<Record<string, string | number>>(
      // Aliases never reuse a column name: ClickHouse resolves aliases inside WHERE too ('packets > 5').
      `SELECT count() AS s_flows, sum(bytes) AS s_bytes, sum(packets) AS s_packets,
              if(s_flows = 0, 0, toUnixTimestamp64Milli(min(first))) AS first_seen,
              if(s_flows = 0, 0, toUnixTimestamp64Milli(max(last))) AS last_seen
       FROM flows WHERE ${where.sql}`,
      where.params,
    );
    return computeSummary(Number(r?.s_flows ?? 0), Number(r?.s_bytes ?? 0), Number(r?.s_packets ?? 0), Number(r?.first_seen ?? 0), Number(r?.last_seen ?? 0));
  }

  async statistic(spec: StatSpec, order: StatOrder, where: CompiledFilter, topN: number): Promise<StatResult> {
    const el = spec.element;
    if (el.name === 'record') throw new QueryError('-s record is the aggregation of whole flows: use -a / -A');
    const keyExpr = el.exprs.length === 1 ? el.exprs[0]! : `arrayJoin([${el.exprs.join(', ')}])`;
    const keySel = el.kind === 'ip' ? `replaceRegexpOne(toString(${keyExpr}), '^::ffff:', '')` : keyExpr;
    const protoSel = spec.byProto ? ', proto' : '';
    const limit = topN > 0 ? `LIMIT ${Math.floor(topN)}` : '';
    const rows = await this.runner.queryRows<Record<string, string | number>>(
      // Aliases never reuse a column name: ClickHouse resolves aliases inside WHERE too.
      `SELECT key${protoSel}, t_first AS first, t_last AS last, s_flows AS flows, s_packets AS packets, s_bytes AS bytes FROM (
         SELECT ${keySel} AS key${protoSel}, toUnixTimestamp64Milli(min(first)) AS t_first, toUnixTimestamp64Milli(max(last)) AS t_last,
                count() AS s_flows, sum(packets) AS s_packets, sum(bytes) AS s_bytes
         FROM flows WHERE ${where.sql}
         GROUP BY key${protoSel})
       ORDER BY ${statOrderExpr[order]} ${order === 'tstart' || order === 'tend' ? 'ASC' : 'DESC'}, key ${limit}`,
      where.params,
    );
    return {
      element: el.name, title: el.title, column: el.column, kind: el.kind, orderedBy: order, byProto: spec.byProto,
      rows: rows.map((r) => ({
        key: el.kind === 'ip' || el.kind === 'string' ? String(r.key) : Number(r.key),
        ...(spec.byProto ? { proto: Number(r.proto) } : {}),
        first: Number(r.first), last: Number(r.last), flows: Number(r.flows), packets: Number(r.packets), bytes: Number(r.bytes),
      })),
    };
  }

  async list(where: CompiledFilter, req: QueryRequest): Promise<FlowRow[]> {
    const order = req.order ? `${orderExpr[req.order]} ${req.order === 'tstart' || req.order === 'tend' ? 'ASC' : 'DESC'}` : 'first ASC';
    const limit = req.limit && req.limit > 0 ? `LIMIT ${Math.floor(req.limit)}` : 'LIMIT 1000000';
    const rows = await this.runner.queryRows<Record<string, string | number>>(
      `SELECT * EXCEPT (time_received, first, last),
              toUnixTimestamp64Milli(time_received) AS ms_received, toUnixTimestamp64Milli(first) AS ms_first,
              toUnixTimestamp64Milli(last) AS ms_last
       FROM flows WHERE ${where.sql} ORDER BY ${order}, time_received ${limit}`,
      where.params,
    );
    return rows.map((r) => {
      const { ms_received, ms_first, ms_last, ...rest } = r;
      return normalizeFlowRow({ ...rest, time_received: ms_received!, first: ms_first!, last: ms_last!, flows: 1 });
    });
  }
}

const numericKeep = new Set(['vmw_virtual_obs_id', 'source', 'capture', 'exporter_name', 'in_portgroup', 'out_portgroup', 'in_vm', 'out_vm', 'vip', 'vip_leg', 'backend']);

/** IPv4-mapped addresses back to dotted form, 64-bit numbers to numbers. */
export function normalizeFlowRow(r: Record<string, string | number>): FlowRow {
  const out: FlowRow = {};
  for (const [k, v] of Object.entries(r)) {
    if (typeof v === 'string' && !numericKeep.has(k)) {
      if (v.includes(':')) out[k] = v.startsWith('::ffff:') && v.includes('.') ? v.slice(7) : v === '::' ? '' : v;
      else if (/^\d+$/.test(v)) out[k] = Number(v);
      else out[k] = v;
    } else out[k] = v;
  }
  return out;
}
