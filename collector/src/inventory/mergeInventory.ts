// Several inventory sources at once, merged with one precedence rule: sources are given highest first; for the
// same dvSwitch the ports are merged key by key and the first source that names a key wins; portgroups, VLANs,
// CIDRs and exporter names likewise by their key. dvflow's order (README): hand-kept files > live vCenter >
// govc imports, so an admin's correction always beats what is discovered.
import type { DvSwitch, PortgroupInventory } from './inventoryModel.ts';
import { emptyPortgroupInventory } from './inventoryModel.ts';

export function mergePortgroupInventories(highestFirst: readonly PortgroupInventory[]): PortgroupInventory {
  const out = emptyPortgroupInventory();
  const switches = new Map<string, DvSwitch & { keys: Set<number> }>();
  const pgs = new Set<string>();
  const vlans = new Set<number>();
  const cidrs = new Set<string>();
  const names = new Set<string>();
  for (const inv of highestFirst) {
    for (const sw of inv.switches) {
      let m = switches.get(sw.name);
      if (!m) {
        m = { ...sw, exporters: [...sw.exporters], ports: [], keys: new Set() };
        switches.set(sw.name, m);
      } else {
        for (const e of sw.exporters) if (!m.exporters.includes(e)) m.exporters.push(e);
        m.netflow ??= sw.netflow;
        m.uuid ??= sw.uuid;
      }
      for (const p of sw.ports) {
        if (m.keys.has(p.key)) continue;
        m.keys.add(p.key);
        m.ports.push(p);
      }
    }
    for (const p of inv.portgroups) if (!pgs.has(p.name)) (pgs.add(p.name), out.portgroups.push(p));
    for (const v of inv.vlans) if (!vlans.has(v.vlan)) (vlans.add(v.vlan), out.vlans.push(v));
    for (const c of inv.cidrs) if (!cidrs.has(c.cidr)) (cidrs.add(c.cidr), out.cidrs.push(c));
    for (const e of inv.exporterNames ?? []) if (!names.has(e.address)) (names.add(e.address), (out.exporterNames ??= []).push(e));
  }
  out.switches = [...switches.values()].map(({ keys: _keys, ...sw }) => sw);
  return out;
}
