// POST /api/v1/pcap: upload a capture (pcap, pcapng, either gzip-compressed) to be turned into flows, as
// `dvflow pcap` and the dashboard do. Token-protected. The body is the capture's bytes, spooled to a file under
// the data directory as it arrives (never held in memory) up to pcap.maxUploadBytes, then ingested.
//
// Answers:
//  - `Accept: application/x-ndjson`: a stream of JSON lines while the capture is read —
//      {"type":"progress","bytesRead":..,"totalBytes":..,"packets":..,"flows":..,"elapsedMs":..}   every ~250 ms
//      {"type":"error","code":"truncated","offset":1234,"message":"truncated pcap at offset 1234: ..."}  on damage
//      {"type":"summary", ...the summary}                                                              always last
//    The status is sent with the first line, once the capture has proved readable: a body that is no capture at
//    all gets a plain 422 JSON answer instead (as in the other mode).
//  - otherwise one JSON answer at the end: 200 with the summary, or 422 { error, code, offset, message, summary }
//    when the capture is damaged or unreadable. Either way the flows from before the damage are stored.
// Other errors: 400 bad parameters or an empty body, 401/403 token, 413 too large, 415 content type, 503 when this
// process has no flow writer (`dvflow web`).
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { PcapProgress, PcapService, PcapSummary } from '@dvflow/collector/src/pcap/pcapService.ts';

/** What the route needs of the daemon's capture ingest. */
export type PcapUploadTarget = Pick<PcapService, 'ingest' | 'uploadDir' | 'maxUploadBytes'>;

export const PCAP_CONTENT_TYPES = [
  'application/octet-stream', 'application/vnd.tcpdump.pcap', 'application/x-pcap', 'application/x-pcapng',
  'application/pcap', 'application/pcapng', 'application/gzip', 'application/x-gzip',
];

interface PcapQuery {
  name?: string;
  session?: string;
  active?: number;
  idle?: number;
  nfpcapdCompat?: boolean;
}

/**
 * Writes the body to `file` with back-pressure. Returns the bytes received, or limit + 1 as soon as the body exceeds
 * the limit: the rest is then read and discarded, so the client can hear the 413.
 */
function spool(body: NodeJS.ReadableStream, file: string, limit: number): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const ws = createWriteStream(file);
    let received = 0;
    let settled = false;
    const settle = (err: Error | null, n: number) => {
      if (settled) return;
      settled = true;
      body.removeListener('data', onData);
      if (err) {
        ws.destroy();
        reject(err);
      } else ws.end(() => resolve(n));
    };
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received > limit) {
        body.resume();
        settle(null, limit + 1);
        return;
      }
      if (!ws.write(chunk)) {
        body.pause();
        ws.once('drain', () => body.resume());
      }
    };
    body.on('data', onData);
    body.once('end', () => settle(null, received));
    body.once('error', (e: Error) => settle(e, 0));
    body.once('close', () => settle(new Error('the upload was interrupted'), 0));
    ws.once('error', (e: Error) => settle(e, 0));
  });
}

function tooLarge(reply: FastifyReply, limit: number) {
  return reply.code(413).header('connection', 'close').send({
    error: 'Payload Too Large', message: `capture larger than the upload limit of ${limit} bytes (pcap.maxUploadBytes); copy it to the drop folder or use 'dvflow pcap --clickhouse-url'`,
  });
}

/** The first error of a summary as an answer body. */
function failure(s: PcapSummary) {
  const e = s.errors[0];
  return { error: 'Unprocessable Entity', code: e.code, offset: e.offset, message: e.message, summary: s };
}

export default async function pcapRoutes(app: FastifyInstance): Promise<void> {
  // The body stays a stream: the handler spools it to disk. In this plugin's scope only capture types are
  // accepted (JSON or text is a 415, not something to parse).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(PCAP_CONTENT_TYPES, (_req, payload, done) => done(null, payload));

  app.post<{ Querystring: PcapQuery }>('/pcap', {
    onRequest: app.requireToken,
    schema: {
      summary: 'Upload a capture (pcap/pcapng, optionally gzip) and store its flows',
      description: 'Body: the capture bytes. With Accept: application/x-ndjson the answer streams progress lines and ends with a summary line.',
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          name: { type: 'string', minLength: 1, maxLength: 255, description: "the capture's file name (the records' capture when no session is given)" },
          session: { type: 'string', minLength: 1, maxLength: 255, description: 'mirror session name, written as every record\'s capture' },
          active: { type: 'number', exclusiveMinimum: 0, maximum: 604800, description: 'active flow timeout, seconds (default pcap.activeTimeout, 300)' },
          idle: { type: 'number', exclusiveMinimum: 0, maximum: 604800, description: 'idle flow timeout, seconds (default pcap.idleTimeout, 60)' },
          nfpcapdCompat: { type: 'boolean', description: 'make flows exactly as nfpcapd 1.7.1 does (for comparisons)' },
        },
      },
    },
  }, async (req, reply) => {
    const pcap = app.dvflow.pcap;
    if (!pcap) {
      return reply.code(503).send({ error: 'Service Unavailable', message: 'this dvflow process stores no flows (it runs the web role only): upload captures to \'dvflow start\' or use \'dvflow pcap --clickhouse-url\'' });
    }
    const body = req.body as NodeJS.ReadableStream;
    const limit = pcap.maxUploadBytes;
    const declared = Number(req.headers['content-length']);
    if (declared > limit) return tooLarge(reply, limit);

    await mkdir(pcap.uploadDir, { recursive: true });
    const file = join(pcap.uploadDir, `upload-${Date.now()}-${randomBytes(6).toString('hex')}.pcap`);
    try {
      const received = await spool(body, file, limit);
      if (received > limit || received === 0) await rm(file, { force: true });
      if (received > limit) return tooLarge(reply, limit);
      if (received === 0) return reply.code(400).send({ error: 'Bad Request', message: 'empty body: send the capture\'s bytes (pcap or pcapng, optionally gzip)' });

      const q = req.query;
      const opts = { name: q.name ?? 'upload.pcap', session: q.session, active: q.active, idle: q.idle, nfpcapdCompat: q.nfpcapdCompat };
      const ndjson = /application\/(x-)?ndjson/.test(req.headers.accept ?? '');
      if (!ndjson) {
        const summary = await pcap.ingest(file, opts);
        await rm(file, { force: true });
        return summary.errors.length > 0 ? reply.code(422).send(failure(summary)) : summary;
      }

      // Streaming: hold the status until the capture has proved readable (first progress, or the end).
      const out = new PassThrough();
      let started = false;
      const line = (o: object) => out.write(`${JSON.stringify(o)}\n`);
      const start = () => {
        if (started) return;
        started = true;
        void reply.code(200).header('content-type', 'application/x-ndjson; charset=utf-8').header('cache-control', 'no-store').send(out);
      };
      const summary = await pcap.ingest(file, {
        ...opts,
        onProgress: (p: PcapProgress) => {
          if (p.packets === 0) return;
          start();
          line({ type: 'progress', ...p });
        },
      });
      await rm(file, { force: true });
      if (!started && summary.errors.length > 0 && summary.packets === 0) return reply.code(422).send(failure(summary));
      start();
      for (const e of summary.errors) line({ type: 'error', ...e });
      line({ type: 'summary', ...summary });
      out.end();
      return reply;
    } finally {
      await rm(file, { force: true });
    }
  });
}
