// One entry point for VIP files: tells haproxy.cfg, keepalived.conf, ldirectord.cf and dvflow's VIP YAML apart by
// their content (the file name only breaks ties or decides when the content says nothing), hands the text to
// that format's parser, and merges the inventories of several files (a later file wins for the same Vip name).

import { ImportError, type ImportWarning, type Vip, type VipInventory } from '../inventoryModel.ts';
import { parseHaproxyConfig } from './haproxyConfig.ts';
import { parseKeepalivedConfig } from './keepalivedConfig.ts';
import { parseLdirectordConfig } from './ldirectordConfig.ts';
import { hostPort, type VipImportResult } from './vipCommon.ts';
import { parseVipYaml } from './vipYaml.ts';

export type { VipImportResult } from './vipCommon.ts';

export type VipFormat = 'haproxy' | 'keepalived' | 'ldirectord' | 'yaml';
export const vipFormats: readonly VipFormat[] = ['haproxy', 'keepalived', 'ldirectord', 'yaml'];

/** Line patterns typical of each format; each matching line counts once per pattern. */
const SIGNS: Record<VipFormat, RegExp[]> = {
  haproxy: [
    /^\s*(global|defaults)\s*(#.*)?$/, /^\s*(frontend|backend|listen|defaults)\s+\S+/, /^\s+(bind|default_backend|use_backend|balance)\s+\S/,
    /^\s+server\s+\S+\s+\S+/, /^\s+(mode\s+(http|tcp)|option\s+\S+|timeout\s+\S+\s+\S+)/,
  ],
  keepalived: [
    /^\s*(global_defs|vrrp_instance|vrrp_sync_group|vrrp_script|virtual_server_group)\b.*\{/, /^\s*virtual_server\s+\S+(\s+\S+)?\s*\{/,
    /^\s*(real_server|sorry_server)\s+\S+/, /^\s*(virtual_ipaddress|authentication|TCP_CHECK|HTTP_GET|SSL_GET|MISC_CHECK)\s*\{/,
    /^\s*(lb_kind|lb_algo|lvs_method|lvs_sched|delay_loop|virtual_router_id|advert_int)\s+\S/,
  ],
  ldirectord: [
    /^virtual6?\s*=\s*\S/, /^\s+real6?\s*=\s*\S+\s+(gate|masq|ipip)\b/, /^\s+(scheduler|checktype|service|protocol|persistent|fallback|checkport)\s*=/,
    /^(checktimeout|checkinterval|autoreload|quiescent|logfile|negotiatetimeout|emailalert)\s*=/,
  ],
  yaml: [/^vips\s*:/, /^\s*-\s+(name|address)\s*:\s*\S/, /^\s+(address|kind|lbAddresses|servers|pools)\s*:/, /^---\s*$/],
};

function nameHint(fileName: string): VipFormat | null {
  const base = fileName.split(/[\\/]/).pop()!.toLowerCase();
  if (base.includes('haproxy')) return 'haproxy';
  if (base.includes('keepalived')) return 'keepalived';
  if (base.includes('ldirectord') || base.includes('lvs.cf')) return 'ldirectord';
  if (base.endsWith('.yaml') || base.endsWith('.yml')) return 'yaml';
  return null;
}

/**
 * The format of a VIP file by its content: the one whose typical lines occur most. The file name (haproxy*,
 * keepalived*, ldirectord*, *.yaml) breaks a tie and decides when no line is typical of any; null when neither
 * tells.
 */
export function detectVipFormat(text: string, fileName: string): VipFormat | null {
  const score: Record<VipFormat, number> = { haproxy: 0, keepalived: 0, ldirectord: 0, yaml: 0 };
  const lines = text.split('\n', 20000);
  for (const f of vipFormats) for (const re of SIGNS[f]) for (const l of lines) if (re.test(l)) score[f]++;
  const hint = nameHint(fileName);
  const best = Math.max(...vipFormats.map((f) => score[f]));
  if (best === 0) return hint;
  const top = vipFormats.filter((f) => score[f] === best);
  if (hint !== null && top.includes(hint)) return hint;
  return top[0];
}

/** Parses a VIP file in the given format, or the detected one. Throws ImportError when the format is unknown. */
export function importVipConfig(text: string, fileName: string, format?: VipFormat): VipImportResult & { format: VipFormat } {
  const f = format ?? detectVipFormat(text, fileName);
  if (f === null) {
    throw new ImportError(fileName, 1, 'cannot tell the format: expected haproxy.cfg, keepalived.conf, ldirectord.cf or dvflow VIP YAML');
  }
  const r = parse(f, text, fileName);
  return { ...r, format: f };
}

function parse(f: VipFormat, text: string, file: string): VipImportResult {
  switch (f) {
    case 'haproxy': return parseHaproxyConfig(text, file);
    case 'keepalived': return parseKeepalivedConfig(text, file);
    case 'ldirectord': return parseLdirectordConfig(text, file);
    case 'yaml': return parseVipYaml(text, file);
  }
}

function where(v: Vip): string {
  return v.origin ? `${v.origin.name}${v.origin.line !== undefined ? `:${v.origin.line}` : ''}` : 'an unnamed source';
}

/**
 * Merges inventories given in load order: a Vip whose name an earlier one already has replaces it (in its place)
 * with a warning; two Vips with different names on the same address, port and protocol are both kept, with a
 * warning, since flows to that address can be named after only one of them.
 */
export function mergeVipInventories(list: readonly VipInventory[]): VipImportResult {
  const warnings: ImportWarning[] = [];
  const warn = (v: Vip, message: string) => warnings.push({ file: v.origin?.name ?? '', line: v.origin?.line ?? 0, message });
  const out: Vip[] = [];
  const byName = new Map<string, number>();
  for (const inv of list) {
    for (const v of inv.vips) {
      const i = byName.get(v.name);
      if (i === undefined) {
        byName.set(v.name, out.length);
        out.push(v);
      } else {
        warn(v, `VIP '${v.name}' replaces the one from ${where(out[i])}`);
        out[i] = v;
      }
    }
  }
  const byEndpoint = new Map<string, Vip>();
  for (const v of out) {
    if (v.address === '0.0.0.0' || v.address === '::') continue;
    const key = `${hostPort(v.address, v.port)} ${v.proto}`;
    const other = byEndpoint.get(key);
    if (other) warn(v, `VIP '${v.name}' has the same address, port and protocol (${key}) as '${other.name}' from ${where(other)}`);
    else byEndpoint.set(key, v);
  }
  return { inventory: { vips: out }, warnings };
}
