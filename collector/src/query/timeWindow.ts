// nfdump's -t time window: `yyyy/MM/dd.hh:mm:ss[-yyyy/MM/dd.hh:mm:ss]`, with trailing parts optional
// (`2024/01/02.10` is 10:00:00), local time as nfdump reads it. Also accepted: ISO 8601 (1.7.8 reads it)
// and a relative start `-3600` (seconds before now, 1.7.8's form). A flow is in the window when it lies
// wholly inside: first >= start and last <= end (nfdump's rule).

export interface TimeWindow {
  /** ms since epoch, inclusive; undefined = open. */
  from?: number;
  to?: number;
}

export class TimeWindowError extends Error {
  override name = 'TimeWindowError';
}

const nfdumpTime = /^(\d{4})\/(\d{1,2})\/(\d{1,2})(?:\.(\d{1,2})(?::(\d{1,2})(?::(\d{1,2}))?)?)?$/;

function parseOne(s: string, what: string): number {
  const t = s.trim();
  const m = nfdumpTime.exec(t);
  if (m) {
    const [, y, mo, d, h, mi, se] = m;
    const date = new Date(Number(y), Number(mo) - 1, Number(d), Number(h ?? 0), Number(mi ?? 0), Number(se ?? 0));
    if (date.getMonth() !== Number(mo) - 1 || date.getDate() !== Number(d) || Number(h ?? 0) > 23 || Number(mi ?? 0) > 59 || Number(se ?? 0) > 59) {
      throw new TimeWindowError(`invalid ${what} time '${s}'`);
    }
    return date.getTime();
  }
  if (/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(t)) {
    const ms = Date.parse(t.replace(' ', 'T'));
    if (Number.isFinite(ms)) return ms;
  }
  throw new TimeWindowError(`invalid ${what} time '${s}': expected yyyy/MM/dd.hh:mm:ss`);
}

export function parseTimeWindow(spec: string, now = Date.now()): TimeWindow {
  const s = spec.trim();
  if (/^-\d+$/.test(s)) return { from: now - Number(s.slice(1)) * 1000 };
  // Split at the '-' that separates two times; ISO dates contain '-' themselves.
  const parts = s.includes('/') ? s.split('-') : splitIso(s);
  if (parts.length > 2 || parts.length === 0) throw new TimeWindowError(`invalid time window '${spec}'`);
  const from = parseOne(parts[0]!, 'start');
  if (parts.length === 1) return { from };
  const to = parseOne(parts[1]!, 'end');
  if (to < from) throw new TimeWindowError(`time window ends before it starts: '${spec}'`);
  return { from, to };
}

function splitIso(s: string): string[] {
  const m = /^(\d{4}-\d{2}-\d{2}(?:[T ][^/]*?)?)(?:\s*\/\s*|-(?=\d{4}-))(\d{4}-.*)$/.exec(s);
  return m ? [m[1]!, m[2]!] : [s];
}
