// nfdump's user-defined output format, -o 'fmt:<%tags>' (nfdump 1.7.1): each tag prints a fixed-width column
// and the header prints each tag's own heading; literal text prints as is on flow lines and as spaces in the
// header. Also the formats nfdump uses for aggregated (-A) and bidirectional (-b) listings.
import { flowRates, num } from './flowRates.ts';
import type { FlowRow } from '../query/flowQuery.ts';
import { protocolName } from '../filter/protocolNames.ts';
import { parseAggregationField } from '../query/aggregation.ts';

export interface FmtOptions {
  plain: boolean;
  /** -6: print IPv6 addresses in full. */
  long6: boolean;
}

type Cell = (r: FlowRow, o: FmtOptions) => string;

const pad2 = (n: number) => String(n).padStart(2, '0');
const pad3 = (n: number) => String(n).padStart(3, '0');
const str = (r: FlowRow, k: string) => String(r[k] ?? '');

function time(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}.${pad3(d.getMilliseconds())}`;
}

function duration(ms: number, plain: boolean): string {
  if (plain) return (ms / 1000).toFixed(3);
  const h = Math.floor(ms / 3_600_000), m = Math.floor(ms / 60_000) % 60, s = Math.floor(ms / 1000) % 60;
  return `${pad2(h)}:${pad2(m)}:${pad2(s)}.${pad3(ms % 1000)}`;
}

function number(n: number, plain: boolean): string {
  if (plain) return String(Math.floor(n));
  if (n >= 1e12) return `${(n / 1e12).toFixed(1)} T`;
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)} G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} M`;
  return n.toFixed(0);
}

function flags(f: number): string {
  let s = '';
  for (let i = 0; i < 8; i++) s += f & (0x80 >> i) ? 'CEUAPRSF'[i] : '.';
  return s;
}

function mac(m: number): string {
  return m.toString(16).padStart(12, '0').match(/../g)!.join(':');
}

/** nfdump's condense_v6: an IPv6 address longer than 16 characters keeps its first and last 7, joined by '..'. */
export function condenseV6(a: string): string {
  return a.length <= 16 ? a : `${a.slice(0, 7)}..${a.slice(-7)}`;
}

export function ipText(a: string, long6: boolean): string {
  const s = a || '0.0.0.0';
  return long6 ? s : condenseV6(s);
}


/** A destination port, or ICMP type.code as nfdump prints it. */
function dstPort(r: FlowRow): string {
  const p = num(r, 'dst_port'), pr = num(r, 'proto');
  return pr === 1 || pr === 58 ? `${p >> 8}.${p & 255}` : String(p);
}

function addrPort(addr: string, port: number | string, long6: boolean): string {
  const a = ipText(addr, long6);
  const sep = a.includes(':') ? '.' : ':';
  return `${a.padStart(long6 && a.length > 16 ? 39 : 16)}${sep}${String(port).padEnd(5)}`;
}

interface Tag { header: string; cell: Cell; left?: boolean }

const right = (header: string, cell: Cell): Tag => ({ header, cell });
const ip = (k: string): Cell => (r, o) => ipText(str(r, k), o.long6);

/** nfdump 1.7.1's tags with its headings (the column width is the heading's). */
export const fmtTags: Record<string, Tag> = {
  ts: right('Date first seen        ', (r) => time(num(r, 'first'))),
  te: right('Date last seen         ', (r) => time(num(r, 'last'))),
  tr: right('Date flow received     ', (r) => time(num(r, 'time_received'))),
  td: right('    Duration    ', (r, o) => duration(num(r, 'last') - num(r, 'first'), o.plain)),
  pr: { header: 'Proto', cell: (r, o) => (o.plain ? String(num(r, 'proto')) : protocolName(num(r, 'proto'))), left: true },
  sa: right('     Src IP Addr', ip('src_addr')),
  da: right('     Dst IP Addr', ip('dst_addr')),
  sap: right('     Src IP Addr:Port ', (r, o) => addrPort(str(r, 'src_addr'), num(r, 'src_port'), o.long6)),
  dap: right('     Dst IP Addr:Port ', (r, o) => addrPort(str(r, 'dst_addr'), dstPort(r), o.long6)),
  sp: right('Src Pt', (r) => String(num(r, 'src_port'))),
  dp: right('Dst Pt', dstPort),
  pkt: right(' Packets', (r, o) => number(num(r, 'packets'), o.plain)),
  byt: right('   Bytes', (r, o) => number(num(r, 'bytes'), o.plain)),
  ipkt: right('  In Pkt', (r, o) => number(r.in_packets !== undefined ? num(r, 'in_packets') : num(r, 'packets'), o.plain)),
  ibyt: right(' In Byte', (r, o) => number(r.in_bytes !== undefined ? num(r, 'in_bytes') : num(r, 'bytes'), o.plain)),
  opkt: right(' Out Pkt', (r, o) => number(num(r, 'out_packets'), o.plain)),
  obyt: right('Out Byte', (r, o) => number(num(r, 'out_bytes'), o.plain)),
  fl: right('Flows', (r) => String(num(r, 'flows') || 1)),
  flg: right('   Flags', (r) => flags(num(r, 'tcp_flags'))),
  tos: right('Tos', (r) => String(num(r, 'src_tos'))),
  stos: right('STos', (r) => String(num(r, 'src_tos'))),
  dtos: right('DTos', (r) => String(num(r, 'dst_tos'))),
  in: right(' Input', (r) => String(num(r, 'in_if'))),
  out: right('Output', (r) => String(num(r, 'out_if'))),
  sas: right('Src AS', (r) => String(num(r, 'src_as'))),
  das: right('Dst AS', (r) => String(num(r, 'dst_as'))),
  smk: right('SMask', (r) => String(num(r, 'src_mask'))),
  dmk: right('DMask', (r) => String(num(r, 'dst_mask'))),
  svln: right('SVlan', (r) => String(num(r, 'src_vlan'))),
  dvln: right('DVlan', (r) => String(num(r, 'dst_vlan'))),
  ra: right('       Router IP', ip('exporter')),
  nh: right('     Next-hop IP', ip('next_hop')),
  nhb: right(' BGP next-hop IP', ip('bgp_next_hop')),
  bps: right('     bps', (r, o) => number(flowRates(r).bps, o.plain)),
  pps: right('     pps', (r, o) => number(flowRates(r).pps, o.plain)),
  bpp: right('   Bpp', (r) => String(flowRates(r).bpp)),
  ismc: right('  In src MAC Addr', (r) => mac(num(r, 'in_src_mac'))),
  odmc: right(' Out dst MAC Addr', (r) => mac(num(r, 'out_dst_mac'))),
  idmc: right('  In dst MAC Addr', (r) => mac(num(r, 'in_dst_mac'))),
  osmc: right(' Out src MAC Addr', (r) => mac(num(r, 'out_src_mac'))),
  dir: right('Dir', (r) => (num(r, 'direction') === 1 ? 'E' : 'I')),
  // dvflow's own.
  ipg: { header: 'In Portgroup    ', cell: (r) => str(r, 'in_portgroup') || '-', left: true },
  opg: { header: 'Out Portgroup   ', cell: (r) => str(r, 'out_portgroup') || '-', left: true },
  vip: { header: 'VIP             ', cell: (r) => str(r, 'vip') || '-', left: true },
};

const tagNames = Object.keys(fmtTags).sort((a, b) => b.length - a.length);

export class FmtError extends Error {
  override name = 'CliError';
}

type Piece = { literal: string } | { tag: Tag };

/** Splits a fmt string into literals and tags; the longest tag name wins (%sap before %sa). */
export function parseFmt(fmt: string): Piece[] {
  const out: Piece[] = [];
  let lit = '';
  for (let i = 0; i < fmt.length; ) {
    if (fmt[i] === '%') {
      const rest = fmt.slice(i + 1);
      const name = tagNames.find((t) => rest.startsWith(t));
      if (name) {
        if (lit) out.push({ literal: lit });
        lit = '';
        out.push({ tag: fmtTags[name]! });
        i += 1 + name.length;
        continue;
      }
      const bad = /^[a-z0-9]*/i.exec(rest)![0];
      throw new FmtError(`unknown format tag '%${bad}' in -o fmt:; known: ${Object.keys(fmtTags).map((t) => '%' + t).join(' ')}`);
    }
    lit += fmt[i++];
  }
  if (lit) out.push({ literal: lit });
  return out;
}

export function fmtHeader(pieces: Piece[]): string {
  return pieces.map((p) => ('literal' in p ? ' '.repeat(p.literal.length) : p.tag.header)).join('');
}

export function fmtLine(pieces: Piece[], r: FlowRow, o: FmtOptions): string {
  return pieces.map((p) => {
    if ('literal' in p) return p.literal;
    const v = p.tag.cell(r, o);
    const w = p.tag.header.length;
    return p.tag.left ? v.padEnd(w) : v.padStart(w);
  }).join('');
}

/** nfdump's format for -A listings: '%ts %td' + ' %<key>'... + '  %pkt %byt %bps %bpp %fl'. */
export function aggregationFmt(fields: string[]): string {
  const tags = fields.flatMap((f) => parseAggregationField(f).tags);
  return `%ts %td ${tags.map((t) => ` %${t}`).join('')}  %pkt %byt %bps %bpp %fl`;
}

/** nfdump's bidirectional line format (-b). */
export const bidirectionalFmt = '%ts %td %pr %sap <-> %dap %opkt %ipkt %obyt %ibyt %fl';
