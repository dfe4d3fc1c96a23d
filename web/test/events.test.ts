// GET /api/v1/events over a real socket: flows stored through the real writer into the real store become
// `event: flows` messages, batched to at most one a second; keepalive comments flow while nothing happens;
// closing the server ends open streams instead of hanging.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import Fastify, { type FastifyInstance } from 'fastify';
import pino from 'pino';
import { EventEmitter } from 'node:events';
import { buildServer } from '../src/server.ts';
import eventRoutes from '../src/routes/events.ts';
import { openTempStore } from '../../collector/test/helpers/tempStore.ts';
import { FlowQuery } from '../../collector/src/query/flowQuery.ts';
import { compileFilter } from '../../collector/src/query/filterSql.ts';
import { createCollectorMetrics } from '../../collector/src/collector/collectorMetrics.ts';
import { defaultConfig } from '../../collector/src/config/config.ts';
import { createFlowSink, type FlowSink } from '../../collector/src/ingest/flowSink.ts';
import { emptyFlowRecord, type FlowRecord } from '../../collector/src/flow/flowRecord.ts';
import type { ClickHouseStore } from '../../collector/src/storage/clickhouseStore.ts';

let app: FastifyInstance;
let url: string;
let sink: FlowSink;
let store: ClickHouseStore;
let cleanup: () => Promise<void>;

before(async () => {
  const t = await openTempStore();
  store = t.store;
  cleanup = t.cleanup;
  const metrics = createCollectorMetrics();
  sink = createFlowSink({ store, config: { ...defaultConfig, writer: { ...defaultConfig.writer, flushMs: 20 } }, log: pino({ level: 'silent' }), metrics });
  app = await buildServer({
    flowQuery: new FlowQuery(store, compileFilter), exporters: null, metrics: metrics.registry, token: '', health: async () => ({}),
    runner: store, flowEvents: sink.writer,
  }, false);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const a = app.server.address() as { port: number };
  url = `http://127.0.0.1:${a.port}/api/v1/events`;
});
after(async () => {
  await app.close();
  await sink.close();
  await cleanup();
});

/** Reads an SSE stream and collects what it says. */
class SseReader {
  readonly events: Array<{ event: string; data: unknown }> = [];
  readonly comments: string[] = [];
  text = '';
  private constructor(private readonly reader: ReadableStreamDefaultReader<Uint8Array>, readonly response: Response) {}

  static async open(u: string): Promise<SseReader> {
    const res = await fetch(u, { headers: { accept: 'text/event-stream' } });
    const r = new SseReader(res.body!.getReader(), res);
    void r.pump();
    return r;
  }

  private async pump(): Promise<void> {
    const dec = new TextDecoder();
    let buf = '';
    for (;;) {
      let chunk;
      try {
        chunk = await this.reader.read();
      } catch {
        return;
      }
      if (chunk.done) return;
      const s = dec.decode(chunk.value, { stream: true });
      this.text += s;
      buf += s;
      let i;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        let event = 'message';
        let data = '';
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) this.comments.push(line.slice(1).trim());
          else if (line.startsWith('event: ')) event = line.slice(7);
          else if (line.startsWith('data: ')) data += line.slice(6);
        }
        if (data) this.events.push({ event, data: JSON.parse(data) });
      }
    }
  }

  async waitFor(pred: () => boolean, ms: number, what: string): Promise<void> {
    const end = Date.now() + ms;
    while (!pred()) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}; stream so far: ${JSON.stringify(this.text)}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  close(): Promise<void> {
    return this.reader.cancel();
  }
}

const records = (n: number): FlowRecord[] => Array.from({ length: n }, (_, i) => Object.assign(emptyFlowRecord(), {
  timeReceived: Date.now(), first: Date.now() - 1000, last: Date.now(), exporter: '192.0.2.1', srcAddr: '10.0.0.1', dstAddr: '10.0.0.2', srcPort: i, proto: 6, bytes: 100, packets: 1,
}));

test('stored flows become `flows` events, at most one a second, with every row counted', async () => {
  const sse = await SseReader.open(url);
  try {
    assert.equal(sse.response.status, 200);
    assert.match(sse.response.headers.get('content-type') ?? '', /^text\/event-stream/);
    assert.equal(sse.response.headers.get('cache-control'), 'no-cache, no-transform');
    await sse.waitFor(() => sse.text.includes('retry: 3000'), 2000, 'the retry hint');

    sink.ingest(records(3));
    await sse.waitFor(() => sse.events.length >= 1, 5000, 'the first event');
    const first = sse.events[0]!;
    assert.equal(first.event, 'flows');
    const d = first.data as { time: number; rows: number };
    assert.equal(d.rows, 3);
    assert.ok(Math.abs(d.time - Date.now()) < 5000);
    const [{ n }] = await store.queryRows<{ n: number }>('SELECT count() AS n FROM flows');
    assert.equal(Number(n), 3, 'the event follows the insert: the rows are queryable');

    // Several inserts within a second: one more event that counts them all, a second after the first.
    for (let i = 0; i < 4; i++) {
      sink.ingest(records(2));
      await sink.writer.flush();
    }
    await sse.waitFor(() => sse.events.reduce((a, e) => a + (e.data as { rows: number }).rows, 0) === 11, 5000, 'all 11 rows');
    assert.ok(sse.events.length <= 3, `batched: ${sse.events.length} events`);
    const sent = sse.events.map((e) => (e.data as { time: number }).time);
    for (let i = 1; i < sent.length; i++) assert.ok(sent[i]! - sent[i - 1]! >= 990, `at most one event a second: ${sent.join(', ')}`);
  } finally {
    await sse.close();
  }
});

test('keepalive comments while idle; closing the server ends open streams', async () => {
  const emitter = new EventEmitter();
  const small = Fastify({ loggerInstance: pino({ level: 'silent' }) });
  await small.register(eventRoutes, { flowEvents: emitter, keepaliveMs: 100, minIntervalMs: 200 });
  await small.listen({ port: 0, host: '127.0.0.1' });
  const port = (small.server.address() as { port: number }).port;
  const sse = await SseReader.open(`http://127.0.0.1:${port}/events`);
  await sse.waitFor(() => sse.comments.filter((c) => c === 'keepalive').length >= 2, 3000, 'two keepalives');
  emitter.emit('inserted', 5, 1);
  emitter.emit('inserted', 7, 1);
  await sse.waitFor(() => sse.events.length >= 2, 3000, 'two events');
  assert.deepEqual(sse.events.map((e) => (e.data as { rows: number }).rows), [5, 7]);
  const [t1, t2] = sse.events.map((e) => (e.data as { time: number }).time);
  assert.ok(t2! - t1! >= 190, `the second waits for the interval: ${t1}, ${t2}`);
  const t0 = Date.now();
  await small.close();
  assert.ok(Date.now() - t0 < 2000, 'close does not wait for the stream');
  assert.equal(emitter.listenerCount('inserted'), 0, 'the writer is let go');
  await sse.close();
});
