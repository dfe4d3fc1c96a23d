// The IDS as the daemon runs it: detectors (idsEngine), the alert manager writing `alerts`, the outputs (webhook,
// syslog, the dashboard's event stream) and the nfsen-style user rules evaluated once per cycle.
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { AlertManager, alertColumns, alertsToTsv, type StoredAlert } from './alertManager.ts';
import { IdsEngine } from './idsEngine.ts';
import { SyslogOutput, WebhookOutput, type SyslogConfig, type WebhookConfig } from './alertOutputs.ts';
import { UserAlertRunner, type CycleTotals } from './userAlerts.ts';
import { UserRuleStore } from './userRuleStore.ts';
import type { FlowDetector, PacketDetector } from './idsTypes.ts';

export interface IdsStore {
  insertTsv(table: string, columns: readonly string[], body: Buffer): Promise<void>;
  queryRows<T = Record<string, unknown>>(query: string, params?: Record<string, unknown>): Promise<T[]>;
}

export interface IdsServiceOptions {
  store: IdsStore;
  flowDetectors: FlowDetector[];
  packetDetectors: PacketDetector[];
  suppressionMs: number;
  userRules: UserRuleStore;
  /** Cycle of the user rules, ms (nfsen: 5 min). 0 = never on a timer (tests call evaluateUserRules). */
  userCycleMs: number;
  webhook?: WebhookConfig | null;
  syslog?: SyslogConfig | null;
  log?: Logger;
  /** Alert writes at most this often, ms. */
  flushMs?: number;
}

/** Emits 'alert' (StoredAlert) for each new alert, or one whose severity rose. */
export class IdsService extends EventEmitter {
  readonly alerts: AlertManager;
  readonly engine: IdsEngine;
  readonly userRules: UserRuleStore;
  readonly userRunner: UserAlertRunner;
  readonly webhook: WebhookOutput | null;
  readonly syslog: SyslogOutput | null;
  private timer: NodeJS.Timeout | null = null;
  private evaluating: Promise<unknown> = Promise.resolve();

  constructor(private readonly o: IdsServiceOptions) {
    super();
    const log = o.log;
    this.webhook = o.webhook?.url ? new WebhookOutput(o.webhook, log) : null;
    this.syslog = o.syslog?.host ? new SyslogOutput(o.syslog, log) : null;
    this.alerts = new AlertManager({
      suppressionMs: o.suppressionMs,
      flushMs: o.flushMs,
      write: (rows) => o.store.insertTsv('alerts', alertColumns, alertsToTsv(rows)),
      onWriteError: (e, rows) => log?.error({ err: e.message, rows }, 'alert insert failed; will retry'),
      onRaised: (a) => this.raised(a),
    });
    this.engine = new IdsEngine(o.flowDetectors, o.packetDetectors, this.alerts, log);
    this.userRules = o.userRules;
    this.userRunner = new UserAlertRunner({
      totals: (where, from, to) => this.totals(where, from, to),
      emit: (c) => this.alerts.offer(c),
      cycleMs: o.userCycleMs > 0 ? o.userCycleMs : 300_000,
      log,
    });
  }

  private raised(a: StoredAlert): void {
    this.o.log?.warn({ alert: a.id, detector: a.detector, severity: a.severity, src: a.src, dst: a.dst }, `alert: ${a.summary}`);
    this.webhook?.send(a);
    this.syslog?.send(a);
    this.emit('alert', a);
  }

  private async totals(where: { sql: string; params: Record<string, unknown> }, from: number, to: number): Promise<CycleTotals> {
    const rows = await this.o.store.queryRows<{ flows: number; packets: number; bytes: number }>(
      `SELECT count() AS flows, sum(packets) AS packets, sum(bytes) AS bytes FROM flows
       WHERE time_received >= fromUnixTimestamp64Milli({ufrom:Int64}) AND time_received < fromUnixTimestamp64Milli({uto:Int64}) AND (${where.sql})`,
      { ...where.params, ufrom: Math.floor(from), uto: Math.floor(to) },
    );
    const r = rows[0];
    return { flows: Number(r?.flows ?? 0), packets: Number(r?.packets ?? 0), bytes: Number(r?.bytes ?? 0) };
  }

  /** Evaluate the user rules for the cycle ending at `now` (the timer calls it at each cycle boundary). */
  evaluateUserRules(now: number): Promise<string[]> {
    const run = this.evaluating.then(() => this.userRunner.evaluate(this.userRules.rules(), now));
    this.evaluating = run.catch(() => undefined);
    return run;
  }

  /** Start the user-rule cycle: aligned on cycle boundaries, as nfsen's 5-minute slots. */
  start(): void {
    if (this.o.userCycleMs <= 0 || this.timer) return;
    const cycle = this.o.userCycleMs;
    const schedule = () => {
      const next = Math.ceil((Date.now() + 1) / cycle) * cycle;
      this.timer = setTimeout(() => {
        void this.evaluateUserRules(next).catch((e: Error) => this.o.log?.error({ err: e.message }, 'user alert cycle failed'));
        schedule();
      }, next - Date.now());
      this.timer.unref();
    };
    schedule();
  }

  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.evaluating;
    await this.alerts.close();
    await this.webhook?.idle();
    this.syslog?.close();
  }
}
