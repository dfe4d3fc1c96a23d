// CSV for the result tables (RFC 4180: comma, CRLF, fields quoted when they hold a comma, quote or line
// break). Strings an exporter or capture sent could start with '=', '+', '-' or '@', which a spreadsheet runs
// as a formula: such strings get a leading apostrophe. Numbers are written as numbers.

export type CsvValue = string | number | boolean | null | undefined;

const FORMULA_START = /^[=+\-@\t\r]/;

export function csvField(v: CsvValue): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  let s = String(v);
  if (typeof v === 'string' && FORMULA_START.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsv(header: string[], rows: CsvValue[][]): string {
  return [header, ...rows].map((r) => r.map(csvField).join(',')).join('\r\n') + '\r\n';
}

/** A file name safe on every OS: dvflow-stats-srcip-2024-01-02T10-00.csv */
export function csvFileName(parts: string[], when: number): string {
  const d = new Date(when);
  const pad = (n: number) => (n < 10 ? `0${n}` : String(n));
  const stamp = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}-${pad(d.getMinutes())}`;
  return `${['dvflow', ...parts].map((p) => p.replace(/[^A-Za-z0-9_.-]+/g, '_')).join('-')}-${stamp}.csv`;
}
