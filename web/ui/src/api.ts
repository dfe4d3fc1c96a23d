// The dashboard's one door to the dvflow HTTP API (/api/v1). Reads are open; write calls carry the bearer
// token the user pasted in the settings dialog (localStorage 'dvflow.token'), and only write calls do, so a
// token never leaks into read requests that may be logged by proxies.

import type { QueryRequest, QueryResponse } from './queryTypes';
import type { AlertEvent as ServerAlertEvent } from '../../../collector/src/ids/alertShapes.ts';
export type { FlowRow, QueryRequest, QueryResponse, QuerySummary, Statistic, StatRow } from './queryTypes';

const BASE = '/api/v1';
export const TOKEN_KEY = 'dvflow.token';

/** An API answer that was not 2xx, with the server's message and, for filter errors, the character position. */
export class ApiError extends Error {
  status: number;
  position?: number;
  constructor(status: number, message: string, position?: number) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    if (position !== undefined) this.position = position;
  }
}

export function getToken(): string {
  try {
    return localStorage.getItem(TOKEN_KEY) ?? '';
  } catch {
    return '';
  }
}

export function setToken(token: string): void {
  if (token) localStorage.setItem(TOKEN_KEY, token);
  else localStorage.removeItem(TOKEN_KEY);
}

function buildUrl(path: string, params?: Record<string, string | number | undefined>): string {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(params ?? {})) {
    if (v === undefined || v === '') continue;
    qs.set(k, String(v));
  }
  const q = qs.toString();
  return `${BASE}${path.startsWith('/') ? path : `/${path}`}${q ? `?${q}` : ''}`;
}

async function send<T>(method: string, path: string, body: unknown, write: boolean, params?: Record<string, string | number | undefined>): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (write) {
    const token = getToken();
    if (token) headers.authorization = `Bearer ${token}`;
  }
  let res: Response;
  try {
    res = await fetch(buildUrl(path, params), { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    throw new ApiError(0, `cannot reach the dvflow API: ${(e as Error).message}`);
  }
  const text = await res.text();
  let data: unknown = undefined;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = text;
    }
  }
  if (!res.ok) {
    const d = (data && typeof data === 'object' ? data : {}) as { message?: unknown; error?: unknown; position?: unknown };
    const message = typeof d.message === 'string' ? d.message : typeof d.error === 'string' ? d.error : `${res.status} ${res.statusText}`;
    const position = typeof d.position === 'number' ? d.position : undefined;
    throw new ApiError(res.status, res.status === 401 ? `${message} (set the API token in Settings)` : message, position);
  }
  return data as T;
}

export function apiGet<T>(path: string, params?: Record<string, string | number | undefined>): Promise<T> {
  return send<T>('GET', path, undefined, false, params);
}

export function apiPost<T>(path: string, body: unknown, opts?: { write?: boolean }): Promise<T> {
  return send<T>('POST', path, body ?? {}, opts?.write ?? false);
}

export function apiPut<T>(path: string, body: unknown): Promise<T> {
  return send<T>('PUT', path, body ?? {}, true);
}

export function apiDelete<T>(path: string): Promise<T> {
  return send<T>('DELETE', path, undefined, true);
}

/**
 * Listen to the server's "flows stored" events; returns the unsubscribe function. EventSource reconnects by
 * itself after a network error, so nothing to do there.
 */
export function subscribeEvents(onFlows: (e: { time: number; rows: number }) => void): () => void {
  if (typeof EventSource === 'undefined') return () => {};
  const es = new EventSource(`${BASE}/events`);
  const handler = (ev: MessageEvent) => {
    try {
      const d = JSON.parse(String(ev.data)) as { time?: unknown; rows?: unknown };
      onFlows({ time: Number(d.time) || Date.now(), rows: Number(d.rows) || 0 });
    } catch {
      /* a malformed event is ignored: the next one refreshes anyway */
    }
  };
  es.addEventListener('flows', handler as EventListener);
  return () => {
    es.removeEventListener('flows', handler as EventListener);
    es.close();
  };
}

/** What an `alert` event carries (web/src/routes/events.ts); the severity as read off the wire, checked where shown. */
export type AlertEvent = Omit<ServerAlertEvent, 'severity'> & { severity: string };

/** Listen to the server's `alert` events (a new alert, or one whose severity rose); returns the unsubscribe function. */
export function subscribeAlerts(onAlert: (e: AlertEvent) => void): () => void {
  if (typeof EventSource === 'undefined') return () => {};
  const es = new EventSource(`${BASE}/events`);
  const handler = (ev: MessageEvent) => {
    try {
      const d = JSON.parse(String(ev.data)) as Partial<Record<keyof AlertEvent, unknown>>;
      const s = (v: unknown) => (typeof v === 'string' ? v : '');
      onAlert({ id: s(d.id), time: Number(d.time) || Date.now(), detector: s(d.detector), severity: s(d.severity), summary: s(d.summary) });
    } catch {
      /* a malformed event is ignored */
    }
  };
  es.addEventListener('alert', handler as EventListener);
  return () => {
    es.removeEventListener('alert', handler as EventListener);
    es.close();
  };
}

// ---- response types shared by the pages ----

export interface SeriesData {
  name: string;
  values: number[];
  total: number;
}

export interface TimeseriesResponse {
  from: number;
  to: number;
  step: number;
  metric: Metric;
  split: string;
  table: string;
  times: number[];
  series: SeriesData[];
  elapsedMs: number;
}

export type Metric = 'bps' | 'pps' | 'fps';

/** Run POST /query. */
export function runQuery(req: QueryRequest): Promise<QueryResponse> {
  return apiPost<QueryResponse>('/query', req);
}

/** GET /timeseries with the contract's parameters. */
export function getTimeseries(p: { metric?: Metric; split?: string; filter?: string; from?: number; to?: number; top?: number; step?: number }): Promise<TimeseriesResponse> {
  return apiGet<TimeseriesResponse>('/timeseries', { metric: p.metric, split: p.split, filter: p.filter, from: p.from, to: p.to, top: p.top, step: p.step });
}
