// The shapes of POST /api/v1/query (collector/src/query/flowQuery.ts), in one place for the API client and
// the plain modules node's tests load (resultTable, queryCommand). No imports and no DOM, so both can use it.

export interface QueryRequest {
  filter?: string;
  from?: number;
  to?: number;
  statistics?: string[];
  topN?: number;
  limit?: number;
  order?: string;
  aggregate?: boolean;
  aggregateFields?: string[];
  bidirectional?: boolean;
  postFilter?: string;
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

export interface Statistic {
  element: string;
  title: string;
  column: string;
  kind: string;
  orderedBy: string;
  byProto: boolean;
  rows: StatRow[];
}

export interface QuerySummary {
  flows: number;
  bytes: number;
  packets: number;
  firstSeen: number;
  lastSeen: number;
  bps: number;
  pps: number;
  bpp: number;
}

export type FlowRow = Record<string, unknown>;

export interface QueryResponse {
  flows?: FlowRow[];
  statistics?: Statistic[];
  summary: QuerySummary;
}
