// Pure logic of the Alerts page (no DOM, no Vue, so node's tests load it as is): the shapes of GET /alerts and
// /alert-rules, the severity and detector facets kept in the URL, the "Show flows" link to Explore built from an
// alert (only validated addresses and integer ports go into the filter), the rule form ↔ PUT body, and how a
// rule's condition and last evaluation read.
import { protocolName } from '../../../collector/src/filter/protocolNames.ts';
import {
  SEVERITIES, USER_AVERAGES, USER_METRICS, USER_OPS, USER_RULE_NAME as RULE_NAME, USER_TRIGGERS,
  type AlertRow, type RuleState, type Severity, type UserAlertRule, type UserAverage, type UserMetric, type UserOp, type UserTrigger,
} from '../../../collector/src/ids/alertShapes.ts';

// ---- shapes (collector/src/ids/alertShapes.ts, shared with the server) ----

export {
  SEVERITIES, USER_AVERAGES, USER_METRICS, USER_OPS, USER_TRIGGERS,
  type AlertRow, type AlertSample, type RuleState, type Severity, type UserAverage, type UserMetric, type UserOp, type UserTrigger,
} from '../../../collector/src/ids/alertShapes.ts';
export { USER_RULE_NAME as RULE_NAME } from '../../../collector/src/ids/alertShapes.ts';

export interface AlertListResponse {
  alerts: AlertRow[];
  total: number;
  byDetector: Record<string, number>;
  bySeverity: Record<string, number>;
}

/** What PUT /alert-rules/:name takes (the rule without its name; enabled always sent). */
export type UserRuleBody = Omit<UserAlertRule, 'name' | 'enabled'> & { enabled: boolean };

export interface ListedRule extends Omit<UserRuleBody, 'enabled'> {
  name: string;
  enabled?: boolean;
  from: 'config' | 'dashboard';
  state: RuleState | null;
}

export interface AlertRulesResponse {
  cycleSeconds: number;
  rules: ListedRule[];
}

// ---- URL state: severity and detector facets, the selected alert ----

export function isSeverity(s: string): s is Severity {
  return (SEVERITIES as readonly string[]).includes(s);
}

/** The `severity` URL value if it is one ('' otherwise: no minimum). */
export function parseSeverity(s: string): Severity | '' {
  return isSeverity(s) ? s : '';
}

const DETECTOR_ID = /^[a-z0-9-]{1,64}$/;

/** The `detector` URL value (comma-separated ids) as a list, keeping only ids the API accepts, no duplicates. */
export function parseDetectors(text: string): string[] {
  const out: string[] = [];
  for (const part of text.split(',')) {
    const d = part.trim();
    if (DETECTOR_ID.test(d) && !out.includes(d)) out.push(d);
  }
  return out;
}

/** Back to the URL / API form: sorted so equal selections give equal links; undefined when empty. */
export function detectorsParam(ids: readonly string[]): string | undefined {
  const ok = parseDetectors(ids.join(','));
  return ok.length ? [...ok].sort().join(',') : undefined;
}

/** A click on a detector chip: adds it to the selection or takes it out. */
export function toggleDetector(selected: readonly string[], id: string): string[] {
  return selected.includes(id) ? selected.filter((d) => d !== id) : [...selected, id];
}

/** A click on a severity chip: "this severity or higher"; the chosen one again clears it. */
export function toggleSeverity(current: Severity | '', clicked: Severity): Severity | '' {
  return current === clicked ? '' : clicked;
}

/** Whether a severity is shown with a minimum in force. */
export function severityIncluded(s: string, min: Severity | ''): boolean {
  if (!min) return true;
  return SEVERITIES.indexOf(s as Severity) >= SEVERITIES.indexOf(min);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The selected alert's id from the URL, if it is one the API would look up. */
export function parseAlertId(s: string): string {
  return UUID.test(s) ? s.toLowerCase() : '';
}

export interface AlertListParams {
  from: number;
  to: number;
  filter?: string;
  detector?: string;
  severity?: Severity;
  limit: number;
  [key: string]: string | number | undefined;
}

export interface AlertListPlan {
  /** The list itself, with every constraint. */
  list: AlertListParams;
  /**
   * Facet counts are those of the list without the facet's own constraint (else picking one detector would
   * hide the others' counts): extra requests, only when that constraint is in force (limit 1, only the counts).
   */
  detectorFacets: AlertListParams | null;
  severityFacets: AlertListParams | null;
}

export const LIMITS = [100, 1000, 10000] as const;

/** The `n` URL value: 100, 1000 or 10000. */
export function parseLimit(s: string): number {
  const n = Number(s);
  return (LIMITS as readonly number[]).includes(n) ? n : LIMITS[0];
}

/** The next larger limit, or null at the largest. */
export function nextLimit(n: number): number | null {
  return LIMITS.find((l) => l > n) ?? null;
}

export function alertListPlan(p: { from: number; to: number; filter: string; detectors: readonly string[]; severity: Severity | ''; limit: number }): AlertListPlan {
  const base: AlertListParams = { from: Math.floor(p.from), to: Math.ceil(p.to), limit: p.limit };
  if (p.filter.trim()) base.filter = p.filter;
  const detector = detectorsParam(p.detectors);
  const severity = p.severity || undefined;
  const list: AlertListParams = { ...base, ...(detector ? { detector } : {}), ...(severity ? { severity } : {}) };
  return {
    list,
    detectorFacets: detector ? { ...base, ...(severity ? { severity } : {}), limit: 1 } : null,
    severityFacets: severity ? { ...base, ...(detector ? { detector } : {}), limit: 1 } : null,
  };
}

export interface FacetChip {
  key: string;
  count: number;
  /** In the current selection (a chosen detector; a severity at or above the minimum). */
  active: boolean;
}

/** Severity chips: all five, most severe first, with their counts (0 when none). */
export function severityChips(counts: Record<string, number>, min: Severity | ''): FacetChip[] {
  return [...SEVERITIES].reverse().map((s) => ({ key: s, count: counts[s] ?? 0, active: min !== '' && severityIncluded(s, min) }));
}

/** Detector chips: those with alerts, most first, plus selected ones without any (so they can be unselected). */
export function detectorChips(counts: Record<string, number>, selected: readonly string[]): FacetChip[] {
  const keys = new Set([...Object.keys(counts), ...selected]);
  return [...keys]
    .map((k) => ({ key: k, count: counts[k] ?? 0, active: selected.includes(k) }))
    .sort((a, b) => b.count - a.count || a.key.localeCompare(b.key));
}

// ---- addresses, ports, the Explore link ----

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

export function isIpv4(s: string): boolean {
  return IPV4.test(s);
}

export function isIpv6(s: string): boolean {
  if (s.length < 2 || s.length > 45 || !/^[0-9a-fA-F:.]+$/.test(s)) return false;
  const halves = s.split('::');
  if (halves.length > 2) return false;
  const groups = (h: string) => (h === '' ? [] : h.split(':'));
  const parts = halves.flatMap(groups);
  let slots = 0;
  for (let i = 0; i < parts.length; i++) {
    const g = parts[i]!;
    if (i === parts.length - 1 && g.includes('.')) {
      if (!isIpv4(g)) return false;
      slots += 2;
    } else if (HEX_GROUP.test(g)) slots += 1;
    else return false;
  }
  return halves.length === 2 ? slots <= 7 : slots === 8;
}

export function isIpAddress(s: string): boolean {
  return isIpv4(s) || isIpv6(s);
}

/** A port the filter may name: an integer 1-65535 (0 means "no port" in an alert). */
export function isPort(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n > 0 && n <= 65535;
}

/** 'addr:port', '[v6]:port', or the address alone when there is no port. */
export function hostPort(addr: string, port: number): string {
  if (!addr) return isPort(port) ? `*:${port}` : '';
  if (!isPort(port)) return addr;
  return addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`;
}

/** Protocol number → nfdump's name (TCP, UDP, ICMP ...), '' for 0 (alerts about no one protocol). */
export function protoLabel(proto: number): string {
  return proto > 0 ? protocolName(proto) : '';
}

/**
 * The nfdump filter for an alert's flows, from validated parts only: `src ip A and dst ip B` (+ `and dst port P`),
 * `dst ip B` or `src ip A` when one side is missing, '' when the alert names no address (a user rule, a sweep).
 */
export function alertFlowFilter(a: Pick<AlertRow, 'src' | 'dst' | 'dstPort'>): string {
  const parts: string[] = [];
  const src = typeof a.src === 'string' && isIpAddress(a.src) ? a.src : '';
  const dst = typeof a.dst === 'string' && isIpAddress(a.dst) ? a.dst : '';
  if (src) parts.push(`src ip ${src}`);
  if (dst) parts.push(`dst ip ${dst}`);
  if (parts.length && isPort(a.dstPort)) parts.push(`dst port ${a.dstPort}`);
  return parts.join(' and ');
}

const MINUTE = 60_000;

/** The evidence window widened by a minute each side: [time - 1 min, max(last, time) + 1 min]. */
export function alertFlowWindow(a: Pick<AlertRow, 'time' | 'last'>): { from: number; to: number } {
  const t = Math.floor(Number(a.time));
  const last = Number.isFinite(a.last) && a.last > t ? Math.ceil(a.last) : t;
  return { from: t - MINUTE, to: last + MINUTE };
}

/** The route to Explore listing the alert's flows: a custom window and the filter (Explore's URL state). */
export function exploreLink(a: Pick<AlertRow, 'src' | 'dst' | 'dstPort' | 'time' | 'last'>): { path: string; query: Record<string, string> } {
  const w = alertFlowWindow(a);
  const query: Record<string, string> = { window: 'custom', from: String(w.from), to: String(w.to), mode: 'list' };
  const filter = alertFlowFilter(a);
  if (filter) query.filter = filter;
  return { path: '/explore', query };
}

const HOUR = 3_600_000;

/** A window around the newest stored alert, in whole hours (the charts' rollup): [time - 1 h, last + 1 h]. */
export function storedAlertsWindow(a: Pick<AlertRow, 'time' | 'last'>): { from: number; to: number } {
  const t = Number(a.time);
  const last = Number.isFinite(a.last) && a.last > t ? a.last : t;
  return { from: Math.floor((t - HOUR) / HOUR) * HOUR, to: Math.ceil((last + HOUR) / HOUR) * HOUR };
}

// ---- the IDS status ----

/**
 * Detector ids from GET /alerts/status `detectors`, whatever its form: a list of ids, a list of objects with an
 * id (or name) and maybe `enabled`, or a mapping id → settings. Disabled ones are left out.
 */
export function detectorsFromStatus(status: unknown): string[] {
  if (!status || typeof status !== 'object') return [];
  const d = (status as { detectors?: unknown }).detectors;
  const out: string[] = [];
  const add = (id: unknown, settings?: unknown) => {
    if (typeof id !== 'string' || !id || out.includes(id)) return;
    if (settings && typeof settings === 'object' && (settings as { enabled?: unknown }).enabled === false) return;
    out.push(id);
  };
  if (Array.isArray(d)) {
    for (const x of d) {
      if (typeof x === 'string') add(x);
      else if (x && typeof x === 'object') {
        const o = x as { id?: unknown; name?: unknown };
        add(o.id ?? o.name, x);
      }
    }
  } else if (d && typeof d === 'object') {
    for (const [k, v] of Object.entries(d as Record<string, unknown>)) {
      if (Array.isArray(v)) for (const x of v) add(typeof x === 'string' ? x : (x as { id?: unknown } | null)?.id, x);
      else add(k, v);
    }
  }
  return out;
}

/** Whether the status says the IDS runs in the process that answered. */
export function idsRunning(status: unknown): boolean {
  return !!status && typeof status === 'object' && (status as { running?: unknown }).running === true;
}

// ---- the rule form ----

export interface RuleForm {
  name: string;
  filter: string;
  metric: UserMetric;
  op: UserOp;
  /** 'value': compare with `value`; 'average': with the average over `average` ± `percent`. */
  mode: 'value' | 'average';
  /** As typed (a number, SI suffixes k M G T allowed: '1.5M'). */
  value: string;
  average: UserAverage;
  percent: string;
  trigger: UserTrigger;
  severity: Severity;
  enabled: boolean;
}

export function emptyRuleForm(): RuleForm {
  return { name: '', filter: '', metric: 'bytes', op: '>', mode: 'value', value: '', average: '1h', percent: '50', trigger: 'while', severity: 'medium', enabled: true };
}

/** A number as typed: '1500', '1.5k', '2 M', '1e6'. NaN when it is not one. */
export function parseAmount(text: string): number {
  const m = /^\s*([-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[-+]?\d+)?)\s*([kKmMgGtT]?)\s*$/.exec(text);
  if (!m) return NaN;
  const mult: Record<string, number> = { '': 1, k: 1e3, m: 1e6, g: 1e9, t: 1e12 };
  return Number(m[1]) * (mult[m[2]!.toLowerCase()] ?? 1);
}

export function ruleToForm(r: ListedRule): RuleForm {
  const f = emptyRuleForm();
  return {
    ...f,
    name: r.name,
    filter: r.filter ?? '',
    metric: r.metric,
    op: r.op,
    mode: r.average !== undefined ? 'average' : 'value',
    value: r.value !== undefined ? String(r.value) : '',
    average: r.average ?? f.average,
    percent: r.percent !== undefined ? String(r.percent) : r.average !== undefined ? '0' : f.percent,
    trigger: r.trigger,
    severity: r.severity,
    enabled: r.enabled !== false,
  };
}

export type RuleFormResult = { ok: true; name: string; body: UserRuleBody } | { ok: false; field: keyof RuleForm; message: string };

/** The form as PUT /alert-rules/:name's path name and body, or the first problem (checked as the server does). */
export function ruleFormBody(f: RuleForm): RuleFormResult {
  const name = f.name.trim();
  if (!RULE_NAME.test(name)) return { ok: false, field: 'name', message: 'Name: letters, digits, _ . - (at most 64), starting with a letter or digit.' };
  if (!(USER_METRICS as readonly string[]).includes(f.metric)) return { ok: false, field: 'metric', message: `Metric: one of ${USER_METRICS.join(', ')}.` };
  if (!(USER_OPS as readonly string[]).includes(f.op)) return { ok: false, field: 'op', message: 'Condition: >, < or =.' };
  if (!(USER_TRIGGERS as readonly string[]).includes(f.trigger)) return { ok: false, field: 'trigger', message: `Trigger: one of ${USER_TRIGGERS.join(', ')}.` };
  if (!isSeverity(f.severity)) return { ok: false, field: 'severity', message: `Severity: one of ${SEVERITIES.join(', ')}.` };
  const body: UserRuleBody = { filter: f.filter, metric: f.metric, op: f.op, trigger: f.trigger, severity: f.severity, enabled: f.enabled };
  if (f.mode === 'average') {
    if (!(USER_AVERAGES as readonly string[]).includes(f.average)) return { ok: false, field: 'average', message: `Average over: one of ${USER_AVERAGES.join(', ')}.` };
    const pct = f.percent.trim() === '' ? 0 : parseAmount(f.percent);
    if (!Number.isFinite(pct) || pct < 0) return { ok: false, field: 'percent', message: 'Percent: a number, 0 or more.' };
    body.average = f.average;
    body.percent = pct;
  } else {
    const v = parseAmount(f.value);
    if (!Number.isFinite(v)) return { ok: false, field: 'value', message: 'Value: a number (k, M, G, T suffixes allowed), or compare with an average.' };
    body.value = v;
  }
  return { ok: true, name, body };
}

// ---- how rules read ----

function trimNumber(x: number): string {
  const a = Math.abs(x);
  const s = a >= 100 ? x.toFixed(0) : a >= 10 ? x.toFixed(1) : x.toFixed(2);
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}

function si(n: number, unit: string): string {
  const prefixes = ['', 'k', 'M', 'G', 'T', 'P'];
  let x = n;
  let i = 0;
  while (Math.abs(x) >= 1000 && i < prefixes.length - 1) {
    x /= 1000;
    i++;
  }
  const num = i === 0 && Number.isInteger(x) ? String(x) : trimNumber(x);
  const u = `${prefixes[i]}${unit}`;
  return u ? `${num} ${u}` : num;
}

/** A metric's value with its unit: bytes as 'B', bps as 'b/s', counts bare, rates per second. */
export function formatRuleValue(metric: string, v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  switch (metric) {
    case 'bytes': return si(v, 'B');
    case 'bps': return si(v, 'b/s');
    case 'pps': return si(v, 'p/s');
    case 'fps': return si(v, 'fl/s');
    default: return si(v, '');
  }
}

/** The condition as a line: 'bytes > 1 GB', 'bps > 1h average + 50%', 'flows < 24h average − 20%'. */
export function ruleCondition(r: Pick<ListedRule, 'metric' | 'op' | 'value' | 'average' | 'percent'>): string {
  if (r.average !== undefined) {
    const pct = r.percent ?? 0;
    const sign = r.op === '<' ? '−' : r.op === '>' ? '+' : '±';
    return `${r.metric} ${r.op} ${r.average} average${pct && r.op !== '=' ? ` ${sign} ${trimNumber(pct)}%` : ''}`;
  }
  return `${r.metric} ${r.op} ${formatRuleValue(r.metric, r.value)}`;
}

export const TRIGGER_LABELS: Record<UserTrigger, string> = {
  each: 'each time',
  once: 'once only',
  while: 'once while it holds',
};

export type RuleStatus = 'off' | 'error' | 'pending' | 'holds' | 'ok';

/** Where a rule stands: switched off, failing, not evaluated yet, condition true, condition false. */
export function ruleStatus(r: Pick<ListedRule, 'enabled' | 'state'>): RuleStatus {
  if (r.enabled === false) return 'off';
  const s = r.state;
  if (!s || s.evaluatedAt === null) return s?.error ? 'error' : 'pending';
  if (s.error) return 'error';
  return s.holds ? 'holds' : 'ok';
}

/** The last evaluation as one line: 'last cycle 1.2 GB vs 1 GB: holds · fired 2', or why there is none. */
export function ruleStateText(r: Pick<ListedRule, 'metric' | 'enabled' | 'state'>, cycleSeconds?: number): string {
  const st = ruleStatus(r);
  const s = r.state;
  const fired = s && s.fired > 0 ? ` · fired ${s.fired}×` : '';
  if (st === 'off') return `switched off${fired}`;
  if (st === 'error') return `cannot evaluate: ${s?.error ?? 'unknown error'}`;
  if (st === 'pending') {
    const cycle = cycleSeconds && cycleSeconds > 0 ? ` (every ${cycleSeconds >= 60 ? `${trimNumber(cycleSeconds / 60)} min` : `${cycleSeconds} s`})` : '';
    return `not evaluated yet${cycle}`;
  }
  const threshold = s!.threshold === null ? 'no average yet' : formatRuleValue(r.metric, s!.threshold);
  return `last ${formatRuleValue(r.metric, s!.value)} vs ${threshold}: ${st === 'holds' ? 'holds' : 'does not hold'}${fired}`;
}
