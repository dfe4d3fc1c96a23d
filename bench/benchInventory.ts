// The inventory both enrichment benchmarks use (bench/enrich in one process, bench/ingest through the daemon):
// one dvSwitch with 10,000 dvPorts (8 uplinks, 9,992 VM ports, each its own VM), 200 VLANs, 100 CIDRs and 500 VIPs
// with 4 real servers each, a share of them on addresses the benchmark stream really uses so that legs and backends
// are found.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { PortgroupInventory, Vip } from '../collector/src/inventory/inventoryModel.ts';
import type { Enricher } from '../collector/src/inventory/enricher.ts';
import { InventoryService } from '../collector/src/inventory/inventoryService.ts';
import { defaultConfig } from '../collector/src/config/config.ts';

export const BENCH_PORTS = 10_000;
/** dvPorts 0-7 are the switch's uplinks, in one uplink portgroup, with no VM. */
export const BENCH_UPLINKS = 8;

export function benchInventory(addrs: readonly string[], exporter: string): { pg: PortgroupInventory; vips: Vip[] } {
  const v4 = addrs.filter((a) => a.includes('.'));
  const pg: PortgroupInventory = {
    switches: [{
      name: 'dvs-bench', exporters: [exporter],
      ports: Array.from({ length: BENCH_PORTS }, (_, i) => i < BENCH_UPLINKS
        ? { key: i, portgroup: 'dvs-bench-uplinks', kind: 'uplink' as const }
        : { key: i, portgroup: `pg-${i % 200}`, vm: `vm-${i}`, kind: 'vm' as const, ips: [`10.${(i >> 8) & 255}.${i & 255}.1`] }),
    }],
    portgroups: [], vlans: Array.from({ length: 200 }, (_, i) => ({ vlan: i + 1, portgroup: `pg-${i}` })),
    cidrs: Array.from({ length: 100 }, (_, i) => ({ cidr: `172.${16 + (i >> 4)}.${(i & 15) * 16}.0/20`, portgroup: `pg-${i}` })),
  };
  const vips: Vip[] = Array.from({ length: 500 }, (_, i) => ({
    name: `vip-${i}`, address: i < v4.length / 2 ? v4[i]! : `192.0.${i >> 8}.${i & 255}`, port: null, proto: 'any', mode: 'tcp', lbKind: i % 3 === 0 ? 'dr' : 'proxy',
    lbAddresses: [], pools: [{ name: `pool-${i}`, servers: Array.from({ length: 4 }, (_, s) => ({ name: `srv-${i}-${s}`, address: v4[(i * 4 + s + Math.floor(v4.length / 2)) % Math.max(1, v4.length)] ?? `198.18.${i >> 6}.${(i & 63) * 4 + s}`, port: null })) }],
  }));
  return { pg, vips };
}

/** The same inventory as files the daemon loads (portgroup JSON, VIP YAML in JSON syntax); returns their paths. */
export function writeBenchInventory(dir: string, addrs: readonly string[], exporter: string): { files: string[]; vipFiles: string[] } {
  const { pg, vips } = benchInventory(addrs, exporter);
  const files = [join(dir, 'portgroups.json')];
  const vipFiles = [join(dir, 'vips.yaml')];
  writeFileSync(files[0]!, JSON.stringify({ switches: pg.switches, vlans: pg.vlans, cidrs: pg.cidrs }));
  writeFileSync(vipFiles[0]!, JSON.stringify({
    vips: vips.map((v) => ({ name: v.name, address: v.address, proto: v.proto, kind: v.lbKind, servers: v.pools[0]!.servers.map((s) => ({ name: s.name, address: s.address })) })),
  }));
  return { files, vipFiles };
}

/**
 * The enricher the daemon builds from those files, by its own inventory service, so names are strings read from
 * files (one per port and line), not the literals benchInventory() makes.
 */
export function benchEnricherFromFiles(addrs: readonly string[], exporter: string): Enricher {
  const dir = mkdtempSync(join(tmpdir(), 'bench-inventory-'));
  try {
    const inventory = { ...defaultConfig.inventory, ...writeBenchInventory(dir, addrs, exporter) };
    const service = new InventoryService({ config: { ...defaultConfig, data: dir, inventory }, log: pino({ level: 'silent' }), onChange: () => undefined });
    service.start();
    service.stop();
    return service.enricher;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
