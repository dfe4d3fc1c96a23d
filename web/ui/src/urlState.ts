// The view's state lives in the route query so that a URL restores what the user saw (nfsen's "bookmark this
// view"): the time window (a preset ending now, or a custom from/to), the filter, the split, the metric and any
// page-specific key (a portgroup, a VIP, a statistic ...). Values equal to their default are left out of the URL.
import { computed, reactive, type WritableComputedRef } from 'vue';
import { useRoute, useRouter, type LocationQueryRaw } from 'vue-router';
import type { Metric } from './api';

export type WindowPreset = '1h' | '6h' | '24h' | '7d' | '31d' | '1y';
export type WindowKey = WindowPreset | 'custom';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export const WINDOW_PRESETS: { key: WindowPreset; label: string; ms: number }[] = [
  { key: '1h', label: '1 h', ms: HOUR },
  { key: '6h', label: '6 h', ms: 6 * HOUR },
  { key: '24h', label: '24 h', ms: DAY },
  { key: '7d', label: '7 d', ms: 7 * DAY },
  { key: '31d', label: '31 d', ms: 31 * DAY },
  { key: '1y', label: '1 y', ms: 365 * DAY },
];

export const METRICS: { key: Metric; label: string }[] = [
  { key: 'bps', label: 'bits/s' },
  { key: 'pps', label: 'packets/s' },
  { key: 'fps', label: 'flows/s' },
];

/** What windowFromState needs: a preset or custom bounds. */
export interface WindowState {
  window: WindowKey;
  from?: number;
  to?: number;
}

/** The resolved window: ms epoch bounds and whether it ends now (then the page follows live events). */
export interface ResolvedWindow {
  from: number;
  to: number;
  live: boolean;
}

export function presetMs(key: string): number | undefined {
  return WINDOW_PRESETS.find((p) => p.key === key)?.ms;
}

export function windowFromState(state: WindowState, now: number = Date.now()): ResolvedWindow {
  if (state.window === 'custom' && state.from !== undefined) {
    const to = state.to ?? now;
    const from = Math.min(state.from, to - 1000);
    return { from, to, live: state.to === undefined };
  }
  const ms = presetMs(state.window) ?? HOUR;
  return { from: now - ms, to: now, live: true };
}

/** A time in the URL: ms epoch, or anything Date.parse reads (ISO 8601), so hand-written links work too. */
function parseTime(v: string | undefined): number | undefined {
  if (v === undefined || v === '') return undefined;
  if (/^\d+$/.test(v)) return Number(v);
  const t = Date.parse(v);
  return Number.isFinite(t) ? t : undefined;
}

export interface ViewDefaults {
  window?: WindowPreset;
  split?: string;
  metric?: Metric;
  filter?: string;
  /** Page-specific keys and their defaults. */
  [key: string]: string | undefined;
}

export interface ViewState {
  window: WindowKey;
  /** Custom window start (ms), undefined for presets. */
  from: number | undefined;
  /** Custom window end (ms); undefined with window 'custom' means "until now". */
  to: number | undefined;
  filter: string;
  split: string;
  metric: Metric;
  /** A page-specific key, '' (or its default) when absent. */
  get(key: string): string;
  /** Write several keys at once (one navigation); undefined or default values are removed from the URL. */
  set(patch: Record<string, string | number | undefined>, opts?: { push?: boolean }): void;
  /** Set a preset window (drops from/to). */
  setPreset(key: WindowPreset): void;
  /** Set a custom window (a brush on a chart, the custom inputs); pushed, so Back returns to the previous view. */
  setCustom(from: number, to: number | undefined): void;
  /** A writable ref bound to a page-specific key, for v-model. */
  param(key: string): WritableComputedRef<string>;
}

/**
 * The view state of the current page, read from and written to the route query. Several writes in the same
 * tick are merged into one navigation; reads see them at once (an overlay kept until the route catches up).
 */
export function useViewState(defaults: ViewDefaults = {}): ViewState {
  const route = useRoute();
  const router = useRouter();
  const dflt: Record<string, string> = { window: '1h', split: 'none', metric: 'bps', filter: '' };
  for (const [k, v] of Object.entries(defaults)) if (v !== undefined) dflt[k] = v;

  const overlay = reactive<Record<string, string | undefined>>({});
  let pending: Record<string, string | undefined> | null = null;
  let pendingPush = false;

  const raw = (key: string): string | undefined => {
    if (key in overlay) return overlay[key];
    const v = route.query[key];
    const s = Array.isArray(v) ? v[0] : v;
    return s === null || s === undefined ? undefined : String(s);
  };
  const get = (key: string): string => raw(key) ?? dflt[key] ?? '';

  const flush = () => {
    const patch = pending;
    const push = pendingPush;
    pending = null;
    pendingPush = false;
    if (!patch) return;
    const query: LocationQueryRaw = { ...route.query };
    for (const [k, v] of Object.entries(patch)) {
      if (v === undefined) delete query[k];
      else query[k] = v;
    }
    const nav = push ? router.push({ query }) : router.replace({ query });
    nav.finally(() => {
      for (const k of Object.keys(patch)) if (overlay[k] === patch[k]) delete overlay[k];
    });
  };

  const set = (patch: Record<string, string | number | undefined>, opts?: { push?: boolean }) => {
    if (!pending) {
      pending = {};
      queueMicrotask(flush);
    }
    if (opts?.push) pendingPush = true;
    for (const [k, v0] of Object.entries(patch)) {
      const v = v0 === undefined ? undefined : String(v0);
      const stored = v === undefined || v === (dflt[k] ?? '') ? undefined : v;
      pending[k] = stored;
      overlay[k] = stored;
    }
  };

  const param = (key: string) => computed<string>({ get: () => get(key), set: (v) => set({ [key]: v }) });

  const windowKey = computed<WindowKey>({
    get: () => {
      const w = get('window');
      if (w === 'custom' && parseTime(raw('from')) !== undefined) return 'custom';
      return presetMs(w) !== undefined ? (w as WindowPreset) : ((dflt.window ?? '1h') as WindowPreset);
    },
    set: (w) => (w === 'custom' ? set({ window: 'custom' }) : set({ window: w, from: undefined, to: undefined })),
  });

  const state = reactive({
    window: windowKey,
    from: computed<number | undefined>({
      get: () => (windowKey.value === 'custom' ? parseTime(raw('from')) : undefined),
      set: (v) => set({ from: v }),
    }),
    to: computed<number | undefined>({
      get: () => (windowKey.value === 'custom' ? parseTime(raw('to')) : undefined),
      set: (v) => set({ to: v }),
    }),
    filter: param('filter'),
    split: param('split'),
    metric: computed<Metric>({
      get: () => {
        const m = get('metric');
        return m === 'pps' || m === 'fps' ? m : 'bps';
      },
      set: (v) => set({ metric: v }),
    }),
    get,
    set,
    setPreset: (key: WindowPreset) => set({ window: key, from: undefined, to: undefined }, { push: true }),
    setCustom: (from: number, to: number | undefined) => set({ window: 'custom', from: Math.round(from), to: to === undefined ? undefined : Math.round(to) }, { push: true }),
    param,
  });
  return state as unknown as ViewState;
}
