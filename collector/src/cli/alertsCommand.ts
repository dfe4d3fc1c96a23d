// `dvflow alerts [filter]`: IDS alerts from the daemon's API (or a ClickHouse server directly), newest first, in
// lines like nfdump's listing, or as JSON/NDJSON/CSV for scripts; `--show ID` prints one alert with its evidence.
import { Command, InvalidArgumentError } from 'commander';
import { getAlert, listAlerts, type AlertListQuery, type AlertListResult, type AlertRow } from '../query/alertQuery.ts';
import { parseTimeWindow } from '../query/timeWindow.ts';
import { SEVERITIES, type Severity } from '../ids/idsTypes.ts';
import { protocolName } from '../filter/index.ts';
import { formatTime } from './nfdumpOutput.ts';
import { CliError } from './cliError.ts';
import { callDaemon } from './daemonApi.ts';
import { addServerOptions, withServerStore, type ServerOptions } from './serverOptions.ts';

const FORMATS = ['line', 'long', 'json', 'ndjson', 'csv'] as const;
type Format = (typeof FORMATS)[number];

function endpoint(addr: string, port: number): string {
  if (!addr) return '-';
  if (!port) return addr;
  return addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`;
}

function alertLine(a: AlertRow): string {
  return `${formatTime(a.time)} ${a.severity.padEnd(8)} ${a.detector.padEnd(16)} ${(a.src || '-').padEnd(15)} ` +
    `${endpoint(a.dst, a.dstPort).padEnd(21)} ${String(a.occurrences).padStart(5)}  ${a.summary}`;
}

function header(): string {
  return `${'Date first seen'.padEnd(23)} ${'Severity'.padEnd(8)} ${'Detector'.padEnd(16)} ${'Source'.padEnd(15)} ${'Destination'.padEnd(21)} ${'Count'.padStart(5)}  Summary`;
}

const csvCell = (v: string | number) => (/[",\n]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : String(v));
const CSV_COLUMNS = ['id', 'time', 'last', 'severity', 'detector', 'src', 'dst', 'dstPort', 'proto', 'vip', 'portgroup', 'origin', 'capture', 'sid', 'occurrences', 'summary'] as const;

/** The evidence of one alert, for --show and -o long. */
export function renderAlertDetail(a: AlertRow): string {
  const lines = [
    `Alert ${a.id}`,
    `  ${a.severity} ${a.detector}: ${a.summary}`,
    `  evidence       ${formatTime(a.time)} - ${formatTime(a.last)} (${a.occurrences} detection${a.occurrences === 1 ? '' : 's'})`,
    `  source         ${a.src || '-'}`,
    `  destination    ${endpoint(a.dst, a.dstPort)}${a.proto ? ` ${protocolName(a.proto)}` : ''}`,
  ];
  if (a.vip) lines.push(`  VIP            ${a.vip}`);
  if (a.portgroup) lines.push(`  portgroup      ${a.portgroup}`);
  if (a.sid) lines.push(`  rule           sid ${a.sid}${a.classtype ? ` (${a.classtype})` : ''}`);
  lines.push(`  from           ${a.origin}${a.capture ? ` (${a.capture})` : ''}`);
  const counts = Object.entries(a.counts);
  if (counts.length) lines.push(`  counts         ${counts.map(([k, v]) => `${k}=${Number.isInteger(v) ? v : v.toFixed(2)}`).join(' ')}`);
  for (const s of a.samples) {
    lines.push(`  sample         ${formatTime(s.time)} ${protocolName(s.proto)} ${endpoint(s.srcAddr, s.srcPort)} -> ${endpoint(s.dstAddr, s.dstPort)} ` +
      `${s.packets} pkts ${s.bytes} bytes${s.note ? `  ${s.note}` : ''}`);
  }
  return `${lines.join('\n')}\n`;
}

export function renderAlerts(r: AlertListResult, format: Format, quiet: boolean): string {
  switch (format) {
    case 'json': return `${JSON.stringify(r.alerts, null, 2)}\n`;
    case 'ndjson': return r.alerts.map((a) => `${JSON.stringify(a)}\n`).join('');
    case 'csv': return `${CSV_COLUMNS.join(',')}\n${r.alerts.map((a) => `${CSV_COLUMNS.map((c) => csvCell(c === 'time' || c === 'last' ? new Date(a[c]).toISOString() : a[c])).join(',')}\n`).join('')}`;
    case 'long': return r.alerts.map(renderAlertDetail).join('\n');
    case 'line': {
      let out = quiet ? '' : `${header()}\n`;
      out += r.alerts.map((a) => `${alertLine(a)}\n`).join('');
      if (!quiet) {
        const det = Object.entries(r.byDetector).sort((x, y) => y[1] - x[1]).map(([k, v]) => `${k} ${v}`).join(', ');
        out += `Summary: ${r.total} alert${r.total === 1 ? '' : 's'}${r.alerts.length < r.total ? `, ${r.alerts.length} shown` : ''}${det ? ` (${det})` : ''}\n`;
      }
      return out;
    }
  }
}

function severity(v: string): Severity {
  if (!SEVERITIES.includes(v as Severity)) throw new InvalidArgumentError(`expected one of ${SEVERITIES.join(', ')}`);
  return v as Severity;
}

function count(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 10_000) throw new InvalidArgumentError('expected a whole number 1-10000');
  return n;
}

interface AlertsOptions extends ServerOptions {
  t?: string;
  detector?: string;
  severity?: Severity;
  n: number;
  o: Format;
  q?: boolean;
  show?: string;
}

const hint = 'Use --api, or --clickhouse-url to read a ClickHouse server directly.';

export function addAlertsCommand(program: Command): void {
  const alerts = program
    .command('alerts')
    .summary('list IDS alerts')
    .description(
      'List IDS alerts, newest first. The filter is nfdump\'s language applied to the alert: src/dst ip, net, dst port, proto, vip, portgroup\n' +
      "(e.g. 'dst ip 10.0.0.9 and dst port 22'). -t takes nfdump's window; alerts whose evidence overlaps it are listed.",
    )
    .argument('[filter...]', 'nfdump filter on the alerts')
    .option('-t <window>', 'time window yyyy/MM/dd.hh:mm:ss[-yyyy/MM/dd.hh:mm:ss], or -SECONDS for the last seconds')
    .option('--detector <ids>', 'only these detectors, comma separated (port-scan, syn-flood, snort-rule, user-rule, ...)')
    .option('--severity <level>', `this severity or higher: ${SEVERITIES.join(', ')}`, severity)
    .option('-n <num>', 'list at most N alerts', count, 50)
    .option('-o <format>', `output: ${FORMATS.join(', ')} (long shows each alert's evidence)`, (v: string) => {
      if (!FORMATS.includes(v as Format)) throw new InvalidArgumentError(`expected one of ${FORMATS.join(', ')}`);
      return v;
    }, 'line')
    .option('-q', 'quiet: no header, no summary')
    .option('--show <id>', 'print one alert with its evidence (counts and sample flows or packets)');
  addServerOptions(alerts, 'read')
    .action(async (words: string[], o: AlertsOptions) => {
      if (o.show) {
        if (!/^[0-9a-f-]{36}$/i.test(o.show)) throw new CliError(`--show takes an alert id (a UUID), got '${o.show}'`);
        const a = o.clickhouseUrl
          ? await withServerStore(o, (s) => getAlert(s, o.show!))
          : await callDaemon<AlertRow>(o.api, 'GET', `/alerts/${encodeURIComponent(o.show)}`, { hint, failure: 'alert lookup failed' });
        if (!a) throw new CliError(`no alert ${o.show}`);
        process.stdout.write(o.o === 'json' || o.o === 'ndjson' ? `${JSON.stringify(a, null, o.o === 'json' ? 2 : 0)}\n` : renderAlertDetail(a));
        return;
      }
      const window = o.t ? parseTimeWindow(o.t) : {};
      const q: AlertListQuery = {
        from: window.from, to: window.to, filter: words.join(' ') || undefined,
        detectors: o.detector ? o.detector.split(',').map((d) => d.trim()).filter(Boolean) : undefined, minSeverity: o.severity, limit: o.n,
      };
      let r: AlertListResult;
      if (o.clickhouseUrl) {
        r = await withServerStore(o, (s) => listAlerts(s, q));
      } else {
        const params = new URLSearchParams();
        if (q.from !== undefined) params.set('from', String(q.from));
        if (q.to !== undefined) params.set('to', String(q.to));
        if (q.filter) params.set('filter', q.filter);
        if (q.detectors?.length) params.set('detector', q.detectors.join(','));
        if (q.minSeverity) params.set('severity', q.minSeverity);
        params.set('limit', String(q.limit));
        r = await callDaemon<AlertListResult>(o.api, 'GET', `/alerts?${params}`, { hint, failure: 'alert query failed' });
      }
      process.stdout.write(renderAlerts(r, o.o, Boolean(o.q)));
    });
}
