// The options of the reading commands (query, alerts): ask the daemon's API, or read a ClickHouse server directly;
// and the store those options open. One definition so the commands take the same flags with the same defaults.
import type { Command } from 'commander';
import type { ClickHouseStore } from '../storage/clickhouseStore.ts';

export interface ServerOptions {
  api: string;
  clickhouseUrl?: string;
  clickhouseUser: string;
  clickhousePassword: string;
  clickhouseDatabase: string;
}

/** --api and --clickhouse-url/-user/-password/-database; `verb` says what the command does with the server. */
export function addServerOptions(cmd: Command, verb: 'query' | 'read'): Command {
  return cmd
    .option('--api <url>', 'daemon API to ask', process.env.DVFLOW_API ?? 'http://127.0.0.1:8080')
    .option('--clickhouse-url <url>', `${verb} a ClickHouse server directly instead of the daemon`)
    .option('--clickhouse-user <user>', 'ClickHouse user', 'default')
    .option('--clickhouse-password <password>', 'ClickHouse password (or DVFLOW_CLICKHOUSE_PASSWORD)', process.env.DVFLOW_CLICKHOUSE_PASSWORD ?? '')
    .option('--clickhouse-database <db>', 'ClickHouse database', 'default');
}

/** Opens the server --clickhouse-url names, runs `fn` on it, closes it. */
export async function withServerStore<T>(o: ServerOptions, fn: (store: ClickHouseStore) => Promise<T>): Promise<T> {
  // Loaded here: the client is not needed by a command that asks the daemon.
  const { ClickHouseStore } = await import('../storage/clickhouseStore.ts');
  const store = await ClickHouseStore.open({
    url: o.clickhouseUrl!, user: o.clickhouseUser, password: o.clickhousePassword, database: o.clickhouseDatabase, cluster: '', dataDir: '',
  });
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}
