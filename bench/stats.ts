// Summaries the benchmarks print.

/** The middle value (the upper one of the two middles for an even count); xs is not changed. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}
