// nfdump's `sysid N` / `exporter id N` name an exporter by the number nfcapd gave it in its files (in the
// order it first heard from each exporter). dvflow keeps no such column: it numbers exporters the same way
// from its exporter accounting (exporter_stats): 1 for the (address, version, observation domain) heard
// first, 2 for the next, and so on. Both the daemon's API and the CLI against a ClickHouse server read the
// same table, so they agree on the numbers. A number can shift when an exporter's accounting expires
// (retention.exporter_stats) before the others'.
import type { FilterNode, TermNode } from '../filter/index.ts';
import type { ExporterRef } from '../filter/lowerFilter.ts';
import { parseFilter } from '../filter/index.ts';
import type { FilterContext, QueryRunner } from './flowQuery.ts';

/** Does the filter name exporters by number? Only then is the numbering read. */
export function usesExporterIds(node: FilterNode): boolean {
  switch (node.type) {
    case 'and':
    case 'or':
      return usesExporterIds(node.left) || usesExporterIds(node.right);
    case 'not':
      return usesExporterIds(node.operand);
    default: {
      const t = node as TermNode;
      if (t.type === 'tenant') return usesExporterIds(t.inner as FilterNode);
      return t.type === 'compare' && t.field === 'sysid';
    }
  }
}

export async function loadExporterIds(runner: QueryRunner): Promise<Map<number, ExporterRef>> {
  const rows = await runner.queryRows<{ exporter: string; version: number; domain: number }>(
    `SELECT exporter, version, domain FROM exporter_stats
     GROUP BY exporter, version, domain ORDER BY min(first_seen), exporter, version, domain`,
  );
  const ids = new Map<number, ExporterRef>();
  rows.forEach((r, i) => {
    const address = r.exporter.startsWith('::ffff:') && r.exporter.includes('.') ? r.exporter.slice(7) : r.exporter;
    ids.set(i + 1, { address, version: Number(r.version), domain: Number(r.domain) });
  });
  return ids;
}

/** What filters compile with: the exporter numbering when one of them names an exporter by number, else nothing. */
export async function exporterContext(runner: QueryRunner, texts: string[]): Promise<FilterContext> {
  // The word test spares parsing the common filter; the parse decides (`id` could be a portgroup's name).
  const uses = texts.some((t) => /sysid|\bid\b/i.test(t) && usesExporterIds(parseFilter(t)));
  return uses ? { exporterIds: await loadExporterIds(runner) } : {};
}
