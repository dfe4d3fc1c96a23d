// Time series for the dashboard: bits/packets/flows per second over a window, one series per value of a split
// (portgroup, VIP, protocol, any -s element, saved channels), the top N by total and one "other" series for
// the rest, every bucket present (zero when no flow started in it).
//
// A flow counts in the bucket its START falls in, on the raw table as on the rollups (see rollupPlanner.ts):
// a window [from, to) means "flows that started in it", so raw and rollup answers agree exactly. Buckets are
// aligned to multiples of the step since the epoch; the window is widened to whole buckets.
//
// Every user value reaches ClickHouse as a query parameter; SQL text is built only from our own expressions.
import { compileSql, FilterError } from '../filter/index.ts';
import { exporterContext } from './exporterIds.ts';
import { protocolName } from '../filter/protocolNames.ts';
import type { CompiledFilter, FilterCompiler, QueryRunner } from './flowQuery.ts';
import { chooseTable, filterColumns, type FlowTable, type TablePlan } from './rollupPlanner.ts';
import { elementColumns, parseStatSpec, StatSpecError, type ValueKind } from './statElements.ts';

export const timeSeriesMetrics = ['bps', 'pps', 'fps'] as const;
export type TimeSeriesMetric = (typeof timeSeriesMetrics)[number];

/** Splits of our own; any -s element name (srcip, dstport, vm ...) is accepted as well. */
export const namedSplits = ['none', 'portgroup', 'in_portgroup', 'out_portgroup', 'vip', 'backend', 'leg', 'protocol', 'proto', 'exporter', 'channel'] as const;

export interface Channel {
  name: string;
  filter: string;
  /** -1: drawn below the axis (values negated), as nfsen's channel sign. */
  sign: 1 | -1;
}

export interface TimeSeriesRequest {
  metric?: TimeSeriesMetric;
  split?: string;
  filter?: string;
  /** ms since epoch; default: `to` - 1 h. */
  from?: number;
  /** ms since epoch; default: now. */
  to?: number;
  /** Series shown besides "other"; default 10. */
  top?: number;
  /** Bucket width in seconds; default chosen from the window (100-300 buckets). */
  step?: number;
  /** For split = 'channel'. */
  channels?: Channel[];
}

export interface Series {
  name: string;
  values: number[];
  /** Sum over the window in the metric's unit: bits (bps), packets (pps), flows (fps); negative for a -1 channel. */
  total: number;
}

export interface TimeSeriesResponse {
  from: number;
  to: number;
  step: number;
  metric: TimeSeriesMetric;
  split: string;
  table: FlowTable;
  /** Bucket starts, ms since epoch. */
  times: number[];
  series: Series[];
  elapsedMs: number;
}

/** A request the caller got wrong (400), with the filter position when the filter is at fault. */
export class TimeSeriesError extends Error {
  override name = 'TimeSeriesError';
  constructor(message: string, readonly position?: number) {
    super(message);
  }
}

export const MAX_BUCKETS = 5000;
export const MAX_TOP = 100;
export const MAX_CHANNELS = 64;
/** Distinct (bucket, key) rows read back before the top N is computed in ClickHouse instead. */
const MAX_GROUP_ROWS = 50_000;

export interface TimeSeriesOptions {
  /** Table retention (config `retention`) so the planner skips rollups whose rows have expired. */
  retention?: Partial<Record<string, string>>;
  /** Override of MAX_GROUP_ROWS (tests reach the ClickHouse ranking path with few rows). */
  maxGroupRows?: number;
}
const DEFAULT_WINDOW_MS = 3_600_000;

/** Steps the automatic choice picks from: each divides the next coarser rollup's or a day. */
const niceSteps = [10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400];
const TARGET_MAX_POINTS = 300;

/** The smallest "nice" step that draws the window in at most 300 buckets (so 100-300 for usual windows). */
export function autoStep(windowMs: number): number {
  const min = windowMs / 1000 / TARGET_MAX_POINTS;
  for (const s of niceSteps) if (s >= min) return s;
  return Math.ceil(min / 86400) * 86400;
}

/** How one split turns a flow row into a series key (a String expression) and which columns it reads. */
interface SplitPlan {
  /** String-valued SQL expression; null for split = none and channel. */
  key: string | null;
  columns: Set<string>;
  /** Display name of a key. */
  name: (key: string) => string;
}

const noneName = (k: string) => (k === '' ? '(none)' : k);

function macName(k: string): string {
  const hex = BigInt(k).toString(16).padStart(12, '0');
  return hex.match(/../g)!.join(':');
}

function keyExpression(exprs: string[], kind: ValueKind): string {
  // Two-sided elements count a flow once per side, as nfdump's -s does.
  const one = exprs.length === 1 ? exprs[0]! : `arrayJoin([${exprs.join(', ')}])`;
  return kind === 'ip' ? `replaceRegexpOne(toString(${one}), '^::ffff:', '')` : `toString(${one})`;
}

function planSplit(split: string): SplitPlan {
  const single = (column: string): SplitPlan => ({ key: column, columns: new Set([column]), name: noneName });
  switch (split) {
    case 'none':
    case 'channel':
      return { key: null, columns: new Set(), name: (k) => k };
    case 'portgroup':
      // A flow is charted once: under the portgroup it came in from, else the one it went out to.
      return { key: "if(in_portgroup != '', in_portgroup, out_portgroup)", columns: new Set(['in_portgroup', 'out_portgroup']), name: noneName };
    case 'in_portgroup':
    case 'out_portgroup':
    case 'vip':
    case 'backend':
      return single(split);
    case 'leg':
      return single('vip_leg');
    case 'protocol':
      // nfsen's protocol split (any/TCP/UDP/ICMP/other); ICMPv6 counts as ICMP.
      return {
        key: "multiIf(proto = 6, 'TCP', proto = 17, 'UDP', proto = 1 OR proto = 58, 'ICMP', 'other')",
        columns: new Set(['proto']),
        name: (k) => k,
      };
    case 'proto':
      return { key: 'toString(proto)', columns: new Set(['proto']), name: (k) => protocolName(Number(k)) };
  }
  let spec;
  try {
    spec = parseStatSpec(split);
  } catch (e) {
    if (e instanceof StatSpecError) {
      throw new TimeSeriesError(`unknown split '${split}': use ${namedSplits.join(', ')} or a -s element (srcip, dstport, vm ...)`);
    }
    throw e;
  }
  const el = spec.element;
  if (el.name === 'record' || spec.byProto || split.includes('/')) {
    throw new TimeSeriesError(`split '${split}' is not an element: use ${namedSplits.join(', ')} or a -s element name without modifiers`);
  }
  const name = el.kind === 'proto' ? (k: string) => protocolName(Number(k))
    : el.kind === 'mac' ? macName
    : el.kind === 'string' ? noneName
    : (k: string) => k;
  return { key: keyExpression(el.exprs, el.kind), columns: elementColumns(el), name };
}

/** The counter a metric sums, on a table. */
function counter(metric: TimeSeriesMetric, plan: TablePlan): string {
  if (metric === 'bps') return 'bytes';
  if (metric === 'pps') return 'packets';
  // A rollup row stands for many flows: its `flows` column counts them.
  return plan.table === 'flows' ? 'toUInt64(1)' : 'flows';
}

export class TimeSeriesQuery {
  constructor(
    private readonly runner: QueryRunner,
    private readonly compile: FilterCompiler,
    private readonly options: TimeSeriesOptions = {},
  ) {}

  async run(req: TimeSeriesRequest, now = Date.now()): Promise<TimeSeriesResponse> {
    const t0 = performance.now();
    const metric = req.metric ?? 'bps';
    if (!(timeSeriesMetrics as readonly string[]).includes(metric)) throw new TimeSeriesError(`unknown metric '${metric}': use bps, pps or fps`);
    const split = (req.split ?? 'none').trim().toLowerCase() || 'none';
    const top = req.top ?? 10;
    if (!Number.isInteger(top) || top < 1 || top > MAX_TOP) throw new TimeSeriesError(`top must be an integer from 1 to ${MAX_TOP}`);

    const rawTo = req.to ?? now;
    const rawFrom = req.from ?? rawTo - DEFAULT_WINDOW_MS;
    if (!Number.isFinite(rawFrom) || !Number.isFinite(rawTo) || rawFrom < 0) throw new TimeSeriesError('from and to must be ms since the epoch');
    if (rawFrom >= rawTo) throw new TimeSeriesError(`the window ends before it starts: from ${rawFrom} >= to ${rawTo}`);
    const step = req.step ?? autoStep(rawTo - rawFrom);
    if (!Number.isInteger(step) || step < 1) throw new TimeSeriesError('step must be a whole number of seconds >= 1');
    const stepMs = step * 1000;
    const from = Math.floor(rawFrom / stepMs) * stepMs;
    const to = Math.ceil(rawTo / stepMs) * stepMs;
    const buckets = (to - from) / stepMs;
    if (buckets > MAX_BUCKETS) {
      throw new TimeSeriesError(`the window is too long for a ${step} s step: ${buckets} buckets, at most ${MAX_BUCKETS}; use a larger step`);
    }

    const splitPlan = planSplit(split);
    const filterText = req.filter?.trim() ?? '';
    const columns = new Set(splitPlan.columns);
    let where: CompiledFilter = { sql: '1', params: {} };
    const channelConds: CompiledFilter[] = [];
    try {
      const context = await exporterContext(this.runner, [filterText, ...(req.channels ?? []).map((c) => c.filter)]);
      for (const c of filterColumns(filterText, context)) columns.add(c);
      if (filterText !== '') where = this.compile(filterText, context);
      if (split === 'channel') {
        const chans = req.channels ?? [];
        if (chans.length > MAX_CHANNELS) throw new TimeSeriesError(`at most ${MAX_CHANNELS} channels can be charted at once`);
        chans.forEach((ch, i) => {
          try {
            for (const c of filterColumns(ch.filter, context)) columns.add(c);
            const { sql, params } = compileSql(ch.filter.trim() === '' ? 'any' : ch.filter, { paramPrefix: `c${i}_`, exporterIds: context.exporterIds });
            channelConds.push({ sql, params });
          } catch (e) {
            if (e instanceof FilterError) throw new TimeSeriesError(`channel '${ch.name}': ${e.message}`);
            throw e;
          }
        });
      }
    } catch (e) {
      if (e instanceof FilterError) throw new TimeSeriesError(e.message, e.position);
      throw e;
    }

    const plan = chooseTable({ columns, window: { from, to }, stepSec: step, now, retention: this.options.retention });
    const m = counter(metric, plan);
    const timeMs = plan.table === 'flows' ? 'toUnixTimestamp64Milli(first)' : 'toInt64(toUnixTimestamp(time)) * 1000';
    const timeWhere = plan.table === 'flows'
      ? 'first >= fromUnixTimestamp64Milli({ts_from:Int64}) AND first < fromUnixTimestamp64Milli({ts_to:Int64})'
      : 'time >= toDateTime({ts_from_s:Int64}) AND time < toDateTime({ts_to_s:Int64})';
    const params: Record<string, unknown> = {
      ...where.params, ts_from: from, ts_to: to, ts_from_s: from / 1000, ts_to_s: to / 1000, ts_step: stepMs,
    };
    // Aliases never reuse a column name: ClickHouse resolves aliases inside WHERE too.
    const bucket = `intDiv(${timeMs} - {ts_from:Int64}, {ts_step:Int64})`;
    const fromWhere = `FROM ${plan.table} WHERE ${timeWhere} AND (${where.sql})`;
    // Sums in the metric's unit over a bucket; rates divide by the step.
    const scale = metric === 'bps' ? 8 : 1;
    const times = Array.from({ length: buckets }, (_, i) => from + i * stepMs);
    const toSeries = (name: string, sums: number[], sign = 1): Series => ({
      name,
      values: sums.map((v) => (sign * v * scale) / step),
      total: sign * scale * sums.reduce((a, b) => a + b, 0),
    });

    let series: Series[];
    if (split === 'channel') {
      series = await this.channelSeries(req.channels ?? [], channelConds, { bucket, fromWhere, m, params, buckets, toSeries });
    } else if (splitPlan.key === null) {
      const rows = await this.runner.queryRows<{ b: number; v: number }>(`SELECT ${bucket} AS b, sum(${m}) AS v ${fromWhere} GROUP BY b`, params);
      const sums = new Array<number>(buckets).fill(0);
      for (const r of rows) if (r.b >= 0 && r.b < buckets) sums[Number(r.b)] += Number(r.v);
      series = rows.length ? [toSeries('total', sums)] : [];
    } else {
      series = await this.topSeries(splitPlan, top, { bucket, fromWhere, m, params, buckets, toSeries });
    }
    return { from, to, step, metric, split, table: plan.table, times, series, elapsedMs: Math.round((performance.now() - t0) * 10) / 10 };
  }

  /** One series per key: the top N by total, then "other" for the rest. */
  private async topSeries(split: SplitPlan, top: number, q: QueryParts): Promise<Series[]> {
    const sumsByKey = new Map<string, number[]>();
    const add = (key: string, b: number, v: number) => {
      if (b < 0 || b >= q.buckets) return;
      let s = sumsByKey.get(key);
      if (!s) sumsByKey.set(key, (s = new Array<number>(q.buckets).fill(0)));
      s[b] += v;
    };
    // The key is computed once per row in a subquery: an arrayJoin written twice would multiply the rows.
    const keyed = `(SELECT ${q.bucket} AS b, ${split.key} AS k, ${q.m} AS mv ${q.fromWhere})`;
    const cap = this.options.maxGroupRows ?? MAX_GROUP_ROWS;
    const grouped = await this.runner.queryRows<{ b: number; k: string; v: number }>(
      `SELECT b, k, sum(mv) AS v FROM ${keyed} GROUP BY b, k LIMIT ${Math.floor(cap) + 1}`, q.params);
    let other: number[] | null = null;
    let ranked: string[];
    if (grouped.length <= cap) {
      for (const r of grouped) add(String(r.k), Number(r.b), Number(r.v));
      const totals = [...sumsByKey].map(([k, s]) => [k, s.reduce((a, b) => a + b, 0)] as const);
      totals.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      ranked = totals.slice(0, top).map(([k]) => k);
      const rest = totals.slice(top);
      if (rest.length) {
        other = new Array<number>(q.buckets).fill(0);
        for (const [k] of rest) sumsByKey.get(k)!.forEach((v, i) => (other![i] += v));
      }
    } else {
      // Many keys (addresses, ports): rank them in ClickHouse, then read the top ones and the rest per bucket.
      const best = await this.runner.queryRows<{ k: string; t: number }>(
        `SELECT k, sum(mv) AS t FROM ${keyed} GROUP BY k ORDER BY t DESC, k LIMIT {ts_top:UInt32}`,
        { ...q.params, ts_top: top });
      ranked = best.map((r) => String(r.k));
      sumsByKey.clear();
      const rows = await this.runner.queryRows<{ b: number; kk: string; it: number; v: number }>(
        `SELECT b, has({ts_keys:Array(String)}, k) AS it, if(it, k, '') AS kk, sum(mv) AS v FROM ${keyed} GROUP BY b, it, kk`,
        { ...q.params, ts_keys: ranked });
      for (const r of rows) {
        if (Number(r.it)) add(String(r.kk), Number(r.b), Number(r.v));
        else {
          other ??= new Array<number>(q.buckets).fill(0);
          if (r.b >= 0 && r.b < q.buckets) other[Number(r.b)] += Number(r.v);
        }
      }
    }
    const out = ranked.map((k) => q.toSeries(split.name(k), sumsByKey.get(k) ?? new Array<number>(q.buckets).fill(0)));
    if (other) {
      // "other" is everything not named: a key that is itself called "other" (nfsen's protocol split) takes the rest.
      const same = out.findIndex((s) => s.name === 'other');
      const o = q.toSeries('other', other);
      if (same >= 0) {
        out[same] = { name: 'other', values: out[same]!.values.map((v, i) => v + o.values[i]!), total: out[same]!.total + o.total };
      } else out.push(o);
    }
    return out;
  }

  /** One series per channel: its filter AND the request's, in one pass, negated for a -1 sign. */
  private async channelSeries(channels: Channel[], conds: CompiledFilter[], q: QueryParts): Promise<Series[]> {
    if (channels.length === 0) return [];
    const sumsSql = conds.map((c, i) => `sumIf(${q.m}, ${c.sql}) AS v${i}`).join(', ');
    const params = Object.assign({}, q.params, ...conds.map((c) => c.params));
    const rows = await this.runner.queryRows<Record<string, number>>(`SELECT ${q.bucket} AS b, ${sumsSql} ${q.fromWhere} GROUP BY b`, params);
    return channels.map((ch, i) => {
      const sums = new Array<number>(q.buckets).fill(0);
      for (const r of rows) if (r.b! >= 0 && r.b! < q.buckets) sums[Number(r.b)] += Number(r[`v${i}`]);
      return q.toSeries(ch.name, sums, ch.sign);
    });
  }
}

interface QueryParts {
  bucket: string;
  fromWhere: string;
  m: string;
  params: Record<string, unknown>;
  buckets: number;
  toSeries: (name: string, sums: number[], sign?: number) => Series;
}
