// GET /api/v1/vips/:name/stickiness: per VIP and window, how many clients reached more than one real server
// ("clients moved"), whether the VIP's config asks for persistence, and example moved clients. The measure and
// its limits: collector/src/query/vipStickiness.ts.
import type { FastifyInstance } from 'fastify';
import type { QueryRunner } from '@dvflow/collector/src/query/flowQuery.ts';
import type { InventoryService } from '@dvflow/collector/src/inventory/inventoryService.ts';
import { VipStickinessQuery, StickinessError, MAX_STICKINESS_EXAMPLES } from '@dvflow/collector/src/query/vipStickiness.ts';
import { errorSchema } from './errorSchema.ts';

export interface VipStickinessRouteOptions {
  /** Raw SQL access to the store; null: this process cannot answer (503). */
  runner: QueryRunner | null;
  /** The VIPs; null: this process keeps no inventory (503). */
  inventory: InventoryService | null;
}


const serverSchema = {
  type: 'object',
  properties: {
    server: { type: 'string' },
    flows: { type: 'integer' },
    bytes: { type: 'number' },
    first: { type: 'integer', description: 'ms since epoch' },
    last: { type: 'integer', description: 'ms since epoch' },
  },
} as const;

const responseSchema = {
  type: 'object',
  properties: {
    vip: { type: 'string' },
    lbKind: { type: 'string', enum: ['proxy', 'nat', 'dr', 'tun'] },
    from: { type: 'integer', description: 'window start, ms (inclusive)' },
    to: { type: 'integer', description: 'window end, ms (exclusive)' },
    measurable: { type: 'boolean', description: 'whether flows can tie a client to a real server for this VIP' },
    reason: { type: 'string', description: 'why not, when measurable is false' },
    legs: { type: 'array', items: { type: 'string' }, description: 'the legs that tie a client to a server' },
    transparentProxy: { type: 'boolean', description: 'a proxy whose connections to the servers come from the client addresses' },
    persistent: { type: 'boolean', description: 'the config asks to keep each client on one server: moves matter' },
    persistence: { type: 'array', items: { type: 'string' }, description: 'what in the config asks for it' },
    clients: { type: 'integer', description: 'client addresses that reached a real server' },
    moved: { type: 'integer', description: 'of those, the ones that reached more than one' },
    movedShare: { type: 'number', description: 'moved / clients' },
    examples: {
      type: 'array',
      maxItems: MAX_STICKINESS_EXAMPLES,
      items: { type: 'object', properties: { client: { type: 'string' }, servers: { type: 'array', items: serverSchema } } },
    },
    unattributedFlows: { type: 'integer', description: 'direct-return flows naming no real server (left out)' },
    notes: { type: 'array', items: { type: 'string' } },
    elapsedMs: { type: 'number' },
  },
} as const;

export default async function vipStickinessRoutes(app: FastifyInstance, opts: VipStickinessRouteOptions): Promise<void> {
  const q = opts.runner ? new VipStickinessQuery(opts.runner) : null;
  const inv = opts.inventory;

  app.get<{ Params: { name: string }; Querystring: { from?: number; to?: number } }>('/vips/:name/stickiness', {
    schema: {
      summary: 'Clients that moved between a VIP\'s real servers in a window, and whether the VIP asks for persistence',
      params: { type: 'object', required: ['name'], properties: { name: { type: 'string', minLength: 1, maxLength: 256 } } },
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          from: { type: 'integer', minimum: 0, description: 'window start, ms since epoch (default: to - 1 h); flows that started in [from, to)' },
          to: { type: 'integer', minimum: 0, description: 'window end, ms since epoch (default: now)' },
        },
      },
      response: { 200: responseSchema, 400: errorSchema, 404: errorSchema, 503: errorSchema },
    },
  }, async (req, reply) => {
    if (!q) return reply.code(503).send({ error: 'Service Unavailable', message: 'this process has no flow store to query' });
    if (!inv) return reply.code(503).send({ error: 'Service Unavailable', message: 'this process keeps no inventory' });
    const vips = inv.current().vips.vips;
    const vip = vips.find((v) => v.name === req.params.name);
    if (!vip) return reply.code(404).send({ error: 'Not Found', message: `no VIP '${req.params.name}'` });
    try {
      return await q.run(vip, { from: req.query.from, to: req.query.to }, vips);
    } catch (e) {
      if (e instanceof StickinessError) return reply.code(400).send({ error: 'Bad Request', message: e.message });
      throw e;
    }
  });
}
