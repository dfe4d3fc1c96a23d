// GET /api/v1/timeseries: bits/packets/flows per second over a window, split into the top N series (by
// portgroup, VIP, protocol, any -s element, or the saved channels) plus "other", for the dashboard's charts.
// The table (raw flows or a rollup) is chosen per request; see collector/src/query/rollupPlanner.ts.
import type { FastifyInstance } from 'fastify';
import type { QueryRunner } from '@dvflow/collector/src/query/flowQuery.ts';
import { compileFilter } from '@dvflow/collector/src/query/filterSql.ts';
import {
  TimeSeriesQuery, TimeSeriesError, timeSeriesMetrics, namedSplits, MAX_TOP, type TimeSeriesRequest,
} from '@dvflow/collector/src/query/timeSeries.ts';
import type { ChannelStore } from './channels.ts';
import { errorSchema } from './errorSchema.ts';

export interface TimeSeriesRouteOptions {
  /** Raw SQL access to the store; null: this process cannot answer (503). */
  runner: QueryRunner | null;
  channels: ChannelStore;
  /** Table retention from the config, so expired rollups are not used. */
  retention?: Partial<Record<string, string>>;
}

/** The query string is the request without the channels (those come from the channel store). */
type Query = Omit<TimeSeriesRequest, 'channels'>;


export default async function timeSeriesRoutes(app: FastifyInstance, opts: TimeSeriesRouteOptions): Promise<void> {
  const ts = opts.runner ? new TimeSeriesQuery(opts.runner, compileFilter, { retention: opts.retention }) : null;

  app.get<{ Querystring: Query }>('/timeseries', {
    schema: {
      summary: 'Traffic over time, split into the top N series and "other"',
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          metric: { type: 'string', enum: [...timeSeriesMetrics], default: 'bps', description: 'bits, packets or flows per second' },
          split: {
            type: 'string', maxLength: 64, default: 'none',
            description: `${namedSplits.join(' | ')} | any -s element (srcip, dstport, vm ...). portgroup: the in portgroup, else the out one; protocol: TCP/UDP/ICMP/other; channel: one series per saved channel`,
          },
          filter: { type: 'string', maxLength: 65536, description: 'nfdump filter expression' },
          from: { type: 'integer', minimum: 0, description: 'window start, ms since epoch (default: to - 1 h); widened down to a whole step' },
          to: { type: 'integer', minimum: 0, description: 'window end, ms since epoch (default: now); widened up to a whole step' },
          top: { type: 'integer', minimum: 1, maximum: MAX_TOP, default: 10, description: 'series shown besides "other"' },
          step: { type: 'integer', minimum: 1, maximum: 31 * 86400, description: 'bucket width, seconds (default: 100-300 buckets over the window)' },
        },
      },
      response: {
        200: {
          type: 'object',
          properties: {
            from: { type: 'integer', description: 'first bucket start, ms' },
            to: { type: 'integer', description: 'end of the last bucket, ms' },
            step: { type: 'integer', description: 'seconds' },
            metric: { type: 'string' },
            split: { type: 'string' },
            table: { type: 'string', enum: ['flows', 'flows_1m', 'flows_5m', 'flows_1h'], description: 'the table that answered' },
            times: { type: 'array', items: { type: 'number' }, description: 'bucket starts, ms' },
            series: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  name: { type: 'string' },
                  values: { type: 'array', items: { type: 'number' }, description: 'per second, one per bucket' },
                  total: { type: 'number', description: 'over the window: bits (bps), packets (pps) or flows (fps)' },
                },
              },
            },
            elapsedMs: { type: 'number' },
          },
        },
        400: errorSchema,
        503: errorSchema,
      },
    },
  }, async (req, reply) => {
    if (!ts) return reply.code(503).send({ error: 'Service Unavailable', message: 'this process has no flow store to chart' });
    const q = req.query;
    try {
      return await ts.run({
        metric: q.metric, split: q.split, filter: q.filter, from: q.from, to: q.to, top: q.top, step: q.step,
        channels: q.split?.trim().toLowerCase() === 'channel' ? opts.channels.list() : undefined,
      });
    } catch (e) {
      if (e instanceof TimeSeriesError) {
        return reply.code(400).send({ error: 'Bad Request', message: e.message, ...(e.position !== undefined ? { position: e.position } : {}) });
      }
      throw e;
    }
  });
}
