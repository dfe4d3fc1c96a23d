// Batches rows into few large inserts: a batch is sent when it holds `batchRows` rows or its oldest row
// has waited `flushMs`. Between decoding and ClickHouse sits a bounded queue; when it is full, new rows are
// dropped and counted (never silently), so a slow store cannot grow the heap without limit.
import { EventEmitter } from 'node:events';

/** Rows being gathered into one insert body (a Native block for `flows`). */
export interface RowBatch<T> {
  readonly rows: number;
  add(row: T): void;
  /** The insert body, in pieces sent back to back. */
  encode(): Buffer[];
  /**
   * Empty the batch for reuse, keeping its memory. The writer calls it once an insert of the batch has succeeded
   * (nothing reads the encoded body any more) and hands the batch out again instead of asking `newBatch`.
   */
  reset?(): void;
}

export interface BatchWriterOptions<T> {
  table: string;
  columns: readonly string[];
  batchRows: number;
  flushMs: number;
  maxQueueRows: number;
  /** A new, empty batch. */
  newBatch: () => RowBatch<T>;
  /** Sends one body. */
  insert: (table: string, columns: readonly string[], body: Buffer[]) => Promise<void>;
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


export class BatchWriter<T> extends EventEmitter {
  readonly stats: BatchWriterStats = {
    rowsQueued: 0, rowsWritten: 0, rowsDropped: 0, rowsFailed: 0, inserts: 0, insertErrors: 0, lastInsertMs: 0, queueRows: 0,
  };
  private current: RowBatch<T>;
  private readonly ready: RowBatch<T>[] = [];
  private inFlight = 0;
  private timer: NodeJS.Timeout | null = null;
  private readonly idleWaiters: Array<() => void> = [];
  /**
   * Inserted batches kept for reuse (at most `concurrency` + 1): a 50,000-row flow block is ~25 MB of typed arrays,
   * and allocating, growing and first touching fresh ones cost more than the rows' own copying.
   */
  private readonly spare: RowBatch<T>[] = [];
  private closed = false;

  constructor(private readonly o: BatchWriterOptions<T>) {
    super();
    this.current = o.newBatch();
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
    this.current.add(row);
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
    this.current = this.spare.pop() ?? this.o.newBatch();
    this.pump();
  }

  private pump(): void {
    const limit = this.o.concurrency ?? 1;
    while (this.inFlight < limit && this.ready.length > 0) {
      const b = this.ready.shift()!;
      const rows = b.rows; // (send() may reset the batch for reuse)
      this.inFlight++;
      void this.send(b).finally(() => {
        this.inFlight--;
        this.stats.queueRows -= rows;
        this.pump();
        if (this.inFlight === 0 && this.ready.length === 0 && this.current.rows === 0) {
          for (const w of this.idleWaiters.splice(0)) w();
        }
      });
    }
  }

  private async send(b: RowBatch<T>): Promise<void> {
    const body = b.encode();
    const t0 = performance.now();
    try {
      await this.o.insert(this.o.table, this.o.columns, body);
      this.stats.rowsWritten += b.rows;
      this.stats.inserts++;
      this.stats.lastInsertMs = performance.now() - t0;
      this.emit('inserted', b.rows, this.stats.lastInsertMs);
      if (b.reset && this.spare.length <= (this.o.concurrency ?? 1)) {
        b.reset();
        this.spare.push(b);
      }
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
