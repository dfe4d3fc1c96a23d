// GET /api/v1/exporters: every exporter with nfcapd-style counters and the sampling rate that applies.
import type { FastifyInstance } from 'fastify';

const exporterSchema = {
  type: 'object',
  properties: {
    key: { type: 'string' }, address: { type: 'string' }, port: { type: 'integer' }, version: { type: 'integer' },
    domain: { type: 'integer' }, packets: { type: 'integer' }, flows: { type: 'integer' }, bytes: { type: 'integer' },
    sequenceFailures: { type: 'integer' }, lostFlows: { type: 'integer' }, decodeErrors: { type: 'integer' },
    errorsByKind: { type: 'object', additionalProperties: { type: 'integer' } },
    templates: { type: 'integer' }, samplingRate: { type: 'integer' }, samplingSource: { type: 'string' },
    firstSeen: { type: 'string', format: 'date-time' }, lastSeen: { type: 'string', format: 'date-time' },
  },
} as const;

export default async function exporterRoutes(app: FastifyInstance): Promise<void> {
  app.get('/exporters', {
    schema: {
      summary: 'Exporters seen by the collector, with their counters',
      response: { 200: { type: 'object', properties: { exporters: { type: 'array', items: exporterSchema } } } },
    },
  }, async () => {
    const list = app.dvflow.exporters?.list() ?? [];
    return {
      exporters: list.map(({ delta: _d, ...e }) => ({ ...e, firstSeen: new Date(e.firstSeen).toISOString(), lastSeen: new Date(e.lastSeen).toISOString() })),
    };
  });
}
