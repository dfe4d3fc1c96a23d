// Batches rows into few large inserts: a batch is sent when it holds `batchRows` rows or its oldest row
// has waited `flushMs`. Between decoding and ClickHouse sits a bounded queue; when it is full, new rows are
// dropped and counted (never silently), so a slow store cannot grow the heap without limit.
import { EventEmitter } from 'node:events';
import { TsvBuffer } from './tsvBuffer.ts';

export interface BatchWriterOptions<T> {
  table: string;
  columns: readonly string[];
  batchRows: number;
  flushMs: number;
  maxQueueRows: number;
  /** Appends one row for `row` (ending in a newline). */
  encode: (t: TsvBuffer, row: T) => void;
  /** Sends one TSV body. */
  insert: (table: string, columns: readonly string[], body: Buffer) => Promise<void>;
  /** Inserts in flight at once (the embedded engine parses each with its own threads). */
  concurrency?: number;
}

export interface BatchWriterStats {
  rowsQueued: number;
  rowsWritten: number;
  rowsDropped: number;
  rowsFailed: number;
  inserts: number;
  insertErrors: number;
  lastInsertMs: number;
  queueRows: number;
}

interface Batch {
  tsv: TsvBuffer;
  rows: number;
}

const newBatch = (): Batch => ({ tsv: new TsvBuffer(1 << 20), rows: 0 });

export class BatchWriter<T> extends EventEmitter {
  readonly stats: BatchWriterStats = {
    rowsQueued: 0, rowsWritten: 0, rowsDropped: 0, rowsFailed: 0, inserts: 0, insertErrors: 0, lastInsertMs: 0, queueRows: 0,
  };
  private current: Batch = newBatch();
  private readonly ready: Batch[] = [];
  private inFlight = 0;
  private timer: NodeJS.Timeout | null = null;
  private readonly idleWaiters: Array<() => void> = [];
  private closed = false;

  constructor(private readonly o: BatchWriterOptions<T>) {
    super();
  }

  /** Rows queued or being inserted. */
  get pendingRows(): number {
    return this.stats.queueRows;
  }

  /** Queue one row. Returns false if it was dropped because the queue is full. */
  push(row: T): boolean {
    if (this.closed || this.stats.queueRows >= this.o.maxQueueRows) {
      this.stats.rowsDropped++;
      return false;
    }
    this.o.encode(this.current.tsv, row);
    this.current.rows++;
    this.stats.rowsQueued++;
    this.stats.queueRows++;
    if (this.current.rows >= this.o.batchRows) this.seal();
    else if (!this.timer) this.timer = setTimeout(() => this.seal(), this.o.flushMs);
    return true;
  }

  private seal(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.current.rows === 0) return;
    this.ready.push(this.current);
    this.current = newBatch();
    this.pump();
  }

  private pump(): void {
    const limit = this.o.concurrency ?? 1;
    while (this.inFlight < limit && this.ready.length > 0) {
      const b = this.ready.shift()!;
      this.inFlight++;
      void this.send(b).finally(() => {
        this.inFlight--;
        this.stats.queueRows -= b.rows;
        this.pump();
        if (this.inFlight === 0 && this.ready.length === 0 && this.current.rows === 0) {
          for (const w of this.idleWaiters.splice(0)) w();
        }
      });
    }
  }

  private async send(b: Batch): Promise<void> {
    const body = b.tsv.bytes();
    const t0 = performance.now();
    try {
      await this.o.insert(this.o.table, this.o.columns, body);
      this.stats.rowsWritten += b.rows;
      this.stats.inserts++;
      this.stats.lastInsertMs = performance.now() - t0;
      this.emit('inserted', b.rows, this.stats.lastInsertMs);
    } catch (e) {
      this.stats.insertErrors++;
      this.stats.rowsFailed += b.rows;
      this.emit('insertError', e as Error, b.rows);
    }
  }

  /** Send what is buffered and wait until every insert has finished. */
  async flush(): Promise<void> {
    this.seal();
    if (this.inFlight === 0 && this.ready.length === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
  }
}
