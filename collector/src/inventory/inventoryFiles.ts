// Reading one inventory file of either kind: portgroups (our YAML/JSON/CSV, or govc JSON output) and VIPs
// (haproxy.cfg, keepalived.conf, ldirectord.cf, VIP YAML). Pure: text in, inventory + warnings out; throws
// ImportError with the file and line. Shared by the daemon's loader, `dvflow inventory|vip check` and the API.
import { parsePortgroupFile } from './portgroupFile.ts';
import { parseGovcJson, looksLikeGovcJson } from './govcImport.ts';
import { importVipConfig } from './vip/importVipConfig.ts';
import { ImportError, type ImportWarning, type PortgroupInventory, type VipInventory } from './inventoryModel.ts';

export type InventoryKind = 'portgroups' | 'vips';

export interface ParsedInventoryFile {
  kind: InventoryKind;
  /** 'file' or 'govc' for portgroups; the LB format for VIPs. */
  format: string;
  portgroups?: PortgroupInventory;
  vips?: VipInventory;
  warnings: ImportWarning[];
}

export function parseInventoryFile(kind: InventoryKind, text: string, file: string): ParsedInventoryFile {
  if (text.length > 64 * 1024 * 1024) throw new ImportError(file, 0, 'file larger than 64 MiB');
  if (kind === 'vips') {
    const r = importVipConfig(text, file);
    return { kind, format: r.format, vips: r.inventory, warnings: r.warnings };
  }
  if (looksLikeGovcJson(text)) {
    const r = parseGovcJson(text, file);
    return { kind, format: 'govc', portgroups: r.inventory, warnings: r.warnings };
  }
  const r = parsePortgroupFile(text, file);
  return { kind, format: 'file', portgroups: r.inventory, warnings: r.warnings };
}

/** Counts for messages: what a parsed file holds. */
export function inventoryCounts(p: ParsedInventoryFile): Record<string, number> {
  if (p.vips) {
    return { vips: p.vips.vips.length, pools: p.vips.vips.reduce((n, v) => n + v.pools.length, 0), servers: p.vips.vips.reduce((n, v) => n + v.pools.reduce((m, x) => m + x.servers.length, 0), 0) };
  }
  const pg = p.portgroups!;
  return { switches: pg.switches.length, ports: pg.switches.reduce((n, s) => n + s.ports.length, 0), portgroups: pg.portgroups.length, vlans: pg.vlans.length, cidrs: pg.cidrs.length };
}
