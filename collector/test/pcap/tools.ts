// Runs the reference tools the pcap tests compare against: tshark for decoding, nfpcapd + nfdump for flows.
// Expectations come from these tools at test time, never from our own output.
import { execFileSync, spawnSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const TESTDATA = fileURLToPath(new URL('../../../../shared/testdata/', import.meta.url));

export function have(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
}

export function tmpDir(prefix = 'dvflow-pcap-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Makes a named pipe at `path` and writes `input` into it once a reader opens it; resolves when written. */
export function feedFifo(path: string, input: Buffer): Promise<void> {
  execFileSync('mkfifo', [path]);
  return new Promise((resolve, reject) => {
    const w = createWriteStream(path);
    w.once('error', reject);
    w.end(input, () => resolve());
  });
}

/** One row per frame: field name → raw text (all occurrences, comma-separated). */
export function tshark(file: string, fields: string[], extra: string[] = []): Record<string, string>[] {
  const args = ['-r', file, '-n', '-o', 'ip.defragment:FALSE', '-o', 'ipv6.defragment:FALSE', ...extra,
    '-T', 'fields', '-E', 'separator=/t', '-E', 'occurrence=a', '-E', 'aggregator=,', ...fields.flatMap((f) => ['-e', f])];
  const r = spawnSync('tshark', args, { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0 && !r.stdout) throw new Error(`tshark failed on ${file}: ${r.stderr}`);
  return r.stdout.split('\n').filter((l) => l.length > 0).map((line) => {
    const cols = line.split('\t');
    const row: Record<string, string> = {};
    fields.forEach((f, i) => (row[f] = cols[i] ?? ''));
    return row;
  });
}

/** The fields the decoder is compared on, and how to pick the innermost layer's value among occurrences. */
export const DECODE_FIELDS = [
  'frame.number', 'frame.protocols', 'ip.src', 'ip.dst', 'ipv6.src', 'ipv6.dst', 'ip.proto', 'ipv6.nxt', 'ip.ttl', 'ipv6.hlim',
  'ip.dsfield', 'ipv6.tclass', 'ip.len', 'ipv6.plen', 'ip.flags.mf', 'ip.frag_offset', 'ip.id', 'ipv6.fraghdr.offset',
  'ipv6.fraghdr.more', 'tcp.srcport', 'tcp.dstport', 'tcp.flags', 'udp.srcport', 'udp.dstport', 'icmp.type', 'icmp.code',
  'icmpv6.type', 'icmpv6.code', 'vlan.id', 'ieee8021ad.id', 'gre.key', 'gre.key.call_id', 'erspan.version', 'erspan.spanid',
  'erspan.index', 'erspan.hw', 'vxlan.vni', 'geneve.vni', 'mpls.label',
];

export interface TsharkInner {
  frame: number;
  chain: string[];
  ipVersion: 4 | 6 | null;
  src: string;
  dst: string;
  proto: number | null;
  ttl: number | null;
  tos: number | null;
  ipLength: number | null;
  transport: 'tcp' | 'udp' | 'icmp' | 'icmpv6' | null;
  srcPort: number | null;
  dstPort: number | null;
  tcpFlags: number | null;
  icmpType: number | null;
  icmpCode: number | null;
  fragmentOffset: number | null;
  more: boolean | null;
  vlans: number[];
  greKey: number | null;
  pptpCallId: number | null;
  erspanType: number | null;
  erspanSession: number | null;
  erspanIndex: number | null;
  erspanHw: number | null;
  vni: number | null;
  mplsLabels: number[];
}

function nth(raw: string, i: number): string | undefined {
  if (!raw) return undefined;
  return raw.split(',')[i];
}
function last(raw: string): string | undefined {
  if (!raw) return undefined;
  const parts = raw.split(',');
  return parts[parts.length - 1];
}
function num(v: string | undefined): number | null {
  if (v === undefined || v === '') return null;
  return v.startsWith('0x') ? parseInt(v, 16) : Number(v);
}

/**
 * Picks the innermost IP packet of a tshark row: the frame's protocol chain is cut at the first ICMP (what follows
 * is a quoted header), the last ip/ipv6 before that is the inner packet, and its values are the matching occurrence.
 */
export function innermost(row: Record<string, string>): TsharkInner {
  let chain = row['frame.protocols'].split(':');
  const icmpAt = chain.findIndex((t) => t === 'icmp' || t === 'icmpv6');
  if (icmpAt >= 0) chain = chain.slice(0, icmpAt + 1);
  let ipAt = -1;
  for (let i = 0; i < chain.length; i++) if (chain[i] === 'ip' || chain[i] === 'ipv6') ipAt = i;
  const out: TsharkInner = {
    frame: Number(row['frame.number']), chain, ipVersion: null, src: '', dst: '', proto: null, ttl: null, tos: null,
    ipLength: null, transport: null, srcPort: null, dstPort: null, tcpFlags: null, icmpType: null, icmpCode: null,
    fragmentOffset: null, more: null, vlans: [], greKey: null, pptpCallId: null, erspanType: null, erspanSession: null,
    erspanIndex: null, erspanHw: null, vni: null, mplsLabels: [],
  };
  let vi = 0;
  let si = 0;
  const vlanIds = row['vlan.id'] ? row['vlan.id'].split(',') : [];
  const sIds = row['ieee8021ad.id'] ? row['ieee8021ad.id'].split(',') : [];
  for (const t of chain) {
    if (t === 'vlan') out.vlans.push(Number(vlanIds[vi++]));
    else if (t === 'ieee8021ad') out.vlans.push(Number(sIds[si++]));
  }
  out.mplsLabels = row['mpls.label'] ? row['mpls.label'].split(',').map(Number) : [];
  out.greKey = num(last(row['gre.key']));
  out.pptpCallId = num(last(row['gre.key.call_id']));
  if (chain.includes('erspan')) {
    const v = num(last(row['erspan.version']));
    out.erspanType = v === null ? 1 : v + 1;
    out.erspanSession = num(last(row['erspan.spanid']));
    out.erspanIndex = num(last(row['erspan.index']));
    out.erspanHw = num(last(row['erspan.hw']));
  }
  out.vni = num(last(row['vxlan.vni'])) ?? num(last(row['geneve.vni']));
  if (ipAt < 0) return out;
  const v6 = chain[ipAt] === 'ipv6';
  const ord = chain.slice(0, ipAt).filter((t) => t === chain[ipAt]).length;
  out.ipVersion = v6 ? 6 : 4;
  if (v6) {
    out.src = nth(row['ipv6.src'], ord) ?? '';
    out.dst = nth(row['ipv6.dst'], ord) ?? '';
    out.ttl = num(nth(row['ipv6.hlim'], ord));
    out.tos = num(nth(row['ipv6.tclass'], ord));
    const plen = num(nth(row['ipv6.plen'], ord));
    out.ipLength = plen === null ? null : plen + 40;
    out.proto = num(nth(row['ipv6.nxt'], ord));
    // Fragment headers of the innermost IPv6 header are the last ones listed.
    if (chain.slice(ipAt).includes('ipv6.fraghdr')) {
      const off = num(last(row['ipv6.fraghdr.offset']));
      out.fragmentOffset = off === null ? null : off * 8; // tshark shows 8-byte units
      out.more = last(row['ipv6.fraghdr.more']) === '1' || last(row['ipv6.fraghdr.more']) === 'True';
    }
  } else {
    out.src = nth(row['ip.src'], ord) ?? '';
    out.dst = nth(row['ip.dst'], ord) ?? '';
    out.ttl = num(nth(row['ip.ttl'], ord));
    out.tos = num(nth(row['ip.dsfield'], ord));
    out.ipLength = num(nth(row['ip.len'], ord));
    out.proto = num(nth(row['ip.proto'], ord));
    const mf = nth(row['ip.flags.mf'], ord);
    out.more = mf === '1' || mf === 'True';
    const off = num(nth(row['ip.frag_offset'], ord));
    out.fragmentOffset = off === null ? null : off * 8; // tshark shows 8-byte units
  }
  const tAt = chain.findIndex((t, i) => i > ipAt && (t === 'tcp' || t === 'udp' || t === 'icmp' || t === 'icmpv6'));
  if (tAt >= 0) {
    const t = chain[tAt] as TsharkInner['transport'];
    const tord = chain.slice(0, tAt).filter((x) => x === t).length;
    out.transport = t;
    if (t === 'tcp' || t === 'udp') {
      out.srcPort = num(nth(row[`${t}.srcport`], tord));
      out.dstPort = num(nth(row[`${t}.dstport`], tord));
      if (t === 'tcp') out.tcpFlags = num(nth(row['tcp.flags'], tord));
    } else {
      out.icmpType = num(nth(row[`${t}.type`], tord));
      out.icmpCode = num(nth(row[`${t}.code`], tord));
    }
  }
  return out;
}

export interface NfFlow {
  first: string;
  proto: number;
  src: string;
  srcPort: string;
  dst: string;
  dstPort: string;
  packets: number;
  bytes: number;
}

/** Runs `nfpcapd -r FILE -w DIR [-e active,inactive]` and reads the flows back with nfdump. */
export function nfpcapdFlows(file: string, extra: string[] = []): NfFlow[] {
  const { dir, cleanup } = tmpDir('dvflow-nfpcapd-');
  try {
    spawnSync('nfpcapd', ['-r', file, '-w', dir, ...extra], { encoding: 'utf8' });
    // -6: IPv6 addresses in full, not abbreviated.
    const out = execFileSync('nfdump', ['-R', dir, '-q', '-N', '-6', '-o', 'fmt:%ts|%pr|%sa|%sp|%da|%dp|%pkt|%byt'],
      { encoding: 'utf8', maxBuffer: 1 << 28 });
    return out.split('\n').filter((l) => l.includes('|')).map((l) => {
      const c = l.split('|').map((x) => x.trim());
      return { first: c[0], proto: Number(c[1]), src: c[2], srcPort: c[3], dst: c[4], dstPort: c[5], packets: Number(c[6]),
        bytes: Number(c[7]) };
    // nfdump 1.7.1 prints a tunnel's outer header as an extra line with no packets: not a flow.
    }).filter((f) => f.packets > 0);
  } finally {
    cleanup();
  }
}
