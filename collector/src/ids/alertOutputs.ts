// Where raised alerts are sent besides the `alerts` table: a webhook (JSON POST) and syslog (RFC 5424 over UDP or
// TCP). Both are best effort with a bounded queue: a dead receiver costs counted, logged drops, never ingest.
// Syslog is formatted here: RFC 5424's line is a dozen fields, and the npm syslog clients are either unmaintained
// or RFC 3164 only.
import { createSocket, type Socket } from 'node:dgram';
import { connect, type Socket as TcpSocket } from 'node:net';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { StoredAlert } from './alertManager.ts';

export interface WebhookConfig {
  /** http(s) URL; '' = off. */
  url: string;
  /** Sent as `Authorization: Bearer ...` when set. */
  token: string;
  timeoutMs: number;
}

export interface SyslogConfig {
  /** Host name or address; '' = off. */
  host: string;
  port: number;
  protocol: 'udp' | 'tcp';
  /** Syslog facility number (16 = local0). */
  facility: number;
  appName: string;
}

export interface OutputStats {
  sent: number;
  failed: number;
  dropped: number;
}

/** The JSON body a webhook receives (one alert per POST). */
export function alertPayload(a: StoredAlert): Record<string, unknown> {
  return {
    id: a.id, time: new Date(a.time).toISOString(), last: new Date(a.last).toISOString(), detector: a.detector,
    severity: a.severity, summary: a.summary, src: a.src, dst: a.dst, dstPort: a.dstPort, proto: a.proto, vip: a.vip,
    portgroup: a.portgroup, origin: a.origin, capture: a.capture, sid: a.sid, classtype: a.classtype,
    occurrences: a.occurrences, counts: a.counts, samples: a.samples,
  };
}

const MAX_QUEUE = 1000;

/** POSTs alerts one by one, in order, with a timeout; a failure is counted and the next alert is tried. */
export class WebhookOutput {
  readonly stats: OutputStats = { sent: 0, failed: 0, dropped: 0 };
  private readonly queue: StoredAlert[] = [];
  private running: Promise<void> | null = null;

  constructor(private readonly c: WebhookConfig, private readonly log?: Logger) {}

  send(a: StoredAlert): void {
    if (this.queue.length >= MAX_QUEUE) {
      this.stats.dropped++;
      return;
    }
    this.queue.push(a);
    this.running ??= this.drain().finally(() => {
      this.running = null;
    });
  }

  /** Resolves when everything queued was tried. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async drain(): Promise<void> {
    for (let a = this.queue.shift(); a; a = this.queue.shift()) {
      try {
        const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'dvflow' };
        if (this.c.token) headers.authorization = `Bearer ${this.c.token}`;
        const res = await fetch(this.c.url, {
          method: 'POST', headers, body: JSON.stringify(alertPayload(a)), signal: AbortSignal.timeout(this.c.timeoutMs),
        });
        await res.arrayBuffer();
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        this.stats.sent++;
      } catch (e) {
        this.stats.failed++;
        if (this.stats.failed === 1 || this.stats.failed % 100 === 0) {
          this.log?.warn({ url: this.c.url, err: (e as Error).message, failed: this.stats.failed }, 'alert webhook failed');
        }
      }
    }
  }
}

const SYSLOG_SEVERITY: Record<StoredAlert['severity'], number> = { critical: 2, high: 3, medium: 4, low: 5, info: 6 };

/** RFC 5424 PARAM-VALUE escaping: ", \ and ] are escaped with a backslash. */
function sdValue(v: string | number): string {
  return String(v).replace(/["\\\]]/g, (c) => `\\${c}`);
}

/** An RFC 5424 header field: printable US-ASCII without spaces, at most `max` characters, '-' when empty. */
function headerField(v: string, max: number): string {
  const s = v.replace(/[^\x21-\x7e]/g, '').slice(0, max);
  return s || '-';
}

/**
 * One RFC 5424 message: <PRI>1 TIMESTAMP HOST APP PROCID MSGID [dvflow@32473 ...] MSG. 32473 is the private enterprise
 * number RFC 5612 reserves for documentation; a deployment can keep it, nothing registers it.
 */
export function formatSyslog(a: StoredAlert, c: Pick<SyslogConfig, 'facility' | 'appName'>, host = hostname()): string {
  const pri = c.facility * 8 + SYSLOG_SEVERITY[a.severity];
  const sd = [
    ['id', a.id], ['detector', a.detector], ['severity', a.severity], ['src', a.src], ['dst', a.dst], ['dstPort', a.dstPort],
    ['proto', a.proto], ['vip', a.vip], ['portgroup', a.portgroup], ['sid', a.sid],
  ].filter(([, v]) => v !== '' && v !== 0).map(([k, v]) => `${k}="${sdValue(v!)}"`).join(' ');
  // MSG is UTF-8 with a BOM, as RFC 5424 section 6.4 asks of UTF-8 text.
  return `<${pri}>1 ${new Date(a.time).toISOString()} ${headerField(host, 255)} ${headerField(c.appName, 48)} ${process.pid} ${headerField(a.detector, 32)} [dvflow@32473 ${sd}] \ufeff${a.summary}`;
}

export class SyslogOutput {
  readonly stats: OutputStats = { sent: 0, failed: 0, dropped: 0 };
  private udp: Socket | null = null;
  private tcp: TcpSocket | null = null;

  constructor(private readonly c: SyslogConfig, private readonly log?: Logger) {}

  send(a: StoredAlert): void {
    const line = formatSyslog(a, this.c);
    const fail = (e: Error) => {
      this.stats.failed++;
      if (this.stats.failed === 1 || this.stats.failed % 100 === 0) this.log?.warn({ host: this.c.host, err: e.message }, 'alert syslog failed');
    };
    if (this.c.protocol === 'udp') {
      this.udp ??= createSocket(this.c.host.includes(':') ? 'udp6' : 'udp4').on('error', fail);
      this.udp.unref();
      this.udp.send(Buffer.from(line), this.c.port, this.c.host, (e) => (e ? fail(e) : this.stats.sent++));
      return;
    }
    // TCP: RFC 6587 octet counting, one connection kept open and re-made after an error.
    if (!this.tcp || this.tcp.destroyed) {
      this.tcp = connect({ host: this.c.host, port: this.c.port }).on('error', (e) => {
        fail(e);
        this.tcp?.destroy();
      });
      this.tcp.unref();
    }
    if (this.tcp.writableLength > 1 << 20) {
      this.stats.dropped++;
      return;
    }
    const body = Buffer.from(line);
    this.tcp.write(`${body.length} `);
    this.tcp.write(body, (e) => (e ? fail(e) : this.stats.sent++));
  }

  close(): void {
    this.udp?.close();
    this.tcp?.end();
    this.udp = null;
    this.tcp = null;
  }
}
