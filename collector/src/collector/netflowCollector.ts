// The UDP edge of the collector: receives NetFlow v5/v9/IPFIX datagrams, hands each to the pure decoders
// with the exporter's template cache, does nfcapd-style exporter accounting, and passes records on.
import dgram from 'node:dgram';
import type { Logger } from 'pino';
import type { FlowRecord } from '../flow/flowRecord.ts';
import { decodeDatagram } from '../decoders/decodeDatagram.ts';
import { TemplateCache } from '../decoders/templateCache.ts';
import { SamplingTable } from '../decoders/samplingTable.ts';
import { SequenceTracker } from '../decoders/sequenceTracker.ts';
import { ExporterRegistry } from './exporterRegistry.ts';
import { normalizeIcmpPorts } from '../flow/icmpPorts.ts';
import type { CollectorMetrics } from './collectorMetrics.ts';
import type { ExporterSamplingConfig } from '../config/config.ts';

export interface NetflowCollectorOptions {
  port: number;
  bind: string;
  receiveBuffer: number;
  keyByPort: boolean;
  samplingDefault: number;
  samplingExporters: ExporterSamplingConfig[];
  templates: TemplateCache;
  exporters: ExporterRegistry;
  metrics: CollectorMetrics;
  log: Logger;
  onRecords: (records: FlowRecord[]) => void;
}

export class CollectorStartError extends Error {
  override name = 'CollectorStartError';
}

/** Logs at most `perMinute` lines per exporter and kind; the counters hold the rest. */
class LogLimiter {
  private readonly seen = new Map<string, { minute: number; n: number }>();
  constructor(private readonly perMinute: number) {}
  allow(key: string, now: number): boolean {
    const minute = Math.floor(now / 60_000);
    const e = this.seen.get(key);
    if (!e || e.minute !== minute) {
      this.seen.set(key, { minute, n: 1 });
      return true;
    }
    return ++e.n <= this.perMinute;
  }
}

export class NetflowCollector {
  private socket: dgram.Socket | null = null;
  readonly sampling = new SamplingTable();
  readonly sequences = new SequenceTracker();
  private readonly samplingByAddress: Map<string, ExporterSamplingConfig>;
  private readonly logLimiter = new LogLimiter(10);
  /** Sampling rates vCenter says dvSwitches use, by exporter address: used when the exporter announces none. */
  private inventorySampling = new Map<string, number>();
  datagrams = 0;
  /** Set when a template was added, replaced or withdrawn; the daemon persists the cache and clears it. */
  templatesDirty = false;

  constructor(private readonly o: NetflowCollectorOptions) {
    this.samplingByAddress = new Map(o.samplingExporters.map((e) => [normalizeAddress(e.address), e]));
  }

  get address(): { address: string; port: number } | null {
    const a = this.socket?.address();
    return a ? { address: a.address, port: a.port } : null;
  }

  async start(): Promise<void> {
    const type = this.o.bind.includes(':') ? 'udp6' : 'udp4';
    const socket = dgram.createSocket({ type, reuseAddr: false, recvBufferSize: this.o.receiveBuffer });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', (e: NodeJS.ErrnoException) => {
        const why = e.code === 'EADDRINUSE' ? `UDP port ${this.o.port} on ${this.o.bind} is already in use (another collector running?)`
          : e.code === 'EACCES' ? `no permission to bind UDP port ${this.o.port} on ${this.o.bind}`
          : e.code === 'EADDRNOTAVAIL' ? `address ${this.o.bind} is not on this machine`
          : e.message;
        reject(new CollectorStartError(`cannot start the NetFlow collector: ${why}`));
      });
      socket.bind(this.o.port, this.o.bind, () => resolve());
    });
    socket.on('error', (e) => this.o.log.error({ err: e }, 'UDP socket error'));
    socket.on('message', (msg, rinfo) => this.handleDatagram(msg, normalizeAddress(rinfo.address), rinfo.port, Date.now()));
    try {
      const got = socket.getRecvBufferSize();
      if (got < this.o.receiveBuffer) {
        this.o.log.warn({ wanted: this.o.receiveBuffer, got }, 'UDP receive buffer smaller than configured: raise net.core.rmem_max');
      }
    } catch { /* not all platforms report it */ }
    this.socket = socket;
  }

  /** Rates from the inventory (a dvSwitch's IPFIX samplingRate); a configured sampling.exporters entry still wins. */
  setInventorySampling(rates: Map<string, number>): void {
    this.inventorySampling = new Map([...rates].map(([a, r]) => [normalizeAddress(a), r]));
  }

  /** Decode one datagram and account for it. Public so tests and replays can feed datagrams directly. */
  handleDatagram(buf: Uint8Array, address: string, port: number, now: number): FlowRecord[] {
    this.datagrams++;
    const templateKey = this.o.keyByPort ? `${address}:${port}` : address;
    const conf = this.samplingByAddress.get(address);
    const res = decodeDatagram(buf, {
      exporterKey: templateKey,
      exporterAddr: address,
      exporterPort: port,
      receivedMs: now,
      templates: this.o.templates,
      sampling: this.sampling,
      samplingDefault: conf && !conf.override ? conf.rate : this.inventorySampling.get(address) ?? this.o.samplingDefault,
      samplingOverride: conf?.override ? conf.rate : undefined,
    });
    const { exporters, metrics } = this.o;
    const ex = exporters.get({ address, port, version: res.version, domain: res.domain }, now);
    exporters.add(ex, 'packets', 1);
    metrics.datagrams.inc({ exporter: ex.key, version: String(res.version) });
    for (const err of res.errors) {
      exporters.addError(ex, err.kind);
      metrics.decodeErrors.inc({ exporter: ex.key, kind: err.kind });
      if (this.logLimiter.allow(`${ex.key}|${err.kind}`, now)) {
        this.o.log.warn({ exporter: address, port, version: res.version, kind: err.kind }, `decode error: ${err.message}`);
      }
    }
    if (res.version === 5 || res.version === 7 || res.version === 9 || res.version === 10) {
      const seq = this.sequences.update(templateKey, res.version, res.domain, res.sequence, res.recordCountForSequence, res.records.length);
      if (seq.failure) {
        exporters.add(ex, 'sequenceFailures', 1);
        exporters.add(ex, 'lostFlows', seq.lostFlows);
        metrics.sequenceFailures.inc({ exporter: ex.key });
        metrics.lostFlows.inc({ exporter: ex.key }, seq.lostFlows);
      }
    }
    const records = res.records;
    if (records.length > 0) {
      let bytes = 0;
      for (const r of records) {
        bytes += r.bytes;
        normalizeIcmpPorts(r);
      }
      exporters.add(ex, 'flows', records.length);
      exporters.add(ex, 'bytes', bytes);
      metrics.flows.inc({ exporter: ex.key, source: 'netflow' }, records.length);
      ex.samplingRate = res.samplingRate;
      // The decoder knows 'default' only; a per-exporter configured rate is what the user set for it.
      ex.samplingSource = res.samplingSource === 'default' && conf ? 'configured' : res.samplingSource;
      this.o.onRecords(records);
    }
    if (res.templatesChanged) {
      this.templatesDirty = true;
      ex.templates = this.o.templates.templateCount(templateKey);
      metrics.templates.set({ exporter: ex.key }, ex.templates);
    }
    return records;
  }

  async close(): Promise<void> {
    const s = this.socket;
    this.socket = null;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}

/** '::ffff:10.1.2.3' (a dual-stack socket's view of an IPv4 peer) -> '10.1.2.3'. */
export function normalizeAddress(a: string): string {
  return a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
}
