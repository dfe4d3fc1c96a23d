// Numbers for the names written to LowCardinality columns (portgroups, VMs, VIPs, servers, captures), one for
// each distinct name, shared by the enricher and the Native writer. The writer builds each block's dictionary
// from these numbers with a typed-array read a row; looking each row's name up in a string-keyed map instead
// cost 0.7 µs a flow in the daemon (bench/ingest CPU per flow, 10,000 VM names: cache misses in a large map).
// The enricher numbers its inventory's names once and hands the numbers over on the record beside the names.

export class NameNumbers {
  private readonly ids = new Map<string, number>([['', 0]]);
  private readonly list: string[] = [''];

  /** Beyond `max` names no new ones are numbered (0): they take the writer's per-block path. */
  constructor(private readonly max = 1 << 18) {}

  /** The name's number, given it if new; 0 for '' and when the table is full. */
  of(name: string): number {
    let n = this.ids.get(name);
    if (n === undefined) {
      if (this.list.length >= this.max) return 0;
      n = this.list.length;
      this.list.push(name);
      this.ids.set(name, n);
    }
    return n;
  }

  /**
   * The name and its number, the name as the one string object the numbering keeps for it: names parsed from files
   * arrive as a separate string per port or line, and records then share one (a dictionary lookup by text, for
   * names without a number on the record, matches by pointer). A name the full numbering cannot take stays as given.
   */
  named(name: string): { text: string; no: number } {
    const no = this.of(name);
    return { text: no === 0 ? name : this.list[no]!, no };
  }

  /** Every numbered name, by its number (the table itself: read it, never change it). */
  get names(): readonly string[] {
    return this.list;
  }

  /** How many numbers are given (the largest + 1). */
  get size(): number {
    return this.list.length;
  }
}

/** The one numbering of the process. */
export const nameNumbers = new NameNumbers();
