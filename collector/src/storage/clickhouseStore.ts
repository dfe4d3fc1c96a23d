// Opens ClickHouse for dvflow: an in-process engine (chDB, through `chdb/connection`) under the data
// directory by default, or a server by URL. Both are driven through the same @clickhouse/client API and
// the same SQL; only the bulk insert path differs (chDB reads a large TSV body from a spool file with
// `INSERT ... FROM INFILE`, a small one zero-copy from the buffer).
import { mkdirSync, accessSync, constants, rmSync } from 'node:fs';
import { open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { createClient, type ClickHouseClient } from '@clickhouse/client';

export interface StoreOptions {
  /** Empty: embedded under dataDir/clickhouse. */
  url: string;
  user: string;
  password: string;
  database: string;
  cluster: string;
  dataDir: string;
}

interface ChdbRawInsert {
  rawInsert(p: { table: string; values: Buffer; format: 'TSV'; columns?: readonly string[] }): Promise<{ rowsWritten: number }>;
}

/**
 * Embedded inserts of at least this many bytes go through a spool file. chDB parses an inline body (rawInsert: the
 * data after `FORMAT TSV` in the query) slowly, ~10 µs a `flows` row, most of what an insert costs (into a Null table
 * it costs nearly as much as into `flows`); `FROM INFILE` reads the same TSV through ClickHouse's file input, faster:
 * 50,000 capture flows into a Null table 534 → 213 ms, into `flows` with its rollup views 520 → 325 ms on an idle
 * machine, and a 1.1 GB capture's 126,697 flows spent 10–20 % less time in inserts with the rest of the ingest
 * running beside them (chDB 3.4, 2 cores). Writing the spool file (to the page cache) costs ~10 ms per 12 MB.
 * Smaller bodies (exporter stats, a quiet NetFlow second) keep the zero-copy path.
 */
export const INFILE_MIN_BYTES = 256 * 1024;

/** A string as a single-quoted SQL literal. */
function sqlString(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** Table and column names as rawInsert validates them: an identifier is never data. */
function checkIdentifiers(table: string, columns: readonly string[]): void {
  for (const id of [table, ...columns]) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(id)) throw new StoreError(`invalid identifier for an insert: ${JSON.stringify(id)}`);
  }
}

export class StoreError extends Error {
  override name = 'StoreError';
}

export class ClickHouseStore {
  readonly embedded: boolean;
  readonly cluster: string;
  private closed = false;

  private constructor(
    readonly client: ClickHouseClient,
    private readonly chdb: ChdbRawInsert | null,
    readonly description: string,
    cluster: string,
    /** Embedded: where large insert bodies are spooled for FROM INFILE. */
    private readonly spoolDir: string | null = null,
  ) {
    this.embedded = chdb !== null;
    this.cluster = cluster;
  }

  static async open(o: StoreOptions): Promise<ClickHouseStore> {
    if (o.url) {
      const client = createClient({
        url: o.url,
        username: o.user,
        password: o.password,
        database: o.database,
        request_timeout: 120_000,
        clickhouse_settings: { date_time_input_format: 'best_effort' },
      });
      const ping = await client.ping();
      if (!ping.success) {
        await client.close();
        throw new StoreError(`cannot reach ClickHouse at ${o.url}: ${ping.error?.message ?? 'no answer'}`);
      }
      return new ClickHouseStore(client, null, `ClickHouse server ${o.url} (database ${o.database})`, o.cluster);
    }
    const dir = join(o.dataDir, 'clickhouse');
    try {
      mkdirSync(dir, { recursive: true });
      accessSync(dir, constants.W_OK);
    } catch (e) {
      throw new StoreError(`data directory ${o.dataDir} is not usable: ${(e as Error).message}`);
    }
    // Loaded lazily: a server deployment never needs the 500 MB engine library.
    const { createChdbConnection } = await import('chdb/connection');
    let connection;
    try {
      connection = createChdbConnection({ path: dir });
    } catch (e) {
      throw new StoreError(
        `cannot open the embedded ClickHouse in ${dir}: ${(e as Error).message} ` +
          '(only one process may open a data directory: is a dvflow daemon already running on it?)',
      );
    }
    const client = createClient({ connection } as Parameters<typeof createClient>[0]);
    // Spool files left by a process that died mid-insert are removed: their rows were never acknowledged.
    const spoolDir = join(o.dataDir, 'insert-spool');
    try {
      rmSync(spoolDir, { recursive: true, force: true });
      mkdirSync(spoolDir, { recursive: true });
    } catch (e) {
      throw new StoreError(`data directory ${o.dataDir} is not usable: ${(e as Error).message}`);
    }
    return new ClickHouseStore(client, connection.chdb as unknown as ChdbRawInsert, `embedded ClickHouse (chDB) in ${dir}`, '', spoolDir);
  }

  /** Insert a TabSeparated body. The body must end with a newline. */
  async insertTsv(table: string, columns: readonly string[], body: Buffer): Promise<void> {
    if (body.length === 0) return;
    if (this.chdb) {
      if (body.length >= INFILE_MIN_BYTES && this.spoolDir) {
        await this.insertFromFile(table, columns, body, 'TabSeparated', this.spoolDir);
        return;
      }
      await this.chdb.rawInsert({ table, values: body, format: 'TSV', columns });
      return;
    }
    await this.client.insert({ table, values: Readable.from([body]), format: 'TabSeparated', columns: columns as [string, ...string[]] });
  }

  /**
   * Insert a Native body (storage/nativeBlock.ts). Embedded: through a spool file (chDB's inline insert takes text
   * formats only); server: the HTTP body. Columns sent as String where the table has IPv6, LowCardinality or an
   * Enum are converted by ClickHouse, which the setting below allows (the default since 23.x, set for older servers).
   */
  async insertNative(table: string, columns: readonly string[], body: readonly Buffer[]): Promise<void> {
    if (this.chdb && this.spoolDir) {
      await this.insertFromFile(table, columns, body, 'Native', this.spoolDir);
      return;
    }
    checkIdentifiers(table, columns);
    const res = await this.client.exec({
      query: `INSERT INTO ${table} (${columns.join(', ')}) FORMAT Native`, values: Readable.from(body),
      clickhouse_settings: { input_format_native_allow_types_conversion: 1 },
    });
    res.stream.resume();
    await finished(res.stream);
  }

  private async insertFromFile(table: string, columns: readonly string[], body: Buffer | readonly Buffer[], format: 'TabSeparated' | 'Native',
    dir: string): Promise<void> {
    checkIdentifiers(table, columns);
    const file = join(dir, `${table}-${process.pid}-${randomBytes(6).toString('hex')}.${format === 'Native' ? 'native' : 'tsv'}`);
    // One gathered write (writev; libuv writes every piece, looping on partial writes): a stream of the block's
    // pieces would need an event-loop turn per piece, and a capture being decoded on the main thread makes each
    // turn wait (a 6,000-row insert took 2 s that way instead of 0.2 s); joining the pieces first (Buffer.concat)
    // cost the main thread 40 ms per 50,000-row block, copying into fresh memory.
    try {
      const fh = await open(file, 'w');
      try {
        await fh.writev(Buffer.isBuffer(body) ? [body] : [...body]);
      } finally {
        await fh.close();
      }
      await this.client.command({
        query: `INSERT INTO ${table} (${columns.join(', ')}) FROM INFILE ${sqlString(file)} COMPRESSION 'none' FORMAT ${format}`,
      });
    } finally {
      await unlink(file).catch(() => undefined);
    }
  }

  /** Run a statement that returns nothing. */
  async command(query: string, params?: Record<string, unknown>): Promise<void> {
    await this.client.command({ query, query_params: params });
  }

  async queryRows<T = Record<string, unknown>>(query: string, params?: Record<string, unknown>): Promise<T[]> {
    const rs = await this.client.query({
      query, query_params: params, format: 'JSONEachRow',
      clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
    });
    return (await rs.json()) as T[];
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.client.close();
  }
}
