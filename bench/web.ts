// bench/web: how fast the dashboard's time-series endpoint answers with millions of flows stored.
//
// 1. Open a fresh embedded store and fill `flows` with synthetic flows in one INSERT ... SELECT FROM numbers()
//    (the rollup materialized views fill as they would at ingest): --flows spread evenly over the 7 days
//    ending now, 8 portgroups, 4 VIPs with 3 real servers each, TCP/UDP/ICMP/GRE, 4 exporters. Dimensions
//    are correlated as on a real dvSwitch (a VIP lives in one portgroup, a flow leaves through the uplink or
//    the one peer portgroup its portgroup talks to), so a rollup bucket holds at most ~1000 rows, not one per flow.
// 2. Serve it with buildServer on an ephemeral port and time GET /api/v1/timeseries over real HTTP: the
//    overview (split=portgroup, split=protocol) and a VIP page (filter "vip www", split=backend), for 1 h,
//    24 h and 7 d windows ending now; --runs requests each after 2 warm-ups; p50/p95 and the table used.
//
// Usage: node --import tsx bench/web.ts [--flows 10000000] [--runs 30] [--keep]
// Goal (issue 6): p95 < 200 ms for 24 h.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ClickHouseStore } from '../collector/src/storage/clickhouseStore.ts';
import { migrate } from '../collector/src/storage/migrator.ts';
import { defaultConfig } from '../collector/src/config/config.ts';
import { FlowQuery } from '../collector/src/query/flowQuery.ts';
import { compileFilter } from '../collector/src/query/filterSql.ts';
import { createCollectorMetrics } from '../collector/src/collector/collectorMetrics.ts';
import { buildServer } from '../web/src/server.ts';

const { values: args } = parseArgs({
  options: {
    flows: { type: 'string', default: '10000000' },
    runs: { type: 'string', default: '30' },
    keep: { type: 'boolean', default: false },
  },
});
const total = Number(args.flows);
const runs = Math.max(1, Number(args.runs));
const DAY = 86_400_000;

// Built from constants of this file only; the numbers travel as query parameters.
const fillSql = `
INSERT INTO flows (time_received, first, last, exporter, exporter_port, version, exporter_name, source, src_addr, dst_addr,
                   src_port, dst_port, proto, bytes, packets, in_portgroup, out_portgroup, vip, vip_leg, backend)
SELECT
  fromUnixTimestamp64Milli(t + 60000), fromUnixTimestamp64Milli(t), fromUnixTimestamp64Milli(t + h % 60000),
  toIPv6(concat('::ffff:192.0.2.', toString(1 + h % 4))), 2055, 10, concat('esxi-0', toString(1 + h % 4)), 'netflow',
  toIPv6(concat('::ffff:10.', toString(h % 256), '.', toString(intDiv(h, 256) % 256), '.', toString(1 + intDiv(h, 65536) % 250))),
  toIPv6(concat('::ffff:172.16.', toString(intDiv(h, 7) % 64), '.', toString(1 + intDiv(h, 11) % 250))),
  32768 + h % 28000, [443, 80, 53, 22, 3306, 6379, 123, 8080][1 + intDiv(h, 13) % 8],
  multiIf(p < 70, 6, p < 95, 17, p < 99, 1, 47),
  40 + intDiv(h, 17) % 150000, 1 + intDiv(h, 19) % 120,
  pg, if(intDiv(h, 23) % 3 = 0, pgs[1 + pgi % 8], 'uplink'),
  v, if(v = '', '', legs[1 + intDiv(h, 31) % 2]), if(v = '', '', concat(v, '-', toString(1 + intDiv(h, 37) % 3)))
FROM (
  SELECT {start:Int64} + intDiv(number * {span:Int64}, {n:UInt64}) AS t, cityHash64(number) AS h, h % 100 AS p,
         ['web', 'app', 'db', 'cache', 'mgmt', 'backup', 'dmz', 'storage'] AS pgs, ['client-vip', 'lb-server'] AS legs,
         1 + intDiv(h, 41) % 8 AS pgi, pgs[pgi] AS pg,
         -- 30 % of the web and app flows go to a VIP: www and api in web, mail and dns in app.
         if(pg IN ('web', 'app') AND intDiv(h, 43) % 10 < 3, ['www', 'api', 'mail', 'dns'][1 + (pg = 'app') * 2 + intDiv(h, 47) % 2], '') AS v
  FROM numbers({n:UInt64})
)`;

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'dvflow-bench-web-'));
  const store = await ClickHouseStore.open({ ...defaultConfig.clickhouse, dataDir: dir });
  let app: Awaited<ReturnType<typeof buildServer>> | null = null;
  try {
    await migrate(store, { cluster: '', retention: { ...defaultConfig.retention } });
    const now = Date.now();
    const t0 = performance.now();
    await store.command(fillSql, { start: now - 7 * DAY, span: 7 * DAY, n: total });
    const fillS = (performance.now() - t0) / 1000;
    const counts: Record<string, number> = {};
    for (const t of ['flows', 'flows_1m', 'flows_5m', 'flows_1h']) {
      const [r] = await store.queryRows<{ n: number }>(`SELECT count() AS n FROM ${t}`);
      counts[t] = Number(r!.n);
    }
    const [sum] = await store.queryRows<{ f: number }>('SELECT sum(flows) AS f FROM flows_1h');
    console.log(`stored ${counts.flows!.toLocaleString('en')} flows in ${fillS.toFixed(1)} s (${Math.round(total / fillS).toLocaleString('en')} flows/s); ` +
      `rollup rows: 1m ${counts.flows_1m!.toLocaleString('en')}, 5m ${counts.flows_5m!.toLocaleString('en')}, 1h ${counts.flows_1h!.toLocaleString('en')} (flows counted: ${Number(sum!.f).toLocaleString('en')})`);

    app = await buildServer({
      flowQuery: new FlowQuery(store, compileFilter), exporters: null, metrics: createCollectorMetrics().registry, token: '',
      health: async () => ({}), runner: store, retention: { ...defaultConfig.retention }, uiDir: join(dir, 'no-ui'),
    }, false);
    await app.listen({ port: 0, host: '127.0.0.1' });
    const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}/api/v1/timeseries`;

    const views: Array<[string, Record<string, string>]> = [
      ['overview split=portgroup', { split: 'portgroup' }],
      ['overview split=protocol', { split: 'protocol' }],
      ['VIP www split=backend', { split: 'backend', filter: 'vip www' }],
    ];
    const windows: Array<[string, number]> = [['1 h', 3_600_000], ['24 h', DAY], ['7 d', 7 * DAY]];
    const rows: string[][] = [];
    for (const [wName, wMs] of windows) {
      for (const [vName, q] of views) {
        const times: number[] = [];
        let table = '', step = 0, points = 0, series = 0;
        for (let i = 0; i < runs + 2; i++) {
          const to = Date.now();
          const url = `${base}?${new URLSearchParams({ ...q, metric: 'bps', from: String(to - wMs), to: String(to) })}`;
          const s = performance.now();
          const res = await fetch(url);
          const body = (await res.json()) as { table: string; step: number; times: number[]; series: unknown[]; message?: string };
          const ms = performance.now() - s;
          if (!res.ok) throw new Error(`${url}: ${res.status} ${body.message}`);
          if (i >= 2) times.push(ms);
          ({ table, step } = body);
          points = body.times.length;
          series = body.series.length;
        }
        times.sort((a, b) => a - b);
        rows.push([wName, vName, table, `${step} s`, String(points), String(series), pct(times, 50).toFixed(1), pct(times, 95).toFixed(1)]);
      }
    }
    const head = ['window', 'view', 'table', 'step', 'points', 'series', 'p50 ms', 'p95 ms'];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const line = (r: string[]) => r.map((c, i) => (i >= 4 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ');
    console.log(`\nGET /api/v1/timeseries over HTTP, metric=bps, ${runs} runs each after 2 warm-ups\n`);
    console.log(line(head));
    for (const r of rows) console.log(line(r));
    const day = rows.filter((r) => r[0] === '24 h').map((r) => Number(r[7]));
    console.log(`\n24 h p95: ${Math.max(...day).toFixed(1)} ms (goal < 200 ms): ${Math.max(...day) < 200 ? 'met' : 'NOT met'}`);
  } finally {
    await app?.close();
    await store.close();
    if (args.keep) console.log(`store kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

await main();
