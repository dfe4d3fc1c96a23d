// Per-exporter accounting, keyed as nfcapd keys exporters: (address, version, observation domain / source
// id), plus the source port when exporters are keyed by port (the dvSwitch "Switch IP" case). Holds the
// running totals the API lists, and the per-minute deltas written to `exporter_stats`.

export interface ExporterKeyParts {
  address: string;
  port: number;
  version: number;
  domain: number;
}

export interface ExporterCounters {
  packets: number;
  flows: number;
  bytes: number;
  sequenceFailures: number;
  lostFlows: number;
  decodeErrors: number;
}

export interface ExporterState extends ExporterKeyParts, ExporterCounters {
  key: string;
  templates: number;
  /** Sampling rate applied to this exporter's latest flows, and where it came from. */
  samplingRate: number;
  samplingSource: 'announced' | 'configured' | 'default' | 'override' | 'none';
  errorsByKind: Record<string, number>;
  firstSeen: number;
  lastSeen: number;
  /** Unflushed deltas since the last stats row. */
  delta: ExporterCounters;
}

function zero(): ExporterCounters {
  return { packets: 0, flows: 0, bytes: 0, sequenceFailures: 0, lostFlows: 0, decodeErrors: 0 };
}

export function exporterKey(p: ExporterKeyParts, keyByPort: boolean): string {
  return keyByPort ? `${p.address}|${p.port}|${p.version}|${p.domain}` : `${p.address}|${p.version}|${p.domain}`;
}

export class ExporterRegistry {
  private readonly byKey = new Map<string, ExporterState>();

  constructor(private readonly keyByPort: boolean) {}

  get(p: ExporterKeyParts, now: number): ExporterState {
    const key = exporterKey(p, this.keyByPort);
    let s = this.byKey.get(key);
    if (!s) {
      s = {
        key, address: p.address, port: this.keyByPort ? p.port : 0, version: p.version, domain: p.domain,
        ...zero(), templates: 0, samplingRate: 1, samplingSource: 'none', errorsByKind: {},
        firstSeen: now, lastSeen: now, delta: zero(),
      };
      this.byKey.set(key, s);
    }
    s.lastSeen = now;
    return s;
  }

  add(s: ExporterState, field: keyof ExporterCounters, n: number): void {
    s[field] += n;
    s.delta[field] += n;
  }

  addError(s: ExporterState, kind: string): void {
    this.add(s, 'decodeErrors', 1);
    s.errorsByKind[kind] = (s.errorsByKind[kind] ?? 0) + 1;
  }

  list(): ExporterState[] {
    return [...this.byKey.values()].sort((a, b) => a.address.localeCompare(b.address) || a.port - b.port || a.domain - b.domain);
  }

  /** Restore totals persisted in exporter_stats, so counters survive a restart. */
  restore(rows: Array<ExporterKeyParts & ExporterCounters & { templates: number; samplingRate: number; firstSeen: number; lastSeen: number }>): void {
    for (const r of rows) {
      const s = this.get(r, r.lastSeen);
      s.packets += r.packets; s.flows += r.flows; s.bytes += r.bytes;
      s.sequenceFailures += r.sequenceFailures; s.lostFlows += r.lostFlows; s.decodeErrors += r.decodeErrors;
      s.templates = Math.max(s.templates, r.templates);
      s.samplingRate = r.samplingRate || s.samplingRate;
      s.firstSeen = Math.min(s.firstSeen, r.firstSeen);
      s.lastSeen = Math.max(s.lastSeen, r.lastSeen);
    }
  }

  /** Take the deltas since the last call as rows for exporter_stats (TSV), resetting them. */
  takeStatsTsv(now: number): string {
    const minute = Math.floor(now / 60_000) * 60;
    let out = '';
    for (const s of this.byKey.values()) {
      const d = s.delta;
      if (d.packets === 0 && d.decodeErrors === 0 && d.sequenceFailures === 0) continue;
      out += `${minute}\t${s.address}\t${s.port}\t${s.version}\t${s.domain}\t${d.packets}\t${d.flows}\t${d.bytes}\t${d.sequenceFailures}\t${d.lostFlows}\t${d.decodeErrors}\t${s.templates}\t${s.samplingRate}\t${s.firstSeen}\t${s.lastSeen}\n`;
      s.delta = zero();
    }
    return out;
  }
}

export const exporterStatsColumns = [
  'minute', 'exporter', 'exporter_port', 'version', 'domain', 'packets', 'flows', 'bytes', 'sequence_failures',
  'lost_flows', 'decode_errors', 'templates', 'sampling_rate', 'first_seen', 'last_seen',
] as const;
