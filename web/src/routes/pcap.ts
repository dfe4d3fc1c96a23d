// POST /api/v1/pcap: a capture (pcap, pcapng, either gzip-compressed) to be turned into flows, as `dvflow pcap` and
// the dashboard do. Token-protected. Two ways to name the capture:
//
//  - Upload (any client): the body is the capture's bytes, spooled to a file under the data directory as it arrives
//    (never held in memory; at most pcap.maxUploadBytes) and read from that file as it grows, so reading overlaps the
//    upload. The file is removed at the end.
//  - Path (a client on this host only): `Content-Type: application/json` and the body {"path": "/abs/file.pcap"},
//    optionally with the "size" and "mtimeMs" the client saw, so a different file at the same path (a container with
//    its own filesystem) is refused rather than read. The daemon reads the file where it is: no copy through the
//    socket and the spool (on a 1.1 GB capture that copying cost more than reading and storing it). Refused with 403
//    unless the connection comes from a loopback address without proxy headers, 422 when this process cannot read the
//    file as a regular file, or it changed; `dvflow pcap` then uploads the bytes instead. No size limit applies:
//    nothing is copied, as with the drop folder. A client that hangs up stops the read (the flows so far are stored).
//
// Answers, the same for both:
//  - `Accept: application/x-ndjson`: a stream of JSON lines while the capture is read —
//      {"type":"progress","bytesRead":..,"totalBytes":..,"packets":..,"flows":..,"elapsedMs":..}   every ~250 ms
//      {"type":"error","code":"truncated","offset":1234,"message":"truncated pcap at offset 1234: ..."}  on damage
//      {"type":"summary", ...the summary}                                                              always last
//    The status is sent with the first line, once the capture has proved readable (it may come while the client is
//    still sending): a body that is no capture at all gets a plain 422 JSON answer instead, as in the other mode.
//  - otherwise one JSON answer at the end: 200 with the summary, or 422 { error, code, offset, message, summary }
//    when the capture is damaged or unreadable. Either way the flows from before the damage are stored.
// Other errors: 400 bad parameters, an empty body or a bad path body, 401/403 token, 413 too large (announced:
// before anything is read; chunked: when the limit is passed, the flows before it stored), 415 content type, 503 when
// this process has no flow writer (`dvflow web`). An upload broken off is read up to where it stopped, like a cut
// capture.
import { constants } from 'node:fs';
import { mkdir, open, rm, type FileHandle } from 'node:fs/promises';
import { basename, isAbsolute, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { PassThrough, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { PcapProgress, PcapService, PcapSummary } from '@dvflow/collector/src/pcap/pcapService.ts';
import type { GrowingFile } from '@dvflow/collector/src/pcap/captureReader.ts';

/** What the route needs of the daemon's capture ingest. */
export type PcapUploadTarget = Pick<PcapService, 'ingest' | 'uploadDir' | 'maxUploadBytes'>;

/** Path mode's body: a capture file on this host. */
export interface PcapPathBody {
  path: string;
  /** What the client saw: the file must still have this size and modification time. */
  size?: number;
  mtimeMs?: number;
}

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

/** A connection from this host: a loopback address (IPv4, IPv6 or IPv4-mapped). */
export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const a = address.startsWith('::ffff:') ? address.slice(7) : address;
  return a === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(a);
}

const PROXY_HEADERS = ['forwarded', 'x-forwarded-for', 'x-forwarded-host', 'x-real-ip'];

/** Path mode's refusals: `code` tells `dvflow pcap` to upload the bytes instead. */
function pathRefused(reply: FastifyReply, status: 400 | 403 | 422, code: string, message: string) {
  return reply.code(status).send({ error: status === 400 ? 'Bad Request' : status === 403 ? 'Forbidden' : 'Unprocessable Entity', code, message });
}

/** Checks a path-mode body and the file it names; returns the file's size, or has answered. */
async function checkPath(body: unknown, reply: FastifyReply): Promise<{ path: string; size: number } | null> {
  const b = body as Partial<PcapPathBody> | null;
  const extra = b && typeof b === 'object' ? Object.keys(b).filter((k) => k !== 'path' && k !== 'size' && k !== 'mtimeMs') : [];
  if (!b || typeof b !== 'object' || Array.isArray(b) || typeof b.path !== 'string' || b.path.length === 0 || b.path.length > 4096 ||
    b.path.includes('\0') || extra.length > 0 || (b.size !== undefined && !Number.isSafeInteger(b.size)) ||
    (b.mtimeMs !== undefined && !Number.isFinite(b.mtimeMs))) {
    pathRefused(reply, 400, 'bad-path-body', `a JSON body must be {"path": "/absolute/file.pcap"} with optional "size" and "mtimeMs"${extra.length ? ` (unknown: ${extra.join(', ')})` : ''}; ` +
      'to upload the capture\'s bytes, send them as application/octet-stream');
    return null;
  }
  const path = b.path;
  if (!isAbsolute(path)) {
    pathRefused(reply, 400, 'bad-path-body', `the path must be absolute, got '${path}'`);
    return null;
  }
  let fh: FileHandle;
  try {
    // O_NONBLOCK: opening a FIFO must not hang the request; it is refused as not a regular file below.
    fh = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : (e as Error).message;
    pathRefused(reply, 422, 'path-unreadable', `the daemon cannot read ${path}: ${why}`);
    return null;
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) {
      pathRefused(reply, 422, 'path-unreadable', `${path} is not a regular file`);
      return null;
    }
    if ((b.size !== undefined && b.size !== st.size) || (b.mtimeMs !== undefined && Math.abs(b.mtimeMs - st.mtimeMs) > 1)) {
      pathRefused(reply, 422, 'path-changed', `${path} as the daemon sees it is not the file the client named (size or modification time differ)`);
      return null;
    }
    return { path, size: st.size };
  } finally {
    await fh.close();
  }
}

interface Answer {
  /** Answers a summary the usual way would not fit (the upload's 400/413); the stream has not started. */
  special?: (summary: PcapSummary) => FastifyReply | null;
}

/**
 * Runs one ingest and answers it: with NDJSON, progress lines (the status is sent with the first, once the capture
 * has proved readable), error lines and the summary; else one JSON answer at the end (422 for damage).
 */
async function ingestAndAnswer(reply: FastifyReply, ndjson: boolean, ingest: (onProgress?: (p: PcapProgress) => void) => Promise<PcapSummary>,
  finish: () => Promise<void>, a: Answer = {}): Promise<FastifyReply | PcapSummary> {
  const out = new PassThrough();
  let started = false;
  const line = (o: object) => out.write(`${JSON.stringify(o)}\n`);
  const start = () => {
    if (started) return;
    started = true;
    void reply.code(200).header('content-type', 'application/x-ndjson; charset=utf-8').header('cache-control', 'no-store').send(out);
  };
  const summary = await ingest(ndjson ? (p: PcapProgress) => {
    if (p.packets === 0) return;
    start();
    line({ type: 'progress', ...p });
  } : undefined);
  await finish();
  if (!started) {
    const special = a.special?.(summary);
    if (special) return special;
    if (!ndjson) return summary.errors.length > 0 ? reply.code(422).send(failure(summary)) : summary;
    if (summary.errors.length > 0 && summary.packets === 0) return reply.code(422).send(failure(summary));
  }
  start();
  for (const e of summary.errors) line({ type: 'error', ...e });
  line({ type: 'summary', ...summary });
  out.end();
  return reply;
}

export default async function pcapRoutes(app: FastifyInstance): Promise<void> {
  // The body stays a stream: the handler spools it to disk. In this plugin's scope only capture types (and path
  // mode's small JSON body) are accepted: text or form data is a 415, not something to parse.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(PCAP_CONTENT_TYPES, (_req, payload, done) => done(null, payload));
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: 16 * 1024 }, (_req, text, done) => {
    try {
      done(null, JSON.parse(text as string));
    } catch {
      const e = new Error('the body is not valid JSON') as Error & { statusCode: number };
      e.statusCode = 400;
      done(e, undefined);
    }
  });

  app.post<{ Querystring: PcapQuery }>('/pcap', {
    onRequest: app.requireToken,
    schema: {
      summary: 'Store the flows of a capture (pcap/pcapng, optionally gzip): uploaded, or named by path from this host',
      description: 'Body: the capture bytes (application/octet-stream and the capture types), or, from a client on the daemon\'s host only, ' +
        'application/json {"path": "/absolute/file.pcap", "size"?: bytes, "mtimeMs"?: ms} to have the daemon read the file where it is. ' +
        'With Accept: application/x-ndjson the answer streams progress lines and ends with a summary line.',
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
    const q = req.query;
    const ndjson = /application\/(x-)?ndjson/.test(req.headers.accept ?? '');
    const common = { session: q.session, active: q.active, idle: q.idle, nfpcapdCompat: q.nfpcapdCompat };

    if (/^application\/json\b/i.test(req.headers['content-type'] ?? '')) {
      // Path mode: this host's clients only (a proxy in front would make everyone look local).
      if (!isLoopback(req.socket.remoteAddress) || PROXY_HEADERS.some((h) => req.headers[h] !== undefined)) {
        return pathRefused(reply, 403, 'path-not-local', 'a capture named by path is read only for clients on the daemon\'s own host; ' +
          'upload its bytes instead (application/octet-stream)');
      }
      const checked = await checkPath(req.body, reply);
      if (!checked) return reply;
      // A client that goes away (Ctrl-C) stops the read; the flows so far are stored, as for a broken upload.
      const abort = new AbortController();
      reply.raw.once('close', () => {
        if (!reply.raw.writableFinished) abort.abort();
      });
      return ingestAndAnswer(reply, ndjson, (onProgress) => pcap.ingest(checked.path, {
        ...common, name: q.name ?? basename(checked.path), signal: abort.signal, onProgress,
      }), async () => undefined);
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
      return await ingestAndAnswer(reply, ndjson, (onProgress) => pcap.ingest(file, {
        ...common, name: q.name ?? 'upload.pcap', follow: sp, onProgress,
      }), async () => {
        await spooling; // the whole body is read before the answer ends
        await rm(file, { force: true });
      }, {
        special: (summary) => {
          if (sp.received === 0) return reply.code(400).send({ error: 'Bad Request', message: 'empty body: send the capture\'s bytes (pcap or pcapng, optionally gzip)' });
          if (sp.received > limit) return reply.code(413).header('connection', 'close').send({ ...tooLargeBody(limit), summary });
          return null;
        },
      });
    } finally {
      await spooling;
      await rm(file, { force: true });
    }
  });
}
