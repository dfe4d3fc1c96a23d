// Where every flow record goes, whatever produced it (UDP collector, pcap ingest, tests): the enrichment stage
// (portgroups, VIPs) and then the batch writer into `flows`. One path, so NetFlow and pcap flows look alike.
import type { Logger } from 'pino';
import type { DvflowConfig } from '../config/config.ts';
import type { ClickHouseStore } from '../storage/clickhouseStore.ts';
import { BatchWriter } from '../storage/batchWriter.ts';
import { flowColumns, newFlowBlock, type EnrichedFlow } from '../storage/flowRows.ts';
import type { CollectorMetrics } from '../collector/collectorMetrics.ts';
import type { FlowRecord } from '../flow/flowRecord.ts';

/** Fills the enrichment columns of records in place (portgroups, VMs, VIP, leg, backend). */
export type EnrichFn = (records: EnrichedFlow[]) => void;

export interface FlowSink {
  writer: BatchWriter<EnrichedFlow>;
  /** Enrich and queue records; drops (counted, logged) when the queue is full. For real-time sources. */
  ingest(records: FlowRecord[]): void;
  /**
   * Enrich and queue records, waiting first while the queue is above half its limit: sources that can wait
   * (a capture file) never lose records to a full queue.
   */
  ingestPaced(records: FlowRecord[]): Promise<void>;
  /** Swap the enrichment stage (inventory reload). */
  setEnrich(fn: EnrichFn | null): void;
  /** Sees every batch after enrichment, before it is queued (the IDS flow detectors); must not throw. */
  setObserver(fn: ((records: readonly EnrichedFlow[]) => void) | null): void;
  close(): Promise<void>;
}

export function createFlowSink(o: { store: ClickHouseStore; config: DvflowConfig; log: Logger; metrics: CollectorMetrics; enrich?: EnrichFn | null }): FlowSink {
  const { config, metrics, log } = o;
  let enrich: EnrichFn | null = o.enrich ?? null;
  let observe: ((records: readonly EnrichedFlow[]) => void) | null = null;
  const w = new BatchWriter<EnrichedFlow>({
    table: 'flows', columns: flowColumns, newBatch: () => newFlowBlock(4096), batchRows: config.writer.batchRows, flushMs: config.writer.flushMs,
    maxQueueRows: config.writer.maxQueueRows, insert: (t, c, b) => o.store.insertNative(t, c, b), concurrency: 2,
  });
  w.on('inserted', (rows: number, ms: number) => metrics.insertSeconds.observe({ table: 'flows' }, ms / 1000));
  w.on('insertError', (e: Error, rows: number) => {
    metrics.insertFailed.inc({ table: 'flows' }, rows);
    log.error({ err: e.message, rows }, 'insert into flows failed');
  });
  let droppedSeen = 0;
  const ingest = (records: FlowRecord[]) => {
    if (enrich) {
      try {
        enrich(records);
      } catch (e) {
        // A bug in enrichment must not cost the records: store them unenriched.
        log.error({ err: (e as Error).message }, 'enrichment failed; storing records without names');
      }
    }
    if (observe) {
      try {
        observe(records);
      } catch (e) {
        log.error({ err: (e as Error).message }, 'flow observer failed');
      }
    }
    for (const r of records) w.push(r);
    metrics.queueDepth.set({ table: 'flows' }, w.pendingRows);
    if (w.stats.rowsDropped !== droppedSeen) {
      metrics.dropped.inc({ table: 'flows' }, w.stats.rowsDropped - droppedSeen);
      if (droppedSeen === 0 || Math.floor(w.stats.rowsDropped / 10000) !== Math.floor(droppedSeen / 10000)) {
        log.warn({ dropped: w.stats.rowsDropped, queue: w.pendingRows }, 'write queue full: dropping flow records');
      }
      droppedSeen = w.stats.rowsDropped;
    }
  };
  const highWater = Math.max(1, Math.floor(config.writer.maxQueueRows / 2));
  const ingestPaced = async (records: FlowRecord[]) => {
    while (w.pendingRows + records.length > highWater && w.pendingRows > 0) {
      await new Promise((r) => setTimeout(r, 5));
    }
    ingest(records);
  };
  return {
    writer: w,
    ingest,
    ingestPaced,
    setEnrich: (fn) => {
      enrich = fn;
    },
    setObserver: (fn) => {
      observe = fn;
    },
    close: () => w.close(),
  };
}
