// The portgroup and VIP inventory over HTTP: what is loaded (sources, errors, counts), the portgroups with their
// dvPorts and VMs, the VIPs with their pools, the unmapped dvPorts; checking a file without storing it; and,
// with the token, importing a file into the daemon's data directory or removing one.
import type { FastifyInstance } from 'fastify';
import type { InventoryService } from '@dvflow/collector/src/inventory/inventoryService.ts';
import { parseInventoryFile, inventoryCounts } from '@dvflow/collector/src/inventory/inventoryFiles.ts';
import { ImportError } from '@dvflow/collector/src/inventory/inventoryModel.ts';
import { unexpectedLegs } from '@dvflow/collector/src/inventory/enricher.ts';

/** Largest inventory file accepted over HTTP. */
const MAX_FILE = 16 * 1024 * 1024;

const errorSchema = { type: 'object', properties: { error: { type: 'string' }, message: { type: 'string' }, line: { type: 'integer' } } } as const;
const fileBody = {
  type: 'object',
  additionalProperties: false,
  required: ['kind', 'name', 'content'],
  properties: {
    kind: { type: 'string', enum: ['portgroups', 'vips'] },
    name: { type: 'string', minLength: 1, maxLength: 128 },
    content: { type: 'string', maxLength: MAX_FILE },
  },
} as const;

type FileBody = { kind: 'portgroups' | 'vips'; name: string; content: string };

export default async function inventoryRoutes(app: FastifyInstance, opts: { inventory: InventoryService | null }): Promise<void> {
  const inv = opts.inventory;
  const none = { error: 'Service Unavailable', message: 'this process keeps no inventory' };

  app.get('/inventory', { schema: { summary: 'Inventory sources, counts and unmapped dvPorts' } }, async (_req, reply) => {
    if (!inv) return reply.code(503).send(none);
    const s = inv.snapshot();
    return { version: s.version, stats: s.stats, sources: s.sources, unmapped: s.unmapped };
  });

  app.get('/inventory/unmapped', { schema: { summary: 'dvPorts seen in flows that no inventory maps, with their exporter' } }, async (_req, reply) => {
    if (!inv) return reply.code(503).send(none);
    return { unmapped: inv.enricher.unmappedPorts(), overflow: inv.enricher.unmappedOverflow };
  });

  app.get('/portgroups', { schema: { summary: 'Portgroups with their dvSwitch, VLAN, dvPorts and VMs' } }, async (_req, reply) => {
    if (!inv) return reply.code(503).send(none);
    const { portgroups: pg } = inv.current();
    const byName = new Map<string, { name: string; switch: string; vlan: number | null; kind: string; ports: number; vms: string[]; cidrs: string[] }>();
    const get = (name: string) => {
      let e = byName.get(name);
      if (!e) byName.set(name, (e = { name, switch: '', vlan: null, kind: 'vm', ports: 0, vms: [], cidrs: [] }));
      return e;
    };
    for (const p of pg.portgroups) Object.assign(get(p.name), { switch: p.switch ?? '', vlan: p.vlan ?? null, kind: p.kind ?? 'vm' });
    for (const sw of pg.switches) {
      for (const port of sw.ports) {
        const e = get(port.portgroup);
        e.ports++;
        if (!e.switch) e.switch = sw.name;
        if (port.kind === 'uplink') e.kind = 'uplink';
        if (port.vm && !e.vms.includes(port.vm)) e.vms.push(port.vm);
        if (e.vlan === null && port.vlan !== undefined) e.vlan = port.vlan;
      }
    }
    for (const v of pg.vlans) if (get(v.portgroup).vlan === null) get(v.portgroup).vlan = v.vlan;
    for (const c of pg.cidrs) get(c.portgroup).cidrs.push(c.cidr);
    return {
      portgroups: [...byName.values()].sort((a, b) => a.name.localeCompare(b.name)),
      switches: pg.switches.map((s) => ({ name: s.name, exporters: s.exporters, ports: s.ports.length, netflow: s.netflow ?? null })),
    };
  });

  app.get('/vips', { schema: { summary: 'Load-balancer VIPs with their pools and real servers' } }, async (_req, reply) => {
    if (!inv) return reply.code(503).send(none);
    return { vips: inv.current().vips.vips.map((v) => ({ ...v, unexpectedLegs: unexpectedLegs[v.lbKind] })) };
  });

  app.post<{ Body: FileBody }>('/inventory/check', {
    bodyLimit: MAX_FILE + 4096,
    schema: { summary: 'Parse an inventory or LB config without storing it', body: fileBody, response: { 400: errorSchema } },
  }, async (req, reply) => {
    try {
      const parsed = parseInventoryFile(req.body.kind, req.body.content, req.body.name);
      return { ok: true, format: parsed.format, counts: inventoryCounts(parsed), warnings: parsed.warnings };
    } catch (e) {
      if (e instanceof ImportError) return reply.code(400).send({ error: 'Bad Request', message: e.message, line: e.line });
      throw e;
    }
  });

  app.post<{ Body: FileBody }>('/inventory/import', {
    bodyLimit: MAX_FILE + 4096,
    preHandler: app.requireToken,
    schema: { summary: 'Store an inventory or LB config in the data directory and apply it', body: fileBody, response: { 400: errorSchema } },
  }, async (req, reply) => {
    if (!inv) return reply.code(503).send(none);
    try {
      const r = inv.importFile(req.body.kind, req.body.name, req.body.content);
      return { ok: true, path: r.path, replaced: r.replaced, format: r.parsed.format, counts: inventoryCounts(r.parsed), warnings: r.parsed.warnings, stats: inv.enricher.stats };
    } catch (e) {
      if (e instanceof ImportError) return reply.code(400).send({ error: 'Bad Request', message: e.message, line: e.line });
      return reply.code(400).send({ error: 'Bad Request', message: (e as Error).message });
    }
  });

  app.delete<{ Params: { kind: 'portgroups' | 'vips'; name: string } }>('/inventory/:kind/:name', {
    preHandler: app.requireToken,
    schema: {
      summary: 'Remove an imported inventory file',
      params: { type: 'object', properties: { kind: { type: 'string', enum: ['portgroups', 'vips'] }, name: { type: 'string', maxLength: 128 } }, required: ['kind', 'name'] },
    },
  }, async (req, reply) => {
    if (!inv) return reply.code(503).send(none);
    if (!inv.removeFile(req.params.kind, req.params.name)) return reply.code(404).send({ error: 'Not Found', message: `no imported ${req.params.kind} file '${req.params.name}'` });
    return { ok: true };
  });
}
