// Test helper: tshark as the independent decoder our decoders are checked against. Reads UDP payloads out of
// pcaps, writes synthetic Ethernet/IPv4/UDP pcaps around raw datagrams, and returns tshark's NetFlow/IPFIX
// ("cflow") decode of each packet as JSON.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tempDir as tempDirWithPrefix } from '../helpers/peers.ts';

export interface CapturedDatagram {
  payload: Buffer;
  srcAddr: string;
  srcPort: number;
  timeMs: number;
}

export function tsharkAvailable(): boolean {
  try {
    execFileSync('tshark', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function tshark(args: string[]): string {
  return execFileSync('tshark', args, {
    encoding: 'utf8', maxBuffer: 512 * 1024 * 1024, env: { ...process.env, TZ: 'UTC' }, stdio: ['ignore', 'pipe', 'ignore'],
  });
}

/** UDP payloads of a pcap, in capture order, with their source. */
export function readPcapDatagrams(file: string): CapturedDatagram[] {
  const out = tshark(['-r', file, '-Y', 'udp', '-T', 'fields', '-E', 'separator=/t',
    '-e', 'frame.time_epoch', '-e', 'ip.src', '-e', 'ipv6.src', '-e', 'udp.srcport', '-e', 'udp.payload']);
  const res: CapturedDatagram[] = [];
  for (const line of out.split('\n')) {
    if (!line.trim()) continue;
    const [t, v4, v6, port, hex] = line.split('\t');
    res.push({ payload: Buffer.from(hex.replace(/:/g, ''), 'hex'), srcAddr: v4 || v6, srcPort: Number(port), timeMs: Math.round(Number(t) * 1000) });
  }
  return res;
}

export interface SyntheticPacket {
  /** IPv4 source address. */
  src: string;
  srcPort: number;
  payload: Uint8Array;
  timeMs: number;
}

export const SYNTHETIC_DST_PORT = 2055;

/** A classic pcap of Ethernet/IPv4/UDP packets to port 2055 carrying the payloads. */
export function writeUdpPcap(path: string, packets: SyntheticPacket[]): void {
  const parts: Buffer[] = [];
  const gh = Buffer.alloc(24);
  gh.writeUInt32LE(0xa1b2c3d4, 0); gh.writeUInt16LE(2, 4); gh.writeUInt16LE(4, 6); gh.writeUInt32LE(262144, 16); gh.writeUInt32LE(1, 20);
  parts.push(gh);
  for (const p of packets) {
    const len = 14 + 20 + 8 + p.payload.length;
    const rh = Buffer.alloc(16);
    rh.writeUInt32LE(Math.floor(p.timeMs / 1000), 0); rh.writeUInt32LE((p.timeMs % 1000) * 1000, 4);
    rh.writeUInt32LE(len, 8); rh.writeUInt32LE(len, 12);
    const eth = Buffer.alloc(14); eth.writeUInt16BE(0x0800, 12);
    const ip = Buffer.alloc(20);
    ip[0] = 0x45; ip.writeUInt16BE(Math.min(65535, 28 + p.payload.length), 2); ip[8] = 64; ip[9] = 17;
    ip.set(p.src.split('.').map(Number), 12); ip.set([10, 255, 255, 254], 16);
    const udp = Buffer.alloc(8);
    udp.writeUInt16BE(p.srcPort, 0); udp.writeUInt16BE(SYNTHETIC_DST_PORT, 2); udp.writeUInt16BE(Math.min(65535, 8 + p.payload.length), 4);
    parts.push(rh, eth, ip, udp, Buffer.from(p.payload));
  }
  writeFileSync(path, Buffer.concat(parts));
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type TsharkTree = Record<string, any>;

/** tshark's cflow layer for each packet of a pcap written by writeUdpPcap (undefined if not decoded). */
export function tsharkCflow(pcapPath: string): Array<TsharkTree | undefined> {
  const json = tshark(['-r', pcapPath, '-d', `udp.port==${SYNTHETIC_DST_PORT},cflow`, '-T', 'json', '--no-duplicate-keys']);
  const packets = JSON.parse(json) as Array<{ _source: { layers: TsharkTree } }>;
  return packets.map((p) => p._source.layers.cflow as TsharkTree | undefined);
}

export function tempDir(): string {
  return tempDirWithPrefix('dvflow-decoders-');
}

/** Every cflow.* value under a tshark subtree (nested subtrees flattened; repeated fields become arrays). */
export function flattenFields(tree: TsharkTree): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const walk = (o: TsharkTree): void => {
    for (const [k, v] of Object.entries(o)) {
      if (v !== null && typeof v === 'object' && !Array.isArray(v)) { walk(v); continue; }
      if (!k.startsWith('cflow.')) continue;
      const vals = Array.isArray(v) ? v.map(String) : [String(v)];
      const prev = out.get(k);
      if (prev) prev.push(...vals); else out.set(k, vals);
    }
  };
  walk(tree);
  return out;
}

const MONTHS: Record<string, number> = { Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11 };

/** tshark's absolute time text ("Dec 22, 2016 12:17:37.123456789 UTC") as ms since epoch, floored. */
export function parseTsharkTime(s: string): number {
  const m = /^(\w{3})\s+(\d+), (\d+) (\d+):(\d+):(\d+)\.(\d+) UTC$/.exec(s);
  if (!m) return NaN;
  const ms = Date.UTC(Number(m[3]), MONTHS[m[1]], Number(m[2]), Number(m[4]), Number(m[5]), Number(m[6]));
  return ms + Math.floor(Number(m[7].padEnd(9, '0')) / 1e6);
}

/** "1704740.613000000" (seconds) as integer ms. */
export function secondsToMs(s: string): number {
  const [i, f = ''] = s.split('.');
  return Number(i) * 1000 + Number(f.padEnd(3, '0').slice(0, 3));
}

/**
 * tshark cannot decode a data set that precedes its template in the same datagram; dvflow holds it and
 * decodes it after the datagram's other sets. For tshark's copy, move such sets to the end: tshark then
 * decodes the same records in the same order. Returns the payload unchanged when nothing needs moving or
 * when it does not walk cleanly.
 */
export function moveEarlyDataSetsLast(p: Buffer): Buffer {
  if (p.length < 4) return p;
  const version = p.readUInt16BE(0);
  if (version !== 9 && version !== 10) return p;
  const header = version === 9 ? 20 : 16;
  const sets: Array<{ id: number; bytes: Buffer; defines: number[] }> = [];
  let off = header;
  while (p.length - off >= 4) {
    const id = p.readUInt16BE(off), len = p.readUInt16BE(off + 2);
    if (len < 4 || off + len > p.length) break;
    sets.push({ id, bytes: p.subarray(off, off + len), defines: templateIds(p, off + 4, off + len, version, id) });
    off += len;
  }
  const later = new Set<number>();
  const move = new Set<number>();
  for (let i = sets.length - 1; i >= 0; i--) {
    if (sets[i].id >= 256 && later.has(sets[i].id)) move.add(i);
    for (const t of sets[i].defines) later.add(t);
  }
  if (move.size === 0) return p;
  const kept = sets.filter((_, i) => !move.has(i)), moved = sets.filter((_, i) => move.has(i));
  return Buffer.concat([p.subarray(0, header), ...[...kept, ...moved].map((s) => s.bytes), p.subarray(off)]);
}

function templateIds(p: Buffer, start: number, end: number, version: number, setId: number): number[] {
  const ids: number[] = [];
  const options = version === 9 ? setId === 1 : setId === 3;
  if (!(version === 9 ? setId <= 1 : setId === 2 || setId === 3)) return ids;
  let q = start;
  while (end - q >= 4) {
    const tid = p.readUInt16BE(q);
    if (version === 9) {
      if (options) { if (end - q < 6) break; q += 6 + p.readUInt16BE(q + 2) + p.readUInt16BE(q + 4); } else q += 4 + 4 * p.readUInt16BE(q + 2);
    } else {
      const count = p.readUInt16BE(q + 2);
      q += options && count > 0 ? 6 : 4;
      for (let i = 0; i < count && q + 4 <= end; i++) q += p.readUInt16BE(q) & 0x8000 ? 8 : 4;
    }
    if (tid >= 256 && q <= end) ids.push(tid);
  }
  return ids;
}
