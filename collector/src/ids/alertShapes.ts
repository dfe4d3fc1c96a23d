// The shapes of alerts and user alert rules as the API gives them, in one dependency-free module: the IDS, the alert
// queries and the dashboard (web/ui/src/alertsView.ts) all read them from here.

export const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Evidence kept with an alert: a few flows or packets that show what was detected. */
export interface AlertSample {
  time: number;
  srcAddr: string;
  dstAddr: string;
  srcPort: number;
  dstPort: number;
  proto: number;
  tcpFlags: number;
  packets: number;
  bytes: number;
  /** Free text for packet detectors ("ip checksum 0x1234, expected 0x4321", a rule's matched content). */
  note?: string;
}

/** An alert as stored (one row of `alerts`) and as GET /api/v1/alerts lists it. */
export interface AlertRow {
  id: string;
  /** Event time of the first and latest evidence, ms. */
  time: number;
  last: number;
  /** Wall clock: raised, last updated, ms. */
  raised: number;
  updated: number;
  /** Detector id, kebab-case: 'port-scan', 'host-sweep', 'syn-flood', 'snort-rule', 'user-rule', ... */
  detector: string;
  severity: Severity;
  /** One line a human reads: "10.0.0.5 probed 87 ports of 10.0.0.9 in 60 s". */
  summary: string;
  /** The suppression key: what makes two detections the same thing. */
  subject: string;
  /** The attacker / the victim when there is one ('' when many or none). */
  src: string;
  dst: string;
  /** Destination port when the alert is about one, else 0. */
  dstPort: number;
  proto: number;
  vip: string;
  portgroup: string;
  origin: string;
  capture: string;
  sid: number;
  classtype: string;
  /** Detections merged into this alert. */
  occurrences: number;
  /** Numbers that prove it (flows, distinct ports, packets/s, baseline, threshold ...). */
  counts: Record<string, number>;
  /** At most 5. */
  samples: AlertSample[];
}

/** What GET /api/v1/events sends as `event: alert` for a new alert (only what a notification needs). */
export type AlertEvent = Pick<AlertRow, 'id' | 'time' | 'detector' | 'severity' | 'summary'>;

export const USER_METRICS = ['flows', 'packets', 'bytes', 'fps', 'pps', 'bps'] as const;
export type UserMetric = (typeof USER_METRICS)[number];
export const USER_AVERAGES = ['10m', '30m', '1h', '6h', '12h', '24h'] as const;
export type UserAverage = (typeof USER_AVERAGES)[number];
export const USER_TRIGGERS = ['each', 'once', 'while'] as const;
export type UserTrigger = (typeof USER_TRIGGERS)[number];
export const USER_OPS = ['>', '<', '='] as const;
export type UserOp = (typeof USER_OPS)[number];
export const USER_RULE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export interface UserAlertRule {
  /** Identifier-like name, unique. */
  name: string;
  /** nfdump filter selecting the traffic ('' = all). */
  filter: string;
  metric: UserMetric;
  op: UserOp;
  /** Absolute value to compare with (when `average` is not set). */
  value?: number;
  /** Compare with the average per cycle over this much history instead. */
  average?: UserAverage;
  /** With `average`: the average plus (op '>') or minus (op '<') this many percent. */
  percent?: number;
  trigger: UserTrigger;
  severity: Severity;
  /** Off rules are kept but not evaluated. */
  enabled?: boolean;
}

/** A user rule's last evaluation. */
export interface RuleState {
  /** End of the last cycle evaluated (ms), its value, the threshold and whether the condition held. */
  evaluatedAt: number | null;
  value: number | null;
  threshold: number | null;
  holds: boolean;
  /** Triggers so far. */
  fired: number;
  error: string | null;
}
