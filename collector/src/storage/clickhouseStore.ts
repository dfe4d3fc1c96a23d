// Opens ClickHouse for dvflow: an in-process engine (chDB, through `chdb/connection`) under the data
// directory by default, or a server by URL. Both are driven through the same @clickhouse/client API and
// the same SQL; only the bulk insert path differs (chDB takes the TSV buffer zero-copy).
import { mkdirSync, accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
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
    return new ClickHouseStore(client, connection.chdb as unknown as ChdbRawInsert, `embedded ClickHouse (chDB) in ${dir}`, '');
  }

  /** Insert a TabSeparated body. The body must end with a newline. */
  async insertTsv(table: string, columns: readonly string[], body: Buffer): Promise<void> {
    if (body.length === 0) return;
    if (this.chdb) {
      await this.chdb.rawInsert({ table, values: body, format: 'TSV', columns });
      return;
    }
    await this.client.insert({ table, values: Readable.from([body]), format: 'TabSeparated', columns: columns as [string, ...string[]] });
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
