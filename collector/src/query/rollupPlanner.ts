// Which table answers a time-series (or any aggregate) question: the raw `flows` table or one of the rollups
// `flows_1m`, `flows_5m`, `flows_1h` (schema/002_rollups.sql, 004, 006, 009). A rollup row sums
// the flows/packets/bytes of every flow with the same dimensions whose START (`first`) falls in its bucket, so:
//
//   - it can only answer questions about its dimension columns (a filter on `dst_port` or `bytes > 1000`, a
//     split by source address: raw table);
//   - it can only answer buckets that are whole multiples of its granularity, starting on its boundaries;
//   - it answers "flows that STARTED in [from, to)", not nfdump's -t rule (flows wholly inside the window).
//     The time-series endpoint therefore asks that question of the raw table too (it buckets raw flows by
//     `first` as well), so the answer does not change with the table that gives it.
//   - a rollup's rows expire after its retention (config `retention.flows_1m` ...): a window that starts
//     before that is answered by a finer table that still holds the data (ultimately the raw table).
//
// Among the tables that fit, the coarsest wins: fewest rows to read.
import { parseFilter, lowerFilter, type CompileOptions, type Predicate } from '../filter/index.ts';

export type FlowTable = 'flows' | 'flows_1m' | 'flows_5m' | 'flows_1h';

export interface TablePlan {
  table: FlowTable;
  /** The column a row's time is in: `time` (bucket start, DateTime) in rollups, `first` (flow start) in raw. */
  timeColumn: 'time' | 'first';
  /** Seconds a row covers: 0 for raw flows (any step works). */
  granularitySec: number;
}

/** The dimension columns every rollup keeps (the GROUP BY of the materialized views). */
export const rollupDimensions: ReadonlySet<string> = new Set([
  'exporter', 'version', 'domain', 'exporter_name', 'source', 'proto', 'in_if', 'out_if', 'src_vlan', 'dst_vlan',
  'direction', 'src_tos', 'in_portgroup', 'out_portgroup', 'vip', 'vip_leg', 'backend', 'duplicate', 'in_vm', 'out_vm',
]);

interface Rollup {
  table: Exclude<FlowTable, 'flows'>;
  granularitySec: number;
}

/** Coarsest first. */
const rollups: readonly Rollup[] = [
  { table: 'flows_1h', granularitySec: 3600 },
  { table: 'flows_5m', granularitySec: 300 },
  { table: 'flows_1m', granularitySec: 60 },
];

export interface ChooseTableOptions {
  /** Every `flows` column the filter and the split/group-by read. */
  columns: ReadonlySet<string>;
  /** ms since epoch; from inclusive, to exclusive. */
  window?: { from?: number; to?: number };
  /** Bucket width; undefined = one bucket for the whole window (any rollup granularity will do). */
  stepSec?: number;
  /** ms since epoch; default Date.now(). */
  now?: number;
  /** Retention per table as in the config (`{ flows: '30 DAY', flows_1m: '7 DAY', ... }`); missing = kept for ever. */
  retention?: Partial<Record<string, string>>;
}

const unitMs: Record<string, number> = {
  SECOND: 1000, MINUTE: 60_000, HOUR: 3_600_000, DAY: 86_400_000, WEEK: 7 * 86_400_000,
  // ClickHouse adds calendar months/years; the shortest ones keep the check on the safe side.
  MONTH: 28 * 86_400_000, YEAR: 365 * 86_400_000,
};

/** '7 DAY' -> ms; undefined for anything else (then the table is taken as kept for ever). */
export function retentionMs(spec: string | undefined): number | undefined {
  const m = /^\s*(\d+)\s+(SECOND|MINUTE|HOUR|DAY|WEEK|MONTH|YEAR)S?\s*$/i.exec(spec ?? '');
  return m ? Number(m[1]) * unitMs[m[2]!.toUpperCase()]! : undefined;
}

function fits(r: Rollup, o: ChooseTableOptions, now: number): boolean {
  for (const c of o.columns) if (!rollupDimensions.has(c)) return false;
  const g = r.granularitySec;
  if (o.stepSec !== undefined && (o.stepSec <= 0 || o.stepSec % g !== 0)) return false;
  const from = o.window?.from;
  const to = o.window?.to;
  const gMs = g * 1000;
  if (from !== undefined && from % gMs !== 0) return false;
  // A bucket that straddles the end would count flows that started after it, unless nothing is stored after
  // the end yet (a window ending now).
  if (to !== undefined && to % gMs !== 0 && to < now) return false;
  const keep = retentionMs(o.retention?.[r.table]);
  if (keep !== undefined) {
    if (from === undefined) {
      // An open start means "everything": only a rollup that keeps at least as long as the raw table has it.
      const raw = retentionMs(o.retention?.flows);
      if (raw === undefined || keep < raw) return false;
    } else if (from < now - keep) {
      return false;
    }
  }
  return true;
}

/** The coarsest rollup that can answer exactly, else the raw table. */
export function chooseTable(o: ChooseTableOptions): TablePlan {
  const now = o.now ?? Date.now();
  for (const r of rollups) {
    if (fits(r, o, now)) return { table: r.table, timeColumn: 'time', granularitySec: r.granularitySec };
  }
  return { table: 'flows', timeColumn: 'first', granularitySec: 0 };
}

/** Columns a derived filter field is computed from (see collector/src/filter/filterFields.ts). */
const derivedColumns: Record<string, string[]> = {
  duration: ['first', 'last'],
  pps: ['packets', 'first', 'last'],
  bps: ['bytes', 'first', 'last'],
  bpp: ['bytes', 'packets'],
};

function collect(p: Predicate, out: Set<string>): void {
  switch (p.op) {
    case 'const':
      return;
    case 'and':
    case 'or':
      for (const i of p.items) collect(i, out);
      return;
    case 'not':
      collect(p.item, out);
      return;
    case 'cmp':
    case 'in':
      for (const c of derivedColumns[p.field] ?? [p.field]) out.add(c);
      return;
    case 'flags':
      out.add('tcp_flags');
      return;
    case 'addr':
    case 'str':
    case 'hasItem':
      out.add(p.field);
      return;
    case 'sameTtl':
      out.add('min_ttl');
      out.add('max_ttl');
      return;
    default: {
      // A new predicate must name its columns here, or a rollup would be asked for a column it does not keep.
      const unhandled: never = p;
      throw new Error(`unknown predicate ${JSON.stringify(unhandled)}`);
    }
  }
}

/** The `flows` columns a filter reads (empty for an empty filter); throws FilterError as compileSql does. */
export function filterColumns(filterText: string, compileOptions: CompileOptions = {}): Set<string> {
  const out = new Set<string>();
  if (filterText.trim() === '') return out;
  collect(lowerFilter(parseFilter(filterText), compileOptions), out);
  return out;
}
