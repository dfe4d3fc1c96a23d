// Prints query results the way nfdump 1.7.1 prints them: the same columns and widths for -o line/long/
// extended, the same CSV header and JSON keys (scripts written for nfdump keep working), the same top-N
// tables and the exact summary line. Widths were taken from nfdump's own output.
import { flowRates, num } from './flowRates.ts';
import type { FlowRow, QueryResponse, StatResult, Summary } from '../query/flowQuery.ts';
import { protocolName } from '../filter/protocolNames.ts';
import { parseFmt, fmtHeader, fmtLine, aggregationFmt, bidirectionalFmt, condenseV6 } from './fmtOutput.ts';

export interface OutputOptions {
  format: string;
  /** -N: plain numbers. */
  plain: boolean;
  /** -q: no header, no summary. */
  quiet: boolean;
  topN: number;
  /** -6 (or a line6/long6/extended6 format): IPv6 addresses in full, not condensed. */
  long6?: boolean;
}

const pad2 = (n: number) => String(n).padStart(2, '0');
const pad3 = (n: number) => String(n).padStart(3, '0');

/** 'YYYY-MM-DD HH:MM:SS.mmm' in local time, as nfdump prints. */
export function formatTime(ms: number, withMs = true): string {
  const d = new Date(ms);
  const s = `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
  return withMs ? `${s}.${pad3(d.getMilliseconds())}` : s;
}

export function formatDuration(ms: number, plain: boolean): string {
  if (plain) return (ms / 1000).toFixed(3);
  const h = Math.floor(ms / 3_600_000), m = Math.floor(ms / 60_000) % 60, s = Math.floor(ms / 1000) % 60;
  return `${pad2(h)}:${pad2(m)}:${pad2(s)}.${pad3(ms % 1000)}`;
}

/** nfdump's format_number: plain, or scaled to M/G/T (1000-based) above a million. */
export function formatNumber(n: number, plain: boolean): string {
  if (plain) return String(Math.floor(n));
  if (n >= 1e12) return `${(n / 1e12).toFixed(1)} T`;
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)} G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} M`;
  return n.toFixed(0);
}

const flagLetters = 'CEUAPRSF';
export function formatFlags(f: number): string {
  let s = '';
  for (let i = 0; i < 8; i++) s += f & (0x80 >> i) ? flagLetters[i] : '.';
  return s;
}

export function formatMac(m: number): string {
  const hex = m.toString(16).padStart(12, '0');
  return hex.match(/../g)!.join(':');
}

function addrPort(addr: string, port: number, long6 = false): string {
  const a = long6 ? addr || '0.0.0.0' : condenseV6(addr || '0.0.0.0');
  return a.includes(':') ? `${a}.${String(port).padEnd(5)}` : `${a}:${String(port).padEnd(5)}`;
}

const str = (r: FlowRow, k: string) => String(r[k] ?? '');

function proto(p: number, plain: boolean): string {
  return plain ? String(p) : protocolName(p);
}


function flowLine(r: FlowRow, o: OutputOptions, kind: 'line' | 'long' | 'extended'): string {
  const dur = formatDuration(num(r, 'last') - num(r, 'first'), o.plain);
  let s = `${formatTime(num(r, 'first'))} ${dur.padStart(16)} ${proto(num(r, 'proto'), o.plain).padEnd(5)} ` +
    `${addrPort(str(r, 'src_addr'), num(r, 'src_port'), o.long6).padStart(22)} -> ${addrPort(str(r, 'dst_addr'), num(r, 'dst_port'), o.long6).padStart(22)}`;
  if (kind !== 'line') s += ` ${formatFlags(num(r, 'tcp_flags'))} ${String(num(r, 'src_tos')).padStart(3)}`;
  s += ` ${formatNumber(num(r, 'packets'), o.plain).padStart(8)} ${formatNumber(num(r, 'bytes'), o.plain).padStart(8)}`;
  if (kind === 'extended') {
    const x = flowRates(r);
    s += ` ${formatNumber(x.pps, o.plain).padStart(8)} ${formatNumber(x.bps, o.plain).padStart(8)} ${String(x.bpp).padStart(6)}`;
  }
  return `${s} ${String(num(r, 'flows') || 1).padStart(5)}`;
}

const lineHeaders = {
  line: 'Date first seen             Duration     Proto      Src IP Addr:Port          Dst IP Addr:Port   Packets    Bytes Flows',
  long: 'Date first seen             Duration     Proto      Src IP Addr:Port          Dst IP Addr:Port     Flags Tos  Packets    Bytes Flows',
  extended: 'Date first seen             Duration     Proto      Src IP Addr:Port          Dst IP Addr:Port     Flags Tos  Packets    Bytes      pps      bps    Bpp Flows',
};

export const csvHeader = 'ts,te,td,sa,da,sp,dp,pr,flg,fwd,stos,ipkt,ibyt,opkt,obyt,in,out,sas,das,smk,dmk,dtos,dir,nh,nhb,svln,dvln,ismc,odmc,idmc,osmc,mpls1,mpls2,mpls3,mpls4,mpls5,mpls6,mpls7,mpls8,mpls9,mpls10,cl,sl,al,ra,eng,exid,tr';

function csvLine(r: FlowRow): string {
  const ip = (k: string) => str(r, k) || '0.0.0.0';
  const mpls = Array(10).fill('0-0-0').join(',');
  return [
    formatTime(num(r, 'first'), false), formatTime(num(r, 'last'), false), ((num(r, 'last') - num(r, 'first')) / 1000).toFixed(3),
    ip('src_addr'), ip('dst_addr'), num(r, 'src_port'), num(r, 'dst_port'), protocolName(num(r, 'proto')), formatFlags(num(r, 'tcp_flags')),
    num(r, 'fwd_status'), num(r, 'src_tos'), num(r, 'packets'), num(r, 'bytes'), 0, 0, num(r, 'in_if'), num(r, 'out_if'),
    num(r, 'src_as'), num(r, 'dst_as'), num(r, 'src_mask'), num(r, 'dst_mask'), num(r, 'dst_tos'), num(r, 'direction') === 255 ? 0 : num(r, 'direction'),
    ip('next_hop'), ip('bgp_next_hop'), num(r, 'src_vlan'), num(r, 'dst_vlan'),
    formatMac(num(r, 'in_src_mac')), formatMac(num(r, 'out_dst_mac')), formatMac(num(r, 'in_dst_mac')), formatMac(num(r, 'out_src_mac')),
    mpls, '    0.000', '    0.000', '    0.000', ip('exporter'), `${num(r, 'engine_type')}/${num(r, 'engine_id')}`, num(r, 'domain'),
    formatTime(num(r, 'time_received')),
  ].join(',');
}

const isoMs = (ms: number) => formatTime(ms).replace(' ', 'T');

/** nfdump's JSON record keys (1.7.1 -o json). */
export function flowJson(r: FlowRow): Record<string, string | number> {
  const v6 = (k: string) => str(r, k).includes(':');
  const o: Record<string, string | number> = {
    type: 'FLOW', sampled: num(r, 'sampling_rate') > 1 ? 1 : 0, export_sysid: num(r, 'domain'),
    first: isoMs(num(r, 'first')), last: isoMs(num(r, 'last')), received: isoMs(num(r, 'time_received')),
    in_packets: num(r, 'packets'), in_bytes: num(r, 'bytes'), proto: num(r, 'proto'), tcp_flags: formatFlags(num(r, 'tcp_flags')),
    src_port: num(r, 'src_port'), dst_port: num(r, 'dst_port'), src_tos: num(r, 'src_tos'),
  };
  o[v6('src_addr') ? 'src6_addr' : 'src4_addr'] = str(r, 'src_addr') || '0.0.0.0';
  o[v6('dst_addr') ? 'dst6_addr' : 'dst4_addr'] = str(r, 'dst_addr') || '0.0.0.0';
  Object.assign(o, {
    input_snmp: num(r, 'in_if'), output_snmp: num(r, 'out_if'), src_mask: num(r, 'src_mask'), dst_mask: num(r, 'dst_mask'),
    src_net: '', dst_net: '', fwd_status: num(r, 'fwd_status'), direction: num(r, 'direction') === 255 ? 0 : num(r, 'direction'),
    dst_tos: num(r, 'dst_tos'),
  });
  if (num(r, 'src_vlan') || num(r, 'dst_vlan')) Object.assign(o, { src_vlan: num(r, 'src_vlan'), dst_vlan: num(r, 'dst_vlan') });
  if (num(r, 'icmp_type') || num(r, 'icmp_code')) Object.assign(o, { icmp_type: num(r, 'icmp_type'), icmp_code: num(r, 'icmp_code') });
  o[v6('exporter') ? 'ip6_router' : 'ip4_router'] = str(r, 'exporter') || '0.0.0.0';
  o.label = '<none>';
  // dvflow's own fields, after nfdump's, so nfdump scripts still find theirs.
  for (const k of ['vni', 'in_portgroup', 'out_portgroup', 'in_vm', 'out_vm', 'vip', 'vip_leg', 'backend', 'duplicate', 'exporter_name', 'source', 'capture',
    'vmw_ingress_attr', 'vmw_egress_attr', 'vmw_vxlan_role', 'vmw_tenant_proto', 'vmw_tenant_src', 'vmw_tenant_dst', 'vmw_tenant_src_port', 'vmw_tenant_dst_port', 'vmw_virtual_obs_id'] as const) {
    const v = r[k];
    if (v !== undefined && v !== '' && v !== 0) o[k] = v;
  }
  return o;
}

function nfdumpJsonRecord(o: Record<string, string | number>): string {
  const body = Object.entries(o).map(([k, v]) => `\t"${k}" : ${typeof v === 'number' ? v : JSON.stringify(v)}`).join(',\n');
  return `{\n${body}\n}`;
}

export function formatSummary(s: Summary, o: OutputOptions): string[] {
  if (o.format === 'csv') {
    return ['Summary', 'flows,bytes,packets,avg_bps,avg_pps,avg_bpp', `${s.flows},${s.bytes},${s.packets},${s.bps},${s.pps},${s.bpp}`];
  }
  const lines = [
    `Summary: total flows: ${s.flows}, total bytes: ${formatNumber(s.bytes, o.plain)}, total packets: ${formatNumber(s.packets, o.plain)}, ` +
      `avg bps: ${formatNumber(s.bps, o.plain)}, avg pps: ${formatNumber(s.pps, o.plain)}, avg bpp: ${formatNumber(s.bpp, o.plain)}`,
  ];
  if (s.flows > 0) lines.push(`Time window: ${formatTime(s.firstSeen, false)} - ${formatTime(s.lastSeen, false)}`);
  return lines;
}

function statValue(st: StatResult, key: string | number, plain: boolean): string {
  if (st.kind === 'proto') return proto(Number(key), plain);
  if (st.kind === 'flags') return formatFlags(Number(key));
  if (st.kind === 'mac') return formatMac(Number(key));
  if (st.kind === 'dir') return Number(key) === 0 ? 'ingress' : Number(key) === 1 ? 'egress' : String(key);
  return String(key === '' ? '(none)' : key);
}

const pct = (v: number, total: number) => (total > 0 ? ((v * 100) / total).toFixed(1).padStart(4) : '0.0');

export function formatStatistic(st: StatResult, summary: Summary, o: OutputOptions): string[] {
  const out: string[] = [];
  if (o.format === 'csv') {
    out.push('ts,te,td,pr,val,fl,flP,ipkt,ipktP,ibyt,ibytP,ipps,ibps,ibpp');
    for (const r of st.rows) {
      const x = flowRates(r as unknown as FlowRow);
      out.push([formatTime(r.first, false), formatTime(r.last, false), ((r.last - r.first) / 1000).toFixed(3),
        r.proto !== undefined ? protocolName(r.proto) : 'any', statValue(st, r.key, true), r.flows, pct(r.flows, summary.flows).trim(),
        r.packets, pct(r.packets, summary.packets).trim(), r.bytes, pct(r.bytes, summary.bytes).trim(), x.pps, x.bps, x.bpp].join(','));
    }
    return out;
  }
  if (!o.quiet) {
    out.push(`Top ${o.topN > 0 ? o.topN : 'all'} ${st.title} ordered by ${st.orderedBy}:`);
    out.push(`Date first seen                 Duration Proto ${st.column.padStart(17)}    Flows(%)     Packets(%)       Bytes(%)         pps      bps   bpp`);
  }
  for (const r of st.rows) {
    const x = flowRates(r as unknown as FlowRow);
    const protoCol = st.kind === 'proto' ? proto(Number(r.key), o.plain) : r.proto !== undefined ? proto(r.proto, o.plain) : 'any';
    const value = st.kind === 'proto' ? String(r.key) : statValue(st, r.key, o.plain);
    out.push(`${formatTime(r.first)} ${formatDuration(r.last - r.first, o.plain).padStart(16)} ${protoCol.padEnd(5)} ${value.padStart(17)} ` +
      `${formatNumber(r.flows, o.plain).padStart(8)}(${pct(r.flows, summary.flows)}) ${formatNumber(r.packets, o.plain).padStart(8)}(${pct(r.packets, summary.packets)}) ` +
      `${formatNumber(r.bytes, o.plain).padStart(8)}(${pct(r.bytes, summary.bytes)}) ${formatNumber(x.pps, o.plain).padStart(8)} ${formatNumber(x.bps, o.plain).padStart(8)} ${String(x.bpp).padStart(5)}`);
  }
  if (!o.quiet) out.push('');
  return out;
}

export const outputFormats = ['line', 'long', 'extended', 'csv', 'json', 'ndjson'] as const;

/** Checks an -o value: one of outputFormats, line6/long6/extended6, or 'fmt:<%tags>'. */
export function checkOutputFormat(f: string): string {
  if ((outputFormats as readonly string[]).includes(f)) return f;
  if (/^(line|long|extended)6$/.test(f)) return f;
  if (f.startsWith('fmt:')) {
    parseFmt(f.slice(4));
    return f;
  }
  throw new Error(`unknown output format '${f}': ${outputFormats.join(', ')}, line6, long6, extended6 or fmt:<%tags>`);
}

/** Render a whole response as text lines. */
export function renderResponse(res: QueryResponse, o0: OutputOptions): string {
  const out: string[] = [];
  let o = o0;
  const m6 = /^(line|long|extended)6$/.exec(o.format);
  if (m6) o = { ...o, format: m6[1]!, long6: true };
  // Aggregated listings print in nfdump's aggregation formats unless a format was chosen.
  let fmt = o.format.startsWith('fmt:') ? o.format.slice(4) : undefined;
  if (!fmt && !res.statistics && o.format === 'line') {
    if (res.aggregated === 'bidirectional') fmt = bidirectionalFmt;
    else if (res.aggregated === 'records' && res.aggregateFields && !isFiveTuple(res.aggregateFields)) fmt = aggregationFmt(res.aggregateFields);
  }
  if (fmt !== undefined && !res.statistics) {
    const pieces = parseFmt(fmt);
    if (!o.quiet) out.push(fmtHeader(pieces));
    for (const r of res.flows ?? []) out.push(fmtLine(pieces, r, { plain: o.plain, long6: Boolean(o.long6) }));
    if (!o.quiet) out.push(...formatSummary(res.summary, o));
    return out.join('\n') + '\n';
  }
  if (o.format === 'json' || o.format === 'ndjson') {
    if (res.statistics) return JSON.stringify(res, null, o.format === 'json' ? 2 : 0) + '\n';
    const recs = (res.flows ?? []).map(flowJson);
    if (o.format === 'ndjson') return recs.map((r) => JSON.stringify(r)).join('\n') + (recs.length ? '\n' : '');
    return `[\n${recs.map(nfdumpJsonRecord).join(',\n')}]\n`;
  }
  if (res.statistics) {
    for (const st of res.statistics) out.push(...formatStatistic(st, res.summary, o));
  } else if (o.format === 'csv') {
    out.push(csvHeader, ...(res.flows ?? []).map(csvLine));
  } else {
    const kind = (o.format === 'long' || o.format === 'extended' ? o.format : 'line') as 'line' | 'long' | 'extended';
    if (!o.quiet) out.push(lineHeaders[kind]);
    for (const r of res.flows ?? []) out.push(flowLine(r, o, kind));
  }
  if (!o.quiet) out.push(...formatSummary(res.summary, o));
  return out.join('\n') + '\n';
}

function isFiveTuple(fields: string[]): boolean {
  return fields.length === 5 && ['proto', 'srcip', 'dstip', 'srcport', 'dstport'].every((f) => fields.includes(f));
}
