// `dvflow`: the command line. `start` runs the daemon; `query` answers nfdump-style questions through the
// daemon's API (or straight from a ClickHouse server with --clickhouse-url).
import { Command, Option, InvalidArgumentError } from 'commander';
import { readFileSync } from 'node:fs';
import { loadConfig } from '../config/config.ts';
// The daemon, the query engine and the ClickHouse client are loaded by the commands that use them: a CLI call that
// only talks to the daemon's API starts in a third of the time.
import type { Role } from '../daemon/daemon.ts';
import { parseTimeWindow } from '../query/timeWindow.ts';
import type { QueryRequest, QueryResponse } from '../query/flowQuery.ts';
import { statOrders, type StatOrder } from '../query/queryShapes.ts';
import { compileFilter } from '../query/filterSql.ts';
import { renderResponse, checkOutputFormat } from './nfdumpOutput.ts';
import { CliError } from './cliError.ts';
import { callDaemon } from './daemonApi.ts';
import { addInventoryCommands } from './inventoryCommands.ts';
import { addPcapCommand } from './pcapCommand.ts';
import { addAlertsCommand } from './alertsCommand.ts';
import { addServerOptions, withServerStore, type ServerOptions } from './serverOptions.ts';

function int(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a whole number');
  return n;
}

function collect(v: string, prev: string[] = []): string[] {
  return [...prev, v];
}

/** Options shared by the daemon roles, mapped onto config keys. */
function daemonCommand(program: Command, role: Role, description: string): void {
  program
    .command(role)
    .description(description)
    .option('--config <file>', 'YAML or JSON config file (same keys as these options)')
    .option('--data <dir>', 'data directory (embedded ClickHouse, templates)', undefined)
    .option('--clickhouse-url <url>', 'use a ClickHouse server instead of the embedded store')
    .option('--clickhouse-user <user>', 'ClickHouse user')
    .option('--clickhouse-password <password>', 'ClickHouse password (or DVFLOW_CLICKHOUSE_PASSWORD)')
    .option('--clickhouse-database <db>', 'ClickHouse database')
    .option('--netflow-port <port>', 'UDP port for NetFlow/IPFIX (default 23456)', int)
    .option('--bind <addr>', 'address the UDP collector binds (default 0.0.0.0; :: for IPv6)')
    .option('--http-port <port>', 'HTTP API/dashboard port (default 8080)', int)
    .option('--http-bind <addr>', 'HTTP bind address (default 127.0.0.1)')
    .option('--sampling <rate>', 'sampling rate for exporters that announce none, e.g. a dvSwitch (default 1)', int)
    .option('--receive-buffer <bytes>', 'UDP socket receive buffer (default 33554432)', int)
    .option('--log-level <level>', 'trace|debug|info|warn|error (default info)')
    .option('--pcap-watch <dir>', 'drop folder: captures copied there are ingested once each (pcap.watch)')
    .option('--no-ids', 'run without the IDS (ids.enabled: false)')
    .action(async (opts: Record<string, string | number | boolean | undefined>) => {
      const overrides = {
        data: opts.data,
        clickhouse: { url: opts.clickhouseUrl, user: opts.clickhouseUser, password: opts.clickhousePassword, database: opts.clickhouseDatabase },
        netflow: { port: opts.netflowPort, bind: opts.bind, receiveBuffer: opts.receiveBuffer },
        http: { port: opts.httpPort, bind: opts.httpBind },
        sampling: { default: opts.sampling },
        log: { level: opts.logLevel },
        pcap: { watch: opts.pcapWatch },
        // Commander sets `ids` to false for --no-ids and true otherwise: only the flag may override the config file.
        ids: opts.ids === false ? { enabled: false } : undefined,
      };
      const config = loadConfig(opts.config as string | undefined, overrides);
      const { startDaemon } = await import('../daemon/daemon.ts');
      const d = await startDaemon(config, { role });
      let stopping = false;
      const stop = async (sig: string) => {
        if (stopping) return;
        stopping = true;
        d.log.info({ signal: sig }, 'stopping: flushing queued flows');
        await d.close();
        process.exit(0);
      };
      process.on('SIGINT', () => void stop('SIGINT'));
      process.on('SIGTERM', () => void stop('SIGTERM'));
    });
}

export function buildProgram(): Command {
  const program = new Command('dvflow')
    .description('Flow monitoring and intrusion detection for VMware vSphere: NetFlow v5/v9/IPFIX and port-mirror pcaps in ClickHouse')
    .version('0.1.0');
  daemonCommand(program, 'start', 'run everything in one process: collector (UDP 23456) + HTTP API (8080) on the embedded store under ./data');
  daemonCommand(program, 'collect', 'run the collector alone, writing to a ClickHouse server (--clickhouse-url)');
  daemonCommand(program, 'web', 'run the HTTP API alone, reading a ClickHouse server (--clickhouse-url)');

  const query = program
    .command('query')
    .description('query flows with nfdump options and filter syntax, e.g. dvflow query -s proto "net 10.0.0.0/8 and port 443"\n\n' +
      'The filter is nfdump\'s language (1.7.1 and 1.7.8 forms), plus dvflow\'s own terms:\n' +
      '  portgroup NAME, in|out portgroup NAME   flows from/to a vSphere portgroup\n' +
      '  vip NAME|ADDR[:PORT]                    flows of a load-balancer VIP\n' +
      '  exporter NAME|ADDR                      flows from one exporter (nfdump\'s "exporter id N" still works)\n' +
      '  source netflow|pcap                     where the flow came from\n' +
      '  vni N                                   VXLAN segment\n' +
      '  [in|out] vm NAME                        flows from/to a VM (by its dvPort)\n' +
      '  backend NAME                            flows to/from a VIP\'s real server\n' +
      '  leg client-vip|vip-client|lb-server|server-lb|server-client   one leg of load-balanced traffic\n' +
      '  duplicate                               2nd sighting of a VM-to-VM flow in one dvSwitch ("not duplicate" counts once)\n' +
      '  encap NAME|none                         encapsulation a capture peeled off\n' +
      '                                          (gre, erspan2, vlan, vxlan ...; none)\n' +
      '  mirror session|index [comp] N           ERSPAN session id / index\n' +
      '  gre key [comp] N                        GRE key of a captured flow\n' +
      '  outer|inner vlan [comp] N               first / last VLAN tag of the frame\n' +
      '  fragments [comp] N                      non-first IP fragments in the flow\n' +
      '  [src|dst] tun ip|net ADDR               endpoints of the outermost tunnel')
    .argument('[filter...]', 'nfdump filter expression');
  addServerOptions(query, 'query')
    .option('-t <window>', 'time window yyyy/MM/dd.hh:mm:ss[-yyyy/MM/dd.hh:mm:ss]; flows wholly inside it')
    .option('-s <stat>', 'statistic element[:p][/order], repeatable: srcip, dstip, ip, srcport, dstport, port, proto, ..., portgroup, vip, backend, leg, vm, exporter, encap, mirrorsession, grekey', collect)
    .option('-n <num>', 'top N for statistics (0 = all)', int, 10)
    .option('-c <num>', 'list at most N flows', int)
    .addOption(new Option('-O <order>', 'order listed flows by').choices([...statOrders]))
    .option('-a', 'aggregate flows on the 5-tuple (proto, src/dst ip, src/dst port)')
    .option('-A <fields>', 'aggregate on these fields, comma separated: proto, srcip, dstip, srcport, dstport, srcip4/N, dstip4/N, srcip6/N, dstip6/N, srcvlan, dstvlan, inif, outif, srcas, dstas, tos, srctos, dsttos, ..., portgroup, vip, backend, leg, invm, outvm', collect)
    .option('-b', 'aggregate a flow and its reverse into one bidirectional record')
    .option('-B', 'as -b (bidirectional; the first flow seen gives the direction)')
    .option('-P <filter>', 'filter applied to the aggregated records (with -a, -A, -b), e.g. "flows > 10 and bytes > 1M"')
    .option('-6', 'print IPv6 addresses in full')
    .option('-o <format>', 'output format: line, long, extended, csv, json, ndjson, line6|long6|extended6, fmt:<%tags>', (v: string) => {
      try {
        return checkOutputFormat(v);
      } catch (e) {
        throw new InvalidArgumentError((e as Error).message);
      }
    }, 'line')
    .option('-N', 'plain numbers (no k/M/G scaling)')
    .option('-q', 'quiet: no header, no summary')
    .option('-f <file>', 'read the filter from a file')
    .option('-Z', 'check the filter syntax only')
    .action(async (filterWords: string[], o: Record<string, unknown>) => {
      let filter = filterWords.join(' ');
      if (o.f) filter = readFileSync(String(o.f), 'utf8');
      if (o.Z) {
        // Syntax and support only: `sysid N` checks without the exporter numbering (an empty one).
        compileFilter(filter || 'any', { exporterIds: new Map() });
        process.stdout.write('Filter syntax ok\n');
        return;
      }
      const req: QueryRequest = {
        filter: filter || undefined,
        window: o.t ? parseTimeWindow(String(o.t)) : undefined,
        statistics: o.s as string[] | undefined,
        topN: o.n as number,
        limit: o.c as number | undefined,
        order: o.O as StatOrder | undefined,
        aggregate: o.a ? true : undefined,
        aggregateFields: o.A as string[] | undefined,
        bidirectional: o.b || o.B ? true : undefined,
        postFilter: o.P as string | undefined,
      };
      const res = o.clickhouseUrl ? await queryDirect(o as unknown as ServerOptions, req) : await queryApi(String(o.api), req);
      process.stdout.write(renderResponse(res, { format: String(o.o), plain: Boolean(o.N), quiet: Boolean(o.q), topN: req.topN ?? 10, long6: Boolean(o['6']) }));
    });
  addInventoryCommands(program);
  addPcapCommand(program);
  addAlertsCommand(program);
  return program;
}

async function queryDirect(o: ServerOptions, req: QueryRequest): Promise<QueryResponse> {
  const { FlowQuery } = await import('../query/flowQuery.ts');
  // The server's retention is not known here: the defaults decide which rollups still hold a window.
  return withServerStore(o, (store) =>
    new FlowQuery(store, compileFilter, { retention: loadConfig(undefined, {}).retention as unknown as Record<string, string> }).run(req));
}

async function queryApi(api: string, req: QueryRequest): Promise<QueryResponse> {
  const body = { filter: req.filter, statistics: req.statistics, topN: req.topN, limit: req.limit, order: req.order, from: req.window?.from, to: req.window?.to,
    aggregate: req.aggregate, aggregateFields: req.aggregateFields, bidirectional: req.bidirectional, postFilter: req.postFilter };
  return callDaemon<QueryResponse>(api, 'POST', '/query', { body, hint: 'Use --api or --clickhouse-url.', failure: 'query failed' });
}

export { CliError };

export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (e) {
    const err = e as Error;
    const known = ['DaemonStartError', 'ConfigError', 'CliError', 'StoreError', 'MigrationError', 'CollectorStartError', 'TimeWindowError', 'StatSpecError', 'FilterError', 'QueryError', 'AlertQueryError'];
    process.stderr.write(`dvflow: ${known.includes(err.name) || err.message.startsWith('cannot') ? err.message : err.stack ?? err.message}\n`);
    process.exit(err.name === 'ConfigError' ? 2 : 1);
  }
}
