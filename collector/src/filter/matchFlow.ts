// Evaluates a filter on an in-memory flow record (alert rules, live views), with the same predicates the SQL
// is compiled from. Compile once with compileMatcher, then call the matcher per record.

import type { FilterNode } from './ast.ts';
import { addressFields, numericFields, stringFields, type FilterableFlow } from './filterFields.ts';
import { lowerFilter, type LowerOptions, type Predicate } from './lowerFilter.ts';
import { parseFilter } from './parser.ts';

export type { FilterableFlow } from './filterFields.ts';

export type FlowMatcher = (flow: FilterableFlow) => boolean;

function build(p: Predicate): FlowMatcher {
  switch (p.op) {
    case 'const': {
      const v = p.value;
      return () => v;
    }
    case 'and': {
      const items = p.items.map(build);
      return (f) => items.every((m) => m(f));
    }
    case 'or': {
      const items = p.items.map(build);
      return (f) => items.some((m) => m(f));
    }
    case 'not': {
      const item = build(p.item);
      return (f) => !item(f);
    }
    case 'cmp': {
      const get = numericFields[p.field].get;
      const v = p.value;
      // Mixed number/bigint comparisons are exact in JS; `==` because 3n === 3 is false.
      switch (p.cmp) {
        case '=': return (f) => get(f) == v;
        case '>': return (f) => get(f) > v;
        case '<': return (f) => get(f) < v;
        case '>=': return (f) => get(f) >= v;
        case '<=': return (f) => get(f) <= v;
      }
      break;
    }
    case 'in': {
      const get = numericFields[p.field].get;
      const set = new Set(p.values);
      return (f) => set.has(Number(get(f)));
    }
    case 'flags': {
      const mask = p.mask;
      return (f) => (f.tcpFlags & mask) === mask;
    }
    case 'addr': {
      const get = addressFields[p.field].get;
      const hosts = new Set(p.ranges.filter((r) => r.lo === r.hi).map((r) => r.lo));
      const nets = p.ranges.filter((r) => r.lo !== r.hi);
      return (f) => {
        const a = get(f);
        if (hosts.has(a)) return true;
        for (const r of nets) if (a >= r.lo && a <= r.hi) return true;
        return false;
      };
    }
    case 'str': {
      const get = stringFields[p.field].get;
      const v = p.value;
      return (f) => get(f) === v;
    }
    case 'hasItem': {
      const get = stringFields[p.field].get;
      const v = p.value;
      // ClickHouse's has(splitByChar(',', list), v): one whole item equals v.
      return (f) => get(f).split(',').includes(v);
    }
    case 'sameTtl':
      return (f) => f.minTtl === f.maxTtl;
  }
  throw new Error('unreachable');
}

/** Compiles filter text (or a parsed tree) to a record predicate; throws FilterError. */
export function compileMatcher(filter: string | FilterNode, options: LowerOptions = {}): FlowMatcher {
  const node = typeof filter === 'string' ? parseFilter(filter) : filter;
  return build(lowerFilter(node, options));
}

/** One-off evaluation; prefer compileMatcher for more than a few records. */
export function matchFlow(filter: string | FilterNode, flow: FilterableFlow, options: LowerOptions = {}): boolean {
  return compileMatcher(filter, options)(flow);
}
