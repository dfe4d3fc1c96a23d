// Reads the `alerts` table for the API, the CLI and the dashboard. The filter is the nfdump language: it is compiled
// by the one filter module against an alert seen as a flow (its source, destination, destination port, protocol,
// VIP and portgroup), so `dvflow alerts 'dst ip 10.0.0.9 and dst port 22'` means what users expect. Terms about what
// an alert does not have (bytes, flags, interfaces ...) are refused with a message, not matched against nothing.
import { compileSql, describeFilter, FilterError } from '../filter/index.ts';
import { SEVERITIES, type AlertRow, type AlertSample, type Severity } from '../ids/alertShapes.ts';
import type { QueryRunner } from './flowQuery.ts';

export interface AlertListQuery {
  /** Window (ms): alerts whose evidence overlaps it. */
  from?: number;
  to?: number;
  filter?: string;
  detectors?: string[];
  minSeverity?: Severity;
  /** Newest first, at most this many (default 100, at most 10,000). */
  limit?: number;
}

export type { AlertRow } from '../ids/alertShapes.ts';

export interface AlertListResult {
  alerts: AlertRow[];
  /** Alerts matching (all of them, not only those listed), by detector and by severity. */
  total: number;
  byDetector: Record<string, number>;
  bySeverity: Record<string, number>;
}

/** Columns of `flows` a filter may read on alerts, and what they are on an alert. */
const ALERT_AS_FLOW: Record<string, string> = {
  src_addr: 'src_addr',
  dst_addr: 'dst_addr',
  src_port: 'toUInt16(0)',
  dst_port: 'dst_port',
  proto: 'proto',
  vip: 'vip',
  in_portgroup: 'portgroup',
  out_portgroup: 'portgroup',
};

export class AlertQueryError extends Error {
  override name = 'AlertQueryError';
  constructor(message: string, readonly position?: number) {
    super(message);
  }
}

/** The WHERE part for a filter on alerts, or a clear error. */
export function compileAlertFilter(text: string): { sql: string; params: Record<string, unknown> } {
  try {
    const d = describeFilter(text);
    const other = d.columns.filter((c) => !(c in ALERT_AS_FLOW));
    if (other.length) {
      throw new AlertQueryError(`not supported on alerts: the filter reads ${other.join(', ')}; alerts have source and destination address, destination port, protocol, VIP and portgroup`);
    }
    const { sql, params } = compileSql(text, { paramPrefix: 'af' });
    return { sql, params };
  } catch (e) {
    if (e instanceof FilterError) throw new AlertQueryError(e.message, e.position);
    throw e;
  }
}

const SELECT = `toString(id) AS id, toUnixTimestamp64Milli(time) AS time, toUnixTimestamp64Milli(last) AS last,
  toUnixTimestamp64Milli(raised) AS raised, toUnixTimestamp64Milli(updated) AS updated, detector, toString(severity) AS severity,
  summary, subject, replaceRegexpOne(toString(src_addr), '^::ffff:', '') AS src, replaceRegexpOne(toString(dst_addr), '^::ffff:', '') AS dst,
  dst_port AS dstPort, proto, vip, portgroup, origin, capture, sid, classtype, occurrences, counts, samples`;

interface RawRow extends Omit<AlertRow, 'samples' | 'src' | 'dst'> {
  src: string;
  dst: string;
  samples: string;
}

function toRow(r: RawRow): AlertRow {
  let samples: AlertSample[] = [];
  try {
    samples = JSON.parse(r.samples) as AlertSample[];
  } catch {
    // A row written by a broken build: show the alert without its samples.
  }
  return {
    ...r, src: r.src === '::' ? '' : r.src, dst: r.dst === '::' ? '' : r.dst, time: Number(r.time), last: Number(r.last),
    raised: Number(r.raised), updated: Number(r.updated), dstPort: Number(r.dstPort),
    proto: Number(r.proto), sid: Number(r.sid), occurrences: Number(r.occurrences), samples,
  };
}

function whereOf(q: AlertListQuery): { where: string; params: Record<string, unknown> } {
  const parts: string[] = [];
  const params: Record<string, unknown> = {};
  if (q.from !== undefined) {
    parts.push('last >= fromUnixTimestamp64Milli({from:Int64})');
    params.from = q.from;
  }
  if (q.to !== undefined) {
    parts.push('time < fromUnixTimestamp64Milli({to:Int64})');
    params.to = q.to;
  }
  if (q.detectors?.length) {
    parts.push('detector IN {detectors:Array(String)}');
    params.detectors = q.detectors;
  }
  if (q.minSeverity) {
    const rank = SEVERITIES.indexOf(q.minSeverity);
    if (rank < 0) throw new AlertQueryError(`severity must be one of ${SEVERITIES.join(', ')}`);
    parts.push('CAST(severity, \'Int8\') >= {sev:Int8}');
    params.sev = rank;
  }
  if (q.filter && q.filter.trim()) {
    const f = compileAlertFilter(q.filter);
    parts.push(f.sql);
    Object.assign(params, f.params);
  }
  return { where: parts.length ? parts.join(' AND ') : '1', params };
}

/** The alerts as flows-like columns, newest version of each (FINAL), for the filter to read. */
const SOURCE = `(SELECT *, ${Object.entries(ALERT_AS_FLOW).filter(([k, v]) => k !== v).map(([k, v]) => `${v} AS ${k}`).join(', ')} FROM alerts FINAL)`;

export async function listAlerts(runner: QueryRunner, q: AlertListQuery): Promise<AlertListResult> {
  const { where, params } = whereOf(q);
  const limit = Math.min(Math.max(1, q.limit ?? 100), 10_000);
  const [rows, facets] = await Promise.all([
    // Filter and limit inside, format outside: the output names (time in ms ...) would shadow the columns.
    runner.queryRows<RawRow>(`SELECT ${SELECT} FROM (SELECT * FROM ${SOURCE} WHERE ${where} ORDER BY time DESC, id LIMIT ${limit}) ORDER BY time DESC, id`, params),
    runner.queryRows<{ detector: string; sev: string; n: number }>(
      `SELECT detector, toString(severity) AS sev, count() AS n FROM ${SOURCE} WHERE ${where} GROUP BY detector, sev`, params),
  ]);
  const byDetector: Record<string, number> = {};
  const bySeverity: Record<string, number> = {};
  let total = 0;
  for (const f of facets) {
    const n = Number(f.n);
    total += n;
    byDetector[f.detector] = (byDetector[f.detector] ?? 0) + n;
    bySeverity[f.sev] = (bySeverity[f.sev] ?? 0) + n;
  }
  return { alerts: rows.map(toRow), total, byDetector, bySeverity };
}

export async function getAlert(runner: QueryRunner, id: string): Promise<AlertRow | null> {
  const rows = await runner.queryRows<RawRow>(`SELECT ${SELECT} FROM (SELECT * FROM alerts FINAL WHERE id = {id:UUID} LIMIT 1)`, { id });
  return rows[0] ? toRow(rows[0]) : null;
}
