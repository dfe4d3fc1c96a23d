// `dvflow inventory show|import|check|remove` (portgroups: dvPorts, VLANs, CIDRs, govc output) and
// `dvflow vip show|import|check|remove` (haproxy.cfg, keepalived.conf, ldirectord.cf, VIP YAML). Import and
// show talk to the running daemon's API, which keeps the files in its data directory and applies them at once;
// check parses locally (no daemon needed) and, when the daemon answers, says which unmapped dvPorts a file maps.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { Command } from 'commander';
// The parsers load with `check`, the only command that parses here (they are most of the CLI's start-up otherwise).
import type { InventoryKind } from '../inventory/inventoryFiles.ts';
import type { UnmappedPort } from '../inventory/enricher.ts';
import { CliError } from './cliError.ts';
import { callDaemon } from './daemonApi.ts';

const apiDefault = process.env.DVFLOW_API ?? 'http://127.0.0.1:8080';

function call(api: string, method: string, path: string, body?: unknown, token?: string): Promise<Record<string, unknown>> {
  return callDaemon(api, method, path, { body, token, hint: 'Use --api.', failure: 'request failed' });
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new CliError(`cannot read ${file}: ${(e as Error).message}`);
  }
}

const fmtCounts = (c: Record<string, unknown>) => Object.entries(c).map(([k, v]) => `${v} ${k}`).join(', ');
const out = (s: string) => process.stdout.write(`${s}\n`);

function table(rows: string[][]): string {
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(w[i]!))).join('  ')).join('\n');
}

function addKindCommands(parent: Command, kind: InventoryKind, what: string): void {
  parent
    .command('import')
    .description(`send ${what} to the running daemon, which stores them in its data directory and applies them at once (same name = replace)`)
    .argument('<files...>')
    .option('--api <url>', 'daemon API', apiDefault)
    .option('--token <token>', 'bearer token for write routes (or DVFLOW_HTTP_TOKEN)', process.env.DVFLOW_HTTP_TOKEN ?? '')
    .action(async (files: string[], o: { api: string; token: string }) => {
      let failed = 0;
      for (const f of files) {
        try {
          const r = await call(o.api, 'POST', '/inventory/import', { kind, name: basename(f), content: readText(f) }, o.token);
          out(`${f}: ${r.replaced ? 'replaced' : 'imported'} (${r.format}: ${fmtCounts(r.counts as Record<string, unknown>)})`);
          for (const w of (r.warnings as Array<{ line: number; message: string }>) ?? []) out(`  warning: line ${w.line}: ${w.message}`);
        } catch (e) {
          failed++;
          process.stderr.write(`dvflow: ${f}: ${(e as Error).message}\n`);
        }
      }
      if (failed) process.exitCode = 1;
    });

  parent
    .command('check')
    .description(`parse ${what} locally and report what they hold, warnings and errors with line numbers (exit 1 on an error)`)
    .argument('<files...>')
    .option('--api <url>', 'daemon API, to say which unmapped dvPorts the file would map', apiDefault)
    .action(async (files: string[], o: { api: string }) => {
      const [{ parseInventoryFile, inventoryCounts }, { ImportError }] = await Promise.all([
        import('../inventory/inventoryFiles.ts'), import('../inventory/inventoryModel.ts'),
      ]);
      let failed = 0;
      for (const f of files) {
        try {
          const p = parseInventoryFile(kind, readText(f), f);
          out(`${f}: ok (${p.format}: ${fmtCounts(inventoryCounts(p))})`);
          for (const w of p.warnings) out(`  warning: line ${w.line}: ${w.message}`);
          if (p.portgroups) {
            const unmapped = await call(o.api, 'GET', '/inventory/unmapped').then((r) => r.unmapped as UnmappedPort[]).catch(() => null);
            if (unmapped === null) out('  (daemon not reachable: cannot compare with the unmapped dvPorts it has seen)');
            else {
              const keys = new Map(p.portgroups.switches.flatMap((s) => s.ports.map((x) => [`${s.name}|${x.key}`, x.portgroup] as const)));
              const anyKey = new Map(p.portgroups.switches.flatMap((s) => s.ports.map((x) => [x.key, x.portgroup] as const)));
              const mapped = unmapped.filter((u) => keys.has(`${u.switch}|${u.port}`) || (!u.switch && anyKey.has(u.port)));
              out(`  maps ${mapped.length} of the ${unmapped.length} unmapped dvPorts the daemon has seen`);
            }
          }
        } catch (e) {
          failed++;
          process.stderr.write(`dvflow: ${e instanceof ImportError ? e.message : `${f}: ${(e as Error).message}`}\n`);
        }
      }
      if (failed) process.exitCode = 1;
    });

  parent
    .command('remove')
    .description(`remove an imported ${kind === 'vips' ? 'LB config' : 'inventory file'} from the daemon (by its file name)`)
    .argument('<name>')
    .option('--api <url>', 'daemon API', apiDefault)
    .option('--token <token>', 'bearer token (or DVFLOW_HTTP_TOKEN)', process.env.DVFLOW_HTTP_TOKEN ?? '')
    .action(async (name: string, o: { api: string; token: string }) => {
      await call(o.api, 'DELETE', `/inventory/${kind}/${encodeURIComponent(basename(name))}`, undefined, o.token);
      out(`${name}: removed`);
    });
}

export function addInventoryCommands(program: Command): void {
  const inv = program
    .command('inventory')
    .description('portgroup inventory: dvPort key → portgroup/VM per dvSwitch, VLAN and CIDR fallbacks (YAML, JSON, CSV or govc JSON)');
  inv
    .command('show')
    .description('what the daemon has loaded: sources (with errors), portgroups, switches, and the dvPorts seen without a mapping')
    .option('--api <url>', 'daemon API', apiDefault)
    .option('--json', 'print JSON')
    .action(async (o: { api: string; json?: boolean }) => {
      const [summary, pgs] = await Promise.all([call(o.api, 'GET', '/inventory'), call(o.api, 'GET', '/portgroups')]);
      if (o.json) {
        out(JSON.stringify({ ...summary, ...pgs }, null, 2));
        return;
      }
      out('Sources:');
      for (const s of summary.sources as Array<{ kind: string; name: string; format: string; ok: boolean; error?: string; counts: Record<string, number>; warnings: unknown[] }>) {
        out(`  ${s.ok ? 'ok   ' : 'ERROR'} ${s.kind.padEnd(10)} ${s.name} (${s.format || '?'}: ${fmtCounts(s.counts)}${s.warnings.length ? `, ${s.warnings.length} warnings` : ''})${s.error ? `\n        ${s.error}` : ''}`);
      }
      const list = pgs.portgroups as Array<{ name: string; switch: string; vlan: number | null; kind: string; ports: number; vms: string[]; cidrs: string[] }>;
      out(`\nPortgroups (${list.length}):`);
      if (list.length) out(table([['Portgroup', 'Switch', 'VLAN', 'Kind', 'dvPorts', 'VMs', 'CIDRs'], ...list.map((p) => [p.name, p.switch || '-', p.vlan === null ? '-' : String(p.vlan), p.kind, String(p.ports), p.vms.slice(0, 5).join(',') + (p.vms.length > 5 ? ',…' : ''), p.cidrs.join(',')])]).replace(/^/gm, '  '));
      const unmapped = summary.unmapped as UnmappedPort[];
      out(`\nUnmapped dvPorts (${unmapped.length}):`);
      if (unmapped.length) out(table([['Exporter', 'Domain', 'Switch', 'dvPort', 'Side', 'Flows', 'Last seen'], ...unmapped.slice(0, 200).map((u) => [u.exporter, String(u.domain), u.switch || '(unknown exporter)', String(u.port), u.side, String(u.flows), new Date(u.lastSeen).toISOString()])]).replace(/^/gm, '  '));
    });
  addKindCommands(inv, 'portgroups', 'portgroup inventory files (YAML/JSON/CSV, govc JSON)');

  const vip = program
    .command('vip')
    .description('load-balancer VIPs and their real servers, from haproxy.cfg, keepalived.conf, ldirectord.cf or the VIP YAML');
  vip
    .command('show')
    .description('the VIPs the daemon knows, with pools, real servers and forwarding method')
    .option('--api <url>', 'daemon API', apiDefault)
    .option('--json', 'print JSON')
    .action(async (o: { api: string; json?: boolean }) => {
      const r = await call(o.api, 'GET', '/vips');
      if (o.json) {
        out(JSON.stringify(r, null, 2));
        return;
      }
      const vips = r.vips as Array<{ name: string; address: string; port: number | null; proto: string; mode: string; lbKind: string; pools: Array<{ name: string; balance?: string; servers: Array<{ name: string; address: string; port: number | null; weight?: number }> }>; unexpectedLegs: string[] }>;
      out(`VIPs (${vips.length}):`);
      for (const v of vips) {
        out(`  ${v.name}  ${v.address}:${v.port ?? '*'}/${v.proto}  mode ${v.mode}, forwarding ${v.lbKind} (legs that should not appear: ${v.unexpectedLegs.join(', ')})`);
        for (const p of v.pools) {
          out(`    pool ${p.name}${p.balance ? ` (${p.balance})` : ''}: ${p.servers.map((s) => `${s.name}=${s.address}:${s.port ?? '*'}${s.weight !== undefined ? ` w${s.weight}` : ''}`).join(', ') || 'no servers'}`);
        }
      }
    });
  addKindCommands(vip, 'vips', 'load-balancer configs');
}
