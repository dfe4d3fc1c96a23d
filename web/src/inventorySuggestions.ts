// Filter completion from live data: after `portgroup` the known portgroups, after `vip` the VIP names, after
// `exporter`/`ident` the exporters' names and addresses. Names with spaces come back quoted, as the filter
// language reads them.
import type { InventoryService } from '@dvflow/collector/src/inventory/inventoryService.ts';
import type { ExporterRegistry } from '@dvflow/collector/src/collector/exporterRegistry.ts';
import type { CompletionContext, SuggestionProvider } from './routes/filter.ts';

const quote = (s: string) => (/^[A-Za-z0-9_.:/-]+$/.test(s) ? s : `"${s.replace(/["\\]/g, '\\$&')}"`);

export function inventorySuggestions(inv: InventoryService, exporters: ExporterRegistry | null): SuggestionProvider {
  return (c: CompletionContext) => {
    const before = c.text.slice(0, c.cursor - c.word.length).trimEnd();
    const prev = /([A-Za-z-]+)$/.exec(before)?.[1]?.toLowerCase() ?? '';
    const snap = inv.current();
    let names: string[] = [];
    if (prev === 'portgroup') {
      names = [...new Set([...snap.portgroups.portgroups.map((p) => p.name), ...snap.portgroups.switches.flatMap((s) => s.ports.map((p) => p.portgroup)), ...snap.portgroups.vlans.map((v) => v.portgroup), ...snap.portgroups.cidrs.map((x) => x.portgroup)])];
    } else if (prev === 'vip') {
      names = snap.vips.vips.map((v) => v.name);
    } else if (prev === 'backend') {
      names = [...new Set(snap.vips.vips.flatMap((v) => v.pools.flatMap((p) => p.servers.map((s) => s.name))))];
    } else if (prev === 'exporter' || prev === 'ident') {
      names = [...(snap.portgroups.exporterNames ?? []).map((e) => e.name), ...(exporters?.list().map((e) => e.address) ?? [])];
    } else return [];
    const w = c.word.replace(/^"/, '').toLowerCase();
    return [...new Set(names)].filter((n) => n.toLowerCase().startsWith(w)).sort().slice(0, 50).map(quote);
  };
}
