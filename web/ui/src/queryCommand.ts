// The Explore form as a POST /query body and as the equivalent `dvflow query` command line, so what the page
// shows can be pasted into a shell and gives the same answer. Flags are the CLI's (collector/src/cli/main.ts):
// -t window, -s stat (repeatable), -n top N, -c limit, -O order, -a, -A fields, -b, -P post-filter, filter last.
import type { QueryRequest } from './queryTypes.ts';

export type ExploreMode = 'list' | 'stats';

export const STAT_ORDERS = ['flows', 'packets', 'bytes', 'pps', 'bps', 'bpp'] as const;
export const LIST_ORDERS = ['flows', 'packets', 'bytes', 'pps', 'bps', 'bpp', 'tstart', 'tend'] as const;

export interface StatChoice {
  /** -s element: srcip, dstport, portgroup, ... */
  element: string;
  /** Orders (at least one; nfdump's /order/order). */
  orders: string[];
  /** :p, split by protocol. */
  byProto?: boolean;
}

export interface ExploreForm {
  mode: ExploreMode;
  filter: string;
  /** Statistics mode. */
  stats: StatChoice[];
  topN: number;
  /** Listing mode. */
  limit: number;
  order: string;
  aggregate: boolean;
  /** -A, comma separated ('' = none). */
  aggregateFields: string;
  bidirectional: boolean;
  postFilter: string;
}

/** The window as the query sends it: whole seconds; `live` = ending now (shown as -t -SECONDS). */
export interface QueryWindow {
  from: number;
  to: number;
  live: boolean;
}

/** 'srcip/bytes', 'dstport:p/flows/bytes'. */
export function statSpec(s: StatChoice): string {
  const orders = s.orders.length ? s.orders : ['flows'];
  return `${s.element}${s.byProto ? ':p' : ''}/${orders.join('/')}`;
}

/** Seconds, as both the UI request and the -t text carry them (the CLI's -t has no milliseconds). */
export function wholeSecondsWindow(w: { from: number; to: number; live: boolean }): QueryWindow {
  return { from: Math.floor(w.from / 1000) * 1000, to: Math.floor(w.to / 1000) * 1000, live: w.live };
}

export function queryBody(f: ExploreForm, w: QueryWindow): QueryRequest {
  const b: QueryRequest = { from: w.from, to: w.to };
  if (f.filter.trim()) b.filter = f.filter;
  if (f.mode === 'stats') {
    b.statistics = f.stats.filter((s) => s.element).map(statSpec);
    b.topN = f.topN;
    return b;
  }
  b.limit = f.limit;
  if (f.order) b.order = f.order;
  const fields = splitFields(f.aggregateFields);
  if (f.aggregate) b.aggregate = true;
  if (fields.length) b.aggregateFields = [fields.join(',')];
  if (f.bidirectional) b.bidirectional = true;
  if ((f.aggregate || fields.length || f.bidirectional) && f.postFilter.trim()) b.postFilter = f.postFilter;
  return b;
}

export function splitFields(s: string): string[] {
  return s.split(',').map((x) => x.trim()).filter((x) => x !== '');
}

const pad = (n: number) => (n < 10 ? `0${n}` : String(n));

/** nfdump's -t time, local time: yyyy/MM/dd.hh:mm:ss. */
export function nfdumpTime(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}/${pad(d.getMonth() + 1)}/${pad(d.getDate())}.${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** -t value: `-3600` for a window ending now (the CLI's relative form), else start-end. */
export function windowArg(w: QueryWindow): string {
  if (w.live) return `-${Math.max(1, Math.round((w.to - w.from) / 1000))}`;
  return `${nfdumpTime(w.from)}-${nfdumpTime(w.to)}`;
}

/** Quotes a word for a POSIX shell when it needs it. */
export function shellQuote(s: string): string {
  if (s !== '' && /^[A-Za-z0-9_\/.,:=@%+-]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export const DEFAULT_API = 'http://127.0.0.1:8080';

/** argv after `dvflow`: ['query', '-t', ..., filter]. */
export function queryArgs(f: ExploreForm, w: QueryWindow, api?: string): string[] {
  const a = ['query'];
  if (api && api !== DEFAULT_API) a.push('--api', api);
  a.push('-t', windowArg(w));
  const b = queryBody(f, w);
  if (f.mode === 'stats') {
    for (const s of b.statistics ?? []) a.push('-s', s);
    a.push('-n', String(f.topN));
  } else {
    if (b.aggregate) a.push('-a');
    if (b.aggregateFields) a.push('-A', b.aggregateFields[0]!);
    if (b.bidirectional) a.push('-b');
    if (b.postFilter) a.push('-P', b.postFilter);
    if (b.order) a.push('-O', b.order);
    a.push('-c', String(f.limit));
  }
  if (b.filter) {
    // A filter beginning with '-' would read as an option: end the options first.
    if (b.filter.trimStart().startsWith('-')) a.push('--');
    a.push(b.filter);
  }
  return a;
}

/** The command line to copy. */
export function queryCommand(f: ExploreForm, w: QueryWindow, api?: string): string {
  return ['dvflow', ...queryArgs(f, w, api)].map((x, i) => (i === 0 ? x : shellQuote(x))).join(' ');
}
