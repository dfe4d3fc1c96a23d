// `dvflow pcap FILE...`: captures into flows. By default each file goes to the running daemon (POST /api/v1/pcap,
// bearer token; the embedded store belongs to the daemon's process) and the daemon's progress lines drive a progress
// bar. A daemon on this host (--api on a loopback address) is told the file's path and reads it where it is; one
// that cannot (another machine, a container, another user, an older daemon) gets the bytes uploaded, as --upload
// always does. With --clickhouse-url the files are read here and written to that server directly (with --data, to
// an embedded store no daemon is running on).
// Every file is tried: a missing, unreadable or non-capture file gets a clear message and a non-zero exit, the
// others are still ingested. A damaged capture stores its flows up to the damage and reports the byte offset.
// `-` is standard input, and a named pipe or device (`<(zcat a.pcap)`, a FIFO tcpdump writes to) is read as a
// stream: its size is unknown and its bytes can be read once, so it is uploaded chunked (never named by path) and
// its magic number is checked by the reader, not before.
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { basename, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import type cliProgress from 'cli-progress';
import { Command, InvalidArgumentError } from 'commander';
import { sniffCaptureFormat } from '../pcap/captureReader.ts';
import { CliError } from './cliError.ts';
import { daemonUnreachable } from './daemonApi.ts';
import type { PcapProgress, PcapSummary } from '../pcap/pcapService.ts';

export interface PcapCommandOptions {
  session?: string;
  active?: number;
  idle?: number;
  nfpcapdCompat?: boolean;
  api: string;
  token?: string;
  clickhouseUrl?: string;
  clickhouseUser?: string;
  clickhousePassword?: string;
  clickhouseDatabase?: string;
  /** Embedded store directory, for a machine where no daemon runs on it. */
  data?: string;
  config?: string;
  json?: boolean;
  progress?: boolean;
  /** Send the file's bytes even to a daemon on this host (default: name the file by its path there). */
  upload?: boolean;
}

/** One file's outcome: a summary (possibly with capture errors), or a failure before any packet was read. */
interface FileResult {
  file: string;
  summary: PcapSummary | null;
  error: string | null;
}

const nf = new Intl.NumberFormat('en-US');
const n = (v: number) => nf.format(v);

function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(bytes >= 1e8 ? 0 : 1)} MB`;
}

/**
 * Progress display: a bar on a terminal, else nothing until a file ends. The bar follows the bytes read into flows;
 * while uploading, what was sent so far is shown beside it (the daemon reads as the upload arrives).
 */
class Progress {
  private bar: cliProgress.SingleBar | null = null;
  /** `lib`: cli-progress, loaded only when a bar is shown (start-up of every other use of the CLI skips it). */
  private constructor(private readonly lib: typeof cliProgress | null) {}

  static async create(enabled: boolean): Promise<Progress> {
    return new Progress(enabled ? (await import('cli-progress')).default : null);
  }

  get enabled(): boolean {
    return this.lib !== null;
  }

  /** `total` null: a stream of unknown size, shown as bytes read without a bar. */
  begin(name: string, total: number | null, upload: boolean): void {
    const lib = this.lib;
    if (!lib) return;
    this.end();
    const sent = upload ? ' (sent {sent})' : '';
    this.bar = new lib.SingleBar({
      format: total === null ? `{name} | {done} read${sent} | {pps} packets/s | {flows} flows`
        : `{name} |{bar}| {percentage}% {done}/{size}${sent} | {pps} packets/s | {flows} flows`,
      hideCursor: true, clearOnComplete: true, stopOnComplete: false, barsize: 24, etaBuffer: 20,
    }, lib.Presets.shades_classic);
    this.bar.start(Math.max(1, total ?? 0), 0, { name, done: mb(0), size: mb(total ?? 0), sent: mb(0), pps: '-', flows: 0 });
  }

  uploaded(bytes: number): void {
    this.bar?.update({ sent: mb(bytes) });
  }

  ingested(p: PcapProgress): void {
    this.bar?.update(p.bytesRead, {
      done: mb(p.bytesRead), flows: n(p.flows), pps: p.elapsedMs > 0 ? n(Math.round((p.packets * 1000) / p.elapsedMs)) : '-',
    });
  }

  end(): void {
    this.bar?.stop();
    this.bar = null;
  }
}

interface Checked {
  /** null for a stream: standard input, a named pipe or a device. */
  size: number | null;
  mtimeMs: number;
}

/** Standard input's name on the command line. */
export const STDIN = '-';

/** A file as messages name it. */
function shown(file: string): string {
  return file === STDIN ? 'standard input' : file;
}

/** What a file is called in summaries and (without --session) its records' capture. */
function captureName(file: string): string {
  return file === STDIN ? 'stdin' : basename(file);
}

/**
 * Checks a file before sending it anywhere: present, a regular file (or a stream), readable, and a capture by its
 * magic number. A stream's first bytes cannot be read twice: the reader checks them.
 */
async function precheck(file: string): Promise<Checked | { error: string }> {
  if (file === STDIN) return { size: null, mtimeMs: 0 };
  let size: number;
  let mtimeMs: number;
  try {
    const st = await stat(file);
    if (st.isDirectory()) return { error: `${file} is a directory, not a capture file` };
    if (st.isFIFO() || st.isCharacterDevice()) return { size: null, mtimeMs: st.mtimeMs };
    if (!st.isFile()) return { error: `${file} is not a regular file, a named pipe or a device` };
    size = st.size;
    mtimeMs = st.mtimeMs;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return { error: code === 'ENOENT' ? `cannot open ${file}: no such file` : `cannot open ${file}: ${(e as Error).message}` };
  }
  let head: Buffer;
  try {
    const fh = await open(file, 'r');
    try {
      head = Buffer.alloc(4);
      const { bytesRead } = await fh.read(head, 0, 4, 0);
      head = head.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return { error: code === 'EACCES' ? `cannot read ${file}: permission denied` : `cannot read ${file}: ${(e as Error).message}` };
  }
  if (size === 0) return { error: `${file} is empty, not a capture` };
  const sniffed = sniffCaptureFormat(head);
  if (!sniffed) {
    return { error: head.length < 4 ? `${file} is too short to be a capture (${head.length} bytes)`
      : `${file} is not a pcap or pcapng capture (magic 0x${head.toString('hex')}; gzip-compressed captures are fine)` };
  }
  return { size, mtimeMs };
}

// ---- to the daemon: the path, or an upload --------------------------------------------------------------------------------------

interface ApiError {
  message?: string;
  code?: string;
  offset?: number;
  summary?: PcapSummary;
}

/**
 * What to send: the file's bytes (piped: several times faster than fetch with a stream body), or its path. size
 * null: a stream, sent chunked.
 */
type Body = { file: string; size: number | null; onSent: (bytes: number) => void } | { json: object };

function post(url: URL, body: Body, token: string | undefined): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const json = 'json' in body ? Buffer.from(JSON.stringify(body.json)) : null;
    const length = json ? json.length : (body as { size: number | null }).size;
    const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, {
      method: 'POST',
      headers: {
        'content-type': json ? 'application/json' : 'application/octet-stream', accept: 'application/x-ndjson',
        ...(length === null ? {} : { 'content-length': String(length) }),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
    });
    let answered = false;
    req.once('response', (res) => {
      answered = true;
      resolve(res);
    });
    // Once the daemon has answered (say, 401 or 413 before reading), a broken pipe is not the news.
    req.once('error', (e) => (answered ? undefined : reject(e)));
    if (json) {
      req.end(json);
      return;
    }
    const up = body as { file: string; onSent: (bytes: number) => void };
    const rs: Readable = up.file === STDIN ? process.stdin : createReadStream(up.file, { highWaterMark: 1 << 20 });
    let sent = 0;
    rs.on('data', (c: Buffer | string) => {
      sent += c.length;
      up.onSent(sent);
    });
    rs.once('error', (e: Error) => req.destroy(e));
    rs.pipe(req);
  });
}

/** The API is on this host: the daemon may read the file where it is. */
export function isLocalApi(url: URL): boolean {
  const h = url.hostname.replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || /^::ffff:127\./.test(h);
}

/** Path mode refusals after which the bytes are uploaded instead (415: a daemon from before path mode). */
const UPLOAD_INSTEAD = new Set(['path-not-local', 'path-unreadable', 'path-changed']);

async function readAll(res: IncomingMessage): Promise<string> {
  let text = '';
  for await (const c of res) text += String(c);
  return text;
}

async function sendOne(file: string, pre: Checked, o: PcapCommandOptions, progress: Progress): Promise<FileResult> {
  const url = new URL('/api/v1/pcap', o.api);
  url.searchParams.set('name', captureName(file));
  if (o.session) url.searchParams.set('session', o.session);
  if (o.active !== undefined) url.searchParams.set('active', String(o.active));
  if (o.idle !== undefined) url.searchParams.set('idle', String(o.idle));
  if (o.nfpcapdCompat) url.searchParams.set('nfpcapdCompat', 'true');
  if (!o.upload && pre.size !== null && isLocalApi(url)) {
    progress.begin(captureName(file), pre.size, false);
    const r = await send(url, { json: { path: resolve(file), size: pre.size, mtimeMs: pre.mtimeMs } }, file, o, progress);
    if (r !== 'upload') return r;
  }
  progress.begin(captureName(file), pre.size, true);
  const r = await send(url, { file, size: pre.size, onSent: (sent) => progress.uploaded(sent) }, file, o, progress);
  return r === 'upload' ? { file, summary: null, error: `${shown(file)}: the daemon refused the upload` } : r;
}

/** One request and its answer; 'upload' when the daemon cannot read the file by its path. */
async function send(url: URL, body: Body, file: string, o: PcapCommandOptions, progress: Progress): Promise<FileResult | 'upload'> {
  let res: IncomingMessage;
  try {
    res = await post(url, body, o.token);
  } catch (e) {
    progress.end();
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ECONNREFUSED' || err.code === 'ENOTFOUND' || err.code === 'EHOSTUNREACH' || err.code === 'ECONNRESET') {
      throw daemonUnreachable(o.api, err.message, 'Use --api, or --clickhouse-url to write to a ClickHouse server directly.');
    }
    return { file, summary: null, error: `${shown(file)}: ${'json' in body ? 'request' : 'upload'} failed: ${err.message}` };
  }
  const status = res.statusCode ?? 0;
  if (status !== 200 || !String(res.headers['content-type'] ?? '').includes('ndjson')) {
    let j: ApiError = {};
    try {
      j = JSON.parse(await readAll(res)) as ApiError;
    } catch { /* not JSON */ }
    if ('json' in body && (status === 415 || (j.code !== undefined && UPLOAD_INSTEAD.has(j.code)))) return 'upload';
    progress.end();
    if (status === 401 || status === 403) {
      throw new CliError(`the daemon refused the capture (HTTP ${status}): ${j.message ?? res.statusMessage}. ` +
        'Pass its token with --token or DVFLOW_HTTP_TOKEN (the daemon takes it from http.token or DVFLOW_HTTP_TOKEN).');
    }
    if (j.summary) return { file, summary: j.summary, error: null };
    return { file, summary: null, error: `${shown(file)}: ${j.message ?? `${'json' in body ? 'request' : 'upload'} failed with HTTP ${status}`}` };
  }
  let summary: PcapSummary | null = null;
  let buf = '';
  const onLine = (l: string) => {
    if (!l.trim()) return;
    const m = JSON.parse(l) as { type: string } & Record<string, unknown>;
    if (m.type === 'progress') progress.ingested(m as unknown as PcapProgress);
    else if (m.type === 'summary') {
      const { type: _t, ...s } = m;
      summary = s as unknown as PcapSummary;
    }
  };
  try {
    res.setEncoding('utf8');
    for await (const chunk of res as AsyncIterable<string>) {
      buf += chunk;
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        onLine(buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
    }
    onLine(buf);
  } catch (e) {
    progress.end();
    return { file, summary: null, error: `${shown(file)}: the connection to the daemon broke during the ingest (${(e as Error).message}); flows read so far are stored` };
  }
  progress.end();
  if (!summary) return { file, summary: null, error: `${shown(file)}: the daemon's answer ended without a summary` };
  return { file, summary, error: null };
}

// ---- straight to a ClickHouse server --------------------------------------------------------------------------

async function directAll(files: string[], o: PcapCommandOptions, progress: Progress, done: (r: FileResult) => void): Promise<void> {
  const { loadConfig } = await import('../config/config.ts');
  const { ClickHouseStore } = await import('../storage/clickhouseStore.ts');
  const { migrate } = await import('../storage/migrator.ts');
  const { createFlowSink } = await import('../ingest/flowSink.ts');
  const { createCollectorMetrics } = await import('../collector/collectorMetrics.ts');
  const { ingestDetected } = await import('../pcap/pcapService.ts');
  const config = loadConfig(o.config, {
    data: o.data,
    clickhouse: { url: o.clickhouseUrl, user: o.clickhouseUser, password: o.clickhousePassword, database: o.clickhouseDatabase },
  });
  const { InventoryService } = await import('../inventory/inventoryService.ts');
  const { createIds } = await import('../ids/createIds.ts');
  const { default: pino } = await import('pino');
  const log = pino({ level: 'warn' }, pino.destination(2));
  const store = await ClickHouseStore.open({ ...config.clickhouse, dataDir: config.data });
  try {
    await migrate(store, { cluster: config.clickhouse.cluster, retention: config.retention as unknown as Record<string, string> });
    // The same flows as through the daemon: the config's portgroup/VIP inventory (and what was imported into the
    // data directory) names them, and the IDS sees their flows and packets, writing its alerts to this store.
    const inventory = new InventoryService({ config, log, onChange: () => {} });
    inventory.scan(true);
    const sink = createFlowSink({ store, config, log, metrics: createCollectorMetrics(), enrich: (r) => inventory.enricher.enrich(r) });
    const ids = config.ids.enabled ? (await createIds(config.ids, { store, dataDir: config.data, log })).ids : null;
    if (ids) sink.setObserver((records) => ids.engine.onFlows(records));
    // Files are read and decoded on a thread of their own, as the daemon does (its packet detectors alert here).
    const { startReadThread } = await import('../pcap/captureReadThread.ts');
    const readThread = startReadThread(config, ids?.engine ?? null, log);
    try {
      for (const file of files) {
        const pre = await precheck(file);
        if ('error' in pre) {
          done({ file, summary: null, error: pre.error });
          continue;
        }
        progress.begin(captureName(file), pre.size, false);
        const summary = await ingestDetected(file === STDIN ? process.stdin : file, {
          sink, session: o.session, name: captureName(file), active: o.active ?? config.pcap.activeTimeout, idle: o.idle ?? config.pcap.idleTimeout,
          nfpcapdCompat: o.nfpcapdCompat, onProgress: (p) => progress.ingested(p),
        }, ids?.engine ?? null, readThread);
        progress.end();
        done({ file, summary, error: null });
      }
    } finally {
      await readThread?.close();
      await sink.close();
      await ids?.close();
    }
  } finally {
    await store.close();
  }
}

// ---- output --------------------------------------------------------------------------------------------------

function list(r: Record<string, number>): string {
  return Object.entries(r).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${n(v)}`).join(', ');
}

export function formatSummary(s: PcapSummary): string {
  const secs = s.elapsedMs / 1000;
  const rate = secs > 0 ? ` (${(s.fileBytes / 1e6 / secs).toFixed(1)} MB/s, ${n(Math.round(s.packets / secs))} packets/s)` : '';
  const lines = [`${s.name}: ${n(s.packets)} packets, ${n(s.bytes)} bytes, ${n(s.flows)} flows in ${secs.toFixed(2)} s${rate}`];
  lines.push(`  format ${s.format ?? 'unknown'}${s.compressed ? ' (gzip)' : ''}, capture name '${s.capture}', timeouts ${s.activeTimeout}/${s.idleTimeout} s`);
  const malformed = Object.values(s.malformed).reduce((a, b) => a + b, 0);
  lines.push(`  malformed: ${malformed === 0 ? '0' : `${n(malformed)} (${list(s.malformed)})`}`);
  if (Object.keys(s.skipped).length > 0) lines.push(`  not IP: ${list(s.skipped)}`);
  if (Object.keys(s.byEncap).length > 0) lines.push(`  encapsulation: ${list(s.byEncap)}`);
  if (s.fragments.total > 0) {
    lines.push(`  fragments: ${n(s.fragments.total)} (${n(s.fragments.attributed)} attributed, ${n(s.fragments.orphaned)} orphaned)`);
  }
  if (s.evicted > 0) lines.push(`  flows ended early because the flow table was full: ${n(s.evicted)}`);
  for (const e of s.errors) {
    lines.push(`  error: ${e.message} (${e.code} at byte offset ${e.offset}${s.packets > 0 ? '; the flows before it are stored' : ''})`);
  }
  return `${lines.join('\n')}\n`;
}

/** Runs the command; returns the exit code (0: every file read to its end). */
export async function runPcapCommand(files: string[], o: PcapCommandOptions): Promise<number> {
  if (files.filter((f) => f === STDIN).length > 1) throw new CliError('standard input (-) can be read only once');
  const progress = await Progress.create(o.progress !== false && Boolean(process.stderr.isTTY) && !o.json);
  const t0 = performance.now();
  let count = 0;
  let failed = 0;
  const totals = { packets: 0, bytes: 0, flows: 0 };
  // Each file is reported as soon as it is done: its summary on stdout, problems (and without a terminal, a
  // progress line) on stderr.
  const done = (r: FileResult) => {
    count++;
    const s = r.summary;
    if (!s) {
      failed++;
      if (o.json) process.stdout.write(`${JSON.stringify({ file: r.file, error: r.error })}\n`);
      process.stderr.write(`dvflow pcap: ${r.error}\n`);
      return;
    }
    totals.packets += s.packets;
    totals.bytes += s.bytes;
    totals.flows += s.flows;
    if (o.json) process.stdout.write(`${JSON.stringify({ file: r.file, ...s })}\n`);
    else process.stdout.write(formatSummary(s));
    if (s.errors.length > 0) {
      failed++;
      const e = s.errors[0];
      const kept = s.packets > 0 ? ` (the ${n(s.flows)} flows before it are stored)` : '';
      process.stderr.write(`dvflow pcap: ${shown(r.file)}: ${e.message}${kept}\n`);
    } else if (!progress.enabled) {
      process.stderr.write(`dvflow pcap: ${shown(r.file)}: done, ${n(s.packets)} packets, ${n(s.flows)} flows in ${(s.elapsedMs / 1000).toFixed(2)} s\n`);
    }
  };
  if (o.clickhouseUrl || o.data) {
    await directAll(files, o, progress, done);
  } else {
    for (const file of files) {
      const pre = await precheck(file);
      if ('error' in pre) done({ file, summary: null, error: pre.error });
      else done(await sendOne(file, pre, o, progress));
    }
  }
  if (count > 1 && !o.json) {
    const secs = (performance.now() - t0) / 1000;
    process.stdout.write(`Total: ${count} files${failed ? ` (${failed} with errors)` : ''}, ${n(totals.packets)} packets, ` +
      `${n(totals.bytes)} bytes, ${n(totals.flows)} flows in ${secs.toFixed(2)} s\n`);
  }
  return failed > 0 ? 1 : 0;
}

function seconds(v: string): number {
  const x = Number(v);
  if (!Number.isFinite(x) || x <= 0) throw new InvalidArgumentError('expected a positive number of seconds');
  return x;
}

/** Adds `dvflow pcap` to the program. */
export function addPcapCommand(program: Command): void {
  program
    .command('pcap')
    .description('turn port-mirror captures into flows: pcap or pcapng, gzip-compressed or not; VLAN/QinQ, MPLS, GRE, ' +
      'ERSPAN I/II/III, VXLAN, Geneve and IP-in-IP are decapsulated and recorded on the flows (encap, outer addresses, ' +
      'VLANs, ERSPAN session and index, GRE key).\n\n' +
      'By default each file goes to the running daemon (POST /api/v1/pcap), which needs its write token: ' +
      '--token or DVFLOW_HTTP_TOKEN, the value of the daemon\'s http.token. A daemon on this host (--api on a loopback ' +
      'address) reads the file where it is; otherwise, or when it cannot read that path (a container, another user), ' +
      'the file\'s bytes are uploaded, as --upload always does. With --clickhouse-url the files are read ' +
      'here and written to that ClickHouse server directly (schema migrations applied first); with --data DIR, to the ' +
      'embedded store in DIR, when no daemon runs on it.\n\n' +
      'Flows end on the active and idle timeouts of nfpcapd\'s -e active,inactive (default 300 and 60 s, or the ' +
      'daemon\'s pcap.activeTimeout and pcap.idleTimeout), on TCP FIN/RST and at the end of the capture, all in packet ' +
      'time. Records get source pcap and capture = the --session name, else the file name: dvflow query "source pcap".\n\n' +
      'On a terminal a progress bar shows bytes, packets/s and flows; otherwise a line per file. Then, per file: ' +
      'packets, bytes, flows, malformed packets by kind, packets per encapsulation, fragments, and any error with its ' +
      'byte offset. - reads standard input, and a named pipe or device is read as a stream: uploaded chunked (up to the ' +
      'daemon\'s pcap.maxUploadBytes) and named stdin or by its file name. A missing, unreadable or non-capture file is reported and skipped while the other files are still ' +
      'ingested; a damaged capture (cut short, corrupt block) keeps the flows from before the damage. Exit status 1 when ' +
      'any file could not be read to its end, else 0.')
    .argument('<file...>', 'capture files (.pcap, .pcapng, .gz); - for standard input, e.g. tcpdump -w - | dvflow pcap -')
    .option('--session <name>', 'mirror session name, written as every record\'s capture (default: the file name)')
    .option('--active <seconds>', 'active timeout: a flow longer than this is cut (default 300)', seconds)
    .option('--idle <seconds>', 'idle timeout: a flow silent this long ends (default 60)', seconds)
    .option('--nfpcapd-compat', 'make flows exactly as nfpcapd 1.7.1 does, for comparisons: bare 5-tuple keys, no end on TCP FIN/RST, ' +
      'one flow per ICMP or DNS packet, expiry checked every 10 s, IPv4 fragments reassembled')
    .option('--api <url>', 'daemon API to upload to', process.env.DVFLOW_API ?? 'http://127.0.0.1:8080')
    .option('--token <token>', 'the daemon\'s write token (or DVFLOW_HTTP_TOKEN)')
    .option('--upload', 'upload the file\'s bytes even to a daemon on this host (by default it is told the path and reads the file itself)')
    .option('--clickhouse-url <url>', 'write to this ClickHouse server directly instead of uploading to the daemon')
    .option('--clickhouse-user <user>', 'ClickHouse user (default: default)')
    .option('--clickhouse-password <password>', 'ClickHouse password (or DVFLOW_CLICKHOUSE_PASSWORD)')
    .option('--clickhouse-database <db>', 'ClickHouse database (default: default)')
    .option('--data <dir>', 'write to the embedded store in this data directory instead (only while no daemon runs on it)')
    .option('--config <file>', 'config file for --clickhouse-url or --data (clickhouse.*, retention.*, pcap.* timeouts)')
    .option('--json', 'print each file\'s summary as one JSON line (no progress display)')
    .option('--no-progress', 'no progress bar, even on a terminal')
    .action(async (files: string[], opts: PcapCommandOptions) => {
      // Secrets from the environment are read here, not as option defaults: --help would print them.
      const o = { ...opts, token: opts.token ?? process.env.DVFLOW_HTTP_TOKEN, clickhousePassword: opts.clickhousePassword ?? process.env.DVFLOW_CLICKHOUSE_PASSWORD };
      process.exitCode = await runPcapCommand(files, o);
    });
}
