// Compiles a filter to a ClickHouse WHERE expression over the `flows` table. Every value the user wrote
// travels as a query parameter ({p0:UInt16}, the @clickhouse/client `query_params` syntax); the SQL text
// holds only column names, operators and dvflow's own constants.

import type { FilterNode } from './ast.ts';
import { addressFields, numericFields, stringFields } from './filterFields.ts';
import { addressParam, type AddrRange } from './ipAddress.ts';
import { lowerFilter, type LowerOptions, type Predicate } from './lowerFilter.ts';
import { parseFilter } from './parser.ts';

/** The separator of list columns (`encap`: 'vlan,gre,erspan2'), as a ClickHouse literal. */
const LIST_SEPARATOR_SQL = "','";

export interface CompileOptions extends LowerOptions {
  /** Prefix of the parameter names (default 'p': p0, p1 ...), to keep clear of the caller's own. */
  paramPrefix?: string;
}

export interface CompiledSql {
  /** A boolean expression for WHERE (or PREWHERE); '1' for a filter that matches everything. */
  sql: string;
  /** Parameter values by name, for `query_params`. */
  params: Record<string, unknown>;
  /** ClickHouse type of each parameter, as written in its placeholder. */
  paramTypes: Record<string, string>;
}

class SqlBuilder {
  readonly params: Record<string, unknown> = {};
  readonly paramTypes: Record<string, string> = {};
  private n = 0;
  /** Address lists already passed, so `ip in [...]` on src and dst sends its arrays once. */
  private readonly rangeParams = new WeakMap<AddrRange[], { hosts?: string; los?: string; his?: string; host?: string; lo?: string; hi?: string }>();

  constructor(private readonly prefix: string) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(prefix)) throw new Error(`invalid parameter prefix '${prefix}'`);
  }

  param(type: string, value: unknown): string {
    const name = `${this.prefix}${this.n++}`;
    this.params[name] = value;
    this.paramTypes[name] = type;
    return `{${name}:${type}}`;
  }

  emit(p: Predicate): string {
    switch (p.op) {
      case 'const':
        return p.value ? '1' : '0';
      case 'and':
      case 'or':
        return `(${p.items.map((i) => this.emit(i)).join(p.op === 'and' ? ' AND ' : ' OR ')})`;
      case 'not': {
        // and/or come parenthesised already.
        const inner = this.emit(p.item);
        return p.item.op === 'and' || p.item.op === 'or' ? `NOT ${inner}` : `NOT (${inner})`;
      }
      case 'cmp': {
        const f = numericFields[p.field];
        const placeholder = this.param(f.paramType, p.value);
        return `${f.sql} ${p.cmp} ${'wrapParam' in f && f.wrapParam ? f.wrapParam(placeholder) : placeholder}`;
      }
      case 'in': {
        const f = numericFields[p.field];
        return `has(${this.param(`Array(${f.paramType})`, p.values)}, ${f.sql})`;
      }
      case 'flags': {
        const placeholder = this.param('UInt8', p.mask);
        return `bitAnd(tcp_flags, ${placeholder}) = ${placeholder}`;
      }
      case 'addr':
        return this.emitAddr(addressFields[p.field].sql, p.ranges);
      case 'str':
        return `${stringFields[p.field].sql} = ${this.param('String', p.value)}`;
      case 'hasItem':
        // The list separator is dvflow's constant; the item is the user's value, a parameter.
        return `has(splitByChar(${LIST_SEPARATOR_SQL}, ${stringFields[p.field].sql}), ${this.param('String', p.value)})`;
      case 'sameTtl':
        return 'min_ttl = max_ttl';
    }
  }

  private emitAddr(column: string, ranges: AddrRange[]): string {
    let cached = this.rangeParams.get(ranges);
    if (!cached) {
      cached = {};
      const hosts = ranges.filter((r) => r.lo === r.hi);
      const nets = ranges.filter((r) => r.lo !== r.hi);
      if (hosts.length === 1) cached.host = this.param('IPv6', addressParam(hosts[0].lo));
      else if (hosts.length > 1) cached.hosts = this.param('Array(IPv6)', hosts.map((r) => addressParam(r.lo)));
      if (nets.length === 1) {
        cached.lo = this.param('IPv6', addressParam(nets[0].lo));
        cached.hi = this.param('IPv6', addressParam(nets[0].hi));
      } else if (nets.length > 1) {
        cached.los = this.param('Array(IPv6)', nets.map((r) => addressParam(r.lo)));
        cached.his = this.param('Array(IPv6)', nets.map((r) => addressParam(r.hi)));
      }
      this.rangeParams.set(ranges, cached);
    }
    const parts: string[] = [];
    if (cached.host) parts.push(`${column} = ${cached.host}`);
    if (cached.hosts) parts.push(`has(${cached.hosts}, ${column})`);
    if (cached.lo) parts.push(`${column} BETWEEN ${cached.lo} AND ${cached.hi}`);
    if (cached.los) parts.push(`arrayExists((lo, hi) -> ${column} BETWEEN lo AND hi, ${cached.los}, ${cached.his})`);
    return parts.length === 1 ? parts[0] : `(${parts.join(' OR ')})`;
  }
}

/** Compiles filter text (or a parsed tree) to a parameterised ClickHouse expression; throws FilterError. */
export function compileSql(filter: string | FilterNode, options: CompileOptions = {}): CompiledSql {
  const node = typeof filter === 'string' ? parseFilter(filter) : filter;
  const builder = new SqlBuilder(options.paramPrefix ?? 'p');
  const sql = builder.emit(lowerFilter(node, options));
  return { sql, params: builder.params, paramTypes: builder.paramTypes };
}
