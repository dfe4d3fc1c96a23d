// Prints a syntax tree back as canonical filter text: lower-case keywords, parentheses only where
// precedence needs them, names quoted when they would not read back as one word. Parsing the output gives
// the same tree (positions aside); the API echoes it so users see how their filter was understood.

import type { FilterNode, Qualifier, Side, TermNode } from './ast.ts';
import { formatAddress } from './ipAddress.ts';
import { TERM_KEYWORDS, QUALIFIER_KEYWORDS } from './parser.ts';
import { protocolName, protocolNumber } from './protocolNames.ts';

const RESERVED = new Set<string>([...TERM_KEYWORDS, ...QUALIFIER_KEYWORDS, 'and', 'or', 'not', 'eq', 'gt', 'lt', 'ge', 'le']);

function quoteName(name: string): string {
  if (/^[A-Za-z_][A-Za-z0-9_.:\-]*$/.test(name) && !RESERVED.has(name.toLowerCase())) return name;
  return name.includes('"') ? `'${name}'` : `"${name}"`;
}

function sidePrefix(side: Side | Qualifier): string {
  switch (side) {
    case 'src': return 'src ';
    case 'dst': return 'dst ';
    case 'both': return 'src and dst ';
    case 'in': return 'in ';
    case 'out': return 'out ';
    case 'next': return 'next ';
    case 'prev': return 'prev ';
    case 'min': return 'min ';
    case 'max': return 'max ';
    default: return '';
  }
}

function cmpText(cmp: string): string {
  return cmp === '=' ? '' : `${cmp} `;
}

function localIso(ms: number): string {
  const d = new Date(ms);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}


const MAC_PREFIX: Record<string, string> = {
  any: '', in: 'in ', out: 'out ', src: 'src ', dst: 'dst ', inSrc: 'in src ', inDst: 'in dst ', outSrc: 'out src ', outDst: 'out dst ',
};

function formatTerm(t: TermNode): string {
  switch (t.type) {
    case 'any': return 'any';
    case 'family': return t.family === 4 ? 'ipv4' : 'ipv6';
    case 'compare': {
      const c = cmpText(t.cmp);
      switch (t.field) {
        case 'proto': {
          const name = protocolName(t.value);
          return `proto ${protocolNumber(name) === t.value && !/^[0-9]/.test(name) ? name.toLowerCase() : t.value}`;
        }
        case 'tos':
          // A bare `tos` is the source ToS, so either side must be spelled out.
          return `${t.qualifier === 'either' ? 'src or dst ' : sidePrefix(t.qualifier)}tos ${c}${t.value}`;
        case 'port': case 'as': case 'vlan': case 'mask': case 'ttl':
          return `${sidePrefix(t.qualifier)}${t.field} ${c}${t.value}`;
        case 'if': return `${sidePrefix(t.qualifier)}if ${t.value}`;
        case 'icmpType': return `icmp-type ${c}${t.value}`;
        case 'icmpCode': return `icmp-code ${c}${t.value}`;
        case 'engineType': return `engine-type ${c}${t.value}`;
        case 'engineId': return `engine-id ${c}${t.value}`;
        case 'sysid': return `exporter id ${c}${t.value}`;
        case 'packets': case 'bytes': return `${t.qualifier === 'out' ? 'out ' : ''}${t.field} ${c}${t.value}`;
        case 'flowdir': return t.value === 0 ? 'flowdir ingress' : t.value === 1 ? 'flowdir egress' : `flowdir ${t.value}`;
        case 'domain': return `observation domain id ${c}${t.value}`;
        case 'first': case 'last': return `${t.field} seen ${c}${localIso(t.value)}`;
        case 'outerVlan': return `outer vlan ${c}${t.value}`;
        case 'innerVlan': return `inner vlan ${c}${t.value}`;
        case 'mirrorSession': return `mirror session ${c}${t.value}`;
        case 'mirrorIndex': return `mirror index ${c}${t.value}`;
        case 'greKey': return `gre key ${c}${t.value}`;
        default: return `${t.field} ${c}${t.value}`;
      }
    }
    case 'numberList': return `${sidePrefix(t.qualifier)}${t.field} in [ ${t.values.join(' ')} ]`;
    case 'address': {
      const prefix = t.target === 'flow' ? sidePrefix(t.side) : t.target === 'tunnel' ? `${sidePrefix(t.side)}tun `
        : t.target === 'nextHop' ? 'next ' : t.target === 'bgpNextHop' ? 'bgp next ' : 'router ';
      if (t.form === 'list') return `${prefix}ip in [ ${t.ranges.map((r) => r.text).join(' ')} ]`;
      return `${prefix}${t.form === 'net' ? 'net' : 'ip'} ${t.ranges[0].text}`;
    }
    case 'mac': return `${MAC_PREFIX[t.selector]}mac ${t.text}`;
    case 'flags': return `flags ${t.mode === 'exact' ? '=' : ''}${t.text}`;
    case 'ttlEqual': return 'ttl equal';
    case 'ident': return `ident ${quoteName(t.name)}`;
    case 'portgroup': return `${t.side === 'either' ? '' : `${t.side} `}portgroup ${quoteName(t.name)}`;
    case 'vip': {
      if (t.name !== undefined) return `vip ${quoteName(t.name)}`;
      const a = t.address!;
      if (t.port === undefined) return `vip ${formatAddress(a.lo)}`;
      return a.family === 4 ? `vip ${formatAddress(a.lo)}:${t.port}` : `vip [${formatAddress(a.lo)}]:${t.port}`;
    }
    case 'exporter': return t.address ? `exporter ${formatAddress(t.address.lo)}` : `exporter ${quoteName(t.name ?? '')}`;
    case 'source': return `source ${t.source}`;
    case 'encap': return `encap ${t.kind ?? 'none'}`;
    case 'named': return `${t.side === 'either' ? '' : `${t.side} `}${t.what} ${quoteName(t.name)}`;
    case 'duplicate': return 'duplicate';
    case 'tenant': return `tenant ${formatTerm(t.inner)}`;
  }
}

/** Canonical text of a filter tree. */
export function formatFilter(node: FilterNode): string {
  switch (node.type) {
    // Operators are left-associative: a right operand of the same operator keeps its parentheses.
    case 'or': {
      const right = node.right.type === 'or' ? `(${formatFilter(node.right)})` : formatFilter(node.right);
      return `${formatFilter(node.left)} or ${right}`;
    }
    case 'and': {
      const left = node.left.type === 'or' ? `(${formatFilter(node.left)})` : formatFilter(node.left);
      const right = node.right.type === 'or' || node.right.type === 'and' ? `(${formatFilter(node.right)})` : formatFilter(node.right);
      return `${left} and ${right}`;
    }
    case 'not': {
      const o = node.operand;
      return o.type === 'and' || o.type === 'or' ? `not (${formatFilter(o)})` : `not ${formatFilter(o)}`;
    }
    default:
      return formatTerm(node);
  }
}
