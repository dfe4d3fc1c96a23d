// POST /api/v1/pcap: upload a capture (pcap, pcapng, either gzip-compressed) to be turned into flows, as
// `dvflow pcap` and the dashboard do. Token-protected. The body is the capture's bytes, spooled to a file under
// the data directory as it arrives (never held in memory; at most pcap.maxUploadBytes) and read from that file as
// it grows, so reading overlaps the upload. The file is removed at the end.
//
// Answers:
//  - `Accept: application/x-ndjson`: a stream of JSON lines while the capture is read —
//      {"type":"progress","bytesRead":..,"totalBytes":..,"packets":..,"flows":..,"elapsedMs":..}   every ~250 ms
//      {"type":"error","code":"truncated","offset":1234,"message":"truncated pcap at offset 1234: ..."}  on damage
//      {"type":"summary", ...the summary}                                                              always last
//    The status is sent with the first line, once the capture has proved readable (it may come while the client is
//    still sending): a body that is no capture at all gets a plain 422 JSON answer instead, as in the other mode.
//  - otherwise one JSON answer at the end: 200 with the summary, or 422 { error, code, offset, message, summary }
//    when the capture is damaged or unreadable. Either way the flows from before the damage are stored.
// Other errors: 400 bad parameters or an empty body, 401/403 token, 413 too large (announced: before anything is
// read; chunked: when the limit is passed, the flows before it stored), 415 content type, 503 when this process has
// no flow writer (`dvflow web`). An upload broken off is read up to where it stopped, like a cut capture.
import { mkdir, open, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { PassThrough, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { PcapProgress, PcapService, PcapSummary } from '@dvflow/collector/src/pcap/pcapService.ts';
import type { GrowingFile } from '@dvflow/collector/src/pcap/captureReader.ts';

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

/** An upload being written to its spool file; the ingest reads the file as it grows. */
class Spool implements GrowingFile {
  state: 'writing' | 'done' | Error = 'writing';
  received = 0;
  written = 0;
  private waiters: Array<() => void> = [];
  constructor(readonly expectedSize: number | null) {}

  wait(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  notify(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  finish(state: 'done' | Error): void {
    this.state = state;
    this.notify();
  }
}

/** One gathered write, finished with plain writes should the system write less. */
async function writeAll(fh: FileHandle, bufs: Buffer[]): Promise<number> {
  const total = bufs.reduce((n, b) => n + b.length, 0);
  let done = (await fh.writev(bufs)).bytesWritten;
  if (done < total) {
    const rest = Buffer.concat(bufs).subarray(done);
    for (let o = 0; o < rest.length; ) {
      const { bytesWritten } = await fh.write(rest, o, rest.length - o);
      o += bytesWritten;
    }
    done = total;
  }
  return done;
}

/**
 * Writes the body to the spool file (back-pressured, gathered writes), telling the spool after each write. Past the
 * limit nothing more is written and the rest is read and dropped, so the client still hears the 413 (a body far
 * beyond the limit has its connection dropped).
 */
async function spool(body: NodeJS.ReadableStream, fh: FileHandle, sp: Spool, limit: number): Promise<void> {
  const sink = new Writable({
    highWaterMark: 1 << 20,
    writev(chunks, cb) {
      let n = 0;
      for (const c of chunks) n += (c.chunk as Buffer).length;
      sp.received += n;
      if (sp.received > limit + 64 * 1024 * 1024) return cb(new Error(`upload beyond the limit of ${limit} bytes`));
      if (sp.received - n >= limit) return cb();
      const bufs = chunks.map((c) => c.chunk as Buffer);
      const over = sp.received - limit;
      if (over > 0) {
        const last = bufs[bufs.length - 1];
        bufs[bufs.length - 1] = last.subarray(0, last.length - over);
      }
      writeAll(fh, bufs).then((written) => {
        sp.written += written;
        sp.notify();
        cb();
      }, cb);
    },
  });
  await pipeline(body, sink);
}

function tooLargeBody(limit: number) {
  return {
    error: 'Payload Too Large', message: `capture larger than the upload limit of ${limit} bytes (pcap.maxUploadBytes); copy it to the drop folder or use 'dvflow pcap --clickhouse-url'`,
  };
}

function tooLarge(reply: FastifyReply, limit: number) {
  return reply.code(413).header('connection', 'close').send(tooLargeBody(limit));
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
    const fh = await open(file, 'w');
    const sp = new Spool(Number.isInteger(declared) ? declared : null);
    const spooling = spool(body, fh, sp, limit).then(
      () => sp.finish(sp.received > limit ? new Error(`upload larger than the limit of ${limit} bytes (pcap.maxUploadBytes)`) : 'done'),
      (e: Error) => sp.finish(new Error(`the upload was interrupted: ${e.message}`)),
    ).finally(() => fh.close());
    try {
      const q = req.query;
      const opts = { name: q.name ?? 'upload.pcap', session: q.session, active: q.active, idle: q.idle, nfpcapdCompat: q.nfpcapdCompat, follow: sp };
      const ndjson = /application\/(x-)?ndjson/.test(req.headers.accept ?? '');
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
        onProgress: ndjson ? (p: PcapProgress) => {
          if (p.packets === 0) return;
          start();
          line({ type: 'progress', ...p });
        } : undefined,
      });
      await spooling; // the whole body is read before the answer ends
      await rm(file, { force: true });
      if (!started) {
        if (sp.received === 0) return reply.code(400).send({ error: 'Bad Request', message: 'empty body: send the capture\'s bytes (pcap or pcapng, optionally gzip)' });
        if (sp.received > limit) return reply.code(413).header('connection', 'close').send({ ...tooLargeBody(limit), summary });
        if (!ndjson) return summary.errors.length > 0 ? reply.code(422).send(failure(summary)) : summary;
        if (summary.errors.length > 0 && summary.packets === 0) return reply.code(422).send(failure(summary));
      }
      start();
      for (const e of summary.errors) line({ type: 'error', ...e });
      line({ type: 'summary', ...summary });
      out.end();
      return reply;
    } finally {
      await spooling;
      await rm(file, { force: true });
    }
  });
}
