// Load a page's data for the view's window, again whenever the view changes, and — when the window ends now —
// again when the server says new flows were stored (GET /events), at most every few seconds, plus once a
// minute so the window slides even when nothing arrives. Answers that come back after a newer request
// started are dropped, so a slow query never overwrites a fresher one.
import { onBeforeUnmount, ref, shallowRef, watch, type Ref, type ShallowRef } from 'vue';
import { ApiError, subscribeEvents } from './api';
import { windowFromState, type ResolvedWindow, type ViewState } from './urlState';

export interface LiveData<T> {
  data: ShallowRef<T | undefined>;
  loading: Ref<boolean>;
  error: Ref<ApiError | Error | null>;
  window: Ref<ResolvedWindow>;
  refresh: () => void;
}

const MIN_LIVE_INTERVAL_MS = 3000;
const SLIDE_INTERVAL_MS = 60_000;

export function useLiveData<T>(view: ViewState, deps: () => unknown, load: (w: ResolvedWindow) => Promise<T>): LiveData<T> {
  const data = shallowRef<T | undefined>(undefined);
  const loading = ref(false);
  const error = ref<ApiError | Error | null>(null);
  const win = ref<ResolvedWindow>(windowFromState(view));
  let generation = 0;
  let lastRun = 0;
  let queued: ReturnType<typeof setTimeout> | null = null;

  const run = async () => {
    const gen = ++generation;
    lastRun = Date.now();
    const w = windowFromState(view, Date.now());
    win.value = w;
    loading.value = true;
    try {
      const d = await load(w);
      if (gen !== generation) return;
      data.value = d;
      error.value = null;
    } catch (e) {
      if (gen !== generation) return;
      error.value = e as Error;
    } finally {
      if (gen === generation) loading.value = false;
    }
  };

  /** A live refresh: not more often than MIN_LIVE_INTERVAL_MS, and not while a load is running. */
  const liveTick = () => {
    if (!win.value.live || queued) return;
    const wait = Math.max(0, lastRun + MIN_LIVE_INTERVAL_MS - Date.now());
    queued = setTimeout(() => {
      queued = null;
      if (loading.value) return liveTick();
      void run();
    }, wait);
  };

  watch(
    () => [view.window, view.from, view.to, view.filter, view.split, view.metric, deps()],
    () => void run(),
    { immediate: true, deep: true },
  );

  let unsubscribe: (() => void) | null = null;
  let slide: ReturnType<typeof setInterval> | null = null;
  watch(
    () => win.value.live,
    (live) => {
      if (live && !unsubscribe) {
        unsubscribe = subscribeEvents(liveTick);
        slide = setInterval(liveTick, SLIDE_INTERVAL_MS);
      } else if (!live && unsubscribe) {
        unsubscribe();
        unsubscribe = null;
        if (slide) clearInterval(slide);
        slide = null;
      }
    },
    { immediate: true },
  );

  onBeforeUnmount(() => {
    generation++;
    unsubscribe?.();
    if (slide) clearInterval(slide);
    if (queued) clearTimeout(queued);
  });

  return { data, loading, error, window: win, refresh: () => void run() };
}

/** A message for an error, with the filter position when the API gave one. */
export function errorText(e: unknown): string {
  if (e instanceof ApiError && e.position !== undefined) return `${e.message} (at character ${e.position})`;
  return e instanceof Error ? e.message : String(e);
}
