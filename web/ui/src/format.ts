// Number and time formatting for charts, tables and tooltips. SI prefixes, 1000-based (as nfdump and nfsen
// print rates); bits for traffic rates, bytes for volumes; times in the browser's local zone.

const PREFIXES = ['', 'k', 'M', 'G', 'T', 'P', 'E'];

function trim(x: number): string {
  const a = Math.abs(x);
  const s = a >= 100 ? x.toFixed(0) : a >= 10 ? x.toFixed(1) : x.toFixed(2);
  // 1.50 → 1.5, 2.00 → 2: fewer digits that say nothing
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}

/** 1234567 → '1.23 M' (with unit: '1.23 Mb/s'). Negative values (nfsen's sign -1 channels) keep their sign. */
export function formatSi(n: number, unit = ''): string {
  if (!Number.isFinite(n)) return '–';
  const sep = unit ? ' ' : '';
  let x = n;
  let i = 0;
  while (Math.abs(x) >= 1000 && i < PREFIXES.length - 1) {
    x /= 1000;
    i++;
  }
  if (i === 0) {
    const s = Number.isInteger(x) ? String(x) : trim(x);
    return `${s}${sep}${unit}`.trim();
  }
  return `${trim(x)} ${PREFIXES[i]}${unit}`;
}

/** Bits per second: '12.3 Mb/s'. */
export function formatBits(bps: number): string {
  return formatSi(bps, 'b/s');
}

/** A volume of bytes: '1.2 GB'. */
export function formatBytes(n: number): string {
  return formatSi(n, 'B');
}

/** A count (flows, packets): '12.3 k', small counts as integers with no fraction. */
export function formatCount(n: number): string {
  if (Number.isFinite(n) && Math.abs(n) < 1000) return String(Math.round(n * 100) / 100);
  return formatSi(n);
}

/** Rate for a time-series metric: bps in bits, pps and fps as counts per second. */
export function formatMetric(value: number, metric: string): string {
  if (metric === 'bps') return formatBits(value);
  if (metric === 'pps') return formatSi(value, 'p/s');
  if (metric === 'fps') return formatSi(value, 'fl/s');
  return formatSi(value);
}

/** Short label of a metric. */
export function metricLabel(metric: string): string {
  return metric === 'bps' ? 'bits/s' : metric === 'pps' ? 'packets/s' : metric === 'fps' ? 'flows/s' : metric;
}

function pad(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** ms epoch → 'YYYY-MM-DD HH:mm:ss' in local time (what an admin compares with syslog). */
export function formatTime(ms: number): string {
  if (!Number.isFinite(ms) || ms <= 0) return '–';
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** Value for an <input type="datetime-local"> from ms epoch (local time, minutes). */
export function toLocalInput(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** 90061000 → '1d 1h 1m', 3500 → '3.5 s', 250 → '250 ms'. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '–';
  const neg = ms < 0 ? '-' : '';
  let t = Math.abs(ms);
  if (t < 1000) return `${neg}${Math.round(t)} ms`;
  if (t < 60_000) return `${neg}${trim(t / 1000)} s`;
  t = Math.round(t / 1000);
  const d = Math.floor(t / 86400);
  const h = Math.floor((t % 86400) / 3600);
  const m = Math.floor((t % 3600) / 60);
  const s = t % 60;
  const parts: string[] = [];
  if (d) parts.push(`${d}d`);
  if (h) parts.push(`${h}h`);
  if (m && d === 0) parts.push(`${m}m`);
  if (s && d === 0 && h === 0) parts.push(`${s}s`);
  return neg + parts.join(' ');
}

/** A name as a filter-language string: quoted, so names with '-' or spaces read as one name. */
export function filterName(name: string): string {
  return name.includes('"') ? `'${name}'` : `"${name}"`;
}

/** AND of filters; empty parts are left out. Each part on its own line, so a '#' comment in one ends there. */
export function andFilters(...parts: (string | undefined)[]): string | undefined {
  const p = parts.map((x) => (x ?? '').trim()).filter((x) => x !== '');
  if (p.length === 0) return undefined;
  if (p.length === 1) return p[0];
  return p.map((x) => `(${x}\n)`).join(' and ');
}
