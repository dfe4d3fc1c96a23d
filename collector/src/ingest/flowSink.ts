// Where every flow record goes, whatever produced it (UDP collector, pcap ingest, tests): the enrichment stage
// (portgroups, VIPs) and then the batch writer into `flows`. One path, so NetFlow and pcap flows look alike.
import { setImmediate as nextTurn } from 'node:timers/promises';
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
   * (a capture file) never lose records to a full queue. With `deferred`, the observer sees the batch only when
   * observeDeferred(deferred) runs, after the batch is queued for writing; only the last 2 × writer.batchRows rows
   * wait (the last two inserts'), older ones are shown to the observer as newer ones come, so memory stays bounded.
   */
  ingestPaced(records: FlowRecord[], deferred?: DeferredFlows): Promise<void>;
  /**
   * Shows the observer the batches ingestPaced deferred, in order, yielding to the event loop between them. A
   * capture's end queues its last flows for writing first and starts their inserts, so ClickHouse writes them while
   * the detectors look at them. bench/pcap's capture through the daemon, holding back all of the end's 107,000 flows:
   * the last insert done 80-190 ms sooner after the last packet (4 pairs of runs of 4); whole ingest 2.73 → 2.66 s,
   * medians of 8 alternating pairs (5 faster). Holding back one writer block (50,000): 2.48 → 2.32 s, medians of 8
   * alternating pairs (4 faster), and no more CPU; two blocks (100,000), as now, against one: 2.38 → 2.31 s (6 of 8).
   */
  observeDeferred(deferred: DeferredFlows): Promise<void>;
  /** Swap the enrichment stage (inventory reload). */
  setEnrich(fn: EnrichFn | null): void;
  /**
   * Sees every batch after enrichment (the IDS flow detectors): before it is queued, or after it for the batches
   * ingestPaced deferred. Should not throw (a throw is logged; the records are stored all the same).
   */
  setObserver(fn: ((records: readonly EnrichedFlow[]) => void) | null): void;
  close(): Promise<void>;
}

/** Batches whose turn with the observer ingestPaced put off, oldest first, and how many rows they hold. */
export class DeferredFlows {
  private readonly batches: EnrichedFlow[][] = [];
  private held = 0;

  get rows(): number {
    return this.held;
  }

  add(batch: EnrichedFlow[]): void {
    this.batches.push(batch);
    this.held += batch.length;
  }

  /** The oldest batch, removed; undefined when none is left. */
  take(): EnrichedFlow[] | undefined {
    const b = this.batches.shift();
    if (b !== undefined) this.held -= b.length;
    return b;
  }
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
  const ingest = (records: FlowRecord[], deferred?: DeferredFlows) => {
    if (enrich) {
      try {
        enrich(records);
      } catch (e) {
        // A bug in enrichment must not cost the records: store them unenriched.
        log.error({ err: (e as Error).message }, 'enrichment failed; storing records without names');
      }
    }
    if (observe && deferred) {
      deferred.add(records);
      // Held records are memory (a capture's end can close half a million flows): two writer blocks' worth wait, the
      // two inserts the writer runs at once.
      while (deferred.rows > 2 * config.writer.batchRows) look(observe, deferred.take()!);
    } else if (observe) look(observe, records);
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
  const look = (fn: (records: readonly EnrichedFlow[]) => void, records: readonly EnrichedFlow[]) => {
    try {
      fn(records);
    } catch (e) {
      log.error({ err: (e as Error).message }, 'flow observer failed');
    }
  };
  const highWater = Math.max(1, Math.floor(config.writer.maxQueueRows / 2));
  const ingestPaced = async (records: FlowRecord[], deferred?: DeferredFlows) => {
    while (w.pendingRows + records.length > highWater && w.pendingRows > 0) {
      await new Promise((r) => setTimeout(r, 5));
    }
    ingest(records, deferred);
  };
  const observeDeferred = async (deferred: DeferredFlows) => {
    for (let b = deferred.take(), first = true; b !== undefined; b = deferred.take(), first = false) {
      if (!first) await nextTurn();
      // (The observer may have been swapped meanwhile: the current one sees them.)
      if (observe) look(observe, b);
    }
  };
  return {
    writer: w,
    ingest: (records) => ingest(records),
    ingestPaced,
    observeDeferred,
    setEnrich: (fn) => {
      enrich = fn;
    },
    setObserver: (fn) => {
      observe = fn;
    },
    close: () => w.close(),
  };
}
