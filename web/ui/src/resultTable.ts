// Rows of the Explore result tables, as nfdump shows them: top-N statistics with Flows(%) Packets(%) Bytes(%)
// pps bps bpp, and flow listings (raw or aggregated records). Also their CSV cells: statistics with nfdump's
// `-o csv` header (ts,te,td,pr,val,fl,flP,...), so scripts written for nfdump read it. Plain TypeScript with
// no DOM, so node's tests load it as is.
import type { FlowRow, QuerySummary, Statistic } from './queryTypes.ts';
import { protocolName } from '../../../collector/src/filter/protocolNames.ts';
/** A CSV cell (csv.ts writes them). */
export type CsvValue = string | number | boolean | null | undefined;

/** Header and rows for csv.ts's toCsv. */
export interface CsvTable {
  header: string[];
  rows: CsvValue[][];
}

// nfdump's protocol names: the same table the CLI prints with (a pure module, bundled by Vite).
export { protocolName };

/** nfdump's flag string: CEUAPRSF with '.' for unset bits. */
export function tcpFlags(f: number): string {
  const letters = 'CEUAPRSF';
  let s = '';
  for (let i = 0; i < 8; i++) s += f & (0x80 >> i) ? letters[i] : '.';
  return s;
}

function macText(m: number): string {
  return m.toString(16).padStart(12, '0').match(/../g)!.join(':');
}

/** Per-record rates as nfdump prints them: over the record's own duration, integers, 0 for 0 ms. */
export function rates(r: { first: number; last: number; packets: number; bytes: number }): { pps: number; bps: number; bpp: number } {
  const dur = (r.last - r.first) / 1000;
  return {
    pps: dur > 0 ? Math.floor(r.packets / dur) : 0,
    bps: dur > 0 ? Math.floor((r.bytes * 8) / dur) : 0,
    bpp: r.packets > 0 ? Math.floor(r.bytes / r.packets) : 0,
  };
}

/** nfdump's percentage: one decimal, of the summary's totals. */
export function percent(v: number, total: number): number {
  return total > 0 ? Math.round((v * 1000) / total) / 10 : 0;
}

/** A statistic's key as text (protocol names, flags, MACs, directions). */
export function statValue(st: { kind: string }, key: string | number): string {
  if (st.kind === 'proto') return protocolName(Number(key));
  if (st.kind === 'flags') return tcpFlags(Number(key));
  if (st.kind === 'mac') return macText(Number(key));
  if (st.kind === 'dir') return Number(key) === 0 ? 'ingress' : Number(key) === 1 ? 'egress' : String(key);
  return key === '' ? '(none)' : String(key);
}

export interface StatTableRow {
  first: number;
  last: number;
  duration: number;
  proto: string;
  value: string;
  flows: number;
  flowsPct: number;
  packets: number;
  packetsPct: number;
  bytes: number;
  bytesPct: number;
  pps: number;
  bps: number;
  bpp: number;
}

export function statTableRows(st: Statistic, s: QuerySummary): StatTableRow[] {
  return st.rows.map((r) => {
    const x = rates(r);
    return {
      first: r.first, last: r.last, duration: r.last - r.first,
      proto: st.kind === 'proto' ? protocolName(Number(r.key)) : r.proto !== undefined ? protocolName(r.proto) : 'any',
      value: statValue(st, r.key),
      flows: r.flows, flowsPct: percent(r.flows, s.flows),
      packets: r.packets, packetsPct: percent(r.packets, s.packets),
      bytes: r.bytes, bytesPct: percent(r.bytes, s.bytes),
      ...x,
    };
  });
}

const pad = (n: number) => (n < 10 ? `0${n}` : String(n));
/** 'YYYY-MM-DD HH:MM:SS', local time, as nfdump's CSV. */
export function csvTime(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export const STAT_CSV_HEADER = ['ts', 'te', 'td', 'pr', 'val', 'fl', 'flP', 'ipkt', 'ipktP', 'ibyt', 'ibytP', 'ipps', 'ibps', 'ibpp'];

export function statisticCsv(st: Statistic, s: QuerySummary): CsvTable {
  const rows: CsvValue[][] = statTableRows(st, s).map((r) => [
    csvTime(r.first), csvTime(r.last), (r.duration / 1000).toFixed(3), r.proto, r.value,
    r.flows, r.flowsPct.toFixed(1), r.packets, r.packetsPct.toFixed(1), r.bytes, r.bytesPct.toFixed(1), r.pps, r.bps, r.bpp,
  ]);
  return { header: STAT_CSV_HEADER, rows };
}

// ---- flow listings ----

export interface FlowColumn {
  id: string;
  label: string;
  /** CSV header (nfdump's short names where nfdump has one). */
  csv: string;
  numeric: boolean;
  /** Keys of the flow record the column reads; shown when any row has one of them. */
  keys: string[];
  /** Raw value (CSV, sorting). */
  value: (r: FlowRow) => CsvValue;
  /** Text for the table (defaults to value). */
  text?: (r: FlowRow) => string;
}

const n = (r: FlowRow, k: string) => Number(r[k] ?? 0);
const str = (r: FlowRow, k: string) => (r[k] === undefined || r[k] === null ? '' : String(r[k]));

const ALL_FLOW_COLUMNS: FlowColumn[] = [
  { id: 'first', label: 'Date first seen', csv: 'ts', numeric: false, keys: ['first'], value: (r) => csvTime(n(r, 'first')) },
  { id: 'duration', label: 'Duration', csv: 'td', numeric: true, keys: ['first', 'last'], value: (r) => ((n(r, 'last') - n(r, 'first')) / 1000).toFixed(3) },
  { id: 'proto', label: 'Proto', csv: 'pr', numeric: false, keys: ['proto'], value: (r) => protocolName(n(r, 'proto')) },
  { id: 'src_addr', label: 'Src IP Addr', csv: 'sa', numeric: false, keys: ['src_addr'], value: (r) => str(r, 'src_addr') || '0.0.0.0' },
  { id: 'src_port', label: 'Src Port', csv: 'sp', numeric: true, keys: ['src_port'], value: (r) => n(r, 'src_port') },
  { id: 'dst_addr', label: 'Dst IP Addr', csv: 'da', numeric: false, keys: ['dst_addr'], value: (r) => str(r, 'dst_addr') || '0.0.0.0' },
  { id: 'dst_port', label: 'Dst Port', csv: 'dp', numeric: true, keys: ['dst_port'], value: (r) => n(r, 'dst_port') },
  { id: 'tcp_flags', label: 'Flags', csv: 'flg', numeric: false, keys: ['tcp_flags'], value: (r) => tcpFlags(n(r, 'tcp_flags')) },
  { id: 'in_portgroup', label: 'In portgroup', csv: 'ipg', numeric: false, keys: ['in_portgroup'], value: (r) => str(r, 'in_portgroup') },
  { id: 'out_portgroup', label: 'Out portgroup', csv: 'opg', numeric: false, keys: ['out_portgroup'], value: (r) => str(r, 'out_portgroup') },
  { id: 'in_vm', label: 'In VM', csv: 'ivm', numeric: false, keys: ['in_vm'], value: (r) => str(r, 'in_vm') },
  { id: 'out_vm', label: 'Out VM', csv: 'ovm', numeric: false, keys: ['out_vm'], value: (r) => str(r, 'out_vm') },
  { id: 'vip', label: 'VIP', csv: 'vip', numeric: false, keys: ['vip'], value: (r) => str(r, 'vip') },
  { id: 'vip_leg', label: 'Leg', csv: 'leg', numeric: false, keys: ['vip_leg'], value: (r) => str(r, 'vip_leg') },
  { id: 'backend', label: 'Real server', csv: 'be', numeric: false, keys: ['backend'], value: (r) => str(r, 'backend') },
  { id: 'in_packets', label: 'In Pkts', csv: 'inpkt', numeric: true, keys: ['in_packets'], value: (r) => n(r, 'in_packets') },
  { id: 'out_packets', label: 'Out Pkts', csv: 'outpkt', numeric: true, keys: ['out_packets'], value: (r) => n(r, 'out_packets') },
  { id: 'in_bytes', label: 'In Bytes', csv: 'inbyt', numeric: true, keys: ['in_bytes'], value: (r) => n(r, 'in_bytes') },
  { id: 'out_bytes', label: 'Out Bytes', csv: 'outbyt', numeric: true, keys: ['out_bytes'], value: (r) => n(r, 'out_bytes') },
  { id: 'packets', label: 'Packets', csv: 'ipkt', numeric: true, keys: ['packets'], value: (r) => n(r, 'packets') },
  { id: 'bytes', label: 'Bytes', csv: 'ibyt', numeric: true, keys: ['bytes'], value: (r) => n(r, 'bytes') },
  { id: 'flows', label: 'Flows', csv: 'fl', numeric: true, keys: ['flows'], value: (r) => n(r, 'flows') },
];

/** Columns shown for the rows: dvflow's enrichment columns only when some row has a value in them. */
export function flowColumns(rows: FlowRow[]): FlowColumn[] {
  const optional = new Set(['in_portgroup', 'out_portgroup', 'in_vm', 'out_vm', 'vip', 'vip_leg', 'backend', 'tcp_flags']);
  return ALL_FLOW_COLUMNS.filter((c) => {
    const present = rows.some((r) => c.keys.some((k) => r[k] !== undefined));
    if (!present) return false;
    if (!optional.has(c.id)) return true;
    if (c.id === 'tcp_flags') return rows.some((r) => n(r, 'proto') === 6);
    return rows.some((r) => c.keys.some((k) => r[k] !== undefined && r[k] !== '' && r[k] !== '::' && r[k] !== '0.0.0.0'));
  });
}

export function flowsCsv(rows: FlowRow[]): CsvTable {
  const cols = flowColumns(rows);
  return { header: cols.map((c) => c.csv), rows: rows.map((r) => cols.map((c) => c.value(r))) };
}
