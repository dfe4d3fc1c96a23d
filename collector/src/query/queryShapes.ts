// The shapes of a query's answer (POST /api/v1/query, FlowQuery.run): the server builds them, the CLI prints them
// and the dashboard (web/ui) draws them. No imports, so the dashboard's bundle and its node tests can use them
// as they are.

/** Orders of -s statistics and -O listings (nfdump's names). */
export const statOrders = ['flows', 'packets', 'bytes', 'pps', 'bps', 'bpp', 'tstart', 'tend'] as const;
export type StatOrder = (typeof statOrders)[number];

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
  /** Text for addresses and names, a number for ports, protocols, interfaces... */
  key: string | number;
  /** With ':p' (split by protocol). */
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
  /** Tables that answered (raw `flows`, or a rollup for the summary and rollup-friendly statistics). */
  answeredFrom?: string[];
}
