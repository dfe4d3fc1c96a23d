// nfsen-style user alerts: a filter, a condition on the traffic it matches, and a trigger. Every cycle (nfsen's
// 5 minutes by default) each rule's flows, packets and bytes over the last cycle are summed — by receive time, as
// nfsen sums the file nfcapd wrote in that slot — and compared with a value, or with the average per cycle over
// the last 10 min … 24 h (plus or minus a percentage). Triggers as nfsen's: each time, once only, or once while
// the condition holds (again only after it was false once).
import type { Logger } from 'pino';
import { compileSql, FilterError } from '../filter/index.ts';
import type { AlertCandidate } from './idsTypes.ts';
import {
  SEVERITIES, USER_AVERAGES, USER_METRICS, USER_RULE_NAME, USER_TRIGGERS,
  type RuleState, type Severity, type UserAlertRule, type UserAverage, type UserMetric, type UserTrigger,
} from './alertShapes.ts';

export {
  USER_AVERAGES, USER_METRICS, USER_OPS, USER_RULE_NAME, USER_TRIGGERS,
  type RuleState, type UserAlertRule, type UserAverage, type UserMetric, type UserOp, type UserTrigger,
} from './alertShapes.ts';

const AVERAGE_MS: Record<UserAverage, number> = {
  '10m': 600_000, '30m': 1_800_000, '1h': 3_600_000, '6h': 21_600_000, '12h': 43_200_000, '24h': 86_400_000,
};

/** Checks a rule (from the config file or the API); returns the message of the first problem, or null. */
export function checkUserRule(r: unknown): string | null {
  if (typeof r !== 'object' || r === null) return 'a rule must be a mapping';
  const x = r as Partial<Record<keyof UserAlertRule, unknown>>;
  if (typeof x.name !== 'string' || !USER_RULE_NAME.test(x.name)) return `rule name must match ${USER_RULE_NAME.source}, got ${JSON.stringify(x.name)}`;
  const where = `rule '${x.name}'`;
  if (typeof x.filter !== 'string') return `${where}: filter must be a string`;
  try {
    compileSql(x.filter);
  } catch (e) {
    if (e instanceof FilterError) return `${where}: filter: ${e.message}`;
    throw e;
  }
  if (!USER_METRICS.includes(x.metric as UserMetric)) return `${where}: metric must be one of ${USER_METRICS.join(', ')}`;
  if (x.op !== '>' && x.op !== '<' && x.op !== '=') return `${where}: op must be >, < or =`;
  if (x.average !== undefined) {
    if (!USER_AVERAGES.includes(x.average as UserAverage)) return `${where}: average must be one of ${USER_AVERAGES.join(', ')}`;
    if (x.percent !== undefined && (typeof x.percent !== 'number' || !(x.percent >= 0))) return `${where}: percent must be a number >= 0`;
  } else if (typeof x.value !== 'number' || !Number.isFinite(x.value)) {
    return `${where}: give a value, or an average to compare with`;
  }
  if (!USER_TRIGGERS.includes(x.trigger as UserTrigger)) return `${where}: trigger must be one of ${USER_TRIGGERS.join(', ')}`;
  if (!SEVERITIES.includes(x.severity as Severity)) return `${where}: severity must be one of ${SEVERITIES.join(', ')}`;
  return null;
}

/** Totals of one rule's traffic for the cycle and for its history window. */
export interface CycleTotals {
  flows: number;
  packets: number;
  bytes: number;
}

/** The metric's value for `totals` summed over `ms`. */
export function metricValue(m: UserMetric, t: CycleTotals, ms: number): number {
  const s = ms / 1000;
  switch (m) {
    case 'flows': return t.flows;
    case 'packets': return t.packets;
    case 'bytes': return t.bytes;
    case 'fps': return t.flows / s;
    case 'pps': return t.packets / s;
    case 'bps': return (t.bytes * 8) / s;
  }
}

/** What the condition compares the cycle's value with. */
export function thresholdOf(r: UserAlertRule, historyAverage: number | null): number | null {
  if (r.average === undefined) return r.value ?? null;
  if (historyAverage === null) return null;
  const pct = (r.percent ?? 0) / 100;
  return r.op === '<' ? historyAverage * (1 - pct) : r.op === '>' ? historyAverage * (1 + pct) : historyAverage;
}

export function conditionHolds(op: UserAlertRule['op'], value: number, threshold: number): boolean {
  return op === '>' ? value > threshold : op === '<' ? value < threshold : value === threshold;
}

export interface UserAlertRunnerOptions {
  /** Sums flows/packets/bytes matching a compiled filter with time_received in [from, to). */
  totals: (where: { sql: string; params: Record<string, unknown> }, from: number, to: number) => Promise<CycleTotals>;
  emit: (c: AlertCandidate) => void;
  cycleMs?: number;
  log?: Logger;
}

/** Evaluates rules once per cycle; keeps the trigger state of each rule (by name and definition). */
export class UserAlertRunner {
  private readonly states = new Map<string, RuleState & { definition: string }>();
  readonly cycleMs: number;

  constructor(private readonly o: UserAlertRunnerOptions) {
    this.cycleMs = o.cycleMs ?? 300_000;
  }

  state(name: string): RuleState | null {
    const s = this.states.get(name);
    if (!s) return null;
    const { definition: _d, ...rest } = s;
    return rest;
  }

  /** Evaluate every enabled rule for the cycle ending at `now`. Returns the rules that triggered. */
  async evaluate(rules: readonly UserAlertRule[], now: number): Promise<string[]> {
    const fired: string[] = [];
    const names = new Set(rules.map((r) => r.name));
    for (const k of this.states.keys()) if (!names.has(k)) this.states.delete(k);
    for (const r of rules) {
      if (r.enabled === false) continue;
      if (await this.evaluateRule(r, now)) fired.push(r.name);
    }
    return fired;
  }

  private stateFor(r: UserAlertRule): RuleState & { definition: string } {
    const definition = JSON.stringify({ ...r, enabled: undefined });
    let s = this.states.get(r.name);
    // A changed rule starts over: "once" may fire again for the new definition.
    if (!s || s.definition !== definition) {
      s = { definition, evaluatedAt: null, value: null, threshold: null, holds: false, fired: 0, error: null };
      this.states.set(r.name, s);
    }
    return s;
  }

  private async evaluateRule(r: UserAlertRule, now: number): Promise<boolean> {
    const s = this.stateFor(r);
    const wasHolding = s.holds;
    const from = now - this.cycleMs;
    try {
      const where = compileSql(r.filter, { paramPrefix: 'u' });
      const cur = await this.o.totals(where, from, now);
      const value = metricValue(r.metric, cur, this.cycleMs);
      let avg: number | null = null;
      if (r.average !== undefined) {
        const span = AVERAGE_MS[r.average];
        const hist = await this.o.totals(where, from - span, from);
        // The average per cycle of the history: the same metric over a cycle's length.
        avg = metricValue(r.metric, { flows: hist.flows * this.cycleMs / span, packets: hist.packets * this.cycleMs / span, bytes: hist.bytes * this.cycleMs / span }, this.cycleMs);
      }
      const threshold = thresholdOf(r, avg);
      s.evaluatedAt = now;
      s.value = value;
      s.threshold = threshold;
      s.error = null;
      s.holds = threshold !== null && conditionHolds(r.op, value, threshold);
    } catch (e) {
      s.error = (e as Error).message;
      this.o.log?.warn({ rule: r.name, err: s.error }, 'user alert rule could not be evaluated');
      return false;
    }
    if (!s.holds) return false;
    const fire = r.trigger === 'each' || (r.trigger === 'once' && s.fired === 0) || (r.trigger === 'while' && !wasHolding);
    if (!fire) return false;
    s.fired++;
    const what = r.average !== undefined ? `the ${r.average} average${r.percent ? ` ${r.op === '<' ? '-' : '+'} ${r.percent}%` : ''} (${fmt(s.threshold!)})` : fmt(s.threshold!);
    this.o.emit({
      time: now, detector: 'user-rule', severity: r.severity,
      summary: `${r.name}: ${r.metric} ${fmt(s.value!)} ${r.op} ${what} over ${this.cycleMs / 60_000} min${r.filter ? ` for '${r.filter}'` : ''}`,
      src: '', dst: '', dstPort: 0, proto: 0, vip: '', portgroup: '',
      // "each" raises a new alert every cycle; the other triggers are one alert per rule episode.
      key: r.trigger === 'each' ? `${r.name}@${now}` : `${r.name}#${s.fired}`,
      counts: { value: s.value!, threshold: s.threshold!, cycleSeconds: this.cycleMs / 1000 },
      samples: [], origin: 'rule',
    });
    return true;
  }
}

function fmt(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(2);
}
