// A real embedded ClickHouse in a temporary directory, migrated, for integration tests.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClickHouseStore } from '../../src/storage/clickhouseStore.ts';
import { migrate } from '../../src/storage/migrator.ts';
import { defaultConfig } from '../../src/config/config.ts';

export async function openTempStore(): Promise<{ store: ClickHouseStore; dir: string; cleanup: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'dvflow-test-'));
  const store = await ClickHouseStore.open({ ...defaultConfig.clickhouse, dataDir: dir });
  await migrate(store, { cluster: '', retention: { ...defaultConfig.retention } });
  return {
    store, dir,
    cleanup: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
