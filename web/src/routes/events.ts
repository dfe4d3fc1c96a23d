// GET /api/v1/events: server-sent events for "now" windows. `event: flows` with {time, rows} when flows have
// been stored (batched to at most one event a second, whatever the insert rate), `event: alert` for each new IDS
// alert, and a `: keepalive` comment every 15 s so proxies keep the stream open. One subscription to the writer serves every client.
import type { FastifyInstance } from 'fastify';
import type { ServerResponse } from 'node:http';
import type { AlertEvent } from '@dvflow/collector/src/ids/alertShapes.ts';

/** What the batch writer is: an emitter of 'inserted' (rows, ms) after each insert into `flows`. */
export interface FlowEvents {
  on(event: 'inserted', listener: (rows: number, ms: number) => void): unknown;
  off(event: 'inserted', listener: (rows: number, ms: number) => void): unknown;
}

/** The IDS: an emitter of 'alert' for each new alert. */
export interface AlertEvents {
  on(event: 'alert', listener: (a: AlertEvent) => void): unknown;
  off(event: 'alert', listener: (a: AlertEvent) => void): unknown;
}

export interface EventRouteOptions {
  /** null: no IDS in this process. */
  alertEvents?: AlertEvents | null;
  /** null: this process stores no flows (web role); the stream then carries only keepalives. */
  flowEvents: FlowEvents | null;
  /** ms between events at most once (default 1000) and between keepalives (default 15000): tests shorten them. */
  minIntervalMs?: number;
  keepaliveMs?: number;
}

export default async function eventRoutes(app: FastifyInstance, opts: EventRouteOptions): Promise<void> {
  const minInterval = opts.minIntervalMs ?? 1000;
  const clients = new Set<ServerResponse>();
  let pendingRows = 0;
  let lastSent = 0;
  let timer: NodeJS.Timeout | null = null;

  const broadcast = () => {
    timer = null;
    lastSent = Date.now();
    const msg = `event: flows\ndata: ${JSON.stringify({ time: lastSent, rows: pendingRows })}\n\n`;
    pendingRows = 0;
    for (const c of clients) c.write(msg);
  };
  const onInserted = (rows: number) => {
    pendingRows += rows;
    if (timer || clients.size === 0) {
      if (clients.size === 0) pendingRows = 0;
      return;
    }
    const wait = lastSent + minInterval - Date.now();
    if (wait <= 0) broadcast();
    else timer = setTimeout(broadcast, wait);
  };
  opts.flowEvents?.on('inserted', onInserted);
  // Alerts are rare and each matters: sent at once, one event each (only what a notification needs).
  const onAlert = (a: AlertEvent) => {
    const msg = `event: alert\ndata: ${JSON.stringify({ id: a.id, time: a.time, detector: a.detector, severity: a.severity, summary: a.summary })}\n\n`;
    for (const c of clients) c.write(msg);
  };
  opts.alertEvents?.on('alert', onAlert);

  const keepalive = setInterval(() => {
    for (const c of clients) c.write(': keepalive\n\n');
  }, opts.keepaliveMs ?? 15_000);
  keepalive.unref();

  // Open streams would hold app.close() forever: end them first.
  app.addHook('preClose', async () => {
    for (const c of clients) c.end();
    clients.clear();
  });
  app.addHook('onClose', async () => {
    clearInterval(keepalive);
    if (timer) clearTimeout(timer);
    opts.flowEvents?.off('inserted', onInserted);
    opts.alertEvents?.off('alert', onAlert);
  });

  app.get('/events', {
    schema: {
      summary: 'Server-sent events: `flows` {time, rows} when flows are stored (at most 1/s); `alert` {id, time, detector, severity, summary} for each new alert; keepalive comments every 15 s',
      produces: ['text/event-stream'],
    },
  }, async (_req, reply) => {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    // Tells the browser how soon to reconnect, and flushes the headers.
    res.write('retry: 3000\n\n');
    clients.add(res);
    // The response closes when the client goes away (the request object may close as soon as it is read).
    res.on('close', () => clients.delete(res));
  });
}
