// The request body of POST /api/v1/query as the dashboard sends it (the route turns from/to into the query's
// window), and the answer's shapes, which are the server's own (collector/src/query/queryShapes.ts, no imports)
// under the names the dashboard uses. No DOM here: the API client and the plain modules node's tests load
// (resultTable, queryCommand) both use this.
export type {
  FlowRow, QueryResponse, StatRow, Summary as QuerySummary, StatResult as Statistic,
} from '../../../collector/src/query/queryShapes.ts';

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
