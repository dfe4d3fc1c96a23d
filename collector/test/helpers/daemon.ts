// An in-process dvflow daemon on ephemeral ports with a temporary embedded store.
import pino from 'pino';
import { rmSync } from 'node:fs';
import { loadConfig } from '../../src/config/config.ts';
import { startDaemon, type DaemonHandle } from '../../src/daemon/daemon.ts';
import type { QueryResponse } from '../../src/query/flowQuery.ts';
import { tempDir, waitStable } from './peers.ts';

export interface TestDaemon {
  d: DaemonHandle;
  udpPort: number;
  api: string;
  /** Wait until datagrams stop arriving and every queued row is in ClickHouse. */
  settle(): Promise<void>;
  query(body: Record<string, unknown>): Promise<QueryResponse>;
  truncate(): Promise<void>;
  close(): Promise<void>;
}

export async function startTestDaemon(extra: Record<string, unknown> = {}): Promise<TestDaemon> {
  const data = tempDir('dvflow-daemon-');
  const config = loadConfig(undefined, {
    data, netflow: { port: 0, bind: '127.0.0.1' }, http: { port: 0, bind: '127.0.0.1' }, writer: { flushMs: 100 }, ...extra,
  });
  const d = await startDaemon(config, { role: 'start', log: pino({ level: process.env.DVFLOW_TEST_LOG ?? 'silent' }) });
  const api = `http://127.0.0.1:${d.httpAddress!.port}`;
  return {
    d, udpPort: d.collector!.address!.port, api,
    settle: async () => {
      await waitStable(() => d.collector!.datagrams);
      await d.writer!.flush();
    },
    query: async (body) => {
      const res = await fetch(`${api}/api/v1/query`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const json = (await res.json()) as QueryResponse & { message?: string };
      if (!res.ok) throw new Error(`query failed: ${res.status} ${json.message}`);
      return json;
    },
    truncate: async () => {
      for (const t of ['flows', 'flows_1m', 'flows_5m', 'flows_1h']) await d.store.command(`TRUNCATE TABLE ${t}`);
    },
    close: async () => {
      await d.close();
      rmSync(data, { recursive: true, force: true });
    },
  };
}
