// POST /api/v1/query: nfdump-style queries (filter, window, statistics, listing) for the CLI and the UI.
import type { FastifyInstance } from 'fastify';
import { parseTimeWindow, TimeWindowError } from '@dvflow/collector/src/query/timeWindow.ts';
import { QueryError, type QueryRequest } from '@dvflow/collector/src/query/flowQuery.ts';
import { StatSpecError } from '@dvflow/collector/src/query/statElements.ts';
import { statOrders } from '@dvflow/collector/src/query/queryShapes.ts';

interface QueryBody {
  filter?: string;
  window?: string;
  from?: number;
  to?: number;
  statistics?: string[];
  topN?: number;
  limit?: number;
  order?: (typeof statOrders)[number];
  aggregate?: boolean;
  aggregateFields?: string[];
  bidirectional?: boolean;
  postFilter?: string;
}

export default async function queryRoutes(app: FastifyInstance): Promise<void> {
  app.post<{ Body: QueryBody }>('/query', {
    schema: {
      summary: 'Run an nfdump-style query',
      body: {
        type: 'object',
        additionalProperties: false,
        properties: {
          filter: { type: 'string', maxLength: 65536, description: 'nfdump filter expression' },
          window: { type: 'string', maxLength: 100, description: "nfdump -t window 'yyyy/MM/dd.hh:mm:ss[-yyyy/MM/dd.hh:mm:ss]'" },
          from: { type: 'integer', minimum: 0, description: 'window start, ms since epoch' },
          to: { type: 'integer', minimum: 0, description: 'window end, ms since epoch' },
          statistics: { type: 'array', maxItems: 16, items: { type: 'string', maxLength: 100 }, description: 'nfdump -s specs' },
          topN: { type: 'integer', minimum: 0, maximum: 100000 },
          limit: { type: 'integer', minimum: 0, maximum: 1000000 },
          order: { type: 'string', enum: [...statOrders] },
          aggregate: { type: 'boolean', description: 'nfdump -a: aggregate on the 5-tuple' },
          aggregateFields: { type: 'array', maxItems: 32, items: { type: 'string', maxLength: 200 }, description: "nfdump -A fields, e.g. ['srcip', 'dstport'] or ['srcip4/24,dstport']" },
          bidirectional: { type: 'boolean', description: 'nfdump -b: fold a flow and its reverse into one record' },
          postFilter: { type: 'string', maxLength: 65536, description: 'nfdump -P: filter applied to the aggregated records' },
        },
      },
    },
  }, async (req, reply) => {
    const b = req.body ?? {};
    const q: QueryRequest = { filter: b.filter, statistics: b.statistics, topN: b.topN, limit: b.limit, order: b.order,
      aggregate: b.aggregate, aggregateFields: b.aggregateFields, bidirectional: b.bidirectional, postFilter: b.postFilter };
    try {
      if (b.window) q.window = parseTimeWindow(b.window);
      else if (b.from !== undefined || b.to !== undefined) q.window = { from: b.from, to: b.to };
      return await app.dvflow.flowQuery.run(q);
    } catch (e) {
      const err = e as Error & { position?: number };
      if (e instanceof TimeWindowError || e instanceof StatSpecError || e instanceof QueryError || err.name === 'FilterError') {
        return reply.code(400).send({ error: err.name, message: err.message, ...(err.position !== undefined ? { position: err.position } : {}) });
      }
      throw e;
    }
  });
}
