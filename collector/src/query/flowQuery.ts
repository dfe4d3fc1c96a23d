// Runs nfdump-style queries against the flows table: listing (-o), top-N statistics (-s), and the
// summary line. Used by the HTTP API (embedded store) and by the CLI directly against a ClickHouse server.
// Every user value reaches ClickHouse as a query parameter; SQL text is built only from our own tables.
import type { TimeWindow } from './timeWindow.ts';
import { elementColumns, parseStatSpec, type StatSpec } from './statElements.ts';
import type { FlowRow, QueryResponse, StatOrder, StatResult, Summary } from './queryShapes.ts';
import { aggregateSql, aggregatedRow, parseAggregationFields, AggregationError, fiveTuple, type AggregationField } from './aggregation.ts';
import { chooseTable, filterColumns, retentionMs, rollupDimensions } from './rollupPlanner.ts';
import { exporterContext } from './exporterIds.ts';
import type { ExporterRef } from '../filter/lowerFilter.ts';

export type { FlowRow, QueryResponse, StatResult, StatRow, Summary } from './queryShapes.ts';

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

/** What a filter compiles with besides its text: the exporter numbering for `sysid N`. */
export interface FilterContext {
  exporterIds?: ReadonlyMap<number, ExporterRef>;
}

export type FilterCompiler = (text: string, context?: FilterContext) => CompiledFilter;

export interface FlowQueryOptions {
  /** Retention per table (config `retention`): a rollup is asked only about what it still holds. */
  retention?: Partial<Record<string, string>>;
  /** ms since epoch; default Date.now(). */
  now?: () => number;
  /** false: always read the raw table (to compare answers). */
  rollups?: boolean;
}

/** A request's filter, compiled once (see FlowQuery.prepare). */
interface PreparedRequest {
  req: QueryRequest;
  /** The filter alone ('1' when empty): rollup rows have no first/last to apply the window to. */
  filter: CompiledFilter;
  /** The flows columns the filter reads. */
  columns: Set<string>;
  /** The filter and the window, for the raw table. */
  where: CompiledFilter;
}

/**
 * Where an aggregate reads its flows: the raw table, or a rollup (plus the raw flows that started before
 * the rollup's retention, which the rollup no longer holds but the raw table may: replayed captures, or
 * exporters whose clocks are off). Expressions name the counters in either case.
 */
interface FlowSource {
  from: string;
  where: string;
  params: Record<string, unknown>;
  count: string;
  first: string;
  last: string;
  table: string;
}

export interface QueryRunner {
  queryRows<T = Record<string, unknown>>(query: string, params?: Record<string, unknown>): Promise<T[]>;
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

/** A listing without -c stops here: the API returns at most this many flows. */
export const LIST_CAP = 1_000_000;

/** The summary of listed flows, as nfdump prints it under a listing. */
export function summarizeRows(rows: FlowRow[]): Summary {
  let bytes = 0, packets = 0, first = Infinity, last = 0;
  for (const r of rows) {
    bytes += Number(r.bytes);
    packets += Number(r.packets);
    if (Number(r.first) < first) first = Number(r.first);
    if (Number(r.last) > last) last = Number(r.last);
  }
  return computeSummary(rows.length, bytes, packets, rows.length ? first : 0, last);
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
    private readonly options: FlowQueryOptions = {},
  ) {}

  /** WHERE clause for the filter and the window, and its parameters. */
  where(req: QueryRequest, context: FilterContext = {}): CompiledFilter {
    return this.prepare(req, context).where;
  }

  /** The filter compiled once per request: alone (for rollups), with the window (raw table), and the columns it reads. */
  private prepare(req: QueryRequest, context: FilterContext): PreparedRequest {
    const text = req.filter?.trim() ?? '';
    const filter = text !== '' ? this.compile(text, context) : { sql: '1', params: {} };
    const parts = text !== '' ? [`(${filter.sql})`] : [];
    const params: Record<string, unknown> = { ...filter.params };
    if (req.window?.from !== undefined) {
      parts.push('first >= fromUnixTimestamp64Milli({w_from:Int64})');
      params.w_from = Math.floor(req.window.from);
    }
    if (req.window?.to !== undefined) {
      parts.push('last <= fromUnixTimestamp64Milli({w_to:Int64})');
      params.w_to = Math.floor(req.window.to);
    }
    return { req, filter, columns: filterColumns(text, context), where: { sql: parts.length ? parts.join(' AND ') : '1', params } };
  }

  async run(req: QueryRequest): Promise<QueryResponse> {
    const specs = (req.statistics ?? []).map(parseStatSpec);
    const prepared = this.prepare(req, await exporterContext(this.runner, [req.filter ?? '']));
    const where = prepared.where;
    const aggregatedListing = req.aggregate || req.bidirectional || (req.aggregateFields?.length ?? 0) > 0;
    if (specs.length === 0 && !aggregatedListing) {
      if (req.postFilter?.trim()) throw new QueryError('-P filters aggregated records: use it with -a, -A or -b');
      // A plain listing: nfdump's summary covers the flows it listed (-c 5 gives 'total flows: 5'), so it is
      // computed from the rows, unless the listing hit the safety cap and the rows are not all the flows.
      const flows = await this.list(where, req);
      const capped = !(req.limit && req.limit > 0) && flows.length >= LIST_CAP;
      return { flows, summary: capped ? await this.summary(this.source(prepared, [])) : summarizeRows(flows), answeredFrom: ['flows'] };
    }
    const summarySource = this.source(prepared, []);
    const tables = new Set([summarySource.table]);
    const summary = await this.summary(summarySource);
    if (specs.length > 0) {
      const statistics: StatResult[] = [];
      for (const s of specs) {
        const source = this.source(prepared, [...(s.byProto ? ['proto'] : []), ...elementColumns(s.element)]);
        tables.add(source.table);
        for (const order of s.orders) statistics.push(await this.statistic(s, order, source, req.topN ?? 10));
      }
      return { statistics, summary, answeredFrom: [...tables] };
    }
    const flows = await this.aggregate(where, req);
    const names = (req.aggregateFields ?? []).flatMap((x) => x.split(',')).map((x) => x.trim().toLowerCase()).filter((x) => x !== '');
    tables.add('flows');
    return { flows, summary, aggregated: req.bidirectional ? 'bidirectional' : 'records', aggregateFields: names.length ? names : [...fiveTuple], answeredFrom: [...tables] };
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

  /**
   * The rollup that can answer an aggregate over `columns` (flows columns the grouping reads) exactly under
   * nfdump's window rule, else the raw table. A rollup buckets flows by start, so it answers a window only
   * when its start is on a bucket boundary and it ends now or later (nothing stored has ended after now;
   * nfdump keeps flows that end inside the window).
   */
  private source(q: PreparedRequest, columns: string[]): FlowSource {
    const raw: FlowSource = { from: 'flows', where: q.where.sql, params: q.where.params, count: 'count()', first: 'first', last: 'last', table: 'flows' };
    const now = this.options.now?.() ?? Date.now();
    const w = q.req.window;
    if (this.options.rollups === false) return raw;
    if (w?.to !== undefined && w.to < now) return raw;
    const needed = new Set([...q.columns, ...columns]);
    for (const c of needed) if (!rollupDimensions.has(c)) return raw;
    const plan = chooseTable({ columns: needed, window: w?.from !== undefined ? { from: w.from } : undefined, now, retention: this.options.retention });
    if (plan.table === 'flows') return raw;
    // What the rollup still holds starts at `keepFrom` (a day of margin for TTL merges that have not run);
    // flows that started before it come from the raw table.
    const keep = retentionMs(this.options.retention?.[plan.table]);
    const gMs = plan.granularitySec * 1000;
    const keepFrom = keep === undefined ? undefined : Math.ceil((now - keep + 86_400_000) / gMs) * gMs;
    const from = w?.from;
    const rollupFrom = keepFrom === undefined ? from : Math.max(from ?? keepFrom, keepFrom);
    const filter = q.filter;
    const params: Record<string, unknown> = { ...filter.params };
    const dims = [...rollupDimensions].join(', ');
    let sql = `SELECT ${dims}, flows, packets, bytes, first_seen, last_seen FROM ${plan.table} WHERE (${filter.sql})`;
    if (rollupFrom !== undefined) {
      sql += ' AND time >= toDateTime(intDiv({r_from:Int64}, 1000))';
      params.r_from = rollupFrom;
    }
    if (keepFrom !== undefined && (from === undefined || from < keepFrom)) {
      sql += ` UNION ALL SELECT ${dims}, toUInt64(1) AS flows, packets, bytes, first AS first_seen, last AS last_seen
        FROM flows WHERE (${filter.sql}) AND first < fromUnixTimestamp64Milli({r_keep:Int64})`;
      params.r_keep = keepFrom;
      if (from !== undefined) {
        sql += ' AND first >= fromUnixTimestamp64Milli({r_rawfrom:Int64})';
        params.r_rawfrom = from;
      }
    }
    return { from: `(${sql})`, where: '1', params, count: 'sum(flows)', first: 'first_seen', last: 'last_seen', table: plan.table };
  }

  async summary(src: FlowSource): Promise<Summary> {
    const [r] = await this.runner.queryRows<Record<string, string | number>>(
      // Aliases never reuse a column name: ClickHouse resolves aliases inside WHERE too ('packets > 5').
      `SELECT ${src.count} AS s_flows, sum(bytes) AS s_bytes, sum(packets) AS s_packets,
              if(s_flows = 0, 0, toUnixTimestamp64Milli(min(${src.first}))) AS first_seen,
              if(s_flows = 0, 0, toUnixTimestamp64Milli(max(${src.last}))) AS last_seen
       FROM ${src.from} WHERE ${src.where}`,
      src.params,
    );
    return computeSummary(Number(r?.s_flows ?? 0), Number(r?.s_bytes ?? 0), Number(r?.s_packets ?? 0), Number(r?.first_seen ?? 0), Number(r?.last_seen ?? 0));
  }

  async statistic(spec: StatSpec, order: StatOrder, src: FlowSource, topN: number): Promise<StatResult> {
    const el = spec.element;
    if (el.name === 'record') throw new QueryError('-s record is the aggregation of whole flows: use -a / -A');
    const keyExpr = el.exprs.length === 1 ? el.exprs[0]! : `arrayJoin([${el.exprs.join(', ')}])`;
    // Group on the raw column and format only the top rows: converting every row's address to text before
    // the GROUP BY cost three times the aggregation itself on 5M flows.
    const keyOut = el.kind === 'ip' ? "replaceRegexpOne(toString(k_raw), '^::ffff:', '')" : 'k_raw';
    const protoSel = spec.byProto ? ', proto' : '';
    const limit = topN > 0 ? `LIMIT ${Math.floor(topN)}` : '';
    const rows = await this.runner.queryRows<Record<string, string | number>>(
      // Aliases never reuse a column name: ClickHouse resolves aliases inside WHERE too.
      `SELECT ${keyOut} AS key${protoSel}, t_first AS first, t_last AS last, s_flows AS flows, s_packets AS packets, s_bytes AS bytes FROM (
         SELECT ${keyExpr} AS k_raw${protoSel}, toUnixTimestamp64Milli(min(${src.first})) AS t_first, toUnixTimestamp64Milli(max(${src.last})) AS t_last,
                ${src.count} AS s_flows, sum(packets) AS s_packets, sum(bytes) AS s_bytes
         FROM ${src.from} WHERE ${src.where}
         GROUP BY k_raw${protoSel})
       ORDER BY ${statOrderExpr[order]} ${order === 'tstart' || order === 'tend' ? 'ASC' : 'DESC'}, k_raw ${limit}`,
      src.params,
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
    const n = req.limit && req.limit > 0 ? Math.min(Math.floor(req.limit), LIST_CAP) : LIST_CAP;
    // Flows in start order (the default, and -O tstart) with -c N: find the Nth start time first, reading
    // only `first` in the table's own order (its key starts with the 5-minute bucket of `first`), then read
    // whole rows at or before it. Sorting every column of every row for N of them took 100 ms on 5M flows;
    // this takes 30.
    const byStart = (!req.order || req.order === 'tstart') && n < LIST_CAP;
    const cutoff = byStart
      ? `AND first <= (SELECT max(first) FROM (SELECT first FROM flows WHERE ${where.sql} ORDER BY toStartOfFiveMinutes(first), first LIMIT ${n}))`
      : '';
    const rows = await this.runner.queryRows<Record<string, string | number>>(
      `SELECT * EXCEPT (time_received, first, last),
              toUnixTimestamp64Milli(time_received) AS ms_received, toUnixTimestamp64Milli(first) AS ms_first,
              toUnixTimestamp64Milli(last) AS ms_last
       FROM flows WHERE ${where.sql} ${cutoff} ORDER BY ${order}, time_received LIMIT ${n}`,
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
