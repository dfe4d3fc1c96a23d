// One process, many roles: `start` runs collector + HTTP API on one store (the embedded engine locks its
// directory to one process); with a ClickHouse server, `collect` and `web` can run apart.
import { readFileSync, writeFileSync, renameSync, mkdirSync, existsSync, statSync, accessSync, constants } from 'node:fs';
import { join, dirname } from 'node:path';
import pino, { type Logger } from 'pino';
import type { DvflowConfig } from '../config/config.ts';
import { ClickHouseStore } from '../storage/clickhouseStore.ts';
import { migrate } from '../storage/migrator.ts';
import type { BatchWriter } from '../storage/batchWriter.ts';
import type { EnrichedFlow } from '../storage/flowRows.ts';
import { createFlowSink, type FlowSink } from '../ingest/flowSink.ts';
import { TemplateCache } from '../decoders/templateCache.ts';
import { NetflowCollector } from '../collector/netflowCollector.ts';
import { ExporterRegistry, exporterStatsColumns } from '../collector/exporterRegistry.ts';
import { createCollectorMetrics } from '../collector/collectorMetrics.ts';
import { FlowQuery } from '../query/flowQuery.ts';
import { compileFilter } from '../query/filterSql.ts';
import type { FlowRecord } from '../flow/flowRecord.ts';
import { InventoryService } from '../inventory/inventoryService.ts';
import { VcenterSync } from '../inventory/vcenter/vcenterInventory.ts';
import type { PortgroupInventory } from '../inventory/inventoryModel.ts';
import { PcapService } from '../pcap/pcapService.ts';
import { startReadThread } from '../pcap/captureReadThread.ts';
import { DropFolder } from '../pcap/dropFolder.ts';
import { createIds, IdsConfigError } from '../ids/createIds.ts';
import type { IdsService } from '../ids/idsService.ts';

export type Role = 'start' | 'collect' | 'web';

/** A start-up problem the user can fix (bad directory, taken port, missing server): printed without a stack. */
export class DaemonStartError extends Error {
  override name = 'DaemonStartError';
}

export interface DaemonHandle {
  store: ClickHouseStore;
  collector: NetflowCollector | null;
  writer: BatchWriter<EnrichedFlow> | null;
  exporters: ExporterRegistry | null;
  httpAddress: { address: string; port: number } | null;
  log: Logger;
  /** Push records through the same path as decoded datagrams (pcap ingest, tests). */
  ingest: (records: FlowRecord[]) => void;
  /** The enrichment + writer path itself (null for the web role). */
  sink: FlowSink | null;
  /** Capture ingest (upload route, drop folder); null for the web role. */
  pcap: PcapService | null;
  inventory: InventoryService;
  /** The IDS (start and collect roles with ids.enabled); null otherwise. */
  ids: IdsService | null;
  close: () => Promise<void>;
}

export interface DaemonOptions {
  role: Role;
  log?: Logger;
}

const templateFile = (c: DvflowConfig) => join(c.data, 'templates.json');

function loadTemplates(c: DvflowConfig, log: Logger): TemplateCache {
  const file = templateFile(c);
  try {
    const cache = TemplateCache.fromJSON(JSON.parse(readFileSync(file, 'utf8')));
    log.info({ file }, 'templates restored');
    return cache;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') log.warn({ file, err: (e as Error).message }, 'template cache unreadable; starting empty');
    return new TemplateCache();
  }
}

function saveTemplates(c: DvflowConfig, cache: TemplateCache): void {
  const file = templateFile(c);
  writeFileSync(`${file}.tmp`, JSON.stringify(cache.toJSON()));
  renameSync(`${file}.tmp`, file);
}

export async function startDaemon(config: DvflowConfig, o: DaemonOptions): Promise<DaemonHandle> {
  const log = o.log ?? pino({ level: config.log.level, base: { app: 'dvflow' } });
  if (o.role !== 'start' && !config.clickhouse.url) {
    throw new DaemonStartError(`'dvflow ${o.role}' runs one role alone and needs a ClickHouse server (--clickhouse-url): the embedded store belongs to one process`);
  }
  ensureDataDir(config.data);
  const store = await ClickHouseStore.open({ ...config.clickhouse, dataDir: config.data });
  log.info({ store: store.description }, 'store open');
  const cleanups: Array<() => Promise<void> | void> = [() => store.close()];
  const close = async () => {
    for (const c of cleanups.splice(0).reverse()) {
      try {
        await c();
      } catch (e) {
        log.error({ err: e }, 'shutdown step failed');
      }
    }
  };
  try {
    const applied = await migrate(store, { cluster: config.clickhouse.cluster, retention: config.retention as unknown as Record<string, string> });
    if (applied.length) log.info({ applied }, 'schema migrations applied');

    const metrics = createCollectorMetrics();
    const flowQuery = new FlowQuery(store, compileFilter, { retention: config.retention as unknown as Record<string, string> });
    let collector: NetflowCollector | null = null;
    let writer: BatchWriter<EnrichedFlow> | null = null;
    let exporters: ExporterRegistry | null = null;
    let flowSink: FlowSink | null = null;
    let pcap: PcapService | null = null;
    let ids: IdsService | null = null;
    let idsStatus: (() => Record<string, unknown>) | undefined;
    // Created for every role: `web` shows it, `start`/`collect` enrich with it.
    const inventory = new InventoryService({
      config, log: log.child({ part: 'inventory' }),
      onChange: (e, merged) => {
        flowSink?.setEnrich((records) => e.enrich(records));
        collector?.setInventorySampling(samplingByExporter(merged.portgroups));
      },
    });
    cleanups.push(() => inventory.stop());
    const vc = config.inventory.vcenter;
    if (vc.url) {
      const vlog = log.child({ part: 'vcenter' });
      const sync = new VcenterSync({
        url: vc.url, user: vc.user, password: vc.password, insecure: vc.insecure, intervalMs: vc.refreshSeconds * 1000,
        onInventory: (r) => {
          for (const w of r.warnings.slice(0, 20)) vlog.warn({ line: w.line }, `vCenter: ${w.message}`);
          inventory.setVcenter(sync.url, r.inventory);
        },
        onError: (e) => inventory.setVcenter(sync.url, null, e.message),
        log: vlog,
      });
      sync.start();
      cleanups.push(() => sync.stop());
    }
    let ingest: (records: FlowRecord[]) => void = () => {
      throw new Error('this role does not ingest flows');
    };

    if (o.role === 'start' || o.role === 'collect') {
      const sink = createFlowSink({ store, config, log, metrics });
      flowSink = sink;
      if (config.ids.enabled) {
        try {
          const built = await createIds(config.ids, { store, dataDir: config.data, log: log.child({ part: 'ids' }) });
          const engine = built.ids.engine;
          ids = built.ids;
          idsStatus = built.status;
          sink.setObserver((records) => engine.onFlows(records));
          built.ids.start();
          const i = built.ids;
          cleanups.push(() => i.close());
        } catch (e) {
          if (e instanceof IdsConfigError) throw new DaemonStartError(e.message);
          throw e;
        }
      }
      const w = sink.writer;
      writer = w;
      ingest = sink.ingest;
      const ex = new ExporterRegistry(config.netflow.keyByPort);
      exporters = ex;
      ex.restore(await loadExporterTotals(store));
      const templates = loadTemplates(config, log);
      collector = new NetflowCollector({
        port: config.netflow.port, bind: config.netflow.bind, receiveBuffer: config.netflow.receiveBuffer,
        keyByPort: config.netflow.keyByPort, samplingDefault: config.sampling.default, samplingExporters: config.sampling.exporters,
        templates, exporters: ex, metrics, log, onRecords: ingest,
      });
      inventory.start();
      await collector.start();
      const c = collector;
      log.info({ udp: c.address }, 'NetFlow/IPFIX collector listening');
      let lastExpiry = Date.now();
      const statsTimer = setInterval(() => {
        if (Date.now() - lastExpiry >= 60_000) {
          // Data held for templates that never came, and domains that went quiet, do not live forever.
          lastExpiry = Date.now();
          const gone = templates.expire(lastExpiry);
          if (gone.pending > 0) log.warn({ sets: gone.pending }, 'dropped data sets whose template never arrived');
        }
        const body = ex.takeStatsTsv(Date.now());
        if (body) void store.insertTsv('exporter_stats', exporterStatsColumns, Buffer.from(body)).catch((e) => log.error({ err: e.message }, 'exporter stats insert failed'));
        if (c.templatesDirty) {
          c.templatesDirty = false;
          try {
            saveTemplates(config, templates);
          } catch (e) {
            log.error({ err: (e as Error).message }, 'cannot save templates');
          }
        }
      }, 5000);
      statsTimer.unref();
      cleanups.push(async () => {
        clearInterval(statsTimer);
        await c.close();
        await w.close();
        const body = ex.takeStatsTsv(Date.now());
        if (body) await store.insertTsv('exporter_stats', exporterStatsColumns, Buffer.from(body));
        saveTemplates(config, templates);
      });
      const engine = ids?.engine;
      const pcapLog = log.child({ part: 'pcap' });
      const readThread = startReadThread(config, engine ?? null, pcapLog);
      if (readThread) cleanups.push(() => readThread.close());
      const ps = new PcapService({
        sink, config: config.pcap, uploadDir: join(config.data, 'uploads'), log: pcapLog, readThread, packets: engine ?? null,
      });
      pcap = ps;
      if (config.pcap.watch) {
        const drop = new DropFolder({
          dir: config.pcap.watch, stateFile: join(config.data, 'pcap-done.json'), afterIngest: config.pcap.afterIngest,
          ingest: (file, signal) => ps.ingest(file, { signal }), log: log.child({ part: 'pcap-drop' }),
        });
        try {
          await drop.start();
        } catch (e) {
          throw new DaemonStartError(`pcap drop folder ${config.pcap.watch} is not usable: ${(e as Error).message}`);
        }
        cleanups.push(() => drop.close());
      }
    }

    let httpAddress: DaemonHandle['httpAddress'] = null;
    if (o.role === 'start' || o.role === 'web') {
      const { buildServer } = await import('@dvflow/web/src/server.ts');
      const w = writer;
      const app = await buildServer({
        flowQuery, exporters, metrics: metrics.registry, token: config.http.token, inventory, pcap,
        runner: store, dataDir: config.data, flowEvents: writer, retention: { ...config.retention }, ids, idsStatus,
        health: async () => ({ store: store.description, queueRows: w?.pendingRows ?? 0, droppedRows: w?.stats.rowsDropped ?? 0 }),
      }, log.child({ part: 'http' }));
      try {
        await app.listen({ port: config.http.port, host: config.http.bind });
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        const why = err.code === 'EADDRINUSE' ? `TCP port ${config.http.port} on ${config.http.bind} is already in use` : err.message;
        throw new DaemonStartError(`cannot start the HTTP server: ${why}`);
      }
      const a = app.server.address();
      if (a && typeof a === 'object') httpAddress = { address: a.address, port: a.port };
      log.info({ http: httpAddress }, 'HTTP API listening');
      cleanups.push(() => app.close());
    }
    if (o.role === 'web') inventory.start();
    return { store, collector, writer, exporters, httpAddress, log, ingest, sink: flowSink, pcap, inventory, ids, close };
  } catch (e) {
    await close();
    throw e;
  }
}

/** The sampling rate vCenter says each dvSwitch uses, for its exporters (and its Switch IP). */
function samplingByExporter(pg: PortgroupInventory): Map<string, number> {
  const m = new Map<string, number>();
  for (const sw of pg.switches) {
    const rate = sw.netflow?.samplingRate ?? 0;
    if (rate <= 1) continue;
    for (const e of sw.exporters) m.set(e.split('/')[0]!, rate);
    if (sw.netflow?.switchIp) m.set(sw.netflow.switchIp, rate);
  }
  return m;
}

/** Create the data directory, failing with a clear message (and never looping: Node's recursive mkdir spins on /proc). */
function ensureDataDir(dir: string): void {
  let parent = dir;
  while (!existsSync(parent)) parent = dirname(parent);
  try {
    if (!statSync(parent).isDirectory()) throw new Error(`${parent} is not a directory`);
    if (parent.startsWith('/proc') || parent.startsWith('/sys')) throw new Error(`${parent} is a kernel file system`);
    accessSync(parent, constants.W_OK);
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
  } catch (e) {
    throw new DaemonStartError(`data directory ${dir} is not usable: ${(e as Error).message}`);
  }
}

async function loadExporterTotals(store: ClickHouseStore) {
  const rows = await store.queryRows<Record<string, string | number>>(
    `SELECT replaceRegexpOne(toString(exporter), '^::ffff:', '') AS address, exporter_port AS port, version, domain,
            sum(packets) AS packets, sum(flows) AS flows, sum(bytes) AS bytes, sum(sequence_failures) AS seq,
            sum(lost_flows) AS lost, sum(decode_errors) AS errors, max(templates) AS templates,
            argMax(sampling_rate, minute) AS rate, toUnixTimestamp64Milli(min(first_seen)) AS first_seen,
            toUnixTimestamp64Milli(max(last_seen)) AS last_seen
     FROM exporter_stats GROUP BY address, port, version, domain`,
  );
  return rows.map((r) => ({
    address: String(r.address), port: Number(r.port), version: Number(r.version), domain: Number(r.domain),
    packets: Number(r.packets), flows: Number(r.flows), bytes: Number(r.bytes), sequenceFailures: Number(r.seq),
    lostFlows: Number(r.lost), decodeErrors: Number(r.errors), templates: Number(r.templates), samplingRate: Number(r.rate),
    firstSeen: Number(r.first_seen), lastSeen: Number(r.last_seen),
  }));
}
