// The HTTP face of dvflow: fastify with one plugin per concern, JSON schemas on every route, OpenAPI at
// /api/docs, Prometheus metrics at /metrics. Read-only routes are open on the bind address; routes that
// change things go through `requireToken`.
import Fastify, { type FastifyInstance, type FastifyRequest, type FastifyReply, type FastifyBaseLogger } from 'fastify';
import pino from 'pino';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { timingSafeEqual } from 'node:crypto';
import type { FlowQuery } from '@dvflow/collector/src/query/flowQuery.ts';
import type { ExporterRegistry } from '@dvflow/collector/src/collector/exporterRegistry.ts';
import type { InventoryService } from '@dvflow/collector/src/inventory/inventoryService.ts';
import type { QueryRunner } from '@dvflow/collector/src/query/flowQuery.ts';
import exporterRoutes from './routes/exporters.ts';
import queryRoutes from './routes/query.ts';
import pcapRoutes, { type PcapUploadTarget } from './routes/pcap.ts';
import { inventorySuggestions } from './inventorySuggestions.ts';
import timeSeriesRoutes from './routes/timeseries.ts';
import channelRoutes, { ChannelStore } from './routes/channels.ts';
import eventRoutes, { type FlowEvents } from './routes/events.ts';
import alertRoutes from './routes/alerts.ts';
import type { IdsService } from '@dvflow/collector/src/ids/idsService.ts';
import uiRoutes from './routes/ui.ts';

export interface DvflowContext {
  flowQuery: FlowQuery;
  exporters: ExporterRegistry | null;
  metrics: Registry;
  token: string;
  /** Portgroups and VIPs (null: this process keeps none). */
  inventory?: InventoryService | null;
  /** Extra health facts (store, collector). */
  health: () => Promise<Record<string, unknown>>;
  /** Capture ingest for POST /api/v1/pcap; absent when this process stores no flows (web role): 503. */
  pcap?: PcapUploadTarget | null;
  /** Raw SQL on the store, for the time series (absent: /timeseries answers 503). */
  runner?: QueryRunner | null;
  /** Data directory: saved channels go to <dataDir>/channels.json (absent: kept in memory only). */
  dataDir?: string;
  /** The flows batch writer ('inserted' events), for GET /api/v1/events; absent when this process stores none. */
  flowEvents?: FlowEvents | null;
  /** Table retention from the config (`retention`), so expired rollups are not used. */
  retention?: Partial<Record<string, string>>;
  /** The IDS of this process (absent for the web role: alerts are read from the store, rules cannot change). */
  ids?: IdsService | null;
  /** Facts about the IDS set-up for GET /api/v1/alerts/status. */
  idsStatus?: () => Record<string, unknown>;
  /** Built dashboard directory (default web/ui/dist). */
  uiDir?: string;
}

declare module 'fastify' {
  interface FastifyInstance {
    dvflow: DvflowContext;
    requireToken: (req: FastifyRequest, reply: FastifyReply) => Promise<void>;
  }
}

export async function buildServer(ctx: DvflowContext, log: Logger | false): Promise<FastifyInstance> {
  // pino's Logger and fastify's logger type differ only in generics; the instance is the same.
  const app = Fastify({
    loggerInstance: (log || pino({ level: 'silent' })) as unknown as FastifyBaseLogger,
    bodyLimit: 1024 * 1024,
    // Unknown keys are an error the caller should hear about, not something to drop silently.
    ajv: { customOptions: { removeAdditional: false } },
  }) as unknown as FastifyInstance;
  app.decorate('dvflow', ctx);
  app.decorate('requireToken', async (req: FastifyRequest, reply: FastifyReply) => {
    if (!ctx.token) return reply.code(403).send({ error: 'Forbidden', message: 'write routes are disabled: set http.token (or DVFLOW_HTTP_TOKEN)' });
    const got = Buffer.from((req.headers.authorization ?? '').replace(/^Bearer\s+/i, ''));
    const want = Buffer.from(ctx.token);
    if (got.length !== want.length || !timingSafeEqual(got, want)) {
      return reply.code(401).send({ error: 'Unauthorized', message: 'a valid bearer token is required' });
    }
  });
  app.setErrorHandler((err: Error & { statusCode?: number; validation?: unknown }, _req, reply) => {
    if (err.validation || (err.statusCode && err.statusCode < 500)) {
      return reply.code(err.statusCode ?? 400).send({ error: 'Bad Request', message: err.message });
    }
    app.log.error({ err }, 'request failed');
    return reply.code(500).send({ error: 'Internal Server Error', message: err.message });
  });

  await app.register(swagger, {
    openapi: { info: { title: 'dvflow API', version: '0.1.0', description: 'Flow monitoring for vSphere: NetFlow/IPFIX and pcaps in ClickHouse' } },
  });
  await app.register(swaggerUi, { routePrefix: '/api/docs' });

  const channels = ChannelStore.inDataDir(ctx.dataDir);
  if (channels.warning) app.log.warn(channels.warning);
  await app.register(async (api) => {
    api.get('/health', { schema: { summary: 'Liveness and store status' } }, async () => ({ ok: true, ...(await ctx.health()) }));
    await api.register(exporterRoutes);
    await api.register(queryRoutes);
    await api.register(pcapRoutes);
    await api.register((await import('./routes/filter.ts')).default, { suggestions: ctx.inventory ? inventorySuggestions(ctx.inventory, ctx.exporters) : undefined });
    await api.register((await import('./routes/inventory.ts')).default, { inventory: ctx.inventory ?? null });
    await api.register((await import('./routes/vipStickiness.ts')).default, { runner: ctx.runner ?? null, inventory: ctx.inventory ?? null });
    await api.register(timeSeriesRoutes, { runner: ctx.runner ?? null, channels, retention: ctx.retention });
    await api.register(channelRoutes, { channels });
    await api.register(eventRoutes, { flowEvents: ctx.flowEvents ?? null, alertEvents: ctx.ids ?? null });
    await api.register(alertRoutes, { runner: ctx.runner ?? null, ids: ctx.ids ?? null, status: ctx.idsStatus });
  }, { prefix: '/api/v1' });

  app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => {
    reply.header('content-type', ctx.metrics.contentType);
    return ctx.metrics.metrics();
  });
  await app.register(uiRoutes, { uiDir: ctx.uiDir });
  return app;
}
