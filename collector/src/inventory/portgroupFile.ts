// The hand-kept portgroup inventory: a YAML or JSON document, or a CSV table, that maps each dvSwitch's dvPort
// keys to portgroup, VM and vNIC, VLAN ids and CIDRs to portgroups (fallbacks when a port is unknown). Parsed
// with `yaml` (line numbers through its LineCounter) and `csv-parse`; the checks and messages are ours.
//
// YAML / JSON:
//   switches:
//     - name: dvs-prod                       # dvSwitch name
//       exporters: [10.0.0.21, 10.0.0.22/5]  # who exports for it ("addr" or "addr/observation-domain"); the Switch IP if set
//       ports:
//         - { key: 12, portgroup: web, vm: web-01, vnic: Network adapter 1, mac: 00:50:56:aa:bb:01, ips: [10.1.0.11] }
//         - { key: 2, portgroup: dvs-prod-uplinks, kind: uplink }
//   portgroups:
//     - { name: web, switch: dvs-prod, vlan: 100 }
//   vlans:
//     - { vlan: 100, portgroup: web }
//   cidrs:
//     - { cidr: 10.1.0.0/24, portgroup: web }
//   exporters:                               # optional display names (the `exporter` column and `-s exporter`)
//     - { address: 10.0.0.21, name: esxi-01 }
//
// CSV (a header row; one row per fact, empty cells allowed):
//   switch,exporters,key,portgroup,vm,vnic,mac,kind,vlan,cidr
//   dvs-prod,10.0.0.21 10.0.0.22,12,web,web-01,Network adapter 1,00:50:56:aa:bb:01,vm,,
//   ,,,web,,,,,100,            <- no key: VLAN 100 → web
//   ,,,web,,,,,,10.1.0.0/24    <- a CIDR → web
import { LineCounter, parseDocument, isMap, isSeq, type Node as YamlNode } from 'yaml';
import { parse as parseCsv } from 'csv-parse/sync';
import { parseAddress } from '../filter/ipAddress.ts';
import { ImportError, emptyPortgroupInventory, type DvPort, type DvPortKind, type DvSwitch, type ImportWarning, type PortgroupInventory } from './inventoryModel.ts';

export interface PortgroupFileResult {
  inventory: PortgroupInventory;
  warnings: ImportWarning[];
}

const KINDS: readonly DvPortKind[] = ['uplink', 'vm', 'vmknic', 'unknown'];

/** Checks shared by both syntaxes; `line` says where a value came from. */
class Checker {
  readonly warnings: ImportWarning[] = [];
  constructor(readonly file: string) {}
  fail(line: number, msg: string): never {
    throw new ImportError(this.file, line, msg);
  }
  warn(line: number, msg: string): void {
    this.warnings.push({ file: this.file, line, message: msg });
  }
  name(v: unknown, line: number, what: string): string {
    if (typeof v === 'number') v = String(v);
    if (typeof v !== 'string' || v.trim() === '') this.fail(line, `${what} must be a non-empty name`);
    if (v.length > 256) this.fail(line, `${what} is longer than 256 characters`);
    return v.trim();
  }
  optName(v: unknown, line: number, what: string): string | undefined {
    return v === undefined || v === null || v === '' ? undefined : this.name(v, line, what);
  }
  int(v: unknown, line: number, what: string, max: number): number {
    const n = typeof v === 'string' && /^\d+$/.test(v.trim()) ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > max) this.fail(line, `${what} must be an integer from 0 to ${max}, got ${JSON.stringify(v)}`);
    return n;
  }
  address(v: unknown, line: number, what: string): string {
    const s = this.name(v, line, what);
    if (!parseAddress(s)) this.fail(line, `${what} '${s}' is not an IP address`);
    return s;
  }
  exporter(v: unknown, line: number): string {
    const s = this.name(v, line, 'exporter');
    const [addr, domain, extra] = s.split('/');
    if (extra !== undefined || !parseAddress(addr!) || (domain !== undefined && !/^\d+$/.test(domain))) {
      this.fail(line, `exporter '${s}' must be an address or address/observation-domain`);
    }
    return s;
  }
  cidr(v: unknown, line: number): string {
    const s = this.name(v, line, 'cidr');
    const m = /^(.+)\/(\d+)$/.exec(s);
    const a = m ? parseAddress(m[1]!) : null;
    if (!m || !a || Number(m[2]) > (a.family === 4 ? 32 : 128)) this.fail(line, `cidr '${s}' must be ADDRESS/PREFIX`);
    return s;
  }
  mac(v: unknown, line: number): string | undefined {
    if (v === undefined || v === null || v === '') return undefined;
    const s = String(v).trim().toLowerCase().replace(/-/g, ':');
    if (!/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(s)) this.fail(line, `mac '${String(v)}' must look like 00:50:56:aa:bb:cc`);
    return s;
  }
  kind(v: unknown, line: number): DvPortKind | undefined {
    if (v === undefined || v === null || v === '') return undefined;
    if (!KINDS.includes(v as DvPortKind)) this.fail(line, `kind must be one of ${KINDS.join(', ')}, got ${JSON.stringify(v)}`);
    return v as DvPortKind;
  }
}

/** Parse a portgroup inventory; the format comes from the content (CSV when the first line is a header). */
export function parsePortgroupFile(text: string, file: string): PortgroupFileResult {
  const first = text.split('\n').find((l) => l.trim() !== '' && !l.trim().startsWith('#')) ?? '';
  if (/\.csv$/i.test(file) || /^\s*"?switch"?\s*,/.test(first) || /^[a-z_"]+(,[a-z_"]+)+\s*$/.test(first.trim())) return parseCsvInventory(text, file);
  return parseYamlInventory(text, file);
}

function parseYamlInventory(text: string, file: string): PortgroupFileResult {
  const c: Checker = new Checker(file);
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false });
  if (doc.errors.length) {
    const e = doc.errors[0]!;
    c.fail(lc.linePos(e.pos[0]).line, e.message.split('\n')[0]!);
  }
  const lineOf = (n: YamlNode | null | undefined): number => (n?.range ? lc.linePos(n.range[0]).line : 1);
  const root = doc.contents;
  const inv = emptyPortgroupInventory();
  if (root === null || root === undefined) return { inventory: inv, warnings: c.warnings };
  if (!isMap(root)) c.fail(lineOf(root as YamlNode), 'an inventory is a map with switches, portgroups, vlans, cidrs, exporters');
  const list = (key: string) => {
    const n = root.get(key, true) as YamlNode | undefined;
    if (n === undefined || n === null) return [];
    if (!isSeq(n)) c.fail(lineOf(n), `'${key}' must be a list`);
    return n.items.map((it) => {
      if (!isMap(it)) c.fail(lineOf(it as YamlNode), `each entry of '${key}' must be a map`);
      return { line: lineOf(it as YamlNode), v: (it as YamlNode & { toJSON(): unknown }).toJSON() as Record<string, unknown>, node: it };
    });
  };
  for (const pair of root.items) {
    const k = String((pair.key as { value?: unknown })?.value ?? pair.key);
    if (!['switches', 'portgroups', 'vlans', 'cidrs', 'exporters'].includes(k)) c.warn(lineOf(pair.key as YamlNode), `unknown key '${k}' skipped`);
  }
  for (const { line, v, node } of list('switches')) {
    const sw: DvSwitch = { name: c.name(v.name, line, 'switch name'), exporters: [], ports: [], origin: { kind: 'file', name: file, line } };
    if (v.uuid !== undefined) sw.uuid = c.name(v.uuid, line, 'uuid');
    const ex = v.exporters ?? [];
    if (!Array.isArray(ex)) c.fail(line, 'exporters must be a list');
    sw.exporters = ex.map((e) => c.exporter(e, line));
    const portsNode = (node as { get(k: string, keep: true): YamlNode | undefined }).get('ports', true);
    const ports = portsNode && isSeq(portsNode) ? portsNode.items : [];
    if (portsNode && !isSeq(portsNode)) c.fail(lineOf(portsNode), 'ports must be a list');
    for (const pn of ports) {
      const pl = lineOf(pn as YamlNode);
      if (!isMap(pn)) c.fail(pl, 'each port must be a map');
      sw.ports.push(portFrom(c, (pn as YamlNode & { toJSON(): unknown }).toJSON() as Record<string, unknown>, pl));
    }
    inv.switches.push(sw);
  }
  for (const { line, v } of list('portgroups')) {
    inv.portgroups.push({
      name: c.name(v.name, line, 'portgroup name'), switch: c.optName(v.switch, line, 'switch'),
      vlan: v.vlan === undefined ? undefined : c.int(v.vlan, line, 'vlan', 4095),
      kind: v.kind === 'uplink' ? 'uplink' : 'vm',
    });
  }
  for (const { line, v } of list('vlans')) inv.vlans.push({ vlan: c.int(v.vlan, line, 'vlan', 4095), portgroup: c.name(v.portgroup, line, 'portgroup'), switch: c.optName(v.switch, line, 'switch') });
  for (const { line, v } of list('cidrs')) inv.cidrs.push({ cidr: c.cidr(v.cidr, line), portgroup: c.name(v.portgroup, line, 'portgroup') });
  for (const { line, v } of list('exporters')) (inv.exporterNames ??= []).push({ address: c.address(v.address, line, 'exporter address'), name: c.name(v.name, line, 'exporter name') });
  return { inventory: inv, warnings: c.warnings };
}

function portFrom(c: Checker, v: Record<string, unknown>, line: number): DvPort {
  const p: DvPort = { key: c.int(v.key, line, 'dvPort key', 0xffffffff), portgroup: c.name(v.portgroup, line, 'portgroup') };
  const vm = c.optName(v.vm, line, 'vm');
  if (vm) p.vm = vm;
  const vnic = c.optName(v.vnic, line, 'vnic');
  if (vnic) p.vnic = vnic;
  const mac = c.mac(v.mac, line);
  if (mac) p.mac = mac;
  if (v.vlan !== undefined && v.vlan !== null && v.vlan !== '') p.vlan = c.int(v.vlan, line, 'vlan', 4095);
  const kind = c.kind(v.kind, line);
  if (kind) p.kind = kind;
  const ips = typeof v.ips === 'string' ? v.ips.split(/[\s,;]+/).filter(Boolean) : v.ips;
  if (ips !== undefined && ips !== null) {
    if (!Array.isArray(ips)) c.fail(line, 'ips must be a list of addresses');
    if (ips.length) p.ips = ips.map((a) => c.address(a, line, 'ip'));
  }
  return p;
}

const CSV_COLUMNS = ['switch', 'exporters', 'key', 'portgroup', 'vm', 'vnic', 'mac', 'kind', 'vlan', 'cidr', 'ips'];

function parseCsvInventory(text: string, file: string): PortgroupFileResult {
  const c: Checker = new Checker(file);
  let rows: Array<{ record: Record<string, string>; info: { lines: number } }>;
  try {
    rows = parseCsv(text, { columns: (h: string[]) => h.map((x) => x.trim().toLowerCase()), skip_empty_lines: true, comment: '#', trim: true, info: true, relax_column_count: false });
  } catch (e) {
    const err = e as Error & { lines?: number };
    c.fail(err.lines ?? 1, `CSV: ${err.message.replace(/^Invalid Record Length: /, '')}`);
  }
  const inv = emptyPortgroupInventory();
  const switches = new Map<string, DvSwitch>();
  let warnedCols = false;
  for (const { record: r, info } of rows) {
    const line = info.lines;
    if (!warnedCols) {
      warnedCols = true;
      for (const k of Object.keys(r)) if (!CSV_COLUMNS.includes(k)) c.warn(1, `unknown column '${k}' skipped`);
      if (!('portgroup' in r)) c.fail(1, "the header must name a 'portgroup' column");
    }
    if (r.key) {
      const name = c.name(r.switch, line, 'switch (needed with a key)');
      let sw = switches.get(name);
      if (!sw) {
        sw = { name, exporters: [], ports: [], origin: { kind: 'file', name: file, line } };
        switches.set(name, sw);
        inv.switches.push(sw);
      }
      for (const e of (r.exporters ?? '').split(/[\s;]+/).filter(Boolean)) {
        const ex = c.exporter(e, line);
        if (!sw.exporters.includes(ex)) sw.exporters.push(ex);
      }
      sw.ports.push(portFrom(c, { ...r }, line));
    } else if (r.cidr) {
      inv.cidrs.push({ cidr: c.cidr(r.cidr, line), portgroup: c.name(r.portgroup, line, 'portgroup') });
    } else if (r.vlan) {
      inv.vlans.push({ vlan: c.int(r.vlan, line, 'vlan', 4095), portgroup: c.name(r.portgroup, line, 'portgroup'), switch: c.optName(r.switch, line, 'switch') });
    } else {
      c.warn(line, 'row has no key, vlan or cidr: skipped');
    }
  }
  return { inventory: inv, warnings: c.warnings };
}
