// GET /api/v1/alerts: IDS alerts in a window. The IDS issue fills it; until then the list is empty and the
// dashboard shows its empty state. The parameters are checked already so clients get the final contract.
import type { FastifyInstance } from 'fastify';

interface Query {
  from?: number;
  to?: number;
  filter?: string;
}

export default async function alertRoutes(app: FastifyInstance): Promise<void> {
  app.get<{ Querystring: Query }>('/alerts', {
    schema: {
      summary: 'IDS alerts in a window (empty until the IDS lands)',
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          from: { type: 'integer', minimum: 0, description: 'ms since epoch' },
          to: { type: 'integer', minimum: 0, description: 'ms since epoch' },
          filter: { type: 'string', maxLength: 65536, description: 'nfdump filter expression' },
        },
      },
      response: {
        200: { type: 'object', properties: { alerts: { type: 'array', items: { type: 'object', additionalProperties: true } } } },
        400: { type: 'object', properties: { error: { type: 'string' }, message: { type: 'string' } } },
      },
    },
  }, async (req, reply) => {
    const { from, to } = req.query;
    if (from !== undefined && to !== undefined && from > to) {
      return reply.code(400).send({ error: 'Bad Request', message: `the window ends before it starts: from ${from} > to ${to}` });
    }
    return { alerts: [] };
  });
}
