// Applies the ordered DDL files in schema/ once each, recording what it applied in `schema_migrations`,
// so a restart is safe and a new release only runs what is new. Placeholders in the files:
//   {{on_cluster}}        -> ON CLUSTER <name> when a cluster is configured, else nothing
//   {{engine:X}}          -> X, or ReplicatedX('/clickhouse/tables/{shard}/{database}/{table}', '{replica}') on a cluster
//   {{engine:X(args)}}    -> X(args), or ReplicatedX('...', '{replica}', args) on a cluster
//   {{ttl_<table>}}       -> the configured retention for that table ('30 DAY')
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import type { ClickHouseStore } from './clickhouseStore.ts';
import { repoRoot } from '../repoRoot.ts';

export const schemaDir = join(repoRoot, 'schema');

export class MigrationError extends Error {
  override name = 'MigrationError';
}

export interface MigrationOptions {
  cluster: string;
  retention: Record<string, string>;
  dir?: string;
}

export function renderMigration(sql: string, o: MigrationOptions): string {
  return sql
    .replace(/\{\{on_cluster\}\}/g, o.cluster ? `ON CLUSTER ${quoteIdent(o.cluster)}` : '')
    .replace(/\{\{engine:(\w+)(?:\(([\w, ]*)\))?\}\}/g, (_m, engine: string, args: string | undefined) => {
      // Engine arguments (ReplacingMergeTree(version)) follow the replication path and replica name.
      if (o.cluster) return `Replicated${engine}('/clickhouse/tables/{shard}/{database}/{table}', '{replica}'${args ? `, ${args}` : ''})`;
      return args !== undefined ? `${engine}(${args})` : engine;
    })
    .replace(/\{\{ttl_(\w+)\}\}/g, (_m, table: string) => {
      const v = o.retention[table];
      if (!v) throw new MigrationError(`no retention configured for table ${table}`);
      return v;
    });
}

function quoteIdent(s: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(s)) throw new MigrationError(`invalid cluster name '${s}'`);
  return s;
}

/** Split a file into statements at semicolons that end a line, outside comments. */
export function splitStatements(sql: string): string[] {
  const noComments = sql.replace(/^\s*--.*$/gm, '');
  return noComments
    .split(/;\s*$/m)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

export async function migrate(store: ClickHouseStore, o: MigrationOptions): Promise<string[]> {
  const dir = o.dir ?? schemaDir;
  await store.command(
    `CREATE TABLE IF NOT EXISTS schema_migrations ${o.cluster ? `ON CLUSTER ${quoteIdent(o.cluster)}` : ''}
     (name String, checksum String, applied_at DateTime DEFAULT now()) ENGINE = ${o.cluster ? "ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')" : 'MergeTree'} ORDER BY name`,
  );
  const done = new Set((await store.queryRows<{ name: string }>('SELECT name FROM schema_migrations')).map((r) => r.name));
  const files = readdirSync(dir)
    .filter((f) => /^\d+_.+\.sql$/.test(f))
    .sort();
  const applied: string[] = [];
  for (const f of files) {
    if (done.has(f)) continue;
    const text = readFileSync(join(dir, f), 'utf8');
    const statements = splitStatements(renderMigration(text, o));
    for (const [i, st] of statements.entries()) {
      try {
        await store.command(st);
      } catch (e) {
        throw new MigrationError(`schema migration ${f} failed at statement ${i + 1}: ${(e as Error).message}`);
      }
    }
    const checksum = createHash('sha256').update(text).digest('hex').slice(0, 16);
    // INSERT … SELECT, not VALUES: the embedded store is clickhouse-local, which refuses an INSERT with inline data
    // ("Processing async inserts with both inlined and external data (from stdin …)") while descriptor 0 is a pipe
    // or socket with bytes waiting, as under `tcpdump -w - | dvflow pcap --data DIR -`.
    await store.command('INSERT INTO schema_migrations (name, checksum) SELECT {name:String}, {checksum:String}', { name: f, checksum });
    applied.push(f);
  }
  await applyRetention(store, o);
  return applied;
}

const retentionTables: Record<string, (interval: string) => string> = {
  flows: (i) => `toDateTime(time_received) + INTERVAL ${i}`,
  flows_1m: (i) => `time + INTERVAL ${i}`,
  flows_5m: (i) => `time + INTERVAL ${i}`,
  flows_1h: (i) => `time + INTERVAL ${i}`,
  exporter_stats: (i) => `minute + INTERVAL ${i}`,
  alerts: (i) => `toDateTime(raised) + INTERVAL ${i}`,
};

/** Bring each table's TTL in line with the configured retention, only where it differs. */
async function applyRetention(store: ClickHouseStore, o: MigrationOptions): Promise<void> {
  const rows = await store.queryRows<{ name: string; create_table_query: string }>(
    'SELECT name, create_table_query FROM system.tables WHERE database = currentDatabase() AND name IN {names:Array(String)}',
    { names: Object.keys(retentionTables) },
  );
  for (const r of rows) {
    const interval = o.retention[r.name];
    const make = retentionTables[r.name];
    if (!interval || !make) continue;
    // ClickHouse stores 'INTERVAL 30 DAY' as 'toIntervalDay(30)'.
    const [n, unit = ''] = interval.trim().split(/\s+/);
    const fn = `toInterval${unit.charAt(0).toUpperCase()}${unit.slice(1).toLowerCase()}`;
    const want = new RegExp(`(INTERVAL ${n} ${unit}|${fn}\\(${n}\\))`, 'i');
    const ttl = /TTL (.*?)(SETTINGS|$)/s.exec(r.create_table_query)?.[1] ?? '';
    if (want.test(ttl)) continue;
    await store.command(`ALTER TABLE ${r.name} ${o.cluster ? `ON CLUSTER ${quoteIdent(o.cluster)}` : ''} MODIFY TTL ${make(interval)}`);
  }
}
