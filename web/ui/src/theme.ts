// Dark or light: follows prefers-color-scheme until the user picks one with the toggle (kept in localStorage).
// Charts read `isDark` to pick their text and grid colours; the page colours come from CSS variables on <html>.
import { computed, ref } from 'vue';

const KEY = 'dvflow.theme';
type Choice = 'dark' | 'light' | 'system';

const media = typeof window !== 'undefined' && window.matchMedia ? window.matchMedia('(prefers-color-scheme: dark)') : null;
const systemDark = ref(media?.matches ?? false);
media?.addEventListener('change', (e) => (systemDark.value = e.matches));

function stored(): Choice {
  try {
    const v = localStorage.getItem(KEY);
    return v === 'dark' || v === 'light' ? v : 'system';
  } catch {
    return 'system';
  }
}

export const themeChoice = ref<Choice>(stored());
export const isDark = computed(() => (themeChoice.value === 'system' ? systemDark.value : themeChoice.value === 'dark'));

export function toggleTheme(): void {
  themeChoice.value = isDark.value ? 'light' : 'dark';
  // Back to "system" when the choice matches the system's: the page then follows the OS again.
  if ((themeChoice.value === 'dark') === systemDark.value) {
    themeChoice.value = 'system';
    localStorage.removeItem(KEY);
  } else {
    localStorage.setItem(KEY, themeChoice.value);
  }
}

/** Colours charts need (canvas does not read CSS variables). */
export const chartColors = computed(() =>
  isDark.value
    ? { text: '#c9d1d9', muted: '#8b949e', grid: '#30363d', tooltipBg: '#161b22', tooltipBorder: '#30363d' }
    : { text: '#24292f', muted: '#57606a', grid: '#d8dee4', tooltipBg: '#ffffff', tooltipBorder: '#d0d7de' },
);

/** A fixed palette (colour-blind friendlier than ECharts' default), same order on every chart. */
export const PALETTE = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac', '#86bcb6', '#d37295'];
/** The 'other' series is always grey. */
export const OTHER_COLOR = '#9aa0a6';
/** Traffic in no portgroup / no VIP ('(none)'): a lighter grey. */
export const NONE_COLOR = '#c3c8ce';

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}
