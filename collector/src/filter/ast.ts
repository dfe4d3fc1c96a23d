// The syntax tree of an nfdump-style filter. The parser builds it, `lowerFilter` turns it into the
// predicates that both `compileSql` and `matchFlow` evaluate. `formatFilter` prints it back as filter text.

import type { EncapName } from './encapNames.ts';
import type { AddrRange } from './ipAddress.ts';

export type Comparator = '=' | '>' | '<' | '>=' | '<=';

/**
 * Which field(s) of a pair a term tests. 'either' is nfdump's unqualified form (source or destination),
 * 'both' its 1.7.1 `src and dst` form.
 */
export type Side = 'src' | 'dst' | 'either' | 'both';

/** Position of a node in the filter text: 1-based offset of its first character, and of the one after it. */
export interface Span {
  pos: number;
  end: number;
}

/** Numeric terms: `port > 1024`, `src as 65001`, `bytes > 1k` ... */
export type NumericField =
  | 'proto' | 'port' | 'as' | 'icmpType' | 'icmpCode' | 'engineType' | 'engineId' | 'sysid'
  | 'if' | 'vlan' | 'mask' | 'tos' | 'flags' | 'packets' | 'bytes' | 'flows' | 'pps' | 'bps' | 'bpp'
  | 'duration' | 'flowdir' | 'ttl' | 'nfversion' | 'fwdstat' | 'domain' | 'vni' | 'first' | 'last'
  // dvflow: capture facts of port-mirror flows (schema/005).
  | 'outerVlan' | 'innerVlan' | 'mirrorSession' | 'mirrorIndex' | 'greKey' | 'fragments';

/**
 * Qualifier of a numeric term. Side for src/dst pairs; 'in'/'out' for interfaces and counters ('either' for
 * a bare `if`); 'next'/'prev' for adjacent AS; 'min'/'max' for TTL ('either' for a bare `ttl`); 'none' for
 * fields that have no qualifier.
 */
export type Qualifier = Side | 'in' | 'out' | 'next' | 'prev' | 'min' | 'max' | 'none';

/**
 * Address columns a term can test. 'flow' is the src/dst pair, chosen by `side`; 'tunnel' the outermost tunnel's
 * endpoints of a captured flow (nfdump's `[src|dst] tun ip`), also chosen by `side`.
 */
export type AddrTarget = 'flow' | 'nextHop' | 'bgpNextHop' | 'router' | 'tunnel';

/** Which MAC columns `mac` tests, as nfdump's direction qualifiers select them. */
export type MacSelector = 'any' | 'in' | 'out' | 'src' | 'dst' | 'inSrc' | 'inDst' | 'outSrc' | 'outDst';

export type Term =
  /** Matches everything: `any`, and the empty filter. */
  | { type: 'any' }
  /** `ipv4` / `inet`, `ipv6` / `inet6`. */
  | { type: 'family'; family: 4 | 6 }
  | { type: 'compare'; field: NumericField; qualifier: Qualifier; cmp: Comparator; value: number }
  /** `port in [ ... ]`, `as in [ ... ]`. */
  | { type: 'numberList'; field: 'port' | 'as'; qualifier: Qualifier; values: number[] }
  /** `ip X`, `net X/N`, `ip in [ ... ]`, `next ip X`, `bgp next ip X`, `router ip X`. */
  | { type: 'address'; target: AddrTarget; side: Side; form: 'host' | 'net' | 'list'; ranges: AddrRange[] }
  | { type: 'mac'; selector: MacSelector; value: number; text: string }
  /** `flags SA`: every listed flag set (and TCP); `flags =SA`: exactly those flags (and TCP). */
  | { type: 'flags'; mode: 'all' | 'exact'; value: number; text: string }
  /** `ttl equal`: min and max TTL are the same. */
  | { type: 'ttlEqual' }
  /** `ident NAME`: dvflow keeps the exporter's configured name where nfdump keeps the file ident. */
  | { type: 'ident'; name: string }
  /** dvflow: `portgroup NAME`, `in portgroup NAME`, `out portgroup NAME`. */
  | { type: 'portgroup'; side: 'in' | 'out' | 'either'; name: string }
  /** dvflow: `vip NAME` (load-balancer VIP by name) or `vip ADDR[:PORT]` (by address, optionally port). */
  | { type: 'vip'; name?: string; address?: AddrRange; port?: number }
  /** dvflow: `exporter NAME` (configured name) or `exporter ADDR` (the exporter's address). */
  | { type: 'exporter'; name?: string; address?: AddrRange }
  /** dvflow: `source netflow|pcap`. */
  | { type: 'source'; source: 'netflow' | 'pcap' }
  /**
   * dvflow: `encap NAME`: the capture peeled off an encapsulation of that kind (one item of the flow's `encap`
   * list); `encap none` (kind null): nothing was peeled off.
   */
  | { type: 'encap'; kind: EncapName | null }
  /** dvflow: `backend NAME` (real server), `leg NAME` (VIP leg), `[in|out] vm NAME`. */
  | { type: 'named'; what: 'backend' | 'leg' | 'vm'; side: 'in' | 'out' | 'either'; name: string }
  /** dvflow: `duplicate`: the second sighting of a VM-to-VM flow inside one dvSwitch. */
  | { type: 'duplicate' }
  /**
   * dvflow: `tenant [src|dst] ip|net|port|proto ...`: the same tests on the overlay (tenant) 5-tuple a VDS
   * exports for VXLAN traffic (VMware IEs 880-887) instead of the outer one.
   */
  | { type: 'tenant'; inner: TermNode };

export type TermNode = Term & Span;

export type FilterNode =
  | TermNode
  | ({ type: 'and'; left: FilterNode; right: FilterNode } & Span)
  | ({ type: 'or'; left: FilterNode; right: FilterNode } & Span)
  | ({ type: 'not'; operand: FilterNode } & Span);
