// Per-record rates as nfdump prints them: over the record's own duration, integer, 0 when it lasted 0 ms.
import type { FlowRow } from '../query/flowQuery.ts';

export const num = (r: FlowRow, k: string): number => Number(r[k] ?? 0);

export function flowRates(r: FlowRow): { pps: number; bps: number; bpp: number } {
  const dur = (num(r, 'last') - num(r, 'first')) / 1000;
  const packets = num(r, 'packets'), bytes = num(r, 'bytes');
  return {
    pps: dur > 0 ? Math.floor(packets / dur) : 0,
    bps: dur > 0 ? Math.floor((bytes * 8) / dur) : 0,
    bpp: packets > 0 ? Math.floor(bytes / packets) : 0,
  };
}
