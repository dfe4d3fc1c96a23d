// dvflow's configuration: defaults, a YAML/JSON config file, then command-line options, merged in that
// order. One shape for every role (start, collect, web, query) so a key means the same thing everywhere.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createRequire } from 'node:module';

export interface ExporterSamplingConfig {
  /** Exporter address (as the collector sees it). */
  address: string;
  /** Sampling rate to apply (1 in N). */
  rate: number;
  /** true: use this rate even when the exporter announces one; false: only when it announces none. */
  override?: boolean;
}

export interface DvflowConfig {
  /** Data directory: embedded ClickHouse, template cache, state. */
  data: string;
  clickhouse: {
    /** Empty: embedded chDB under <data>/clickhouse. Otherwise http(s)://host:8123 of a server. */
    url: string;
    user: string;
    password: string;
    database: string;
    /** ClickHouse cluster name: tables are created ON CLUSTER with Replicated engines. */
    cluster: string;
  };
  netflow: {
    port: number;
    bind: string;
    /** Socket receive buffer in bytes (the kernel caps it at net.core.rmem_max). */
    receiveBuffer: number;
    /**
     * Key exporters by address AND source port (default). A dvSwitch with a "Switch IP" makes every ESXi host
     * export from that one address with observation domain 0; only the source port tells them apart, and
     * their templates would otherwise overwrite each other. false = nfcapd's keying (address only).
     */
    keyByPort: boolean;
  };
  sampling: {
    /** Rate applied when an exporter announces none (a dvSwitch never does). 1 = unsampled. */
    default: number;
    exporters: ExporterSamplingConfig[];
  };
  /** Portgroup and VIP inventory (README "Portgroups and VIPs"); imported files also live in <data>/inventory. */
  inventory: {
    /** Portgroup inventories: YAML/JSON/CSV (dvPorts, VLANs, CIDRs) or govc JSON output. */
    files: string[];
    /** Load-balancer configs: haproxy.cfg, keepalived.conf, ldirectord.cf or the VIP YAML. */
    vipFiles: string[];
    /** How often files are checked for changes (they are reloaded without a restart), seconds. */
    reloadSeconds: number;
    /** Live sync from vCenter (SOAP); empty url = off. Password also from DVFLOW_VCENTER_PASSWORD. */
    vcenter: { url: string; user: string; password: string; insecure: boolean; refreshSeconds: number };
  };
  http: {
    port: number;
    bind: string;
    /** Bearer token for routes that change things; empty = write routes disabled. */
    token: string;
  };
  writer: {
    /** Rows per insert at most. */
    batchRows: number;
    /** Longest a row waits before an insert, ms. */
    flushMs: number;
    /** Rows waiting for ClickHouse at most; beyond this, records are dropped and counted. */
    maxQueueRows: number;
  };
  retention: {
    flows: string;
    flows_1m: string;
    flows_5m: string;
    flows_1h: string;
    exporter_stats: string;
    alerts: string;
  };
  pcap: {
    /** Drop folder the daemon watches ('' = none): every capture that appears there is ingested once. */
    watch: string;
    /**
     * What happens to a drop-folder file once ingested: 'move' it to <watch>/done/ (or <watch>/failed/ when it could
     * not be read to the end), or 'mark' it: leave it in place and remember it (<data>/pcap-done.json either way).
     */
    afterIngest: 'move' | 'mark';
    /** Largest capture POST /api/v1/pcap accepts, in bytes (413 beyond). */
    maxUploadBytes: number;
    /** Flow timeouts for captures, seconds: a flow ends after this long (active) or this long without a packet (idle). nfpcapd's -e defaults. */
    activeTimeout: number;
    idleTimeout: number;
    /**
     * Read capture files (file reads, gzip, the pcap/pcapng parsers, the packet decoder and the IDS's packet detectors)
     * on a thread of their own, beside the thread that keeps the flow table and stores the flows. false: all on one.
     */
    readThread: boolean;
  };
  /** Intrusion detection (README "Intrusion detection"). */
  ids: {
    enabled: boolean;
    /** Detections of one subject closer than this are merged into one alert, minutes. */
    suppressionMinutes: number;
    /** Per detector, by id: `enabled` and its thresholds (defaults in the README table). */
    detectors: Record<string, Record<string, number | boolean>>;
    /** Snort/Suricata rule files for the packet path, and their variables ($HOME_NET ...). */
    rules: { files: string[]; vars: Record<string, string> };
    /** nfsen-style user alert rules (userAlerts.ts: name, filter, metric, op, value|average+percent, trigger, severity). */
    userAlerts: unknown[];
    /** Cycle of the user rules, seconds (nfsen: 300). */
    userCycleSeconds: number;
    webhook: { url: string; token: string; timeoutMs: number };
    syslog: { host: string; port: number; protocol: string; facility: number; appName: string };
  };
  log: { level: string };
}

export const defaultConfig: DvflowConfig = {
  data: './data',
  clickhouse: { url: '', user: 'default', password: '', database: 'default', cluster: '' },
  netflow: { port: 23456, bind: '0.0.0.0', receiveBuffer: 32 * 1024 * 1024, keyByPort: true },
  sampling: { default: 1, exporters: [] },
  inventory: { files: [], vipFiles: [], reloadSeconds: 5, vcenter: { url: '', user: '', password: '', insecure: false, refreshSeconds: 300 } },
  http: { port: 8080, bind: '127.0.0.1', token: '' },
  writer: { batchRows: 50_000, flushMs: 1000, maxQueueRows: 1_000_000 },
  retention: {
    flows: '30 DAY',
    flows_1m: '7 DAY',
    flows_5m: '90 DAY',
    flows_1h: '730 DAY',
    exporter_stats: '90 DAY',
    alerts: '365 DAY',
  },
  pcap: { watch: '', afterIngest: 'move', maxUploadBytes: 4 * 1024 ** 3, activeTimeout: 300, idleTimeout: 60, readThread: true },
  ids: {
    enabled: true,
    suppressionMinutes: 10,
    detectors: {},
    rules: { files: [], vars: {} },
    userAlerts: [],
    userCycleSeconds: 300,
    webhook: { url: '', token: '', timeoutMs: 5000 },
    syslog: { host: '', port: 514, protocol: 'udp', facility: 16, appName: 'dvflow' },
  },
  log: { level: 'info' },
};

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Plain = Record<string, unknown>;

function isPlain(v: unknown): v is Plain {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep-merge `over` into `base`, rejecting keys the config does not know (a typo must not pass silently). */
function merge(base: Plain, over: Plain, path: string): Plain {
  const out: Plain = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) continue;
    const where = path ? `${path}.${k}` : k;
    if (!(k in base)) throw new ConfigError(`unknown configuration key '${where}'`);
    const b = base[k];
    if (isPlain(b) && Object.keys(b).length === 0) {
      // An empty section in the defaults is an open map (rule variables, per-detector settings): any key.
      if (!isPlain(v)) throw new ConfigError(`configuration key '${where}' must be a section`);
      out[k] = v;
    } else if (isPlain(b)) {
      if (!isPlain(v)) throw new ConfigError(`configuration key '${where}' must be a section`);
      out[k] = merge(b, v, where);
    } else if (Array.isArray(b)) {
      if (!Array.isArray(v)) throw new ConfigError(`configuration key '${where}' must be a list`);
      out[k] = v;
    } else if (typeof b === 'number') {
      const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
      if (typeof n !== 'number' || !Number.isFinite(n)) throw new ConfigError(`configuration key '${where}' must be a number, got ${JSON.stringify(v)}`);
      out[k] = n;
    } else if (typeof b === 'boolean') {
      if (typeof v === 'boolean') out[k] = v;
      else if (v === 'true' || v === 'false') out[k] = v === 'true';
      else throw new ConfigError(`configuration key '${where}' must be true or false, got ${JSON.stringify(v)}`);
    } else {
      out[k] = String(v);
    }
  }
  return out;
}

/**
 * The YAML parser, loaded on first use: every CLI command reads the config, most have no YAML file to read, and
 * loading `yaml` at start-up cost each of them ~25 ms (about a fifth of the bundled CLI's module loading).
 */
let yamlParse: ((text: string) => unknown) | null = null;
function parseYaml(text: string): unknown {
  yamlParse ??= (createRequire(import.meta.url)('yaml') as typeof import('yaml')).parse;
  return yamlParse(text);
}

export function readConfigFile(file: string): Plain {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`cannot read config file ${file}: ${(e as Error).message}`);
  }
  try {
    const parsed: unknown = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
    if (parsed == null) return {};
    if (!isPlain(parsed)) throw new Error('the top level must be a mapping of keys');
    return parsed;
  } catch (e) {
    throw new ConfigError(`config file ${file}: ${(e as Error).message}`);
  }
}

function checkPort(n: number, what: string): void {
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new ConfigError(`${what} must be a port number 0-65535, got ${n}`);
}

const intervalRe = /^\d+\s+(SECOND|MINUTE|HOUR|DAY|WEEK|MONTH|YEAR)$/i;

export function validateConfig(c: DvflowConfig): DvflowConfig {
  checkPort(c.netflow.port, 'netflow.port');
  checkPort(c.http.port, 'http.port');
  if (c.sampling.default < 1 || !Number.isInteger(c.sampling.default)) throw new ConfigError('sampling.default must be an integer >= 1');
  for (const e of c.sampling.exporters) {
    if (!isPlain(e) || typeof e.address !== 'string' || !Number.isInteger(e.rate) || e.rate < 1) {
      throw new ConfigError(`sampling.exporters entries need {address, rate >= 1}, got ${JSON.stringify(e)}`);
    }
  }
  for (const [k, v] of Object.entries(c.retention)) {
    if (!intervalRe.test(v)) throw new ConfigError(`retention.${k} must look like '30 DAY', got '${v}'`);
  }
  if (c.writer.batchRows < 1 || c.writer.flushMs < 10 || c.writer.maxQueueRows < c.writer.batchRows) {
    throw new ConfigError('writer: need batchRows >= 1, flushMs >= 10 and maxQueueRows >= batchRows');
  }
  if (c.inventory.reloadSeconds < 1 || c.inventory.vcenter.refreshSeconds < 10) throw new ConfigError('inventory: need reloadSeconds >= 1 and vcenter.refreshSeconds >= 10');
  if (c.inventory.vcenter.url && !/^https?:\/\//.test(c.inventory.vcenter.url)) throw new ConfigError(`inventory.vcenter.url must be https://vcenter, got '${c.inventory.vcenter.url}'`);
  if (c.pcap.afterIngest !== 'move' && c.pcap.afterIngest !== 'mark') {
    throw new ConfigError(`pcap.afterIngest must be 'move' or 'mark', got '${c.pcap.afterIngest}'`);
  }
  if (!(c.pcap.maxUploadBytes >= 1) || !(c.pcap.activeTimeout > 0) || !(c.pcap.idleTimeout > 0)) {
    throw new ConfigError('pcap: need maxUploadBytes >= 1 and activeTimeout, idleTimeout > 0 (seconds)');
  }
  if (!(c.ids.suppressionMinutes >= 0) || !(c.ids.userCycleSeconds >= 10)) throw new ConfigError('ids: need suppressionMinutes >= 0 and userCycleSeconds >= 10');
  if (c.ids.webhook.url && !/^https?:\/\//.test(c.ids.webhook.url)) throw new ConfigError(`ids.webhook.url must be http(s)://..., got '${c.ids.webhook.url}'`);
  if (c.ids.syslog.protocol !== 'udp' && c.ids.syslog.protocol !== 'tcp') throw new ConfigError(`ids.syslog.protocol must be udp or tcp, got '${c.ids.syslog.protocol}'`);
  checkPort(c.ids.syslog.port, 'ids.syslog.port');
  if (!Number.isInteger(c.ids.syslog.facility) || c.ids.syslog.facility < 0 || c.ids.syslog.facility > 23) throw new ConfigError('ids.syslog.facility must be 0-23 (16 = local0)');
  for (const [k, v] of Object.entries(c.ids.rules.vars)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k) || typeof v !== 'string') throw new ConfigError(`ids.rules.vars: '${k}' must be a variable name with a string value`);
  }
  if (c.clickhouse.url && !/^https?:\/\//.test(c.clickhouse.url)) {
    throw new ConfigError(`clickhouse.url must be http(s)://host:port, got '${c.clickhouse.url}'`);
  }
  return c;
}

/**
 * Build the effective configuration. `overrides` are the command-line options as a partial config (the
 * CLI maps its flags onto config keys). Environment: DVFLOW_HTTP_TOKEN and DVFLOW_CLICKHOUSE_PASSWORD keep
 * secrets out of files and process listings.
 */
export function loadConfig(configFile: string | undefined, overrides: Plain = {}): DvflowConfig {
  let merged = merge(defaultConfig as unknown as Plain, {}, '');
  if (configFile) merged = merge(merged, readConfigFile(configFile), '');
  const env: Plain = {};
  if (process.env.DVFLOW_HTTP_TOKEN) env.http = { token: process.env.DVFLOW_HTTP_TOKEN };
  if (process.env.DVFLOW_CLICKHOUSE_PASSWORD) env.clickhouse = { password: process.env.DVFLOW_CLICKHOUSE_PASSWORD };
  if (process.env.DVFLOW_VCENTER_PASSWORD) env.inventory = { vcenter: { password: process.env.DVFLOW_VCENTER_PASSWORD } };
  merged = merge(merged, env, '');
  merged = merge(merged, overrides, '');
  const c = merged as unknown as DvflowConfig;
  c.data = resolve(c.data);
  if (c.pcap.watch) c.pcap.watch = resolve(c.pcap.watch);
  return validateConfig(c);
}
